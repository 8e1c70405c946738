/*
 * Task lifecycle on the plugin's loop.
 *
 * A task's life: STARTING (host hooks, then its supervisor, the shim,
 * creates the jail and execs the program), RUNNING (watched through the
 * shim's `wait` FIFO, which reaches end-of-file exactly when the shim
 * exits), EXITED (the shim's `exit` record read), then destroyed (host
 * hooks, backend cleanup, state removed).  Every step that fails undoes
 * the steps before it.
 */
#include "driver/tasks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/io.h"
#include "core/log.h"
#include "driver/jailbuild.h"
#include "jail/jail.h"

#define DRIVER_STATE_MAGIC "jtd1"
#define SYNC_LINE_MAX 1024

struct jtd_waiter {
	LIST_ENTRY(jtd_waiter) link;
	struct jtd_task *t;
	jtd_wait_cb cb;
	void *arg;
};

struct done_req {
	LIST_ENTRY(done_req) link;
	jtd_done_cb cb;
	void *arg;
};

LIST_HEAD(done_list, done_req);

/* A list of host commands run one after another through /bin/sh -c. */
struct hookrun {
	const char *params[3];
	const struct jtd_strv *lists[3];
	size_t nlists, li, ci;
	void (*done)(struct jtd_task *t, struct jtd_err *err);
	uv_process_t proc;
	uv_timer_t timer;
	bool timed_out;
};

struct jtd_task {
	LIST_ENTRY(jtd_task) link;
	struct jtd_tasks *ts;
	DRV(TaskConfig) *tc;		/* Nomad's, unpacked copy */
	struct jtd_taskcfg *cfg;
	struct jtd_jail *jail;
	char dir[512];
	enum jtd_task_state state;
	struct jtd_exit exit;
	int64_t started_ns;
	uint8_t *dstate;
	size_t dstate_len;
	bool in_table;

	/* The supervisor. */
	uv_process_t shim;
	bool shim_running;
	uv_pipe_t sync;
	bool sync_open;
	char syncbuf[SYNC_LINE_MAX];
	size_t synclen;
	int wait_fd;
	uv_poll_t wait_poll;
	bool wait_open;

	/* Start. */
	jtd_start_cb start_cb;
	void *start_arg;
	bool hooks_ran;			/* prestart hooks succeeded */
	struct hookrun hook;
	bool hook_active;

	/* Stop, destroy. */
	LIST_HEAD(, jtd_waiter) waiters;
	struct done_list stoppers;
	struct done_list destroyers;
	uv_timer_t stop_timer;
	bool stopping, killed, destroying;
	int stop_sig;
	uv_poll_t stop_exec_poll;
	struct jtd_exec_proc stop_exec;
	bool stop_exec_active;
	size_t stop_exec_i;

	/* Handles still open; the task is freed when this reaches 0. */
	int open_handles;
	bool dead;
};

struct jtd_tasks {
	uv_loop_t *loop;
	LIST_HEAD(, jtd_task) tasks;
	size_t n;
	char state_dir[256];
	char tasks_dir[300];
	char shim_path[PATH_MAX];
	jtd_task_event_fn ev_fn;
	void *ev_arg;
	bool configured;
};

/*
 * What the shim and the host hooks get as environment: not the plugin's,
 * which is the Nomad agent's plus the plugin handshake's.  A task without
 * Exec_clean inherits its supervisor's (jail(8)'s rule).
 */
static const char *const shim_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	NULL,
};

/* Environment marker of a task's host hook processes: NAME=<jail name>. */
#define JTD_HOOK_MARKER "JTD_JAIL_NAME"

static void task_exited(struct jtd_task *t);
static void teardown(struct jtd_task *t);
static void task_release(struct jtd_task *t, bool shutdown);

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
event(struct jtd_task *t, const char *fmt, ...) JTD_PRINTF(2, 3);

static void
event(struct jtd_task *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (t->ts->ev_fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->ts->ev_fn(t->ts->ev_arg, t, msg);
}

static const char *const *
log_kv(const struct jtd_task *t, const char *kv[5])
{
	kv[0] = "task_id";
	kv[1] = t->tc->id;
	kv[2] = "jail";
	kv[3] = t->jail != NULL ? t->jail->name : NULL;
	kv[4] = NULL;
	return kv;
}

/*
 * Remove a task's state directory: its files (it has no subdirectories)
 * and then the directory.  Returns rmdir's result.
 */
static int
remove_state_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	return rmdir(dir);
}

/* ---- the table ------------------------------------------------------- */

struct jtd_tasks *
jtd_tasks_new(uv_loop_t *loop, struct jtd_err **err)
{
	struct jtd_tasks *ts = calloc(1, sizeof(*ts));
	char exe[PATH_MAX - 64];
	ssize_t n;

	if (ts == NULL) {
		jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
		return NULL;
	}
	ts->loop = loop;
	LIST_INIT(&ts->tasks);
	/* The shim is installed beside the plugin binary. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(ts->shim_path, sizeof(ts->shim_path),
		    "%s/jail-task-shim", exe);
		/* In a build tree it sits in its own directory. */
		if (access(ts->shim_path, X_OK) != 0)
			snprintf(ts->shim_path, sizeof(ts->shim_path),
			    "%s/shim/jail-task-shim", exe);
	}
	if (getenv("JTD_SHIM") != NULL)
		jtd_tasks_set_shim(ts, getenv("JTD_SHIM"));
	return ts;
}

void
jtd_tasks_set_shim(struct jtd_tasks *ts, const char *path)
{
	snprintf(ts->shim_path, sizeof(ts->shim_path), "%s", path);
}

void
jtd_tasks_set_events(struct jtd_tasks *ts, jtd_task_event_fn fn, void *arg)
{
	ts->ev_fn = fn;
	ts->ev_arg = arg;
}

struct jtd_task *
jtd_tasks_find(struct jtd_tasks *ts, const char *id)
{
	struct jtd_task *t;

	LIST_FOREACH(t, &ts->tasks, link)
		if (strcmp(t->tc->id, id) == 0)
			return t;
	return NULL;
}

