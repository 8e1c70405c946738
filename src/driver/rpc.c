#include "driver/rpc.h"

#include <stdlib.h>
#include <string.h>

#include "google/protobuf/any.pb-c.h"
#include "rpc_status.pb-c.h"
#include "structs.pb-c.h"

#define RECOVERABLE_TYPE_URL "type.googleapis.com/" \
	"hashicorp.nomad.plugins.shared.structs.RecoverableError"

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	/* malloc(0) may return NULL; an empty message is still valid. */
	buf = malloc(*len > 0 ? *len : 1);
	if (buf != NULL)
		protobuf_c_message_pack(m, buf);
	return buf;
}

void
jtd_rpc_reply(struct grpc_call *call, const ProtobufCMessage *m)
{
	size_t len;
	uint8_t *buf = pack(m, &len);

	if (buf == NULL) {
		grpc_call_finish(call, JTD_EXHAUSTED, "out of memory", NULL, 0);
		return;
	}
	grpc_call_reply(call, buf, len);
	free(buf);
}

int
jtd_rpc_send(struct grpc_call *call, const ProtobufCMessage *m)
{
	size_t len;
	uint8_t *buf = pack(m, &len);
	int r;

	if (buf == NULL)
		return -1;
	r = grpc_call_send(call, buf, len);
	free(buf);
	return r;
}

size_t
jtd_rpc_status_details(int code, const char *message, bool recoverable,
    uint8_t **out)
{
	Hashicorp__Nomad__Plugins__Shared__Structs__RecoverableError rec =
	    HASHICORP__NOMAD__PLUGINS__SHARED__STRUCTS__RECOVERABLE_ERROR__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Google__Protobuf__Any *details[1] = { &any };
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	uint8_t recbuf[8];
	size_t len;

	rec.recoverable = recoverable;
	any.type_url = RECOVERABLE_TYPE_URL;
	any.value.len =
	    hashicorp__nomad__plugins__shared__structs__recoverable_error__pack(
	    &rec, recbuf);
	any.value.data = recbuf;
	st.code = code;
	st.message = (char *)message;
	st.n_details = 1;
	st.details = details;
	*out = pack(&st.base, &len);
	return *out != NULL ? len : 0;
}

void
jtd_rpc_fail(struct grpc_call *call, struct jtd_err **err, bool recoverable)
{
	int code = (*err)->code != JTD_OK ? (int)(*err)->code : JTD_UNKNOWN;
	uint8_t *details = NULL;
	size_t n = 0;

	/*
	 * grpc-go >= 1.59 turns a details code that differs from
	 * grpc-status into INTERNAL, so both carry the same code.
	 */
	if (recoverable)
		n = jtd_rpc_status_details(code, (*err)->msg, true, &details);
	grpc_call_finish(call, code, (*err)->msg, details, n);
	free(details);
	jtd_err_clear(err);
}
