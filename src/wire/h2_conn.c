/*
 * One HTTP/2 connection: a server nghttp2 session fed from a Unix
 * socket (or, for fuzzing, from memory), with output gathered into one
 * buffer per flush and written without blocking.
 *
 * Teardown is deferred while nghttp2 is on the stack (depth > 0): a
 * handler may close the server from inside a callback, and the session
 * must not be freed under nghttp2's feet.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "wire/h2_internal.h"

#define MAX_STREAMS	10000
#define STREAM_WINDOW	(2 * 1024 * 1024)
#define CONN_WINDOW	(16 * 1024 * 1024)

/* Write what was gathered once this much is pending. */
#define WRITE_CHUNK	(64 * 1024)
/* Stop producing output above this much queued in uv; resume below. */
#define HIGH_WATER	(1024 * 1024)
#define LOW_WATER	(256 * 1024)

struct write_req {
	uv_write_t req;
	uint8_t *buf;
};

static void on_conn_closed(uv_handle_t *h);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static size_t
queued(struct h2_conn *c)
{
	if (c->out != NULL)
		return 0;
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
}

static void
finalize(struct h2_conn *c)
{
	struct grpc_server *srv = c->srv;
	struct grpc_call *call;

	c->finalized = true;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;

	while ((call = c->calls) != NULL)
		h2_call_drop(call);
	nghttp2_session_del(c->session);
	c->session = NULL;
	free(c->wbuf);
	c->wbuf = NULL;

	if (c->out != NULL) {
		free(c);
		return;
	}
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

void
h2_conn_close(struct h2_conn *c)
{
	if (c->finalized)
		return;
	c->closing = true;
	if (c->depth == 0)
		finalize(c);
}

/* Leave an nghttp2 scope; returns -1 when the connection went away. */
static int
leave(struct h2_conn *c)
{
	if (--c->depth == 0 && c->closing) {
		finalize(c);
		return -1;
	}
	return c->closing ? -1 : 0;
}

static void
on_write(uv_write_t *req, int status)
{
	struct write_req *wr = (struct write_req *)req;
	struct h2_conn *c = req->handle->data;

	free(wr->buf);
	free(wr);
	if (c->closing)
		return;
	if (status < 0) {
		jtd_debug("grpc: write: %s", uv_strerror(status));
		h2_conn_close(c);
		return;
	}
	if (c->write_blocked && queued(c) < LOW_WATER) {
		c->write_blocked = false;
		if (c->read_paused) {
			c->read_paused = false;
			(void)uv_read_start((uv_stream_t *)&c->pipe, on_alloc,
			    on_read);
		}
	}
	(void)h2_conn_flush(c);
}

/*
 * Write the gathered output: straight to the socket when nothing is
 * queued before it, the rest through uv_write, which then owns the
 * buffer.  Returns -1 (and marks the connection closing) on error.
 */
static int
write_out(struct h2_conn *c)
{
	struct write_req *wr;
	uv_buf_t b;
	size_t off = 0;
	int r;

	if (c->wlen == 0)
		return 0;
	if (c->out != NULL) {
		c->out(c->out_arg, c->wbuf, c->wlen);
		c->wlen = 0;
		return 0;
	}

	if (queued(c) == 0) {
		b = uv_buf_init((char *)c->wbuf, (unsigned)c->wlen);
		r = uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
		if (r == (int)c->wlen) {
			c->wlen = 0;
			return 0;
		}
		if (r < 0 && r != UV_EAGAIN)
			goto fail;
		if (r > 0)
			off = (size_t)r;
	}

	wr = malloc(sizeof(*wr));
	if (wr == NULL) {
		r = UV_ENOMEM;
		goto fail;
	}
	wr->buf = c->wbuf;
	b = uv_buf_init((char *)c->wbuf + off, (unsigned)(c->wlen - off));
	c->wbuf = NULL;
	c->wlen = c->wcap = 0;
	r = uv_write(&wr->req, (uv_stream_t *)&c->pipe, &b, 1, on_write);
	if (r != 0) {
		free(wr->buf);
		free(wr);
		goto fail;
	}
	return 0;

fail:
	jtd_debug("grpc: write: %s", uv_strerror(r));
	c->closing = true;
	return -1;
}

static ssize_t
send_cb(nghttp2_session *session, const uint8_t *data, size_t len,
    int flags, void *user)
{
	struct h2_conn *c = user;
	size_t cap;
	uint8_t *b;

	if (c->closing)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (queued(c) >= HIGH_WATER) {
		c->write_blocked = true;
		return NGHTTP2_ERR_WOULDBLOCK;
	}
	if (c->wlen + len > c->wcap) {
		cap = c->wcap < 4096 ? 4096 : c->wcap * 2;
		while (cap < c->wlen + len)
			cap *= 2;
		b = realloc(c->wbuf, cap);
		if (b == NULL)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		c->wbuf = b;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
	if (c->wlen >= WRITE_CHUNK && write_out(c) == -1)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

int
h2_conn_flush(struct h2_conn *c)
{
	nghttp2_session *s = c->session;

	c->flush_queued = false;
	if (c->closing)
		return -1;
	c->depth++;
	if (nghttp2_session_send(s) != 0 || c->closing || write_out(c) == -1)
		c->closing = true;
	else if (!nghttp2_session_want_read(s) &&
	    !nghttp2_session_want_write(s) && queued(c) == 0) {
		/* GOAWAY exchanged and no stream left: we are done. */
		c->closing = true;
	}
	return leave(c);
}

/* Bytes from the peer; returns -1 when the connection went away. */
static int
conn_input(struct h2_conn *c, const uint8_t *data, size_t len)
{
	ssize_t rv;

	c->depth++;
	rv = nghttp2_session_mem_recv(c->session, data, len);
	if (rv < 0) {
		jtd_debug("grpc: closing connection: %s",
		    nghttp2_strerror((int)rv));
		c->closing = true;
	} else
		(void)h2_conn_flush(c);
	if (c->write_blocked && !c->read_paused && c->out == NULL &&
	    !c->closing) {
		/* The peer reads slower than it makes us write. */
		c->read_paused = true;
		(void)uv_read_stop((uv_stream_t *)&c->pipe);
	}
	return leave(c);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct h2_conn *c = h->data;

	*buf = uv_buf_init((char *)c->srv->rbuf, sizeof(c->srv->rbuf));
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct h2_conn *c = stream->data;

	if (nread > 0)
		(void)conn_input(c, (const uint8_t *)buf->base,
		    (size_t)nread);
	else if (nread < 0) {
		if (nread != UV_EOF)
			jtd_debug("grpc: read: %s", uv_strerror((int)nread));
		h2_conn_close(c);
	}
}

static void
on_conn_closed(uv_handle_t *h)
{
	struct h2_conn *c = h->data;
	struct grpc_server *srv = c->srv;

	free(c);
	h2_srv_handle_closed(srv);
}

/* nghttp2 callbacks */

static int
on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
    void *user)
{
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	call = h2_call_new(user, frame->hd.stream_id);
	if (call == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(session, frame->hd.stream_id,
	    call);
	return 0;
}

static int
on_header(nghttp2_session *session, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *user)
{
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	call = nghttp2_session_get_stream_user_data(session,
	    frame->hd.stream_id);
	if (call != NULL)
		h2_call_header(call, name, namelen, value, valuelen);
	return 0;
}

static int
on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
    void *user)
{
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS &&
	    frame->hd.type != NGHTTP2_DATA)
		return 0;
	call = nghttp2_session_get_stream_user_data(session,
	    frame->hd.stream_id);
	if (call == NULL)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS &&
	    frame->headers.cat == NGHTTP2_HCAT_REQUEST)
		h2_call_headers_done(call);
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
		h2_call_remote_end(call);
	return 0;
}

