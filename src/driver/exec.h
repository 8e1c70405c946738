/* ExecTask: one command inside a running task's jail (exec.c). */
#ifndef JTD_DRIVER_EXEC_H
#define JTD_DRIVER_EXEC_H

#include <uv.h>

#include "driver/pb.h"
#include "jail/jail.h"
#include "wire/grpc.h"

/* Start the command; the call is answered when it has finished. */
void jtd_exec_task(struct grpc_call *call, uv_loop_t *loop,
    const struct jtd_jail *jail, const char *state_dir,
    const DRV(ExecTaskRequest) *req);

/* on_cancel of ExecTask calls: kill the command, forget the call. */
void jtd_exec_cancelled(struct grpc_call *call);

#endif
