/*
 * The gRPC server on a real Unix socket, driven by a real HTTP/2 client
 * (nghttp2's client session) on the same libuv loop.  Every wait runs
 * the loop until a condition holds, bounded by a guard timer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "wire/grpc.h"

#define MAX_STREAMS	256
#define MAX_HELD	128
#define GUARD_MS	20000

/* Client side */

struct tstream {
	int32_t id;
	bool closed;
	uint32_t error_code;
	int header_frames;
	bool trailers_only;
	char status[8];
	char ctype[64];
	int grpc_status;
	char *grpc_message;
	char *details;

	uint8_t *body;
	size_t body_len, body_cap;

	uint8_t *req;
	size_t req_len, req_off, req_cap;
	bool req_eof;
};

struct tclient {
	uv_pipe_t pipe;
	uv_connect_t connect;
	nghttp2_session *s;
	bool connected;
	bool eof;
	bool closed;
	struct tstream *streams[MAX_STREAMS];
	size_t n_streams;
};

/* Server side */

struct later {
	uv_timer_t timer;
	struct grpc_call *call;
	int count;
};

struct tstate {
	int cancels;
	int half_closes;
	struct grpc_call *held[MAX_HELD];
	int n_held;
	struct later *laters[MAX_HELD];
	int n_laters;
};

static uv_loop_t loop;
static uv_timer_t guard;
static bool guard_fired;
static struct grpc_server *srv;
static struct tstate ts;
static char dir[64];
static char sock[128];
static bool srv_done;

static void
append(uint8_t **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2 + 64;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	if (n > 0)
		memcpy(*buf + *len, data, n);
	*len += n;
}

static void
append_framed(struct tstream *st, const void *msg, size_t len)
{
	uint8_t hdr[5] = { 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
	    (uint8_t)(len >> 8), (uint8_t)len };

	append(&st->req, &st->req_len, &st->req_cap, hdr, 5);
	append(&st->req, &st->req_len, &st->req_cap, msg, len);
}

/* Split a response body into messages; returns how many are complete. */
static size_t
body_messages(const struct tstream *st, const uint8_t **msg, size_t *len,
    size_t max)
{
	size_t off = 0, n = 0, l;

	while (st->body_len - off >= 5) {
		assert_int_equal(st->body[off], 0);
		l = (size_t)st->body[off + 1] << 24 |
		    (size_t)st->body[off + 2] << 16 |
		    (size_t)st->body[off + 3] << 8 | st->body[off + 4];
		if (st->body_len - off - 5 < l)
			break;
		if (n < max) {
			msg[n] = st->body + off + 5;
			len[n] = l;
		}
		n++;
		off += 5 + l;
	}
	return n;
}

static size_t
n_messages(const struct tstream *st)
{
	const uint8_t *m[1];
	size_t l[1];

	return body_messages(st, m, l, 0);
}

static void
on_guard(uv_timer_t *t)
{
	guard_fired = true;
}

#define RUN_UNTIL(cond)							\
	do {								\
		guard_fired = false;					\
		uv_timer_start(&guard, on_guard, GUARD_MS, 0);		\
		while (!(cond) && !guard_fired)				\
			uv_run(&loop, UV_RUN_ONCE);			\
		uv_timer_stop(&guard);					\
		assert_true(cond);					\
	} while (0)

static void
on_client_write(uv_write_t *req, int status)
{
	free(req->data);
	free(req);
}

static void
tc_flush(struct tclient *tc)
{
	const uint8_t *data;
	ssize_t n;
	uv_write_t *req;
	uv_buf_t b;
	void *copy;

	if (tc->closed || !tc->connected)
		return;
	while ((n = nghttp2_session_mem_send(tc->s, &data)) > 0) {
		copy = malloc((size_t)n);
		req = malloc(sizeof(*req));
		assert_non_null(copy);
		assert_non_null(req);
		memcpy(copy, data, (size_t)n);
		req->data = copy;
		b = uv_buf_init(copy, (unsigned)n);
		if (uv_write(req, (uv_stream_t *)&tc->pipe, &b, 1,
		    on_client_write) != 0) {
			free(copy);
			free(req);
			return;
		}
	}
	assert_true(n == 0);
}

static void
tc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char rbuf[65536];

	*buf = uv_buf_init(rbuf, sizeof(rbuf));
}

static void
tc_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct tclient *tc = stream->data;

	if (nread < 0) {
		tc->eof = true;
		uv_read_stop(stream);
		return;
	}
	if (nread > 0) {
		assert_int_equal(nghttp2_session_mem_recv(tc->s,
		    (const uint8_t *)buf->base, (size_t)nread), nread);
		tc_flush(tc);
	}
}