static int
on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
    const uint8_t *data, size_t len, void *user)
{
	struct grpc_call *call;

	call = nghttp2_session_get_stream_user_data(session, stream_id);
	if (call != NULL)
		h2_call_data(call, data, len);
	return 0;
}

static int
on_stream_close(nghttp2_session *session, int32_t stream_id,
    uint32_t error_code, void *user)
{
	struct grpc_call *call;

	call = nghttp2_session_get_stream_user_data(session, stream_id);
	if (call != NULL) {
		nghttp2_session_set_stream_user_data(session, stream_id,
		    NULL);
		h2_call_drop(call);
	}
	return 0;
}

/*
 * Once our side ended a stream the client is still sending on, reset
 * it with NO_ERROR (RFC 9113 8.1) so the stream, and the call, go away.
 */
static int
on_frame_send(nghttp2_session *session, const nghttp2_frame *frame,
    void *user)
{
	int32_t id = frame->hd.stream_id;

	if ((frame->hd.type == NGHTTP2_HEADERS ||
	    frame->hd.type == NGHTTP2_DATA) &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
	    nghttp2_session_get_stream_remote_close(session, id) == 0)
		(void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE,
		    id, NGHTTP2_NO_ERROR);
	return 0;
}

int
h2_callbacks_new(nghttp2_session_callbacks **out, struct jtd_err **err)
{
	nghttp2_session_callbacks *cbs;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return jtd_err_set(err, JTD_EXHAUSTED,
		    "grpc: out of memory for nghttp2 callbacks");
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs,
	    on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
	    on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
	    on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs,
	    on_frame_send);
	*out = cbs;
	return 0;
}

