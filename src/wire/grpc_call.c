/*
 * One gRPC call = one HTTP/2 stream: request headers and messages in,
 * response headers, messages and trailers out.
 *
 * Lifetime: a call is created when its request HEADERS begin and freed
 * when its stream closes (or its connection goes).  A handler owns the
 * right to use it from the first on_message/on_half_close until it
 * finishes the call or on_cancel runs; both end that right, and the
 * server never frees a call while a handler runs with it, because
 * frees happen only in nghttp2's stream-close callback or in connection
 * teardown, neither of which a handler can reach synchronously.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/h2_internal.h"

/* Keep a response buffer this big for the next message; free larger. */
#define KEEP_OBUF	(64 * 1024)

#define NV_STATIC(n, v) { (uint8_t *)(n), (uint8_t *)(v),		\
	sizeof(n) - 1, sizeof(v) - 1,					\
	NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE }

static void finish_call(struct grpc_call *call, int code, const char *msg,
    const uint8_t *details, size_t details_len);

struct grpc_call *
h2_call_new(struct h2_conn *c, int32_t stream_id)
{
	struct grpc_call *call;

	call = calloc(1, sizeof(*call));
	if (call == NULL)
		return NULL;
	call->conn = c;
	call->stream_id = stream_id;
	call->http_status = 200;
	grpc_deframer_init(&call->dfr, GRPC_MAX_MESSAGE);

	call->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = call;
	c->calls = call;
	c->srv->n_calls++;
	return call;
}

static void
unlink_call(struct grpc_call *call)
{
	struct h2_conn *c = call->conn;

	if (call->prev != NULL)
		call->prev->next = call->next;
	else if (c->calls == call)
		c->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
}

static void
cancel_call(struct grpc_call *call)
{
	if (call->finished || call->cancelled || !call->visible)
		return;
	call->cancelled = true;
	if (call->method->on_cancel != NULL)
		call->method->on_cancel(call);
}

void
h2_call_drop(struct grpc_call *call)
{
	struct grpc_server *srv = call->conn->srv;

	/* Unlink first: on_cancel may start a connection teardown. */
	unlink_call(call);
	cancel_call(call);

	grpc_deframer_free(&call->dfr);
	free(call->bad_path);
	free(call->req);
	free(call->obuf);
	free(call->tr_msg);
	free(call->tr_details);
	free(call);
	srv->n_calls--;
}

/*
 * The server ends a call on its own (malformed request stream): a
 * handler holding it learns through on_cancel, then the client gets
 * the status.
 */
static void
abort_call(struct grpc_call *call, int code, const char *msg)
{
	if (call->finished)
		return;
	cancel_call(call);
	finish_call(call, code, msg, NULL, 0);
}

static const struct grpc_method *
find_method(const struct grpc_server *srv, const uint8_t *path, size_t len)
{
	size_t i;

	for (i = 0; i < srv->n_methods; i++) {
		const char *p = srv->methods[i].path;

		if (strlen(p) == len && memcmp(p, path, len) == 0)
			return &srv->methods[i];
	}
	return NULL;
}

static bool
grpc_content_type(const uint8_t *v, size_t len)
{
	static const char ct[] = "application/grpc";
	size_t n = sizeof(ct) - 1;

	if (len < n || memcmp(v, ct, n) != 0)
		return false;
	return len == n || v[n] == '+' || v[n] == ';';
}

static bool
name_is(const uint8_t *name, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(name, s, len) == 0;
}

void
h2_call_header(struct grpc_call *call, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen)
{
	if (name_is(name, namelen, ":method")) {
		call->post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
	} else if (name_is(name, namelen, ":path")) {
		call->method = find_method(call->conn->srv, value, valuelen);
		free(call->bad_path);
		call->bad_path = NULL;
		if (call->method != NULL)
			return;
		/* Kept only to name it in the UNIMPLEMENTED answer. */
		call->bad_path = malloc(valuelen + 1);
		if (call->bad_path != NULL) {
			memcpy(call->bad_path, value, valuelen);
			call->bad_path[valuelen] = '\0';
		}
	} else if (name_is(name, namelen, "content-type")) {
		call->ctype_ok = grpc_content_type(value, valuelen);
	}
}

void
h2_call_headers_done(struct grpc_call *call)
{
	char msg[256];

	if (!call->post) {
		call->method = NULL;
		call->http_status = 405;
		finish_call(call, JTD_INTERNAL, "grpc: method must be POST",
		    NULL, 0);
	} else if (!call->ctype_ok) {
		call->method = NULL;
		call->http_status = 415;
		finish_call(call, JTD_INTERNAL,
		    "grpc: invalid gRPC request content-type", NULL, 0);
	} else if (call->method == NULL) {
		snprintf(msg, sizeof(msg), "unknown method %s",
		    call->bad_path != NULL ? call->bad_path : "");
		finish_call(call, JTD_UNIMPLEMENTED, msg, NULL, 0);
	}
}