static void
tc_connected(uv_connect_t *req, int status)
{
	struct tclient *tc = req->data;

	assert_int_equal(status, 0);
	tc->connected = true;
	assert_int_equal(uv_read_start((uv_stream_t *)&tc->pipe, tc_alloc,
	    tc_read), 0);
	tc_flush(tc);
}

static int
tc_on_header(nghttp2_session *s, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *user)
{
	struct tstream *st;
	char v[65536];

	st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (st == NULL || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	assert_true(valuelen < sizeof(v));
	memcpy(v, value, valuelen);
	v[valuelen] = '\0';
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		snprintf(st->status, sizeof(st->status), "%.7s", v);
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
		snprintf(st->ctype, sizeof(st->ctype), "%.63s", v);
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		st->grpc_status = atoi(v);
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		st->grpc_message = strdup(v);
	else if (namelen == 23 &&
	    memcmp(name, "grpc-status-details-bin", 23) == 0)
		st->details = strdup(v);
	return 0;
}

static int
tc_on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame,
    void *user)
{
	struct tstream *st;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (st == NULL)
		return 0;
	st->header_frames++;
	if (st->header_frames == 1 &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		st->trailers_only = true;
	return 0;
}

static int
tc_on_data(nghttp2_session *s, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *user)
{
	struct tstream *st = nghttp2_session_get_stream_user_data(s, id);

	if (st != NULL)
		append(&st->body, &st->body_len, &st->body_cap, data, len);
	return 0;
}

static int
tc_on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	struct tstream *st = nghttp2_session_get_stream_user_data(s, id);

	if (st != NULL) {
		st->closed = true;
		st->error_code = code;
	}
	return 0;
}

static ssize_t
tc_read_req(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct tstream *st = src->ptr;
	size_t n = st->req_len - st->req_off;

	if (n > length)
		n = length;
	if (n > 0)
		memcpy(buf, st->req + st->req_off, n);
	st->req_off += n;
	if (st->req_off == st->req_len) {
		if (st->req_eof)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		else if (n == 0)
			return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)n;
}

static struct tclient *
tc_connect(void)
{
	nghttp2_session_callbacks *cbs;
	struct tclient *tc;

	tc = calloc(1, sizeof(*tc));
	assert_non_null(tc);
	assert_int_equal(nghttp2_session_callbacks_new(&cbs), 0);
	nghttp2_session_callbacks_set_on_header_callback(cbs, tc_on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
	    tc_on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    tc_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
	    tc_on_close);
	assert_int_equal(nghttp2_session_client_new(&tc->s, cbs, tc), 0);
	nghttp2_session_callbacks_del(cbs);
	assert_int_equal(nghttp2_submit_settings(tc->s, NGHTTP2_FLAG_NONE,
	    NULL, 0), 0);

	assert_int_equal(uv_pipe_init(&loop, &tc->pipe, 0), 0);
	tc->pipe.data = tc;
	tc->connect.data = tc;
	uv_pipe_connect(&tc->connect, &tc->pipe, sock, tc_connected);
	RUN_UNTIL(tc->connected);
	return tc;
}

static void
tc_closed(uv_handle_t *h)
{
	struct tclient *tc = h->data;

	tc->closed = true;
}

static void
tc_free(struct tclient *tc)
{
	size_t i;

	if (!tc->closed && !uv_is_closing((uv_handle_t *)&tc->pipe))
		uv_close((uv_handle_t *)&tc->pipe, tc_closed);
	RUN_UNTIL(tc->closed);
	nghttp2_session_del(tc->s);
	for (i = 0; i < tc->n_streams; i++) {
		struct tstream *st = tc->streams[i];

		free(st->grpc_message);
		free(st->details);
		free(st->body);
		free(st->req);
		free(st);
	}
	free(tc);
}

