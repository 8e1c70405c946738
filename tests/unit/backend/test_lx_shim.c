/*
 * jail-task-shim end to end: started on a state directory as the plugin
 * starts it (fd 3, own session), talked to through the handshake, the
 * `ctl` and `wait` FIFOs and the `exit` file.  Root only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "core/io.h"
#include "jail/state.h"

#define SH(script) ((const char *const[]){ "/bin/sh", "-c", script, NULL })

struct shim_run {
	char dir[256];
	pid_t pid;
	int out;		/* our read end of the stdout FIFO */
	char line[512];		/* the handshake */
	char buf[8192];		/* what came through the FIFO */
	size_t len;
};

static void
path_of(const struct shim_run *s, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", s->dir, name);
}

/* Wait for fd to be readable (10 s at most). */
static bool
readable(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int r;

	JTD_RETRY(r, poll(&pfd, 1, 10000));
	return r == 1;
}

/* Write the spec, make Nomad's stdout FIFO and start the shim. */
static void
shim_start(struct jtd_jail *j, struct shim_run *s)
{
	static int seq;
	struct jtd_err *err = NULL;
	char path[512];
	int sync[2];
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/t%d", fx.state, ++seq);
	assert_int_equal(mkdir(s->dir, 0700), 0);
	path_of(s, "stdout.fifo", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	/* logmon's end: read side first, as Nomad does. */
	JTD_RETRY(s->out, open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	assert_true(s->out >= 0);
	j->stdout_path = strdup(path);
	path_of(s, "stderr.log", path, sizeof(path));
	j->stderr_path = strdup(path);
	path_of(s, JTD_STATE_SPEC, path, sizeof(path));
	if (jtd_jail_save(j, path, &err) != 0)
		fail_msg("save: %s", err->msg);

	assert_int_equal(jtd_pipe_cloexec(sync, 0), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		if (dup2(sync[1], JTD_SHIM_SYNC_FD) < 0)
			_exit(126);
		(void)setsid();
		execl(JTD_SHIM_PATH, "jail-task-shim", s->dir, (char *)NULL);
		_exit(127);
	}
	jtd_close(sync[1]);
	/* One line, then EOF: nothing else keeps fd 3 open. */
	while (readable(sync[0])) {
		ssize_t r = jtd_read(sync[0], s->line + n,
		    sizeof(s->line) - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	s->line[n] = '\0';
	jtd_close(sync[0]);
}

static void
ctl(const struct shim_run *s, const char *cmd)
{
	char path[512];
	int fd;

	path_of(s, JTD_STATE_CTL, path, sizeof(path));
	JTD_RETRY(fd, open(path, O_WRONLY | O_CLOEXEC));
	assert_true(fd >= 0);
	assert_int_equal(jtd_write_all(fd, cmd, strlen(cmd)), 0);
	jtd_close(fd);
}

static bool
fifo_wait(struct shim_run *s, const char *needle)
{
	while (strstr(s->buf, needle) == NULL) {
		ssize_t n;

		if (!readable(s->out))
			return false;
		n = jtd_read(s->out, s->buf + s->len, sizeof(s->buf) - 1 -
		    s->len);
		if (n <= 0)
			return strstr(s->buf, needle) != NULL;
		s->len += (size_t)n;
		s->buf[s->len] = '\0';
	}
	return true;
}

/* EOF on `wait`, the exit record, the shim's status; then clean up. */
static void
shim_end(const struct jtd_jail *j, struct shim_run *s, struct jtd_exit *e)
{
	struct jtd_err *err = NULL;
	char path[512], *text, c;
	size_t len;
	int fd, st;
	pid_t w;

	path_of(s, JTD_STATE_WAIT, path, sizeof(path));
	JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC));
	assert_true(fd >= 0);
	assert_true(readable(fd));
	assert_int_equal(jtd_read(fd, &c, 1), 0);
	jtd_close(fd);
	JTD_RETRY(w, waitpid(s->pid, &st, 0));
	assert_int_equal(w, s->pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	path_of(s, JTD_STATE_EXIT, path, sizeof(path));
	text = jtd_read_file(path, 4096, &len, &err);
	if (text == NULL)
		fail_msg("%s", err->msg);
	if (jtd_exit_parse(text, len, e, &err) != 0)
		fail_msg("%s", err->msg);
	free(text);
	while (fifo_wait(s, "\x01"))
		;
	jtd_close(s->out);
	if (jtd_backend_cleanup(j, &err) != 0)
		fail_msg("cleanup: %s", err->msg);
}

static void
test_runs_task(void **state)
{
	struct jtd_jail *j = fx_jail(SH("echo out; echo err >&2; exit 3"));
	struct shim_run s;
	struct jtd_exit e;
	long init_pid, main_pid;
	char path[512], pids[128], *text;
	struct jtd_err *err = NULL;

	(void)state;
	shim_start(j, &s);
	assert_int_equal(sscanf(s.line, "ok %ld %ld\n", &init_pid, &main_pid),
	    2);
	assert_true(init_pid > 1 && main_pid > 1);
	path_of(&s, JTD_STATE_PIDS, path, sizeof(path));
	text = jtd_read_file(path, 4096, NULL, &err);
	assert_non_null(text);
	snprintf(pids, sizeof(pids), "shim %ld\ninit %ld\nmain %ld\n",
	    (long)s.pid, init_pid, main_pid);
	assert_string_equal(text, pids);
	free(text);

	shim_end(j, &s, &e);
	assert_string_equal(s.buf, "out\n");
	assert_int_equal(e.exit_code, 3);
	assert_int_equal(e.signal, 0);
	assert_string_equal(e.err, "");
	path_of(&s, "stderr.log", path, sizeof(path));
	text = jtd_read_file(path, 4096, NULL, &err);
	assert_string_equal(text, "err\n");
	free(text);
	jtd_jail_free(j);
}

static void
test_exec_error(void **state)
{
	static const char *const argv[] = { "/bin/nope", NULL };
	struct jtd_jail *j = fx_jail(argv);
	struct shim_run s;
	char path[512];
	int st;
	pid_t w;

	(void)state;
	shim_start(j, &s);
	assert_non_null(strstr(s.line, "error 2 "));
	assert_non_null(strstr(s.line, "exec%20/bin/nope:%20No%20such%20file"));
	JTD_RETRY(w, waitpid(s.pid, &st, 0));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	path_of(&s, JTD_STATE_EXIT, path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	path_of(&s, JTD_STATE_PIDS, path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	jtd_close(s.out);
	jtd_jail_free(j);
}

static void
test_ctl_commands(void **state)
{
	struct jtd_jail *j = fx_jail(SH("trap 'echo usr1' USR1; "
	    "trap 'echo term' TERM; sleep 1000 & echo ready; "
	    "while :; do wait; done"));
	struct shim_run s;
	struct jtd_exit e;

	(void)state;
	shim_start(j, &s);
	assert_non_null(strstr(s.line, "ok "));
	assert_true(fifo_wait(&s, "ready"));
	ctl(&s, "bogus\nsignal 10\n");
	assert_true(fifo_wait(&s, "usr1"));
	ctl(&s, "stop 15\n");
	assert_true(fifo_wait(&s, "term"));
	ctl(&s, "kill\n");
	shim_end(j, &s, &e);
	assert_int_equal(e.signal, SIGKILL);
	jtd_jail_free(j);
}

static void
test_consolelog_and_gone_reader(void **state)
{
	struct jtd_jail *j = fx_jail(SH("echo a; echo b >&2; read x < "
	    "/local/go; i=0; while [ $i -lt 2000 ]; do echo line $i; "
	    "i=$((i+1)); done; exit 5"));
	struct shim_run s;
	struct jtd_exit e;
	struct jtd_err *err = NULL;
	char path[512], go[512], *text;

	(void)state;
	snprintf(path, sizeof(path), "%s/console.log", fx.tmp);
	j->consolelog = strdup(path);
	snprintf(go, sizeof(go), "%s/go", fx.local);
	assert_int_equal(mkfifo(go, 0600), 0);
	shim_start(j, &s);
	assert_non_null(strstr(s.line, "ok "));
	assert_true(fifo_wait(&s, "a\n"));

	/* logmon goes away; the task must not die of it. */
	jtd_close(s.out);
	fx_write(go, "\n");
	JTD_RETRY(s.out, open("/dev/null", O_RDONLY | O_CLOEXEC));
	shim_end(j, &s, &e);
	assert_int_equal(e.exit_code, 5);
	assert_int_equal(e.signal, 0);

	text = jtd_read_file(path, 1 << 20, NULL, &err);
	assert_non_null(text);
	assert_true(strncmp(text, "a\nb\n", 4) == 0 ||
	    strncmp(text, "b\na\n", 4) == 0);
	assert_non_null(strstr(text, "line 1999\n"));
	free(text);
	unlink(path);
	unlink(go);
	jtd_jail_free(j);
}

static void
test_wallclock(void **state)
{
	struct jtd_jail *j = fx_jail(SH("sleep 1000"));
	struct shim_run s;
	struct jtd_exit e;

	(void)state;
	j->rctl[JTD_RCTL_WALLCLOCK] = (struct jtd_rctl_rule){ true, 1,
	    JTD_RCTL_SIGNAL, "sigkill", JTD_RCTL_PER_JAIL };
	shim_start(j, &s);
	assert_non_null(strstr(s.line, "ok "));
	shim_end(j, &s, &e);
	assert_int_equal(e.signal, SIGKILL);
	assert_non_null(strstr(e.err, "Wallclock"));
	jtd_jail_free(j);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_leak_before, fx_leak_after)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_runs_task),
		T(test_exec_error),
		T(test_ctl_commands),
		T(test_consolelog_and_gone_reader),
		T(test_wallclock),
	};

	if (!fx_root()) {
		fprintf(stderr, "skipped: needs root\n");
		return 77;
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);	/* one test, by hand */
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