/* Deframer callback: one complete request message. */
static int
on_request_message(void *arg, const uint8_t *msg, size_t len)
{
	struct grpc_call *call = arg;

	if (call->finished || call->cancelled)
		return 1;
	if (call->method->kind == GRPC_BIDI) {
		call->visible = true;
		call->method->on_message(call, msg, len);
		return call->finished || call->cancelled;
	}

	/* One request: keep it until the client half-closes. */
	if (call->n_req > 0) {
		abort_call(call, JTD_INTERNAL,
		    "grpc: more than one request message for a call with "
		    "one request");
		return 1;
	}
	call->req = grpc_deframer_take(&call->dfr, msg);
	if (call->req == NULL) {
		call->req = malloc(len > 0 ? len : 1);
		if (call->req == NULL) {
			abort_call(call, JTD_EXHAUSTED,
			    "grpc: out of memory for the request");
			return 1;
		}
		if (len > 0)
			memcpy(call->req, msg, len);
	}
	call->req_len = len;
	call->n_req = 1;
	return 0;
}

void
h2_call_data(struct grpc_call *call, const uint8_t *data, size_t len)
{
	struct jtd_err *err = NULL;

	if (call->finished || call->cancelled || call->method == NULL)
		return;
	if (grpc_deframer_feed(&call->dfr, data, len, on_request_message,
	    call, &err) == -1) {
		/* A stop after the call ended is not a protocol error. */
		if (!call->finished && !call->cancelled)
			abort_call(call, (int)err->code, err->msg);
		jtd_err_clear(&err);
	}
}

void
h2_call_remote_end(struct grpc_call *call)
{
	const struct grpc_method *m = call->method;
	uint8_t *req;

	call->remote_ended = true;
	if (call->finished || call->cancelled || m == NULL)
		return;
	if (call->dfr.hdr_len != 0) {
		abort_call(call, JTD_INTERNAL,
		    "grpc: request stream ended inside a message");
		return;
	}
	if (m->kind == GRPC_BIDI) {
		call->visible = true;
		if (m->on_half_close != NULL)
			m->on_half_close(call);
		return;
	}
	if (call->n_req == 0) {
		abort_call(call, JTD_INTERNAL, "grpc: no request message");
		return;
	}

	grpc_deframer_free(&call->dfr);
	req = call->req;
	call->req = NULL;
	call->visible = true;
	m->on_message(call, req, call->req_len);
	free(req);
}

static nghttp2_nv
make_nv(const char *name, const char *value)
{
	return (nghttp2_nv){ (uint8_t *)name, (uint8_t *)value,
	    strlen(name), strlen(value), NGHTTP2_NV_FLAG_NO_COPY_NAME };
}

/* grpc-status and, when set, grpc-message and details: up to 3 fields. */
static size_t
status_nv(nghttp2_nv *nv, char *buf, size_t bufsize, int code,
    const char *msg, const char *details)
{
	size_t n = 0;

	snprintf(buf, bufsize, "%d", code);
	nv[n++] = make_nv("grpc-status", buf);
	if (msg != NULL)
		nv[n++] = make_nv("grpc-message", msg);
	if (details != NULL)
		nv[n++] = make_nv("grpc-status-details-bin", details);
	return n;
}

/*
 * nghttp2 data source: hand queued response bytes to nghttp2; once the
 * queue is empty and the call finished, end the data with the trailers.
 */