/* Start a call; `raw` bytes are sent as the request body as they are. */
static struct tstream *
tc_start(struct tclient *tc, const char *path, const char *ctype,
    const void *raw, size_t rawlen, bool eof)
{
	nghttp2_nv nv[] = {
		{ (uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0 },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
		{ (uint8_t *)":authority", (uint8_t *)"unused", 10, 6, 0 },
		{ (uint8_t *)"content-type", (uint8_t *)ctype, 12,
		    strlen(ctype), 0 },
		{ (uint8_t *)"te", (uint8_t *)"trailers", 2, 8, 0 },
		{ (uint8_t *)"user-agent", (uint8_t *)"test/1", 10, 6, 0 },
	};
	nghttp2_data_provider prd;
	struct tstream *st;

	assert_true(tc->n_streams < MAX_STREAMS);
	st = calloc(1, sizeof(*st));
	assert_non_null(st);
	st->grpc_status = -1;
	append(&st->req, &st->req_len, &st->req_cap, raw, rawlen);
	st->req_eof = eof;
	prd.source.ptr = st;
	prd.read_callback = tc_read_req;
	st->id = nghttp2_submit_request(tc->s, NULL, nv,
	    sizeof(nv) / sizeof(nv[0]), &prd, st);
	assert_true(st->id > 0);
	tc->streams[tc->n_streams++] = st;
	tc_flush(tc);
	return st;
}

static struct tstream *
tc_call(struct tclient *tc, const char *path, const void *msg, size_t len,
    bool eof)
{
	struct tstream *st = tc_start(tc, path, "application/grpc", NULL, 0,
	    false);

	append_framed(st, msg, len);
	st->req_eof = eof;
	nghttp2_session_resume_data(tc->s, st->id);
	tc_flush(tc);
	return st;
}

static void
tc_send(struct tclient *tc, struct tstream *st, const void *msg,
    size_t len)
{
	append_framed(st, msg, len);
	nghttp2_session_resume_data(tc->s, st->id);
	tc_flush(tc);
}

static void
tc_close_send(struct tclient *tc, struct tstream *st)
{
	st->req_eof = true;
	nghttp2_session_resume_data(tc->s, st->id);
	tc_flush(tc);
}

/* Check a completed normal (not trailers-only) response. */
static void
check_ok(const struct tstream *st, size_t n_msgs)
{
	assert_true(st->closed);
	assert_int_equal(st->error_code, NGHTTP2_NO_ERROR);
	assert_string_equal(st->status, "200");
	assert_string_equal(st->ctype, "application/grpc");
	assert_int_equal(st->grpc_status, 0);
	assert_int_equal(n_messages(st), n_msgs);
}

/* Server handlers */

static void
echo_unary(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	grpc_call_reply(call, msg, len);
}

static void
later_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
later_drop(struct later *l)
{
	int i;

	for (i = 0; i < ts.n_laters; i++)
		if (ts.laters[i] == l)
			ts.laters[i] = ts.laters[--ts.n_laters];
	uv_close((uv_handle_t *)&l->timer, later_closed);
}

static void
stream_some(struct grpc_call *call, int count)
{
	char m[64];
	int i;

	for (i = 0; i < count; i++) {
		snprintf(m, sizeof(m), "msg-%d-%.*s", i, i, "xxxxxxxxxxxx");
		assert_int_equal(grpc_call_send(call, (uint8_t *)m,
		    strlen(m)), 0);
	}
}

static void
later_fire(uv_timer_t *t)
{
	struct later *l = t->data;

	stream_some(l->call, l->count);
	grpc_call_finish(l->call, 0, NULL, NULL, 0);
	later_drop(l);
}

/*
 * Request: count, then when to answer: 0 at once, 1 from a timer soon,
 * 2 from a timer an hour away (only a cancel ends such a call).
 */
static void
server_stream(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct later *l;

	assert_int_equal(len, 2);
	if (msg[1] == 0) {
		stream_some(call, msg[0]);
		grpc_call_finish(call, 0, NULL, NULL, 0);
		return;
	}
	l = calloc(1, sizeof(*l));
	assert_non_null(l);
	l->call = call;
	l->count = msg[0];
	l->timer.data = l;
	uv_timer_init(&loop, &l->timer);
	uv_timer_start(&l->timer, later_fire, msg[1] == 1 ? 1 : 3600000, 0);
	ts.laters[ts.n_laters++] = l;
	grpc_call_set_data(call, l);
}

static void
later_cancel(struct grpc_call *call)
{
	struct later *l = grpc_call_data(call);

	ts.cancels++;
	if (l != NULL)
		later_drop(l);
}

static void
echo_bidi(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	assert_ptr_equal(grpc_call_server_user(call), &ts);
	assert_int_equal(grpc_call_send(call, msg, len), 0);
}

static void
bidi_half_close(struct grpc_call *call)
{
	ts.half_closes++;
	grpc_call_finish(call, 0, NULL, NULL, 0);
}

static void
count_cancel(struct grpc_call *call)
{
	int i;

	ts.cancels++;
	for (i = 0; i < ts.n_held; i++)
		if (ts.held[i] == call)
			ts.held[i] = ts.held[--ts.n_held];
	/* Harmless once cancelled. */
	assert_int_equal(grpc_call_send(call, (uint8_t *)"x", 1), -1);
	grpc_call_finish(call, 0, NULL, NULL, 0);
}

static void
hold(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	int i;

	for (i = 0; i < ts.n_held; i++)
		if (ts.held[i] == call)
			return;
	assert_true(ts.n_held < MAX_HELD);
	ts.held[ts.n_held++] = call;
}

static const uint8_t fail_details[] = {
	0x08, 0x09, 0x12, 0x04, 'b', 'o', 'o', 'm', 0xff, 0x00,
};
#define FAIL_MSG	"bad: 100% \"done\"\n\tcaf\xc3\xa9"
#define FAIL_MSG_ENC	"bad: 100%25 \"done\"%0A%09caf%C3%A9"
#define FAIL_DET_B64	"CAkSBGJvb23/AA"

static void
fail_with_details(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	grpc_call_finish(call, 9, FAIL_MSG, fail_details,
	    sizeof(fail_details));
}

static void
fail_after_one(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	assert_int_equal(grpc_call_send(call, (uint8_t *)"one", 3), 0);
	grpc_call_finish(call, 13, "broke after one", NULL, 0);
}

static void
unary_no_reply(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	grpc_call_finish(call, 0, NULL, NULL, 0);
}

static void
unary_two_replies(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	assert_int_equal(grpc_call_send(call, (uint8_t *)"a", 1), 0);
	assert_int_equal(grpc_call_send(call, (uint8_t *)"b", 1), -1);
	grpc_call_finish(call, 0, NULL, NULL, 0);
}

/* Finish from inside on_message, quoting the message being handled. */
static void
bidi_finish_quoting(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	grpc_call_finish(call, 3, "quoted", msg, len);
}

static void
closes_server(struct grpc_call *call, const uint8_t *msg, size_t len);

static const struct grpc_method methods[] = {
	{ "/test.Echo/Unary", GRPC_UNARY, echo_unary, NULL, NULL },
	{ "/test.Echo/Stream", GRPC_SERVER_STREAM, server_stream, NULL,
	    later_cancel },
	{ "/test.Echo/Bidi", GRPC_BIDI, echo_bidi, bidi_half_close,
	    count_cancel },
	{ "/test.Echo/Fail", GRPC_UNARY, fail_with_details, NULL, NULL },
	{ "/test.Echo/FailAfterOne", GRPC_SERVER_STREAM, fail_after_one,
	    NULL, NULL },
	{ "/test.Echo/Hold", GRPC_UNARY, hold, NULL, count_cancel },
	{ "/test.Echo/HoldBidi", GRPC_BIDI, hold, NULL, count_cancel },
	{ "/test.Echo/NoReply", GRPC_UNARY, unary_no_reply, NULL, NULL },
	{ "/test.Echo/TwoReplies", GRPC_UNARY, unary_two_replies, NULL,
	    NULL },
	{ "/test.Echo/CloseServer", GRPC_UNARY, closes_server, NULL, NULL },
	{ "/test.Echo/FinishQuoting", GRPC_BIDI, bidi_finish_quoting, NULL,
	    NULL },
};

static void
on_srv_done(void *arg)
{
	srv_done = true;
}

static void
closes_server(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	grpc_server_close(srv, on_srv_done, NULL);
	/* The call is cancelled by the close, not yet freed: harmless. */
	assert_int_equal(grpc_call_send(call, msg, len), -1);
}

/* Fixture */

static int
setup(void **state)
{
	struct jtd_err *err = NULL;

	memset(&ts, 0, sizeof(ts));
	srv_done = false;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(uv_timer_init(&loop, &guard), 0);
	snprintf(dir, sizeof(dir), "/tmp/jtd-wire-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/grpc.sock", dir);

	srv = grpc_server_new(&loop, methods,
	    sizeof(methods) / sizeof(methods[0]), &ts, &err);
	assert_non_null(srv);
	assert_int_equal(grpc_server_listen_unix(srv, sock, &err), 0);
	assert_null(err);
	return 0;
}

/* After a failed test: close what it left so the next one starts clean. */
static void
close_leftover(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int
teardown(void **state)
{
	if (!srv_done)
		grpc_server_close(srv, on_srv_done, NULL);
	RUN_UNTIL(srv_done);
	uv_walk(&loop, close_leftover, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(sock);
	rmdir(dir);
	return 0;
}

/* Tests */

static void
test_unary_echo(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *a, *b;
	const uint8_t *m[2];
	size_t l[2];

	a = tc_call(tc, "/test.Echo/Unary", "hello", 5, true);
	b = tc_call(tc, "/test.Echo/Unary", "", 0, true);
	RUN_UNTIL(a->closed && b->closed);
	check_ok(a, 1);
	assert_false(a->trailers_only);
	assert_int_equal(a->header_frames, 2);
	assert_int_equal(body_messages(a, m, l, 2), 1);
	assert_int_equal(l[0], 5);
	assert_memory_equal(m[0], "hello", 5);
	check_ok(b, 1);
	assert_int_equal(body_messages(b, m, l, 2), 1);
	assert_int_equal(l[0], 0);
	assert_null(a->grpc_message);

	RUN_UNTIL(grpc_server_calls(srv) == 0);
	assert_int_equal(grpc_server_connections(srv), 1);
	tc_free(tc);
	RUN_UNTIL(grpc_server_connections(srv) == 0);
}

static void
check_stream(const struct tstream *st, int count)
{
	const uint8_t *m[32];
	size_t l[32];
	char want[64];
	int i;

	check_ok(st, (size_t)count);
	assert_int_equal(body_messages(st, m, l, 32), count);
	for (i = 0; i < count; i++) {
		snprintf(want, sizeof(want), "msg-%d-%.*s", i, i,
		    "xxxxxxxxxxxx");
		assert_int_equal(l[i], strlen(want));
		assert_memory_equal(m[i], want, l[i]);
	}
}

static void
test_server_stream(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *now, *later, *none;

	now = tc_call(tc, "/test.Echo/Stream", "\x05\x00", 2, true);
	later = tc_call(tc, "/test.Echo/Stream", "\x0c\x01", 2, true);
	none = tc_call(tc, "/test.Echo/Stream", "\x00\x01", 2, true);
	RUN_UNTIL(now->closed && later->closed && none->closed);
	check_stream(now, 5);
	check_stream(later, 12);
	/* Nothing sent before finishing: the trailers-only form. */
	assert_true(none->trailers_only);
	assert_int_equal(none->grpc_status, 0);
	assert_int_equal(ts.cancels, 0);
	tc_free(tc);
}

static void
test_bidi_echo(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *st;
	const uint8_t *m[4];
	size_t l[4];

	st = tc_call(tc, "/test.Echo/Bidi", "a", 1, false);
	RUN_UNTIL(n_messages(st) == 1);
	tc_send(tc, st, "bb", 2);
	tc_send(tc, st, "", 0);
	tc_send(tc, st, "ccc", 3);
	RUN_UNTIL(n_messages(st) == 4);
	assert_false(st->closed);
	tc_close_send(tc, st);
	RUN_UNTIL(st->closed);
	check_ok(st, 4);
	assert_int_equal(body_messages(st, m, l, 4), 4);
	assert_memory_equal(m[0], "a", 1);
	assert_memory_equal(m[1], "bb", 2);
	assert_int_equal(l[2], 0);
	assert_memory_equal(m[3], "ccc", 3);
	assert_int_equal(ts.half_closes, 1);
	assert_int_equal(ts.cancels, 0);
	tc_free(tc);
}

static void
test_unknown_method(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *st;

	st = tc_call(tc, "/no.Such/Method", "x", 1, true);
	RUN_UNTIL(st->closed);
	assert_true(st->trailers_only);
	assert_int_equal(st->header_frames, 1);
	assert_string_equal(st->status, "200");
	assert_string_equal(st->ctype, "application/grpc");
	assert_int_equal(st->grpc_status, 12);
	assert_non_null(st->grpc_message);
	assert_non_null(strstr(st->grpc_message, "/no.Such/Method"));
	assert_int_equal(st->body_len, 0);

	/* Without END_STREAM from the client the stream is reset. */
	st = tc_call(tc, "/no.Such/Other", "x", 1, false);
	RUN_UNTIL(st->closed);
	assert_int_equal(st->grpc_status, 12);
	assert_int_equal(st->error_code, NGHTTP2_NO_ERROR);
	RUN_UNTIL(grpc_server_calls(srv) == 0);
	tc_free(tc);
}

static void
test_error_details(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *st, *st2;
	const uint8_t *m[2];
	size_t l[2];

	st = tc_call(tc, "/test.Echo/Fail", "x", 1, true);
	st2 = tc_call(tc, "/test.Echo/FailAfterOne", "x", 1, true);
	RUN_UNTIL(st->closed && st2->closed);
	assert_true(st->trailers_only);
	assert_string_equal(st->ctype, "application/grpc");
	assert_int_equal(st->grpc_status, 9);
	assert_string_equal(st->grpc_message, FAIL_MSG_ENC);
	assert_string_equal(st->details, FAIL_DET_B64);

	assert_false(st2->trailers_only);
	assert_int_equal(st2->header_frames, 2);
	assert_int_equal(st2->grpc_status, 13);
	assert_string_equal(st2->grpc_message, "broke after one");
	assert_int_equal(body_messages(st2, m, l, 2), 1);
	assert_memory_equal(m[0], "one", 3);
	tc_free(tc);
}

static void
test_finish_in_on_message(void **state)
{
	size_t len = 40000, i;
	struct tclient *tc = tc_connect();
	struct tstream *st;
	uint8_t *big;
	char *b64;

	/* Bigger than a DATA frame: the server reassembles it. */
	big = malloc(len);
	assert_non_null(big);
	for (i = 0; i < len; i++)
		big[i] = (uint8_t)(i * 7);
	st = tc_call(tc, "/test.Echo/FinishQuoting", big, len, false);
	tc_send(tc, st, "more", 4);
	RUN_UNTIL(st->closed);
	assert_true(st->trailers_only);
	assert_int_equal(st->grpc_status, 3);
	b64 = grpc_base64_encode(big, len);
	assert_non_null(b64);
	assert_non_null(st->details);
	assert_string_equal(st->details, b64);
	free(b64);
	free(big);
	RUN_UNTIL(grpc_server_calls(srv) == 0);
	tc_free(tc);
}

static void
test_unary_contract(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *none, *two;
	const uint8_t *m[2];
	size_t l[2];

	none = tc_call(tc, "/test.Echo/NoReply", "x", 1, true);
	two = tc_call(tc, "/test.Echo/TwoReplies", "x", 1, true);
	RUN_UNTIL(none->closed && two->closed);
	assert_int_equal(none->grpc_status, 13);
	assert_true(none->trailers_only);
	check_ok(two, 1);
	assert_int_equal(body_messages(two, m, l, 2), 1);
	assert_memory_equal(m[0], "a", 1);
	tc_free(tc);
}

static void
test_bad_requests(void **state)
{
	static const uint8_t compressed[] = { 1, 0, 0, 0, 1, 'x' };
	static const uint8_t huge[] = { 0, 0x04, 0, 0, 1 };
	static const uint8_t two[] = { 0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 0 };
	static const uint8_t cut[] = { 0, 0, 0, 0, 9, 'a' };
	struct tclient *tc = tc_connect();
	struct tstream *c, *h, *t, *n, *ct, *cu, *bc;

	c = tc_start(tc, "/test.Echo/Unary", "application/grpc", compressed,
	    sizeof(compressed), true);
	h = tc_start(tc, "/test.Echo/Unary", "application/grpc+proto", huge,
	    sizeof(huge), false);
	t = tc_start(tc, "/test.Echo/Unary", "application/grpc", two,
	    sizeof(two), true);
	n = tc_start(tc, "/test.Echo/Unary", "application/grpc", NULL, 0,
	    true);
	cu = tc_start(tc, "/test.Echo/Unary", "application/grpc", cut,
	    sizeof(cut), true);
	ct = tc_start(tc, "/test.Echo/Unary", "application/json", NULL, 0,
	    true);
	/* A bidi call the handler saw, then a broken message: cancelled. */
	bc = tc_call(tc, "/test.Echo/Bidi", "ok", 2, false);
	RUN_UNTIL(n_messages(bc) == 1);
	append(&bc->req, &bc->req_len, &bc->req_cap, compressed,
	    sizeof(compressed));
	nghttp2_session_resume_data(tc->s, bc->id);
	tc_flush(tc);

	RUN_UNTIL(c->closed && h->closed && t->closed && n->closed &&
	    cu->closed && ct->closed && bc->closed);
	assert_int_equal(c->grpc_status, 13);
	assert_int_equal(h->grpc_status, 8);
	assert_int_equal(t->grpc_status, 13);
	assert_int_equal(n->grpc_status, 13);
	assert_int_equal(cu->grpc_status, 13);
	assert_string_equal(ct->status, "415");
	assert_int_equal(bc->grpc_status, 13);
	assert_int_equal(ts.cancels, 1);
	RUN_UNTIL(grpc_server_calls(srv) == 0);
	tc_free(tc);
}

static void
test_client_rst(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *st, *ok;

	st = tc_call(tc, "/test.Echo/Hold", "x", 1, true);
	RUN_UNTIL(ts.n_held == 1);
	assert_int_equal(grpc_server_calls(srv), 1);
	assert_int_equal(nghttp2_submit_rst_stream(tc->s, NGHTTP2_FLAG_NONE,
	    st->id, NGHTTP2_CANCEL), 0);
	tc_flush(tc);
	RUN_UNTIL(ts.cancels == 1 && grpc_server_calls(srv) == 0);
	assert_int_equal(ts.n_held, 0);

	/* A stream reset before the handler saw it: no on_cancel. */
	st = tc_call(tc, "/test.Echo/Hold", "x", 1, false);
	RUN_UNTIL(grpc_server_calls(srv) == 1);
	nghttp2_submit_rst_stream(tc->s, NGHTTP2_FLAG_NONE, st->id,
	    NGHTTP2_CANCEL);
	tc_flush(tc);
	RUN_UNTIL(grpc_server_calls(srv) == 0);
	assert_int_equal(ts.cancels, 1);

	/* The connection still works. */
	ok = tc_call(tc, "/test.Echo/Unary", "again", 5, true);
	RUN_UNTIL(ok->closed);
	check_ok(ok, 1);
	assert_int_equal(ts.cancels, 1);
	tc_free(tc);
}

static void
test_disconnect_cancels(void **state)
{
	struct tclient *tc = tc_connect();
	int i;

	for (i = 0; i < 3; i++)
		(void)tc_call(tc, "/test.Echo/Hold", "x", 1, true);
	for (i = 0; i < 2; i++)
		(void)tc_call(tc, "/test.Echo/HoldBidi", "y", 1, false);
	(void)tc_call(tc, "/test.Echo/Stream", "\x03\x01", 2, false);
	RUN_UNTIL(ts.n_held == 5 && grpc_server_calls(srv) == 6);
	tc_free(tc);
	RUN_UNTIL(grpc_server_connections(srv) == 0);
	/* Held ones and the half-open one the handler never saw. */
	assert_int_equal(ts.cancels, 5);
	assert_int_equal(ts.n_held, 0);
	assert_int_equal(grpc_server_calls(srv), 0);
}

static void
test_concurrent(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *holds[64], *unary[100];
	char m[32];
	int i;

	for (i = 0; i < 64; i++) {
		holds[i] = tc_call(tc, "/test.Echo/Hold", "h", 1, true);
		snprintf(m, sizeof(m), "u%d", i);
		unary[i] = tc_call(tc, "/test.Echo/Unary", m, strlen(m), true);
	}
	for (; i < 100; i++) {
		snprintf(m, sizeof(m), "u%d", i);
		unary[i] = tc_call(tc, "/test.Echo/Unary", m, strlen(m), true);
	}
	RUN_UNTIL(ts.n_held == 64);
	for (i = 0; i < 100; i++) {
		const uint8_t *msg[1];
		size_t l[1];

		RUN_UNTIL(unary[i]->closed);
		check_ok(unary[i], 1);
		snprintf(m, sizeof(m), "u%d", i);
		assert_int_equal(body_messages(unary[i], msg, l, 1), 1);
		assert_int_equal(l[0], strlen(m));
		assert_memory_equal(msg[0], m, l[0]);
	}
	RUN_UNTIL(grpc_server_calls(srv) == 64);
	for (i = 0; i < 64; i++)
		assert_false(holds[i]->closed);

	/* Answer the held calls from outside any server callback. */
	for (i = 0; i < 64; i++)
		grpc_call_reply(ts.held[i], (uint8_t *)"done", 4);
	ts.n_held = 0;
	for (i = 0; i < 64; i++) {
		RUN_UNTIL(holds[i]->closed);
		check_ok(holds[i], 1);
	}
	RUN_UNTIL(grpc_server_calls(srv) == 0);
	assert_int_equal(ts.cancels, 0);
	tc_free(tc);
}

static void
test_large_message(void **state)
{
	size_t len = 4 * 1024 * 1024 + 3, i;
	struct tclient *tc = tc_connect();
	struct tstream *st, *bi;
	const uint8_t *m[1];
	size_t l[1];
	uint8_t *big;

	big = malloc(len);
	assert_non_null(big);
	for (i = 0; i < len; i++)
		big[i] = (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
	st = tc_call(tc, "/test.Echo/Unary", big, len, true);
	bi = tc_call(tc, "/test.Echo/Bidi", big, len, false);
	tc_send(tc, bi, big, 10);
	tc_close_send(tc, bi);
	RUN_UNTIL(st->closed && bi->closed);
	check_ok(st, 1);
	assert_int_equal(body_messages(st, m, l, 1), 1);
	assert_int_equal(l[0], len);
	assert_memory_equal(m[0], big, len);
	check_ok(bi, 2);
	assert_int_equal(body_messages(bi, m, l, 1), 2);
	assert_int_equal(l[0], len);
	assert_memory_equal(m[0], big, len);
	free(big);
	tc_free(tc);
}

static void
test_reconnect(void **state)
{
	struct tclient *tc;
	struct tstream *st;
	int i;

	for (i = 0; i < 20; i++) {
		tc = tc_connect();
		st = tc_call(tc, "/test.Echo/Unary", "r", 1, true);
		RUN_UNTIL(st->closed);
		check_ok(st, 1);
		tc_free(tc);
		RUN_UNTIL(grpc_server_connections(srv) == 0);
	}

	/* Two at once, one leaving while the other works. */
	tc = tc_connect();
	{
		struct tclient *tc2 = tc_connect();

		RUN_UNTIL(grpc_server_connections(srv) == 2);
		tc_free(tc2);
	}
	st = tc_call(tc, "/test.Echo/Unary", "s", 1, true);
	RUN_UNTIL(st->closed);
	check_ok(st, 1);
	tc_free(tc);
}

static void
test_goaway(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *st;

	st = tc_call(tc, "/test.Echo/Unary", "g", 1, true);
	RUN_UNTIL(st->closed);
	/* A client GOAWAY with no stream left: the server hangs up. */
	assert_int_equal(nghttp2_submit_goaway(tc->s, NGHTTP2_FLAG_NONE,
	    0, NGHTTP2_NO_ERROR, NULL, 0), 0);
	tc_flush(tc);
	RUN_UNTIL(tc->eof && grpc_server_connections(srv) == 0);
	tc_free(tc);
}

static void
test_server_close(void **state)
{
	struct tclient *tc = tc_connect();

	(void)tc_call(tc, "/test.Echo/Hold", "x", 1, true);
	(void)tc_call(tc, "/test.Echo/HoldBidi", "y", 1, false);
	(void)tc_call(tc, "/test.Echo/Stream", "\x02\x02", 2, true);
	RUN_UNTIL(ts.n_held == 2 && ts.n_laters == 1);
	grpc_server_close(srv, on_srv_done, NULL);
	RUN_UNTIL(srv_done && tc->eof);
	assert_int_equal(ts.cancels, 3);
	assert_int_equal(ts.n_laters, 0);
	tc_free(tc);
}

static void
test_close_from_handler(void **state)
{
	struct tclient *tc = tc_connect();
	struct tstream *st;

	(void)tc_call(tc, "/test.Echo/Hold", "x", 1, true);
	RUN_UNTIL(ts.n_held == 1);
	st = tc_call(tc, "/test.Echo/CloseServer", "x", 1, true);
	RUN_UNTIL(srv_done && tc->eof);
	assert_false(st->closed && st->grpc_status == 0);
	assert_int_equal(ts.cancels, 1);
	tc_free(tc);
}

static void
set_flag(void *arg)
{
	*(bool *)arg = true;
}

static void
test_listen_errors(void **state)
{
	struct jtd_err *err = NULL;
	struct grpc_server *s2;
	char longp[200];
	bool done = false;

	assert_int_equal(grpc_server_listen_unix(srv, sock, &err), -1);
	assert_int_equal(err->code, JTD_PRECONDITION);
	jtd_err_clear(&err);

	s2 = grpc_server_new(&loop, methods, 1, NULL, &err);
	assert_non_null(s2);
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(grpc_server_listen_unix(s2, longp, &err), -1);
	assert_int_equal(err->sys_errno, ENAMETOOLONG);
	jtd_err_clear(&err);
	/* The path of a live server is taken. */
	assert_int_equal(grpc_server_listen_unix(s2, sock, &err), -1);
	assert_int_equal(err->sys_errno, EADDRINUSE);
	jtd_err_clear(&err);
	grpc_server_close(s2, set_flag, &done);
	RUN_UNTIL(done);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unary_echo, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_stream, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bidi_echo, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_method, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_error_details, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_finish_in_on_message,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unary_contract, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_rst, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_cancels, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_large_message, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_goaway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_close, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_from_handler, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_listen_errors, setup,
		    teardown),
	};

	/* A peer gone mid-write must be an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
