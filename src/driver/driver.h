/*
 * The Nomad driver: the BasePlugin and Driver gRPC services (spec §2–§4),
 * on top of the config layer and, for tasks, the jail model.
 */
#ifndef JTD_DRIVER_DRIVER_H
#define JTD_DRIVER_DRIVER_H

#include <stddef.h>
#include <uv.h>

#include "core/err.h"
#include "wire/grpc.h"

#define JTD_PLUGIN_NAME "jail-task-driver"
#define JTD_PLUGIN_API_VERSION "0.1.0"
#define JTD_ATTR_PREFIX "driver." JTD_PLUGIN_NAME

/* How often the host is probed again, and the longest gap between
 * fingerprints sent even when nothing changed. */
#define JTD_FINGERPRINT_PROBE_MS 5000
#define JTD_FINGERPRINT_RESEND_MS 30000

struct jtd_driver;

struct jtd_driver *jtd_driver_new(uv_loop_t *loop, struct jtd_err **err);

/* End every stream the driver holds open and release it. */
void jtd_driver_free(struct jtd_driver *drv);

/* The BasePlugin and Driver services, for the server's method table. */
extern const struct grpc_method jtd_driver_methods[];
extern const size_t jtd_driver_n_methods;

#endif
