/*
 * Internals of the gRPC server shared by grpc_server.c (listener, flush
 * scheduling, lifetime), h2_conn.c (one HTTP/2 connection: nghttp2
 * session and socket I/O) and grpc_call.c (one stream: request
 * decoding, response queue, trailers).  Not for use outside src/wire,
 * except the memory-connection hook at the end, which the fuzz target
 * uses to drive a connection without a socket.
 */
#ifndef JTD_WIRE_H2_INTERNAL_H
#define JTD_WIRE_H2_INTERNAL_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>

#include "wire/grpc.h"

/* Output hook of a memory connection: every byte the server sends. */
typedef void (*h2_out_fn)(void *arg, const uint8_t *data, size_t len);

struct grpc_server {
	uv_loop_t *loop;
	const struct grpc_method *methods;
	size_t n_methods;
	void *user;

	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;

	uv_pipe_t listener;
	bool listening;
	uv_idle_t flush_idle;	/* runs queued flushes once per iteration */

	struct h2_conn *conns;	/* every open connection */
	size_t n_conns;
	size_t n_calls;
	size_t n_handles;	/* uv handles not yet closed */

	bool closing;
	void (*done)(void *arg);
	void *done_arg;

	/* Reads are consumed synchronously, so one buffer serves all. */
	uint8_t rbuf[64 * 1024];
};

struct h2_conn {
	struct grpc_server *srv;
	struct h2_conn *prev, *next;	/* srv->conns */
	nghttp2_session *session;
	struct grpc_call *calls;	/* every call on this connection */

	uv_pipe_t pipe;			/* unused by memory connections */
	h2_out_fn out;			/* non-NULL: memory connection */
	void *out_arg;

	/* Output gathered from nghttp2, written in one go. */
	uint8_t *wbuf;
	size_t wlen, wcap;

	/* Nesting of nghttp2 entry points; teardown waits for zero. */
	unsigned depth;
	bool closing;		/* teardown requested */
	bool finalized;		/* teardown done, waiting for uv_close */
	bool flush_queued;
	bool write_blocked;	/* too much queued in uv writes */
	bool read_paused;
};

struct grpc_call {
	struct h2_conn *conn;
	struct grpc_call *prev, *next;	/* conn->calls */
	const struct grpc_method *method;	/* NULL: unknown/invalid */
	int32_t stream_id;
	void *data;

	/* Request side. */
	char *bad_path;		/* an unknown :path, for the error */
	struct grpc_deframer dfr;
	uint8_t *req;		/* the unary/server-stream request */
	size_t req_len;
	unsigned n_req;
	unsigned http_status;	/* for a trailers-only rejection */
	bool post;
	bool ctype_ok;

	/* Response side: framed messages not yet handed to nghttp2. */
	uint8_t *obuf;
	size_t ooff, olen, ocap;
	unsigned n_sent;
	int code;		/* grpc-status once finished */
	char *tr_msg;		/* percent-encoded, or NULL */
	char *tr_details;	/* base64, or NULL */

	bool visible;		/* a handler has been given the call */
	bool responded;		/* response HEADERS submitted */
	bool finished;		/* status decided, nothing more to send */
	bool cancelled;		/* on_cancel ran or is running */
	bool remote_ended;	/* client half-closed */
};

/* grpc_server.c */
void h2_srv_want_flush(struct h2_conn *c);
void h2_srv_handle_closed(struct grpc_server *srv);

/* h2_conn.c */
void h2_conn_accept(struct grpc_server *srv);
/* Returns -1 when the connection is (being) torn down. */
int h2_conn_flush(struct h2_conn *c);
void h2_conn_close(struct h2_conn *c);
int h2_callbacks_new(nghttp2_session_callbacks **cbs, struct jtd_err **err);

/* grpc_call.c: the nghttp2 callbacks that concern one stream. */
struct grpc_call *h2_call_new(struct h2_conn *c, int32_t stream_id);
void h2_call_header(struct grpc_call *call, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen);
void h2_call_headers_done(struct grpc_call *call);
void h2_call_data(struct grpc_call *call, const uint8_t *data, size_t len);
void h2_call_remote_end(struct grpc_call *call);
/* Stream gone: on_cancel if the handler still owns it, then free. */
void h2_call_drop(struct grpc_call *call);

/*
 * Memory connections, for fuzzing: a connection on `srv` whose output
 * goes to `out`.  h2_mem_feed() hands it bytes as if read from a socket
 * and returns 0, or -1 once the connection closed itself (it is freed
 * then).  h2_mem_free() cancels its calls and frees it.
 */
struct h2_conn *h2_mem_new(struct grpc_server *srv, h2_out_fn out,
    void *arg, struct jtd_err **err);
int h2_mem_feed(struct h2_conn *c, const uint8_t *data, size_t len);
void h2_mem_free(struct h2_conn *c);

#endif