static ssize_t
read_response(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
    size_t length, uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct grpc_call *call = source->ptr;
	size_t n = call->olen - call->ooff;
	nghttp2_nv nv[3];
	char code[16];
	size_t nvlen;

	if (n > length)
		n = length;
	if (n > 0) {
		memcpy(buf, call->obuf + call->ooff, n);
		call->ooff += n;
	}
	if (call->ooff < call->olen)
		return (ssize_t)n;
	call->ooff = call->olen = 0;
	if (call->ocap > KEEP_OBUF) {
		free(call->obuf);
		call->obuf = NULL;
		call->ocap = 0;
	}
	if (!call->finished)
		return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;

	*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
	nvlen = status_nv(nv, code, sizeof(code), call->code, call->tr_msg,
	    call->tr_details);
	if (nghttp2_submit_trailer(session, stream_id, nv, nvlen) != 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return (ssize_t)n;
}

/*
 * Submit response HEADERS: with code < 0 the normal form, whose DATA
 * and trailers come from read_response(); otherwise the trailers-only
 * form carrying the status.
 */
static int
submit_headers(struct grpc_call *call, int code, const char *msg,
    const char *details)
{
	nghttp2_nv nv[5] = {
		NV_STATIC(":status", "200"),
		NV_STATIC("content-type", "application/grpc"),
	};
	nghttp2_data_provider prd;
	char status[8], scode[16];
	size_t nvlen = 2;

	call->responded = true;
	if (code < 0) {
		prd.source.ptr = call;
		prd.read_callback = read_response;
		return nghttp2_submit_response(call->conn->session,
		    call->stream_id, nv, nvlen, &prd);
	}

	if (call->http_status != 200) {
		snprintf(status, sizeof(status), "%u", call->http_status);
		nv[0] = make_nv(":status", status);
	}
	nvlen += status_nv(nv + nvlen, scode, sizeof(scode), code, msg,
	    details);
	return nghttp2_submit_response(call->conn->session, call->stream_id,
	    nv, nvlen, NULL);
}

static void
finish_call(struct grpc_call *call, int code, const char *msg,
    const uint8_t *details, size_t details_len)
{
	struct h2_conn *c = call->conn;
	char *emsg = NULL, *edet = NULL;
	int rv;

	/*
	 * The deframer stays: a handler may finish from on_message while
	 * `msg` still points into its buffer.
	 */
	call->finished = true;
	free(call->req);
	call->req = NULL;
	if (c->closing)
		return;

	if (call->method != NULL && call->method->kind == GRPC_UNARY &&
	    code == 0 && call->n_sent != 1) {
		code = JTD_INTERNAL;
		msg = "grpc: unary call finished without its response message";
		details = NULL;
	}
	if (msg != NULL)
		emsg = grpc_percent_encode(msg);
	if (details != NULL)
		edet = grpc_base64_encode(details, details_len);

	if (call->responded) {
		/* Trailers follow the queued messages (read_response). */
		call->code = code;
		call->tr_msg = emsg;
		call->tr_details = edet;
		/* Fails harmlessly when the data is not deferred. */
		(void)nghttp2_session_resume_data(c->session, call->stream_id);
	} else {
		rv = submit_headers(call, code, emsg, edet);
		free(emsg);
		free(edet);
		if (rv != 0)
			nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE,
			    call->stream_id, NGHTTP2_INTERNAL_ERROR);
	}
	h2_srv_want_flush(c);
}

/* Append one framed message to the response queue. */
static int
queue_message(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	size_t need, cap;
	uint8_t *b, *p;

	if (len > UINT32_MAX || len > SIZE_MAX / 2 - call->olen)
		return -1;
	need = call->olen + 5 + len;
	if (need > call->ocap && call->ooff > 0) {
		memmove(call->obuf, call->obuf + call->ooff,
		    call->olen - call->ooff);
		call->olen -= call->ooff;
		call->ooff = 0;
		need = call->olen + 5 + len;
	}
	if (need > call->ocap) {
		cap = call->ocap < 256 ? 256 : call->ocap * 2;
		if (cap < need)
			cap = need;
		b = realloc(call->obuf, cap);
		if (b == NULL)
			return -1;
		call->obuf = b;
		call->ocap = cap;
	}

	p = call->obuf + call->olen;
	p[0] = 0;
	p[1] = (uint8_t)(len >> 24);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 8);
	p[4] = (uint8_t)len;
	if (len > 0)
		memcpy(p + 5, msg, len);
	call->olen += 5 + len;
	return 0;
}

int
grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct h2_conn *c = call->conn;

	assert(call->method != NULL);
	if (call->finished || call->cancelled || c->closing)
		return -1;
	if (call->method->kind == GRPC_UNARY && call->n_sent > 0)
		return -1;
	if (queue_message(call, msg, len) == -1)
		return -1;
	call->n_sent++;

	if (!call->responded) {
		if (submit_headers(call, -1, NULL, NULL) != 0)
			return -1;
	} else
		(void)nghttp2_session_resume_data(c->session,
		    call->stream_id);
	h2_srv_want_flush(c);
	return 0;
}

void
grpc_call_finish(struct grpc_call *call, int code, const char *message,
    const uint8_t *details, size_t details_len)
{
	if (call->finished || call->cancelled)
		return;
	finish_call(call, code, message, details, details_len);
}

void
grpc_call_reply(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	if (grpc_call_send(call, msg, len) == 0)
		grpc_call_finish(call, 0, NULL, NULL, 0);
	else
		grpc_call_finish(call, JTD_INTERNAL,
		    "grpc: cannot queue the response", NULL, 0);
}

void *
grpc_call_server_user(const struct grpc_call *call)
{
	return call->conn->srv->user;
}

const char *
grpc_call_path(const struct grpc_call *call)
{
	return call->method != NULL ? call->method->path : "";
}

void
grpc_call_set_data(struct grpc_call *call, void *data)
{
	call->data = data;
}

void *
grpc_call_data(const struct grpc_call *call)
{
	return call->data;
}