size_t
jtd_tasks_count(const struct jtd_tasks *ts)
{
	return ts->n;
}

static int
mkdir_p(const char *path, struct jtd_err **err)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0700) != 0 && errno != EEXIST)
				return jtd_err_sys(err, errno, "mkdir %s", buf);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* ---- releasing ------------------------------------------------------- */

static void
handle_closed(uv_handle_t *h)
{
	struct jtd_task *t = h->data;

	if (--t->open_handles == 0 && t->dead) {
		DRV_FN(task_config__free_unpacked)(t->tc, NULL);
		jtd_taskcfg_free(t->cfg);
		jtd_jail_free(t->jail);
		free(t->dstate);
		free(t);
	}
}

static void
close_handle(struct jtd_task *t, uv_handle_t *h)
{
	if (h->data == NULL || uv_is_closing(h))
		return;
	uv_close(h, handle_closed);
}

static void
stop_watching(struct jtd_task *t)
{
	if (t->wait_open) {
		uv_poll_stop(&t->wait_poll);
		close_handle(t, (uv_handle_t *)&t->wait_poll);
		jtd_close(t->wait_fd);
		t->wait_fd = -1;
		t->wait_open = false;
	}
}

/*
 * Forget the task: close its handles; memory goes when they are closed.
 * A shim this plugin started stays watched until libuv has reaped it
 * (closing its handle earlier would leave a zombie), except at shutdown,
 * when the shim must outlive us and is left to init.
 */
static void
task_release(struct jtd_task *t, bool shutdown)
{
	if (t->in_table) {
		LIST_REMOVE(t, link);
		t->ts->n--;
		t->in_table = false;
	}
	stop_watching(t);
	if (t->sync_open) {
		close_handle(t, (uv_handle_t *)&t->sync);
		t->sync_open = false;
	}
	if (t->stop_exec_active) {
		uv_poll_stop(&t->stop_exec_poll);
		close_handle(t, (uv_handle_t *)&t->stop_exec_poll);
		jtd_close(t->stop_exec.exit_fd);
		t->stop_exec_active = false;
	}
	close_handle(t, (uv_handle_t *)&t->stop_timer);
	close_handle(t, (uv_handle_t *)&t->hook.timer);
	if (t->hook_active)
		close_handle(t, (uv_handle_t *)&t->hook.proc);
	if (t->shim.data != NULL && (shutdown || !t->shim_running))
		close_handle(t, (uv_handle_t *)&t->shim);
	t->dead = true;
	if (t->open_handles == 0) {
		t->open_handles = 1;
		t->dead = true;
		/* Nothing was open: free through the same path. */
		handle_closed(&(uv_handle_t){ .data = t });
	}
}

struct free_ctx {
	void (*done)(void *);
	void *arg;
	uv_idle_t idle;
	struct jtd_tasks *ts;
};

static void
free_idle(uv_idle_t *h)
{
	struct free_ctx *c = h->data;

	uv_idle_stop(h);
	uv_close((uv_handle_t *)h, NULL);
	if (c->done != NULL)
		c->done(c->arg);
	free(c->ts);
}

void
jtd_tasks_free(struct jtd_tasks *ts, void (*done)(void *), void *arg)
{
	struct jtd_task *t;
	static struct free_ctx ctx;

	while ((t = LIST_FIRST(&ts->tasks)) != NULL)
		task_release(t, true);
	/* Handle close callbacks run on the next turn; report after them. */
	ctx.done = done;
	ctx.arg = arg;
	ctx.ts = ts;
	uv_idle_init(ts->loop, &ctx.idle);
	ctx.idle.data = &ctx;
	uv_idle_start(&ctx.idle, free_idle);
}

/* ---- host hooks ------------------------------------------------------ */

static void hook_next(struct jtd_task *t);

/*
 * The running hook's process group, in the state directory: a plugin
 * killed mid-hook leaves it there for the next plugin's sweep.
 */
static void
hook_finish(struct jtd_task *t, struct jtd_err *err)
{
	t->hook_active = false;
	uv_timer_stop(&t->hook.timer);
	t->hook.done(t, err);
}

static void
hook_exited(uv_process_t *p, int64_t status, int sig)
{
	struct jtd_task *t = p->data;
	struct hookrun *h = &t->hook;
	const char *cmd = h->lists[h->li]->v[h->ci];
	const char *param = h->params[h->li];
	struct jtd_err *err = NULL;

	uv_close((uv_handle_t *)p, NULL);
	t->open_handles--;
	uv_timer_stop(&h->timer);
	if (h->timed_out)
		jtd_err_set(&err, JTD_ABORTED, "%s \"%s\" ran longer than "
		    "Exec_timeout (%ds) and was killed", param, cmd,
		    t->jail->exec_timeout);
	else if (sig != 0)
		jtd_err_set(&err, JTD_ABORTED, "%s \"%s\" was killed by "
		    "signal %d", param, cmd, sig);
	else if (status != 0)
		jtd_err_set(&err, JTD_ABORTED, "%s \"%s\" exited with "
		    "status %d", param, cmd, (int)status);
	if (err != NULL) {
		hook_finish(t, err);
		return;
	}
	h->ci++;
	hook_next(t);
}

static void
hook_timeout(uv_timer_t *timer)
{
	struct jtd_task *t = timer->data;

	t->hook.timed_out = true;
	uv_process_kill(&t->hook.proc, SIGKILL);
}

