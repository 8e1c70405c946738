/*
 * The gRPC server: a Unix-socket listener, the set of connections, and
 * the once-per-loop-iteration flush of output that handlers queued
 * outside a read callback (e.g. from a timer).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "core/log.h"
#include "wire/h2_internal.h"

static void
on_connection(uv_stream_t *listener, int status)
{
	struct grpc_server *srv = listener->data;

	if (status < 0) {
		jtd_debug("grpc: listen: %s", uv_strerror(status));
		return;
	}
	if (!srv->closing)
		h2_conn_accept(srv);
}

static void
on_flush_idle(uv_idle_t *idle)
{
	struct grpc_server *srv = idle->data;
	struct h2_conn *c;

	(void)uv_idle_stop(idle);

	/* Rescan from the head: a flush may tear connections down. */
	for (;;) {
		for (c = srv->conns; c != NULL; c = c->next)
			if (c->flush_queued && !c->closing)
				break;
		if (c == NULL)
			break;
		(void)h2_conn_flush(c);
	}
}

void
h2_srv_want_flush(struct h2_conn *c)
{
	struct grpc_server *srv = c->srv;

	/* Inside a read or a flush the output goes out at its end. */
	if (c->depth > 0 || c->closing || c->flush_queued || srv->closing)
		return;
	c->flush_queued = true;
	(void)uv_idle_start(&srv->flush_idle, on_flush_idle);
}

static void
server_free(struct grpc_server *srv)
{
	nghttp2_session_callbacks_del(srv->cbs);
	nghttp2_option_del(srv->opt);
	free(srv);
}

void
h2_srv_handle_closed(struct grpc_server *srv)
{
	void (*done)(void *);
	void *arg;

	if (--srv->n_handles > 0 || !srv->closing)
		return;
	done = srv->done;
	arg = srv->done_arg;
	server_free(srv);
	if (done != NULL)
		done(arg);
}

static void
on_handle_closed(uv_handle_t *h)
{
	h2_srv_handle_closed(h->data);
}

struct grpc_server *
grpc_server_new(uv_loop_t *loop, const struct grpc_method *methods,
    size_t n_methods, void *user, struct jtd_err **err)
{
	struct grpc_server *srv;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		jtd_err_set(err, JTD_EXHAUSTED, "grpc: out of memory");
		return NULL;
	}
	srv->loop = loop;
	srv->methods = methods;
	srv->n_methods = n_methods;
	srv->user = user;

	if (h2_callbacks_new(&srv->cbs, err) == -1)
		goto fail;
	if (nghttp2_option_new(&srv->opt) != 0) {
		jtd_err_set(err, JTD_EXHAUSTED, "grpc: out of memory");
		goto fail;
	}
	/* Closed streams are kept only for RFC 7540 priorities: unused. */
	nghttp2_option_set_no_closed_streams(srv->opt, 1);
	/* Long error texts and status details; grpc-go accepts 16 MiB. */
	nghttp2_option_set_max_send_header_block_length(srv->opt, 1 << 20);

	(void)uv_idle_init(loop, &srv->flush_idle);
	srv->flush_idle.data = srv;
	srv->n_handles = 1;
	return srv;

fail:
	if (srv->cbs != NULL)
		nghttp2_session_callbacks_del(srv->cbs);
	free(srv);
	return NULL;
}

int
grpc_server_listen_unix(struct grpc_server *srv, const char *path,
    struct jtd_err **err)
{
	uv_stream_t *ls = (uv_stream_t *)&srv->listener;
	struct sockaddr_un sa;
	int r;

	if (srv->listening || srv->closing)
		return jtd_err_set(err, JTD_PRECONDITION,
		    "grpc: server already listening or closing");
	/* Older libuv would silently bind a truncated path. */
	if (strlen(path) >= sizeof(sa.sun_path))
		return jtd_err_sys(err, ENAMETOOLONG, "grpc: listen on %s",
		    path);

	(void)uv_pipe_init(srv->loop, &srv->listener, 0);
	srv->listener.data = srv;
	srv->n_handles++;
	srv->listening = true;

	r = uv_pipe_bind(&srv->listener, path);
	if (r == 0)
		r = uv_listen(ls, 128, on_connection);
	if (r != 0) {
		uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
		return jtd_err_sys(err, -r, "grpc: listen on %s", path);
	}
	return 0;
}

void
grpc_server_close(struct grpc_server *srv, void (*done)(void *arg),
    void *arg)
{
	struct h2_conn *c;

	if (srv->closing)
		return;
	srv->closing = true;
	srv->done = done;
	srv->done_arg = arg;

	if (srv->listening && !uv_is_closing((uv_handle_t *)&srv->listener))
		uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
	/* Teardown unlinks; one still in a callback unlinks later. */
	for (;;) {
		for (c = srv->conns; c != NULL && c->closing; c = c->next)
			;
		if (c == NULL)
			break;
		h2_conn_close(c);
	}
	uv_close((uv_handle_t *)&srv->flush_idle, on_handle_closed);
}

size_t
grpc_server_connections(const struct grpc_server *srv)
{
	return srv->n_conns;
}

size_t
grpc_server_calls(const struct grpc_server *srv)
{
	return srv->n_calls;
}
