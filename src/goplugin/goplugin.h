/*
 * The go-plugin host contract (spec §1): the magic cookie, the app
 * protocol version, the handshake line, and go-plugin's own gRPC services
 * (health, controller, stdio, broker) that the Nomad client opens on every
 * connection.
 */
#ifndef JTD_GOPLUGIN_GOPLUGIN_H
#define JTD_GOPLUGIN_GOPLUGIN_H

#include <stddef.h>

#include "core/err.h"
#include "wire/grpc.h"

#define JTD_GOPLUGIN_COOKIE_KEY "NOMAD_PLUGIN_MAGIC_COOKIE"
#define JTD_GOPLUGIN_COOKIE_VALUE \
	"e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255"
#define JTD_GOPLUGIN_CORE_VERSION 1
#define JTD_GOPLUGIN_APP_VERSION 2

struct jtd_driver;

/*
 * What every gRPC handler reaches through grpc_call_server_user(): the
 * driver, and how to ask main() to shut the process down.
 */
struct jtd_host {
	struct jtd_driver *driver;
	void (*request_shutdown)(struct jtd_host *host);
};

/*
 * Check the environment Nomad sets: the cookie (JTD_INVALID when missing
 * or wrong, with a message meant for a human who ran the binary by hand)
 * and PLUGIN_PROTOCOL_VERSIONS (must list 2 when set).
 */
int jtd_goplugin_check_env(struct jtd_err **err);

/*
 * Format "1|2|unix|PATH|grpc\n" into buf; returns its length, or -1 when
 * it does not fit or the path holds a '|' or a newline.
 */
int jtd_goplugin_handshake_line(char *buf, size_t size, const char *path,
    struct jtd_err **err);

/* go-plugin's services, for the server's method table. */
extern const struct grpc_method jtd_goplugin_methods[];
extern const size_t jtd_goplugin_n_methods;

#endif