/* Start the next command, or finish the run. */
static void
hook_next(struct jtd_task *t)
{
	struct hookrun *h = &t->hook;
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	char *args[4], *env[3], marker[300];
	int r;

	while (h->li < h->nlists && h->ci >= h->lists[h->li]->n) {
		h->li++;
		h->ci = 0;
	}
	if (h->li >= h->nlists) {
		hook_finish(t, NULL);
		return;
	}
	args[0] = "/bin/sh";
	args[1] = "-c";
	args[2] = h->lists[h->li]->v[h->ci];
	args[3] = NULL;
	memset(&o, 0, sizeof(o));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_IGNORE;
	stdio[2].flags = UV_IGNORE;
	o.file = "/bin/sh";
	o.args = args;
	o.exit_cb = hook_exited;
	o.stdio = stdio;
	o.stdio_count = 3;
	/*
	 * Not the agent's environment, and a marker that every process of
	 * the hook inherits: a plugin killed mid-hook leaves processes the
	 * next plugin's sweep can find by it.
	 */
	snprintf(marker, sizeof(marker), "%s=%s", JTD_HOOK_MARKER,
	    t->jail->name);
	env[0] = (char *)shim_env[0];
	env[1] = marker;
	env[2] = NULL;
	o.env = env;
	h->timed_out = false;
	h->proc.data = t;
	r = uv_spawn(t->ts->loop, &h->proc, &o);
	if (r != 0) {
		struct jtd_err *err = NULL;

		jtd_err_set(&err, JTD_INTERNAL, "%s \"%s\": cannot run "
		    "/bin/sh: %s", h->params[h->li], args[2], uv_strerror(r));
		uv_close((uv_handle_t *)&h->proc, NULL);
		hook_finish(t, err);
		return;
	}
	t->open_handles++;
	if (t->jail->exec_timeout > 0)
		uv_timer_start(&h->timer, hook_timeout,
		    (uint64_t)t->jail->exec_timeout * 1000, 0);
}

/* Run the given parameters' command lists on the host, in order. */
static void
hooks_run(struct jtd_task *t, void (*done)(struct jtd_task *,
    struct jtd_err *), const char *p1, const struct jtd_strv *l1,
    const char *p2, const struct jtd_strv *l2)
{
	struct hookrun *h = &t->hook;

	h->nlists = 0;
	if (l1 != NULL) {
		h->params[h->nlists] = p1;
		h->lists[h->nlists++] = l1;
	}
	if (l2 != NULL) {
		h->params[h->nlists] = p2;
		h->lists[h->nlists++] = l2;
	}
	h->li = h->ci = 0;
	h->done = done;
	t->hook_active = true;
	hook_next(t);
}

/* ---- talking to the shim --------------------------------------------- */

static int
ctl_send(struct jtd_task *t, const char *line, struct jtd_err **err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->dir, JTD_STATE_CTL);
	/* Non-blocking: a FIFO without its reader (a dead shim) is ENXIO. */
	JTD_RETRY(fd, open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC));
	if (fd < 0)
		return jtd_err_sys(err, errno, "task supervisor of %s",
		    t->jail->name);
	if (jtd_write_all(fd, line, strlen(line)) != 0) {
		jtd_err_sys(err, errno, "task supervisor of %s", t->jail->name);
		jtd_close(fd);
		return -1;
	}
	jtd_close(fd);
	return 0;
}

/* Read the exit record, or make one saying why there is none. */
static void
read_exit(struct jtd_task *t)
{
	char path[PATH_MAX];
	struct jtd_err *err = NULL;
	size_t len;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", t->dir, JTD_STATE_EXIT);
	buf = jtd_read_file(path, 1024, &len, &err);
	if (buf == NULL || jtd_exit_parse(buf, len, &t->exit, &err) != 0) {
		memset(&t->exit, 0, sizeof(t->exit));
		t->exit.exit_code = -1;
		t->exit.ended_ns = now_ns();
		snprintf(t->exit.err, sizeof(t->exit.err),
		    "task supervisor ended without recording the exit: %s",
		    err != NULL ? err->msg : "no record");
	}
	free(buf);
	jtd_err_clear(&err);
}

static void
wait_event(uv_poll_t *p, int status, int events)
{
	struct jtd_task *t = p->data;
	char c;
	ssize_t n;

	n = read(t->wait_fd, &c, 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* End-of-file (or an error): the shim is gone. */
	stop_watching(t);
	task_exited(t);
}

/*
 * Watch the shim's `wait` FIFO.  Returns 1 if the shim is already gone.
 * Opening a FIFO for reading without O_NONBLOCK would wait for a writer;
 * a non-blocking read right after tells a live writer (EAGAIN) from none
 * (end-of-file), and a writer present at open time makes its later exit
 * show as POLLHUP.
 */
static int
watch_shim(struct jtd_task *t, struct jtd_err **err)
{
	char path[PATH_MAX], c;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->dir, JTD_STATE_WAIT);
	JTD_RETRY(fd, open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return jtd_err_sys(err, errno, "open %s", path);
	}
	JTD_RETRY(n, read(fd, &c, 1));
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		jtd_close(fd);
		return 1;
	}
	t->wait_fd = fd;
	uv_poll_init(t->ts->loop, &t->wait_poll, fd);
	t->wait_poll.data = t;
	t->open_handles++;
	uv_poll_start(&t->wait_poll, UV_READABLE | UV_DISCONNECT, wait_event);
	t->wait_open = true;
	return 0;
}

/* ---- exit ------------------------------------------------------------ */

static void
done_all(struct done_list *l, struct jtd_err *err)
{
	struct done_req *d;

	while ((d = LIST_FIRST(l)) != NULL) {
		struct jtd_err *copy = NULL;

		LIST_REMOVE(d, link);
		if (err != NULL)
			jtd_err_set(&copy, err->code, "%s", err->msg);
		d->cb(d->arg, copy);
		free(d);
	}
}

static void
task_exited(struct jtd_task *t)
{
	struct jtd_waiter *w;
	const char *kv[5];

	if (t->state == JTD_TASK_EXITED)
		return;
	read_exit(t);
	t->state = JTD_TASK_EXITED;
	uv_timer_stop(&t->stop_timer);
	jtd_logkv(JTD_LOG_DEBUG, log_kv(t, kv), "task exited: code %d "
	    "signal %d%s", t->exit.exit_code, t->exit.signal,
	    t->exit.oom_killed ? " (out of memory)" : "");
	if (t->exit.oom_killed)
		event(t, "Task was killed: out of memory");
	while ((w = LIST_FIRST(&t->waiters)) != NULL) {
		LIST_REMOVE(w, link);
		w->cb(w->arg, &t->exit);
		free(w);
	}
	done_all(&t->stoppers, NULL);
	if (t->destroying)
		teardown(t);
}

