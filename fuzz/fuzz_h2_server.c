/*
 * libFuzzer target: the HTTP/2 + gRPC server.  Arbitrary bytes follow
 * the fixed client connection preface into a server connection that
 * writes to memory (h2_mem_*), with handlers of every kind: ones that
 * answer at once, stream, echo, fail with details, or hold the call
 * until the connection goes (exercising cancellation).
 *
 * Input byte 0 steers the harness: bits 0-1 the chunk size, bit 2 a
 * canned empty SETTINGS frame, bit 3 a canned request HEADERS frame on
 * stream 1 (bits 4-6 pick its method), bit 7 whether held calls are
 * answered from a loop callback before the connection is dropped.
 * The canned frames let the fuzzer reach message handling quickly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/h2_internal.h"

#define MAX_HELD 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static struct grpc_server *srv;
static struct grpc_call *held[MAX_HELD];
static size_t n_held;
static size_t out_bytes;

static void
sink(void *arg, const uint8_t *p, size_t n)
{
	out_bytes += n;
}

static void
h_unary(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	grpc_call_reply(call, msg, len);
}

static void
h_stream(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	size_t i, n = len > 0 ? msg[0] % 5 : 0;

	for (i = 0; i < n; i++)
		(void)grpc_call_send(call, msg, len);
	grpc_call_finish(call, 0, NULL, NULL, 0);
}

static void
h_bidi(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	if (len > 0 && msg[0] == 'E')
		grpc_call_finish(call, 3, "stop\n%", msg, len);
	else
		(void)grpc_call_send(call, msg, len);
}

static void
forget(struct grpc_call *call)
{
	size_t i;

	for (i = 0; i < n_held; i++)
		if (held[i] == call)
			held[i] = held[--n_held];
}

static void
h_half_close(struct grpc_call *call)
{
	forget(call);
	grpc_call_finish(call, 0, NULL, NULL, 0);
}

static void
h_fail(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	grpc_call_finish(call, 9, "failed: 100%\xff", msg, len);
}

static void
h_hold(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	size_t i;

	for (i = 0; i < n_held; i++)
		if (held[i] == call)
			return;
	if (n_held < MAX_HELD)
		held[n_held++] = call;
	else
		grpc_call_finish(call, 8, "too many", NULL, 0);
}

static void
h_cancel(struct grpc_call *call)
{
	forget(call);
	(void)grpc_call_send(call, NULL, 0);
	grpc_call_finish(call, 0, NULL, NULL, 0);
}

static const struct grpc_method methods[] = {
	{ "/f.S/Unary", GRPC_UNARY, h_unary, NULL, NULL },
	{ "/f.S/Stream", GRPC_SERVER_STREAM, h_stream, NULL, NULL },
	{ "/f.S/Bidi", GRPC_BIDI, h_bidi, h_half_close, h_cancel },
	{ "/f.S/Fail", GRPC_UNARY, h_fail, NULL, NULL },
	{ "/f.S/Hold", GRPC_UNARY, h_hold, NULL, h_cancel },
	{ "/f.S/HoldStream", GRPC_SERVER_STREAM, h_hold, NULL, h_cancel },
	{ "/f.S/HoldBidi", GRPC_BIDI, h_hold, h_half_close, h_cancel },
};

/* Paths the canned HEADERS frame may ask for; the last is unknown. */
static const char *const paths[8] = {
	"/f.S/Unary", "/f.S/Stream", "/f.S/Bidi", "/f.S/Fail", "/f.S/Hold",
	"/f.S/HoldStream", "/f.S/HoldBidi", "/f.S/Unknown",
};

/* HPACK literal header field without indexing, new name. */
static size_t
hpack_literal(uint8_t *p, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	p[0] = 0;
	p[1] = (uint8_t)nl;
	memcpy(p + 2, name, nl);
	p[2 + nl] = (uint8_t)vl;
	memcpy(p + 3 + nl, value, vl);
	return 3 + nl + vl;
}

/* A request HEADERS frame (END_HEADERS) on stream 1 for `path`. */
static size_t
canned_headers(uint8_t *buf, const char *path)
{
	size_t n = 9;

	n += hpack_literal(buf + n, ":method", "POST");
	n += hpack_literal(buf + n, ":scheme", "http");
	n += hpack_literal(buf + n, ":path", path);
	n += hpack_literal(buf + n, ":authority", "unused");
	n += hpack_literal(buf + n, "content-type", "application/grpc");
	n += hpack_literal(buf + n, "te", "trailers");
	buf[0] = 0;
	buf[1] = (uint8_t)((n - 9) >> 8);
	buf[2] = (uint8_t)(n - 9);
	buf[3] = NGHTTP2_HEADERS;
	buf[4] = NGHTTP2_FLAG_END_HEADERS;
	buf[5] = buf[6] = buf[7] = 0;
	buf[8] = 1;
	return n;
}

static void
setup(void)
{
	struct jtd_err *err = NULL;

	if (uv_loop_init(&loop) != 0)
		abort();
	srv = grpc_server_new(&loop, methods,
	    sizeof(methods) / sizeof(methods[0]), NULL, &err);
	if (srv == NULL)
		abort();
}

static int
feed(struct h2_conn *c, const uint8_t *p, size_t n)
{
	return h2_mem_feed(c, p, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = { 0, 1, 7, 100 };
	static const uint8_t settings[9] = { 0, 0, 0, NGHTTP2_SETTINGS };
	struct jtd_err *err = NULL;
	struct h2_conn *c;
	uint8_t canned[256];
	size_t chunk, n, off;
	uint8_t ctl;

	if (srv == NULL)
		setup();
	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	chunk = chunks[ctl & 3];

	c = h2_mem_new(srv, sink, NULL, &err);
	if (c == NULL)
		abort();
	if (feed(c, (const uint8_t *)NGHTTP2_CLIENT_MAGIC,
	    NGHTTP2_CLIENT_MAGIC_LEN) == -1)
		abort();
	if ((ctl & 4) && feed(c, settings, sizeof(settings)) == -1)
		goto gone;
	if (ctl & 8) {
		n = canned_headers(canned, paths[(ctl >> 4) & 7]);
		if (feed(c, canned, n) == -1)
			goto gone;
	}
	for (off = 0; off < size; off += n) {
		n = chunk == 0 || chunk > size - off ? size - off : chunk;
		if (feed(c, data + off, n) == -1)
			goto gone;
	}

	/* Answer some held calls from outside nghttp2, then flush. */
	if (ctl & 0x80) {
		while (n_held > 0) {
			struct grpc_call *call = held[--n_held];

			grpc_call_reply(call, (const uint8_t *)"late", 4);
		}
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	/* The connection may have ended itself while flushing. */
	if (grpc_server_connections(srv) > 0)
		h2_mem_free(c);
gone:
	if (grpc_server_connections(srv) != 0 || grpc_server_calls(srv) != 0 ||
	    n_held != 0)
		abort();
	return 0;
}