/* Create the session, queue our SETTINGS and the connection window. */
static int
conn_start(struct h2_conn *c, struct jtd_err **err)
{
	static const nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};
	struct grpc_server *srv = c->srv;
	int rv;

	rv = nghttp2_session_server_new2(&c->session, srv->cbs, c, srv->opt);
	if (rv != 0)
		return jtd_err_set(err, JTD_EXHAUSTED, "grpc: session: %s",
		    nghttp2_strerror(rv));
	rv = nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv,
	    sizeof(iv) / sizeof(iv[0]));
	if (rv == 0)
		rv = nghttp2_session_set_local_window_size(c->session,
		    NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
	if (rv != 0) {
		nghttp2_session_del(c->session);
		c->session = NULL;
		return jtd_err_set(err, JTD_EXHAUSTED, "grpc: settings: %s",
		    nghttp2_strerror(rv));
	}

	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	return 0;
}

void
h2_conn_accept(struct grpc_server *srv)
{
	struct jtd_err *err = NULL;
	struct h2_conn *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		jtd_debug("grpc: accept: out of memory");
		return;
	}
	c->srv = srv;
	(void)uv_pipe_init(srv->loop, &c->pipe, 0);
	c->pipe.data = c;
	srv->n_handles++;

	r = uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->pipe);
	if (r != 0) {
		jtd_debug("grpc: accept: %s", uv_strerror(r));
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
		return;
	}
	if (conn_start(c, &err) == -1) {
		jtd_debug("%s", err->msg);
		jtd_err_clear(&err);
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
		return;
	}
	r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (r != 0) {
		jtd_debug("grpc: read start: %s", uv_strerror(r));
		h2_conn_close(c);
		return;
	}
	jtd_debug("grpc: connection accepted");
	(void)h2_conn_flush(c);
}

struct h2_conn *
h2_mem_new(struct grpc_server *srv, h2_out_fn out, void *arg,
    struct jtd_err **err)
{
	struct h2_conn *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		jtd_err_set(err, JTD_EXHAUSTED, "grpc: out of memory");
		return NULL;
	}
	c->srv = srv;
	c->out = out;
	c->out_arg = arg;
	if (conn_start(c, err) == -1) {
		free(c);
		return NULL;
	}
	if (h2_conn_flush(c) == -1) {
		jtd_err_set(err, JTD_EXHAUSTED, "grpc: cannot start session");
		return NULL;
	}
	return c;
}

int
h2_mem_feed(struct h2_conn *c, const uint8_t *data, size_t len)
{
	return conn_input(c, data, len);
}

void
h2_mem_free(struct h2_conn *c)
{
	h2_conn_close(c);
}