/* ---- start ----------------------------------------------------------- */

static void start_fail(struct jtd_task *t, struct jtd_err *err,
    bool recoverable);

static void
after_poststart(struct jtd_task *t, struct jtd_err *err)
{
	char path[PATH_MAX];
	jtd_start_cb cb = t->start_cb;

	if (err != NULL) {
		start_fail(t, err, false);
		return;
	}
	/*
	 * From here on a restarted plugin leaves the task for Nomad's
	 * RecoverTask instead of sweeping it as an interrupted start.
	 */
	snprintf(path, sizeof(path), "%s/started", t->dir);
	if (jtd_write_file_atomic(path, "1\n", 2, &err) != 0) {
		start_fail(t, err, true);
		return;
	}
	t->start_cb = NULL;
	event(t, "Task started in jail %s", t->jail->name);
	cb(t->start_arg, t, NULL, false);
}

static void
sync_parse(struct jtd_task *t)
{
	struct jtd_err *err = NULL;
	int init_pid, main_pid, code, n = 0;
	char *msg;

	t->syncbuf[t->synclen] = '\0';
	if (sscanf(t->syncbuf, "ok %d %d%n", &init_pid, &main_pid, &n) == 2 &&
	    t->syncbuf[n] == '\n') {
		t->state = JTD_TASK_RUNNING;
		t->started_ns = now_ns();
		if (watch_shim(t, &err) < 0) {
			start_fail(t, err, true);
			return;
		}
		if (!t->wait_open)
			task_exited(t);
		hooks_run(t, after_poststart, "Exec_created",
		    &t->cfg->exec_created, "Exec_poststart",
		    &t->cfg->exec_poststart);
		return;
	}
	if (sscanf(t->syncbuf, "error %d %n", &code, &n) == 1 && n > 0) {
		char *nl = strchr(t->syncbuf + n, '\n');

		msg = jtd_pct_unescape(t->syncbuf + n,
		    nl != NULL ? (size_t)(nl - t->syncbuf - n) :
		    strlen(t->syncbuf + n));
		jtd_err_set(&err, code == ENOENT || code == EACCES ||
		    code == ENOEXEC ? JTD_INVALID : JTD_INTERNAL, "%s",
		    msg != NULL ? msg : "task supervisor failed");
		free(msg);
		start_fail(t, err, code != ENOENT && code != EACCES &&
		    code != ENOEXEC && code != EINVAL);
		return;
	}
	jtd_err_set(&err, JTD_INTERNAL, "task supervisor ended during "
	    "start-up without a report (see %s/shim.log)", t->dir);
	start_fail(t, err, true);
}

static void
sync_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct jtd_task *t = h->data;

	buf->base = t->syncbuf + t->synclen;
	buf->len = sizeof(t->syncbuf) - 1 - t->synclen;
}

static void
sync_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct jtd_task *t = s->data;

	if (n > 0) {
		t->synclen += (size_t)n;
		if (memchr(t->syncbuf, '\n', t->synclen) == NULL &&
		    t->synclen < sizeof(t->syncbuf) - 1)
			return;
	} else if (n == 0) {
		return;
	}
	uv_read_stop(s);
	close_handle(t, (uv_handle_t *)&t->sync);
	t->sync_open = false;
	sync_parse(t);
}

static void
shim_exited(uv_process_t *p, int64_t status, int sig)
{
	struct jtd_task *t = p->data;

	/* Reaped; exit itself is noticed through the wait FIFO. */
	t->shim_running = false;
	close_handle(t, (uv_handle_t *)p);
}

static int
spawn_shim(struct jtd_task *t, struct jtd_err **err)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[4];
	char logpath[PATH_MAX], *args[3];
	int fds[2], logfd, r;

	if (access(t->ts->shim_path, X_OK) != 0)
		return jtd_err_sys(err, errno, "task supervisor %s",
		    t->ts->shim_path);
	if (jtd_pipe_cloexec(fds, 0) != 0)
		return jtd_err_sys(err, errno, "pipe");
	snprintf(logpath, sizeof(logpath), "%s/shim.log", t->dir);
	JTD_RETRY(logfd, open(logpath, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC | O_NOFOLLOW, 0600));
	if (logfd < 0) {
		jtd_err_sys(err, errno, "open %s", logpath);
		goto fail_pipe;
	}
	memset(&o, 0, sizeof(o));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_IGNORE;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = logfd;
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = fds[1];
	args[0] = t->ts->shim_path;
	args[1] = t->dir;
	args[2] = NULL;
	o.file = t->ts->shim_path;
	o.args = args;
	o.env = (char **)shim_env;
	o.exit_cb = shim_exited;
	o.stdio = stdio;
	o.stdio_count = 4;
	/* Its own session: Nomad's signals to the plugin's group miss it. */
	o.flags = UV_PROCESS_DETACHED;
	t->shim.data = t;
	r = uv_spawn(t->ts->loop, &t->shim, &o);
	jtd_close(logfd);
	jtd_close(fds[1]);
	if (r != 0) {
		t->shim.data = NULL;
		jtd_close(fds[0]);
		return jtd_err_set(err, JTD_INTERNAL, "start task supervisor "
		    "%s: %s", t->ts->shim_path, uv_strerror(r));
	}
	t->open_handles++;
	t->shim_running = true;

	uv_pipe_init(t->ts->loop, &t->sync, 0);
	t->sync.data = t;
	t->open_handles++;
	t->sync_open = true;
	if (uv_pipe_open(&t->sync, fds[0]) != 0 ||
	    uv_read_start((uv_stream_t *)&t->sync, sync_alloc, sync_read) != 0)
		return jtd_err_set(err, JTD_INTERNAL,
		    "cannot watch the task supervisor");
	return 0;

