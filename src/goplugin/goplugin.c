#include "goplugin/goplugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "goplugin.pb-c.h"
#include "health.pb-c.h"

int
jtd_goplugin_check_env(struct jtd_err **err)
{
	const char *cookie = getenv(JTD_GOPLUGIN_COOKIE_KEY);
	const char *versions = getenv("PLUGIN_PROTOCOL_VERSIONS");

	if (cookie == NULL || strcmp(cookie, JTD_GOPLUGIN_COOKIE_VALUE) != 0)
		return jtd_err_set(err, JTD_INVALID,
		    "This binary is a plugin. These are not meant to be "
		    "executed directly. Please execute the program that "
		    "consumes these plugins (the Nomad agent), which will "
		    "load any plugins automatically. To check a task config "
		    "without Nomad, use: jail-task-driver validate FILE");

	if (versions != NULL && versions[0] != '\0') {
		char buf[128], *tok, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", versions);
		for (tok = strtok_r(buf, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (atoi(tok) == JTD_GOPLUGIN_APP_VERSION)
				return 0;
		}
		return jtd_err_set(err, JTD_PRECONDITION,
		    "PLUGIN_PROTOCOL_VERSIONS is \"%s\"; this plugin speaks "
		    "protocol version %d only (Nomad 0.9 and later)",
		    versions, JTD_GOPLUGIN_APP_VERSION);
	}
	return 0;
}

int
jtd_goplugin_handshake_line(char *buf, size_t size, const char *path,
    struct jtd_err **err)
{
	int n;

	if (strpbrk(path, "|\n") != NULL)
		return jtd_err_set(err, JTD_INVALID,
		    "socket path %s cannot be announced: it holds '|' or a "
		    "newline", path);
	n = snprintf(buf, size, "%d|%d|unix|%s|grpc\n",
	    JTD_GOPLUGIN_CORE_VERSION, JTD_GOPLUGIN_APP_VERSION, path);
	if (n < 0 || (size_t)n >= size)
		return jtd_err_set(err, JTD_INVALID,
		    "socket path %s is too long", path);
	return n;
}

static struct jtd_host *
host_of(struct grpc_call *call)
{
	return grpc_call_server_user(call);
}

static void
health_check(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Grpc__Health__V1__HealthCheckRequest *req;
	Grpc__Health__V1__HealthCheckResponse resp =
	    GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	uint8_t out[8];
	size_t n;

	req = grpc__health__v1__health_check_request__unpack(NULL, len, msg);
	if (req == NULL) {
		grpc_call_finish(call, JTD_INVALID,
		    "malformed HealthCheckRequest", NULL, 0);
		return;
	}
	/* go-plugin asks for "plugin"; "" means the whole server. */
	if (req->service[0] != '\0' && strcmp(req->service, "plugin") != 0) {
		grpc_call_finish(call, JTD_NOT_FOUND, "unknown service",
		    NULL, 0);
	} else {
		resp.status =
		    GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
		n = grpc__health__v1__health_check_response__pack(&resp, out);
		grpc_call_reply(call, out, n);
	}
	grpc__health__v1__health_check_request__free_unpacked(req, NULL);
}

static void
controller_shutdown(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_host *host = host_of(call);

	jtd_debug("shutdown requested by the Nomad client");
	grpc_call_reply(call, NULL, 0);
	host->request_shutdown(host);
}

/*
 * Nomad does not read the plugin's stdio stream (SyncStdout is unset),
 * and the broker is unused by drivers: both are held open, silently, so
 * go-plugin sees services it knows and logs nothing.
 */
static void
hold_open(struct grpc_call *call, const uint8_t *msg, size_t len)
{
}

const struct grpc_method jtd_goplugin_methods[] = {
	{ "/grpc.health.v1.Health/Check", GRPC_UNARY, health_check,
	    NULL, NULL },
	{ "/plugin.GRPCController/Shutdown", GRPC_UNARY, controller_shutdown,
	    NULL, NULL },
	{ "/plugin.GRPCStdio/StreamStdio", GRPC_SERVER_STREAM, hold_open,
	    NULL, NULL },
	{ "/plugin.GRPCBroker/StartStream", GRPC_BIDI, hold_open,
	    NULL, NULL },
};

const size_t jtd_goplugin_n_methods =
    sizeof(jtd_goplugin_methods) / sizeof(jtd_goplugin_methods[0]);
