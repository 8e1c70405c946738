/*
 * Helpers shared by the RPC handlers: pack a protobuf-c message into a
 * reply, and turn a struct jtd_err into a gRPC status (optionally with
 * Nomad's RecoverableError detail, spec §4.11).
 */
#ifndef JTD_DRIVER_RPC_H
#define JTD_DRIVER_RPC_H

#include <stdbool.h>
#include <protobuf-c/protobuf-c.h>

#include "core/err.h"
#include "wire/grpc.h"

/* Send `m` as the one reply message and finish OK. */
void jtd_rpc_reply(struct grpc_call *call, const ProtobufCMessage *m);

/* Send `m` as one message of a stream; returns grpc_call_send's result. */
int jtd_rpc_send(struct grpc_call *call, const ProtobufCMessage *m);

/*
 * Finish the call with err's code and message, and free the error.  With
 * `recoverable`, attach RecoverableError{recoverable=true} as a status
 * detail so Nomad's restart policy applies; without it Nomad treats a
 * StartTask error as final.
 */
void jtd_rpc_fail(struct grpc_call *call, struct jtd_err **err,
    bool recoverable);

/* Encode the google.rpc.Status detail bytes (exposed for tests). */
size_t jtd_rpc_status_details(int code, const char *message,
    bool recoverable, uint8_t **out);

#endif
