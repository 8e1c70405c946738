/*
 * ExecTask: run a command inside a task's jail and answer with its
 * output and exit status (Nomad's script checks and template scripts).
 * The process is forked by the backend into the jail; its output comes
 * back through pipes and its exit through a pollable descriptor, all on
 * the loop.  A timeout or a cancelled call kills it.
 */
#include "driver/exec.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backend/backend.h"
#include "core/io.h"
#include "driver/pb.h"
#include "driver/rpc.h"

/* Script checks print a line or two; keep what Nomad could show. */
#define EXEC_OUTPUT_MAX (1024 * 1024)

struct capture {
	uv_pipe_t pipe;
	char *buf;
	size_t len;
	bool open;
	struct exec_run *run;
};

struct exec_run {
	struct grpc_call *call;
	struct jtd_exec_proc proc;
	uv_poll_t exit_poll;
	uv_timer_t timer;
	struct capture out, err;
	bool exited, timed_out;
	int status;
	int handles;
};

static void
run_free(uv_handle_t *h)
{
	struct exec_run *r = h->data;

	if (--r->handles > 0)
		return;
	free(r->out.buf);
	free(r->err.buf);
	free(r);
}

static void
capture_close(struct capture *c)
{
	if (!c->open)
		return;
	c->open = false;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_close((uv_handle_t *)&c->pipe, run_free);
}

static void
run_close(struct exec_run *r)
{
	capture_close(&r->out);
	capture_close(&r->err);
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, run_free);
	if (!r->exited) {
		uv_poll_stop(&r->exit_poll);
		kill(r->proc.pid, SIGKILL);
	}
	uv_close((uv_handle_t *)&r->exit_poll, run_free);
	jtd_close(r->proc.exit_fd);
	if (!r->exited) {
		pid_t p;
		int st;

		/* Killed just now: reaping is immediate. */
		JTD_RETRY(p, waitpid(r->proc.pid, &st, 0));
	}
}

static void
maybe_reply(struct exec_run *r)
{
	DRV(ExecTaskResponse) resp = DRV_C(EXEC_TASK_RESPONSE__INIT);
	DRV(ExitResult) result = DRV_C(EXIT_RESULT__INIT);

	if (!r->exited || r->out.open || r->err.open)
		return;
	if (r->call != NULL) {
		grpc_call_set_data(r->call, NULL);
		if (WIFSIGNALED(r->status)) {
			result.signal = WTERMSIG(r->status);
			result.exit_code = 128 + result.signal;
		} else {
			result.exit_code = WEXITSTATUS(r->status);
		}
		resp.stdout.data = (uint8_t *)r->out.buf;
		resp.stdout.len = r->out.len;
		resp.stderr.data = (uint8_t *)r->err.buf;
		resp.stderr.len = r->err.len;
		resp.result = &result;
		jtd_rpc_reply(r->call, &resp.base);
		r->call = NULL;
	}
	run_close(r);
}

static void
capture_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct capture *c = h->data;
	char *nb;

	if (c->len >= EXEC_OUTPUT_MAX) {
		static char sink[4096];

		/* Over the limit: keep draining, stop keeping. */
		buf->base = sink;
		buf->len = sizeof(sink);
		return;
	}
	nb = realloc(c->buf, c->len + 65536);
	if (nb == NULL) {
		buf->base = NULL;
		buf->len = 0;
		return;
	}
	c->buf = nb;
	buf->base = c->buf + c->len;
	buf->len = 65536;
}

static void
capture_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct capture *c = s->data;

	if (n > 0) {
		if (buf->base == c->buf + c->len)
			c->len += (size_t)n;
		return;
	}
	if (n == 0)
		return;
	capture_close(c);
	maybe_reply(c->run);
}

static void
exec_exited(uv_poll_t *p, int status, int events)
{
	struct exec_run *r = p->data;
	pid_t w;

	JTD_RETRY(w, waitpid(r->proc.pid, &r->status, WNOHANG));
	if (w == 0)
		return;
	uv_poll_stop(p);
	r->exited = true;
	if (w < 0)
		r->status = 0;
	maybe_reply(r);
}

static void
exec_timeout(uv_timer_t *t)
{
	struct exec_run *r = t->data;

	r->timed_out = true;
	kill(r->proc.pid, SIGKILL);
	/* Grandchildren may hold the pipes: stop waiting for their EOF. */
	capture_close(&r->out);
	capture_close(&r->err);
}

void
jtd_exec_cancelled(struct grpc_call *call)
{
	struct exec_run *r = grpc_call_data(call);

	if (r == NULL)
		return;
	r->call = NULL;
	run_close(r);
}

static int
capture_open(struct exec_run *r, struct capture *c, uv_loop_t *loop, int fd)
{
	c->run = r;
	uv_pipe_init(loop, &c->pipe, 0);
	c->pipe.data = c;
	r->handles++;
	c->open = true;
	if (uv_pipe_open(&c->pipe, fd) != 0 ||
	    uv_read_start((uv_stream_t *)&c->pipe, capture_alloc,
	    capture_read) != 0)
		return -1;
	return 0;
}

void
jtd_exec_task(struct grpc_call *call, uv_loop_t *loop,
    const struct jtd_jail *jail, const char *state_dir,
    const DRV(ExecTaskRequest) *req)
{
	struct jtd_exec_req er;
	struct jtd_err *err = NULL;
	struct exec_run *r;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 };

	if (req->n_command == 0) {
		grpc_call_finish(call, JTD_INVALID, "command: empty", NULL, 0);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL || jtd_pipe_cloexec(out, 0) != 0 ||
	    jtd_pipe_cloexec(errp, 0) != 0) {
		jtd_close(out[0]);
		jtd_close(out[1]);
		free(r);
		grpc_call_finish(call, JTD_EXHAUSTED, "cannot make pipes",
		    NULL, 0);
		return;
	}
	memset(&er, 0, sizeof(er));
	er.argv = req->command;
	er.stdin_fd = -1;
	er.stdout_fd = out[1];
	er.stderr_fd = errp[1];
	if (jtd_backend_exec(jail, state_dir, &er, &r->proc, &err) != 0) {
		jtd_close(out[0]);
		jtd_close(out[1]);
		jtd_close(errp[0]);
		jtd_close(errp[1]);
		free(r);
		jtd_rpc_fail(call, &err, false);
		return;
	}
	jtd_close(out[1]);
	jtd_close(errp[1]);
	r->call = call;
	grpc_call_set_data(call, r);
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	uv_poll_init(loop, &r->exit_poll, r->proc.exit_fd);
	r->exit_poll.data = r;
	r->handles = 2;
	uv_poll_start(&r->exit_poll, UV_READABLE, exec_exited);
	if (capture_open(r, &r->out, loop, out[0]) != 0 ||
	    capture_open(r, &r->err, loop, errp[0]) != 0) {
		r->call = NULL;
		grpc_call_set_data(call, NULL);
		grpc_call_finish(call, JTD_INTERNAL, "cannot read the command's "
		    "output", NULL, 0);
		run_close(r);
		return;
	}
	if (req->timeout != NULL &&
	    (req->timeout->seconds > 0 || req->timeout->nanos > 0))
		uv_timer_start(&r->timer, exec_timeout,
		    (uint64_t)req->timeout->seconds * 1000 +
		    (uint64_t)req->timeout->nanos / 1000000, 0);
}