fail_pipe:
	jtd_close(fds[0]);
	jtd_close(fds[1]);
	return -1;
}

static void
after_prestart(struct jtd_task *t, struct jtd_err *err)
{
	if (err != NULL) {
		start_fail(t, err, false);
		return;
	}
	t->hooks_ran = true;
	if (spawn_shim(t, &err) != 0)
		start_fail(t, err, true);
}

/* Undo a start: stop what runs, run the undo hooks, remove the state. */
static void
start_fail(struct jtd_task *t, struct jtd_err *err, bool recoverable)
{
	jtd_start_cb cb = t->start_cb;
	const char *kv[5];

	t->start_cb = NULL;
	jtd_logkv(JTD_LOG_WARN, log_kv(t, kv), "task start failed: %s",
	    err->msg);
	/*
	 * Teardown runs in the background; the caller learns of the
	 * failure now.  Until teardown finishes the task stays in the
	 * table as destroying, so its id cannot be reused half-removed.
	 */
	t->destroying = true;
	if (t->state != JTD_TASK_EXITED && t->wait_open) {
		struct jtd_err *kerr = NULL;

		t->killed = true;
		if (ctl_send(t, "kill\n", &kerr) != 0) {
			jtd_err_clear(&kerr);
			jtd_backend_kill_all(t->jail, &kerr);
			jtd_err_clear(&kerr);
		}
	} else {
		teardown(t);
	}
	if (cb != NULL)
		cb(t->start_arg, NULL, err, recoverable);
	else
		jtd_err_clear(&err);
}

static char *
make_dstate(const char *dir, size_t *len)
{
	size_t n = strlen(DRIVER_STATE_MAGIC) + strlen(dir) + 3;
	char *s = malloc(n);

	if (s != NULL)
		*len = (size_t)snprintf(s, n, "%s\n%s\n", DRIVER_STATE_MAGIC,
		    dir);
	return s;
}

static struct jtd_task *
task_new(struct jtd_tasks *ts, const DRV(TaskConfig) *tc,
    struct jtd_err **err)
{
	struct jtd_task *t = calloc(1, sizeof(*t));
	uint8_t *buf = NULL;
	size_t n;

	if (t == NULL)
		goto oom;
	/* A deep copy of Nomad's TaskConfig, to echo in the handle. */
	n = DRV_FN(task_config__get_packed_size)(tc);
	buf = malloc(n + 1);
	if (buf == NULL)
		goto oom;
	DRV_FN(task_config__pack)(tc, buf);
	t->tc = DRV_FN(task_config__unpack)(NULL, n, buf);
	free(buf);
	if (t->tc == NULL)
		goto oom;
	t->ts = ts;
	t->wait_fd = -1;
	LIST_INIT(&t->waiters);
	LIST_INIT(&t->stoppers);
	LIST_INIT(&t->destroyers);
	uv_timer_init(ts->loop, &t->stop_timer);
	t->stop_timer.data = t;
	uv_timer_init(ts->loop, &t->hook.timer);
	t->hook.timer.data = t;
	t->open_handles = 2;
	return t;
oom:
	free(t);
	jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
	return NULL;
}

static int
write_task_file(struct jtd_task *t, struct jtd_err **err)
{
	char path[PATH_MAX], buf[1024];
	int n;

	snprintf(path, sizeof(path), "%s/%s", t->dir, JTD_STATE_TASK);
	n = snprintf(buf, sizeof(buf), "id %s\nname %s\nalloc %s\nplugin %ld\n",
	    t->tc->id, t->tc->name, t->tc->alloc_id, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(buf))
		return jtd_err_set(err, JTD_INVALID, "task id too long");
	return jtd_write_file_atomic(path, buf, (size_t)n, err);
}

int
jtd_task_start(struct jtd_tasks *ts, const DRV(TaskConfig) *tc,
    struct jtd_taskcfg *cfg, jtd_start_cb cb, void *arg,
    struct jtd_err **err)
{
	struct jtd_task *t;
	char path[PATH_MAX];

	if (!ts->configured && jtd_tasks_configure(ts, NULL, false, err) != 0)
		goto fail_cfg;
	if (jtd_tasks_find(ts, tc->id) != NULL) {
		jtd_err_set(err, JTD_EXISTS, "task %s already exists", tc->id);
		goto fail_cfg;
	}
	if (jtd_backend_check(cfg, err) != 0)
		goto fail_cfg;
	t = task_new(ts, tc, err);
	if (t == NULL)
		goto fail_cfg;
	t->cfg = cfg;
	t->jail = jtd_jail_build(tc, cfg, err);
	if (t->jail == NULL)
		goto fail_task;
	snprintf(t->dir, sizeof(t->dir), "%s/%s", ts->tasks_dir, t->jail->name);
	if (mkdir(t->dir, 0700) != 0) {
		jtd_err_sys(err, errno, "mkdir %s", t->dir);
		goto fail_task;
	}
	snprintf(path, sizeof(path), "%s/%s", t->dir, JTD_STATE_SPEC);
	if (write_task_file(t, err) != 0 ||
	    jtd_jail_save(t->jail, path, err) != 0)
		goto fail_dir;
	t->dstate = (uint8_t *)make_dstate(t->dir, &t->dstate_len);
	if (t->dstate == NULL) {
		jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
		goto fail_dir;
	}
	t->start_cb = cb;
	t->start_arg = arg;
	t->state = JTD_TASK_STARTING;
	LIST_INSERT_HEAD(&ts->tasks, t, link);
	ts->n++;
	t->in_table = true;
	hooks_run(t, after_prestart, "Exec_prepare", &cfg->exec_prepare,
	    "Exec_prestart", &cfg->exec_prestart);
	return 0;

fail_dir:
	jtd_backend_cleanup(t->jail, NULL);
	(void)remove_state_dir(t->dir);
fail_task:
	task_release(t, false);
	return -1;
fail_cfg:
	jtd_taskcfg_free(cfg);
	return -1;
}

