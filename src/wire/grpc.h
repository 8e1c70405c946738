/*
 * A gRPC server over cleartext HTTP/2 (prior knowledge) on a libuv loop,
 * built on nghttp2.  It serves what go-plugin's client needs: unary,
 * server-streaming and bidirectional calls, any number of concurrent
 * long-lived streams per connection, any number of connections over the
 * process lifetime.
 *
 * Ownership: the server owns every struct grpc_call.  A handler may keep
 * a call pointer after returning (WaitTask answers much later) until it
 * either finishes the call with grpc_call_finish() or is told by
 * on_cancel that the peer went away; after either, the pointer is dead.
 * Messages passed to handlers are only valid during the callback.
 *
 * Everything runs on the loop's thread and never blocks it.  The
 * process must ignore SIGPIPE: a peer may vanish mid-write.
 */
#ifndef JTD_WIRE_GRPC_H
#define JTD_WIRE_GRPC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/err.h"

struct grpc_server;
struct grpc_call;

enum grpc_method_kind {
	GRPC_UNARY,		/* one request, one response */
	GRPC_SERVER_STREAM,	/* one request, many responses */
	GRPC_BIDI,		/* many requests, many responses */
};

struct grpc_method {
	const char *path;	/* "/package.Service/Method" */
	enum grpc_method_kind kind;
	/*
	 * Unary and server-streaming: called once with the request, after
	 * the client half-closed.  Bidi: called for each request message
	 * as it arrives.  Required.
	 */
	void (*on_message)(struct grpc_call *call, const uint8_t *msg,
	    size_t len);
	/* Bidi only, optional: the client half-closed its side. */
	void (*on_half_close)(struct grpc_call *call);
	/*
	 * Optional: the peer reset the stream, the connection closed, the
	 * server is closing, or the request stream turned out malformed,
	 * after the handler was first given the call (on_message or
	 * on_half_close) and before it finished it.  Runs at most once.
	 * The handler must release what it attached to the call; sending
	 * or finishing from here is a harmless no-op; the call is freed
	 * after this returns.
	 */
	void (*on_cancel)(struct grpc_call *call);
};

/*
 * Create a server on `loop` serving `methods` (the array must outlive
 * the server).  Unknown paths are answered UNIMPLEMENTED.  `user` is
 * returned by grpc_call_server_user().
 */
struct grpc_server *grpc_server_new(uv_loop_t *loop,
    const struct grpc_method *methods, size_t n_methods, void *user,
    struct jtd_err **err);

/* Bind and listen on a Unix socket at `path` (which must not exist). */
int grpc_server_listen_unix(struct grpc_server *srv, const char *path,
    struct jtd_err **err);

/*
 * Stop accepting, cancel every open call (on_cancel runs), close every
 * connection, and call `done` once all handles are closed.
 */
void grpc_server_close(struct grpc_server *srv,
    void (*done)(void *arg), void *arg);

/* Number of open connections and open calls (for tests and stats). */
size_t grpc_server_connections(const struct grpc_server *srv);
size_t grpc_server_calls(const struct grpc_server *srv);

void *grpc_call_server_user(const struct grpc_call *call);
const char *grpc_call_path(const struct grpc_call *call);
void grpc_call_set_data(struct grpc_call *call, void *data);
void *grpc_call_data(const struct grpc_call *call);

/*
 * Queue one response message (serialized protobuf, without the 5-byte
 * prefix; len may be 0).  The bytes are copied.  Response headers go
 * out before the first message.  Returns 0, or -1 if the call is
 * already finished or cancelled, is unary and already has its message,
 * or the message cannot be queued.  Safe from inside on_message and
 * from any later loop callback.
 */
int grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len);

/*
 * End the call with trailers grpc-status `code` and, when not NULL,
 * grpc-message `message` (percent-encoded here) and
 * grpc-status-details-bin `details` (a serialized google.rpc.Status,
 * base64-encoded here).  Queued messages are sent first.  With no
 * message sent the trailers-only form is used.  A unary call finished
 * OK without exactly one message is answered INTERNAL instead.  The
 * call must not be used afterwards; on_cancel never follows.
 */
void grpc_call_finish(struct grpc_call *call, int code, const char *message,
    const uint8_t *details, size_t details_len);

/* Convenience: send one message then finish with OK. */
void grpc_call_reply(struct grpc_call *call, const uint8_t *msg, size_t len);

/*
 * gRPC length-prefixed message framing, exposed for tests and fuzzing.
 * A decoder is fed arbitrary chunks; each complete message is handed to
 * `cb`.  Returns 0, or -1 (with *err set) on a compressed flag, a length
 * over `max_len`, or when cb returns non-zero.
 */
struct grpc_deframer {
	uint8_t hdr[5];
	size_t hdr_len;
	uint8_t *buf;
	size_t want;
	size_t have;
	size_t max_len;
	size_t cap;		/* allocated size of buf */
};

/* The largest message the server accepts (RESOURCE_EXHAUSTED above). */
#define GRPC_MAX_MESSAGE ((size_t)64 << 20)

void grpc_deframer_init(struct grpc_deframer *d, size_t max_len);
void grpc_deframer_free(struct grpc_deframer *d);
int grpc_deframer_feed(struct grpc_deframer *d, const uint8_t *data,
    size_t len, int (*cb)(void *arg, const uint8_t *msg, size_t len),
    void *arg, struct jtd_err **err);

/*
 * Inside a deframer callback: when `msg` lies in the deframer's own
 * buffer (the message was assembled from several chunks), hand that
 * buffer to the caller, who frees it; otherwise return NULL and the
 * caller copies.  Saves copying big messages once more.
 */
uint8_t *grpc_deframer_take(struct grpc_deframer *d, const uint8_t *msg);

/*
 * Percent-encoding of grpc-message: bytes outside 0x20-0x7E and '%'
 * become %XX.  Base64 without padding, for -bin headers.  Both return
 * a malloc'd string, or NULL when out of memory.  Exposed for tests.
 */
char *grpc_percent_encode(const char *s);
char *grpc_base64_encode(const uint8_t *data, size_t len);

#endif
