/*
 * jail-task-driver: a Nomad task driver plugin running each task in a
 * jail.  Started by the Nomad agent with the go-plugin environment it
 * serves gRPC on a Unix socket; started by hand it is a small CLI.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/io.h"
#include "core/log.h"
#include "driver/driver.h"
#include "goplugin/goplugin.h"
#include "wire/grpc.h"

struct plugin {
	struct jtd_host host;
	uv_loop_t *loop;
	struct grpc_server *server;
	uv_signal_t sigterm;
	uv_timer_t shutdown_timer;
	char dir[256];
	char sock[300];
	bool stopping;
};

static void
server_closed(void *arg)
{
	struct plugin *p = arg;

	/* Every call is cancelled by now, so no handler can reach it. */
	jtd_driver_free(p->host.driver);
	p->host.driver = NULL;
	uv_close((uv_handle_t *)&p->sigterm, NULL);
	uv_close((uv_handle_t *)&p->shutdown_timer, NULL);
}

static void
plugin_stop(struct plugin *p)
{
	if (p->stopping)
		return;
	p->stopping = true;
	grpc_server_close(p->server, server_closed, p);
}

static void
shutdown_timer_cb(uv_timer_t *t)
{
	plugin_stop(t->data);
}

/*
 * GRPCController.Shutdown: the reply is queued already; stopping on the
 * next loop turn lets it reach the socket first.
 */
static void
request_shutdown(struct jtd_host *host)
{
	struct plugin *p = (struct plugin *)host;

	uv_timer_start(&p->shutdown_timer, shutdown_timer_cb, 0, 0);
}

static void
on_sigterm(uv_signal_t *s, int signum)
{
	plugin_stop(s->data);
}

static enum jtd_log_level
level_from_env(void)
{
	const char *v = getenv("JTD_LOG_LEVEL");

	if (v == NULL)
		return JTD_LOG_INFO;
	if (strcmp(v, "trace") == 0)
		return JTD_LOG_TRACE;
	if (strcmp(v, "debug") == 0)
		return JTD_LOG_DEBUG;
	if (strcmp(v, "warn") == 0)
		return JTD_LOG_WARN;
	if (strcmp(v, "error") == 0)
		return JTD_LOG_ERROR;
	return JTD_LOG_INFO;
}

/* A fresh 0700 directory for the socket, as go-plugin's servers use. */
static int
make_socket_dir(struct plugin *p, struct jtd_err **err)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(p->dir, sizeof(p->dir), "%s/jail-task-driver-XXXXXX", tmp);
	if (mkdtemp(p->dir) == NULL)
		return jtd_err_sys(err, errno, "mkdtemp %s", p->dir);
	snprintf(p->sock, sizeof(p->sock), "%s/plugin.sock", p->dir);
	return 0;
}

static int
run_plugin(void)
{
	struct plugin p;
	struct jtd_err *err = NULL;
	struct grpc_method *methods;
	char line[512];
	size_t n = jtd_goplugin_n_methods + jtd_driver_n_methods;
	int len, rc = 1;

	memset(&p, 0, sizeof(p));
	jtd_log_init(JTD_LOG_HCLOG, level_from_env());
	p.loop = uv_default_loop();
	p.host.request_shutdown = request_shutdown;

	methods = calloc(n, sizeof(*methods));
	if (methods == NULL) {
		jtd_error("out of memory");
		return 1;
	}
	memcpy(methods, jtd_goplugin_methods,
	    jtd_goplugin_n_methods * sizeof(*methods));
	memcpy(methods + jtd_goplugin_n_methods, jtd_driver_methods,
	    jtd_driver_n_methods * sizeof(*methods));

	p.host.driver = jtd_driver_new(p.loop, &err);
	if (p.host.driver == NULL)
		goto fail;
	p.server = grpc_server_new(p.loop, methods, n, &p.host, &err);
	if (p.server == NULL)
		goto fail_driver;
	if (make_socket_dir(&p, &err) != 0)
		goto fail_server;
	if (grpc_server_listen_unix(p.server, p.sock, &err) != 0)
		goto fail_dir;
	len = jtd_goplugin_handshake_line(line, sizeof(line), p.sock, &err);
	if (len < 0)
		goto fail_sock;

	uv_signal_init(p.loop, &p.sigterm);
	p.sigterm.data = &p;
	uv_signal_start(&p.sigterm, on_sigterm, SIGTERM);
	uv_timer_init(p.loop, &p.shutdown_timer);
	p.shutdown_timer.data = &p;

	/* The listener is up: only now may Nomad read where it is. */
	if (jtd_write_all(STDOUT_FILENO, line, (size_t)len) != 0) {
		jtd_err_sys(&err, errno, "writing the handshake line");
		plugin_stop(&p);
		uv_run(p.loop, UV_RUN_DEFAULT);
		goto fail_sock;
	}
	jtd_debug("plugin listening on %s", p.sock);

	uv_run(p.loop, UV_RUN_DEFAULT);
	rc = 0;
	unlink(p.sock);
	rmdir(p.dir);
	uv_loop_close(p.loop);
	free(methods);
	return rc;

fail_sock:
	unlink(p.sock);
fail_dir:
	rmdir(p.dir);
fail_server:
	if (p.server != NULL && !p.stopping) {
		grpc_server_close(p.server, NULL, NULL);
		uv_run(p.loop, UV_RUN_DEFAULT);
	}
fail_driver:
	if (p.host.driver != NULL) {
		jtd_driver_free(p.host.driver);
		uv_run(p.loop, UV_RUN_DEFAULT);
	}
fail:
	jtd_error("plugin start failed: %s", err->msg);
	jtd_err_clear(&err);
	free(methods);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: jail-task-driver                 (started by Nomad)\n"
	    "       jail-task-driver validate FILE   check a task config "
	    "(JSON)\n"
	    "       jail-task-driver run [--state-dir DIR] [--signal SIG] "
	    "[--kill-timeout S] FILE\n"
	    "                                        run one task without "
	    "Nomad\n"
	    "       jail-task-driver version\n");
}

int
main(int argc, char **argv)
{
	struct jtd_err *err = NULL;

	/*
	 * Nomad's agent shares our process group: a Ctrl-C meant for it
	 * must not kill the plugin.  A broken stderr pipe after an agent
	 * crash must not either.
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	if (argc >= 2) {
		jtd_log_init(JTD_LOG_PLAIN, level_from_env());
		if (strcmp(argv[1], "version") == 0 ||
		    strcmp(argv[1], "--version") == 0) {
			printf("jail-task-driver %s\n", JTD_VERSION);
			return 0;
		}
		if (strcmp(argv[1], "validate") == 0)
			return jtd_cli_validate(argc - 1, argv + 1);
		if (strcmp(argv[1], "run") == 0)
			return jtd_cli_run(argc - 1, argv + 1);
		if (strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		/* Nomad may append `args` from the agent's plugin block. */
		if (getenv(JTD_GOPLUGIN_COOKIE_KEY) == NULL) {
			usage(stderr);
			return 2;
		}
	}

	if (jtd_goplugin_check_env(&err) != 0) {
		fprintf(stderr, "%s\n", err->msg);
		jtd_err_clear(&err);
		return 1;
	}
	return run_plugin();
}