/* ---- queries --------------------------------------------------------- */

const char *jtd_task_id(const struct jtd_task *t) { return t->tc->id; }
const char *jtd_task_name(const struct jtd_task *t) { return t->tc->name; }

const char *
jtd_task_alloc_id(const struct jtd_task *t)
{
	return t->tc->alloc_id;
}

const char *
jtd_task_jail_name(const struct jtd_task *t)
{
	return t->jail->name;
}

const struct jtd_jail *
jtd_task_jail(const struct jtd_task *t)
{
	return t->jail;
}

const char *
jtd_task_dir(const struct jtd_task *t)
{
	return t->dir;
}

enum jtd_task_state
jtd_task_state(const struct jtd_task *t)
{
	return t->state;
}

const struct jtd_exit *
jtd_task_exit(const struct jtd_task *t)
{
	return t->state == JTD_TASK_EXITED ? &t->exit : NULL;
}

int64_t
jtd_task_started_ns(const struct jtd_task *t)
{
	return t->started_ns;
}

const uint8_t *
jtd_task_driver_state(const struct jtd_task *t, size_t *len)
{
	*len = t->dstate_len;
	return t->dstate;
}

const DRV(TaskConfig) *
jtd_task_config(const struct jtd_task *t)
{
	return t->tc;
}

/* ---- wait ------------------------------------------------------------ */

struct jtd_waiter *
jtd_task_wait(struct jtd_task *t, jtd_wait_cb cb, void *arg)
{
	struct jtd_waiter *w;

	if (t->state == JTD_TASK_EXITED) {
		cb(arg, &t->exit);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		struct jtd_exit e = { .exit_code = -1 };

		snprintf(e.err, sizeof(e.err), "out of memory");
		cb(arg, &e);
		return NULL;
	}
	w->t = t;
	w->cb = cb;
	w->arg = arg;
	LIST_INSERT_HEAD(&t->waiters, w, link);
	return w;
}

void
jtd_task_unwait(struct jtd_waiter *w)
{
	if (w == NULL)
		return;
	LIST_REMOVE(w, link);
	free(w);
}

/* ---- signal, stop ---------------------------------------------------- */

int
jtd_task_signal(struct jtd_task *t, int sig, struct jtd_err **err)
{
	char line[32];

	if (t->state != JTD_TASK_RUNNING)
		return jtd_err_set(err, JTD_PRECONDITION, "task %s is not "
		    "running", t->tc->id);
	snprintf(line, sizeof(line), "signal %d\n", sig);
	return ctl_send(t, line, err);
}

static void
kill_now(struct jtd_task *t)
{
	struct jtd_err *err = NULL;

	t->killed = true;
	if (ctl_send(t, "kill\n", &err) == 0)
		return;
	/* No supervisor to ask: reach the processes directly. */
	jtd_err_clear(&err);
	if (jtd_backend_kill_all(t->jail, &err) != 0) {
		const char *kv[5];

		jtd_logkv(JTD_LOG_ERROR, log_kv(t, kv), "cannot kill the "
		    "jail: %s", err->msg);
		jtd_err_clear(&err);
	}
}

static void
stop_timer_fired(uv_timer_t *timer)
{
	struct jtd_task *t = timer->data;

	if (t->state == JTD_TASK_EXITED)
		return;
	event(t, "Task did not stop within its kill timeout; killing it");
	kill_now(t);
}

static void
send_stop_signal(struct jtd_task *t)
{
	struct jtd_err *err = NULL;
	char line[32];

	if (t->state == JTD_TASK_EXITED || t->killed)
		return;
	snprintf(line, sizeof(line), "stop %d\n", t->stop_sig);
	if (ctl_send(t, line, &err) != 0) {
		jtd_err_clear(&err);
		kill_now(t);
	}
}

static void stop_exec_next(struct jtd_task *t);

static void
stop_exec_done(uv_poll_t *p, int status, int events)
{
	struct jtd_task *t = p->data;
	int st;
	pid_t r;

	uv_poll_stop(p);
	close_handle(t, (uv_handle_t *)p);
	JTD_RETRY(r, waitpid(t->stop_exec.pid, &st, 0));
	jtd_close(t->stop_exec.exit_fd);
	t->stop_exec_active = false;
	t->stop_exec_i++;
	stop_exec_next(t);
}

/* Exec_stop: each command inside the jail, in order, then the signal. */
static void
stop_exec_next(struct jtd_task *t)
{
	struct jtd_err *err = NULL;
	struct jtd_exec_req req;
	char *argv[4];

	if (t->state == JTD_TASK_EXITED)
		return;
	if (t->stop_exec_i >= t->jail->exec_stop.n) {
		send_stop_signal(t);
		return;
	}
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = t->jail->exec_stop.v[t->stop_exec_i];
	argv[3] = NULL;
	memset(&req, 0, sizeof(req));
	req.argv = argv;
	req.stdin_fd = req.stdout_fd = req.stderr_fd = -1;
	if (jtd_backend_exec(t->jail, t->dir, &req, &t->stop_exec, &err) != 0) {
		event(t, "Exec_stop \"%s\" failed: %s", argv[2], err->msg);
		jtd_err_clear(&err);
		t->stop_exec_i++;
		stop_exec_next(t);
		return;
	}
	uv_poll_init(t->ts->loop, &t->stop_exec_poll, t->stop_exec.exit_fd);
	t->stop_exec_poll.data = t;
	t->open_handles++;
	t->stop_exec_active = true;
	uv_poll_start(&t->stop_exec_poll, UV_READABLE, stop_exec_done);
}

static void
after_prestop(struct jtd_task *t, struct jtd_err *err)
{
	if (err != NULL) {
		event(t, "%s", err->msg);
		jtd_err_clear(&err);
	}
	t->stop_exec_i = 0;
	stop_exec_next(t);
}

static void
add_done(struct done_list *l, jtd_done_cb cb, void *arg)
{
	struct done_req *d;

	if (cb == NULL)
		return;		/* nobody to tell */
	d = calloc(1, sizeof(*d));

	if (d == NULL) {
		struct jtd_err *err = NULL;

		jtd_err_set(&err, JTD_EXHAUSTED, "out of memory");
		cb(arg, err);
		return;
	}
	d->cb = cb;
	d->arg = arg;
	LIST_INSERT_HEAD(l, d, link);
}

void
jtd_task_stop(struct jtd_task *t, int sig, uint64_t timeout_ms,
    jtd_done_cb cb, void *arg)
{
	if (t->state == JTD_TASK_EXITED) {
		cb(arg, NULL);
		return;
	}
	add_done(&t->stoppers, cb, arg);
	if (t->stopping)
		return;
	t->stopping = true;
	t->stop_sig = sig > 0 ? sig : SIGTERM;
	if (t->jail->stop_timeout >= 0 &&
	    (uint64_t)t->jail->stop_timeout * 1000 < timeout_ms)
		timeout_ms = (uint64_t)t->jail->stop_timeout * 1000;
	uv_timer_start(&t->stop_timer, stop_timer_fired, timeout_ms, 0);
	if (t->state == JTD_TASK_STARTING || t->hook_active) {
		/* Nothing to run hooks against yet: signal directly. */
		send_stop_signal(t);
		return;
	}
	hooks_run(t, after_prestop, "Exec_prestop", &t->cfg->exec_prestop,
	    NULL, NULL);
}

/* ---- destroy --------------------------------------------------------- */

static void
teardown_finish(struct jtd_task *t, struct jtd_err *err)
{
	const char *kv[5];

	if (err != NULL) {
		jtd_logkv(JTD_LOG_WARN, log_kv(t, kv), "%s", err->msg);
		jtd_err_clear(&err);
	}
	if (jtd_backend_cleanup(t->jail, &err) != 0) {
		jtd_logkv(JTD_LOG_ERROR, log_kv(t, kv), "cleanup failed, "
		    "state kept in %s: %s", t->dir, err->msg);
		done_all(&t->destroyers, err);
		jtd_err_clear(&err);
		task_release(t, false);
		return;
	}
	(void)remove_state_dir(t->dir);
	done_all(&t->destroyers, NULL);
	task_release(t, false);
}

/* The jail is empty: undo hooks on the host, then remove everything. */
static void
teardown(struct jtd_task *t)
{
	char path[PATH_MAX];
	struct jtd_err *err = NULL;

	if (t->hook_active)
		return;		/* the running hook's callback comes back */
	snprintf(path, sizeof(path), "%s/%s", t->dir, JTD_STATE_DESTROY);
	if (jtd_write_file_atomic(path, "1\n", 2, &err) != 0)
		jtd_err_clear(&err);
	if (t->hooks_ran && t->cfg != NULL) {
		t->hooks_ran = false;
		hooks_run(t, teardown_finish, "Exec_poststop",
		    &t->cfg->exec_poststop, "Exec_release",
		    &t->cfg->exec_release);
		return;
	}
	teardown_finish(t, NULL);
}

void
jtd_task_destroy(struct jtd_task *t, bool force, jtd_done_cb cb, void *arg)
{
	if (t->state != JTD_TASK_EXITED && !force) {
		struct jtd_err *err = NULL;

		jtd_err_set(&err, JTD_PRECONDITION, "task %s is still running: "
		    "stop it first, or destroy it with force", t->tc->id);
		cb(arg, err);
		return;
	}
	add_done(&t->destroyers, cb, arg);
	if (t->destroying)
		return;
	t->destroying = true;
	if (t->state == JTD_TASK_EXITED || !t->wait_open) {
		teardown(t);
		return;
	}
	kill_now(t);
}

/* ---- recovery and sweeping -------------------------------------------- */

static bool
file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

int
jtd_task_recover(struct jtd_tasks *ts, const DRV(TaskConfig) *tc,
    const uint8_t *ds, size_t len, struct jtd_err **err)
{
	char dir[512], path[PATH_MAX];
	struct jtd_task *t;
	const char *nl;
	size_t ml = strlen(DRIVER_STATE_MAGIC);
	int r;

	if (jtd_tasks_find(ts, tc->id) != NULL)
		return 0;
	if (!ts->configured && jtd_tasks_configure(ts, NULL, false, err) != 0)
		return -1;
	if (len < ml + 2 || memcmp(ds, DRIVER_STATE_MAGIC, ml) != 0 ||
	    ds[ml] != '\n' || ds[len - 1] != '\n' ||
	    (nl = memchr(ds + ml + 1, '\n', len - ml - 1)) == NULL ||
	    (size_t)(nl - (const char *)ds) != len - 1 ||
	    len - ml - 2 >= sizeof(dir) ||
	    memchr(ds, '\0', len) != NULL)
		return jtd_err_set(err, JTD_INVALID, "task %s: unreadable "
		    "driver state in its handle", tc->id);
	memcpy(dir, ds + ml + 1, len - ml - 2);
	dir[len - ml - 2] = '\0';
	/* Only our own state directory, however the handle was altered. */
	if (strncmp(dir, ts->tasks_dir, strlen(ts->tasks_dir)) != 0 ||
	    dir[strlen(ts->tasks_dir)] != '/' ||
	    strchr(dir + strlen(ts->tasks_dir) + 1, '/') != NULL ||
	    strstr(dir, "..") != NULL)
		return jtd_err_set(err, JTD_NOT_FOUND, "task %s: its state %s "
		    "is not under this plugin's state_dir %s", tc->id, dir,
		    ts->tasks_dir);
	if (access(dir, F_OK) != 0)
		return jtd_err_sys(err, errno, "task %s: state %s", tc->id,
		    dir);

	t = task_new(ts, tc, err);
	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/%s", dir, JTD_STATE_SPEC);
	t->jail = jtd_jail_load(path, err);
	t->dstate = (uint8_t *)make_dstate(dir, &t->dstate_len);
	if (t->jail == NULL || t->dstate == NULL) {
		if (t->dstate == NULL)
			jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
		task_release(t, false);
		return -1;
	}
	/* Host hooks come from the job config in the handle. */
	t->cfg = jtd_taskcfg_decode_msgpack(tc->msgpack_driver_config.data,
	    tc->msgpack_driver_config.len, NULL);
	t->hooks_ran = t->cfg != NULL;
	t->state = JTD_TASK_RUNNING;
	LIST_INSERT_HEAD(&ts->tasks, t, link);
	ts->n++;
	t->in_table = true;
	if (file_exists(dir, JTD_STATE_EXIT)) {
		task_exited(t);
		return 0;
	}
	r = watch_shim(t, err);
	if (r < 0) {
		task_release(t, false);
		return -1;
	}
	if (r == 1)
		task_exited(t);
	return 0;
}

/*
 * Host hook processes a dead plugin left running for jail `name`: found
 * by the marker in their environment (inherited by everything they
 * start), then killed.  Reads /proc; where there is none (FreeBSD
 * without procfs) hooks left by a killed plugin keep running.
 */
static void
sweep_hooks(const char *name)
{
	char want[300], path[64], env[16384];
	struct dirent *de;
	size_t wl;
	DIR *d;

	wl = (size_t)snprintf(want, sizeof(want), "%s=%s", JTD_HOOK_MARKER,
	    name) + 1;
	d = opendir("/proc");
	while (d != NULL && (de = readdir(d)) != NULL) {
		long pid = strtol(de->d_name, NULL, 10);
		ssize_t n, i;
		int fd;

		if (pid <= 1 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
		JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC));
		if (fd < 0)
			continue;
		n = jtd_read(fd, env, sizeof(env));
		jtd_close(fd);
		/* Entries are NUL-terminated: match whole entries only. */
		for (i = 0; i + (ssize_t)wl <= n; ) {
			if (memcmp(env + i, want, wl) == 0) {
				kill((pid_t)pid, SIGKILL);
				break;
			}
			while (i < n && env[i] != '\0')
				i++;
			i++;
		}
	}
	if (d != NULL)
		closedir(d);
}

/* Finish what a dead plugin left half done. */
static void
sweep_one(struct jtd_tasks *ts, const char *name)
{
	char dir[600], path[PATH_MAX];
	struct jtd_err *err = NULL;
	struct jtd_jail *j;

	snprintf(dir, sizeof(dir), "%s/%s", ts->tasks_dir, name);
	if (file_exists(dir, "started") && !file_exists(dir, JTD_STATE_DESTROY))
		return;		/* Nomad's RecoverTask will claim it */
	sweep_hooks(name);
	snprintf(path, sizeof(path), "%s/%s", dir, JTD_STATE_SPEC);
	j = jtd_jail_load(path, &err);
	if (j != NULL) {
		char ctl[PATH_MAX];
		int fd;

		snprintf(ctl, sizeof(ctl), "%s/%s", dir, JTD_STATE_CTL);
		JTD_RETRY(fd, open(ctl, O_WRONLY | O_NONBLOCK | O_CLOEXEC));
		if (fd >= 0) {
			(void)jtd_write_all(fd, "kill\n", 5);
			jtd_close(fd);
		}
		if (jtd_backend_kill_all(j, &err) != 0 ||
		    jtd_backend_cleanup(j, &err) != 0) {
			jtd_warn("leftover task %s not removed: %s", name,
			    err->msg);
			jtd_err_clear(&err);
			jtd_jail_free(j);
			return;
		}
		jtd_jail_free(j);
	}
	jtd_err_clear(&err);
	if (remove_state_dir(dir) == 0)
		jtd_info("removed leftover task state %s", name);
}

int
jtd_tasks_configure(struct jtd_tasks *ts, const struct jtd_plugincfg *pc,
    bool sweep, struct jtd_err **err)
{
	DIR *d;
	struct dirent *de;

	snprintf(ts->state_dir, sizeof(ts->state_dir), "%.250s",
	    jtd_plugincfg_state_dir(pc));
	snprintf(ts->tasks_dir, sizeof(ts->tasks_dir), "%.250s/tasks",
	    ts->state_dir);
	if (mkdir_p(ts->tasks_dir, err) != 0)
		return -1;
	ts->configured = true;
	if (!sweep)
		return 0;
	if (jtd_backend_init(err) != 0)
		return -1;
	d = opendir(ts->tasks_dir);
	if (d == NULL)
		return jtd_err_sys(err, errno, "open %s", ts->tasks_dir);
	while ((de = readdir(d)) != NULL) {
		struct jtd_task *t;
		bool known = false;

		if (de->d_name[0] == '.')
			continue;
		LIST_FOREACH(t, &ts->tasks, link)
			if (strcmp(t->jail->name, de->d_name) == 0)
				known = true;
		if (!known)
			sweep_one(ts, de->d_name);
	}
	closedir(d);
	return 0;
}

/* ---- signals by name ------------------------------------------------- */

int
jtd_signal_number(const char *name)
{
	static const struct {
		const char *name;
		int num;
	} table[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
		{ "IOT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
		{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
		{ "TERM", SIGTERM }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
		{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
		{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
		{ "PROF", SIGPROF }, { "SYS", SIGSYS },
#ifdef SIGWINCH
		{ "WINCH", SIGWINCH },
#endif
#ifdef SIGIO
		{ "IO", SIGIO },
#endif
	};
	const char *s = name;
	size_t i;
	char *end;
	long v;

	if (s == NULL || s[0] == '\0')
		return -1;
	if (s[0] >= '0' && s[0] <= '9') {
		v = strtol(s, &end, 10);
		return *end == '\0' && v > 0 && v < 65 ? (int)v : -1;
	}
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(s, table[i].name) == 0)
			return table[i].num;
	return -1;
}
