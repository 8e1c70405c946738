/*
 * The Linux backend with real namespaces, cgroups and busybox: spawn,
 * output, exit statuses, exec failures, the jail's view (host name,
 * task directories, /dev, limits, user, environment), signals, persist,
 * init's reaping, and entering a running jail.  Root only.
 */
#define _XOPEN_SOURCE 700	/* posix_openpt and friends */
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

#define SH(script) ((const char *const[]){ "/bin/sh", "-c", script, NULL })

/* Assert something of a run's output, showing the output if not. */
#define OUT_HAS(r, text)						\
	do {								\
		if (strstr((r).buf, (text)) == NULL)			\
			fail_msg("no \"%s\" in output \"%s\"", (text),	\
			    (r).buf);					\
	} while (0)

static void
run_sh(struct jtd_jail *j, struct fx_run *r, struct jtd_exit *e)
{
	fx_run_jail(j, r, e);
	jtd_jail_free(j);
}

static void
test_output_and_exit_0(void **state)
{
	struct jtd_jail *j = fx_jail(SH("echo hello; echo oops >&2"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "hello\noops\n");
	assert_int_equal(e.exit_code, 0);
	assert_int_equal(e.signal, 0);
	assert_false(e.oom_killed);
	assert_true(e.ended_ns > 0);
}

static void
test_exit_3(void **state)
{
	struct jtd_jail *j = fx_jail(SH("exit 3"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	run_sh(j, &r, &e);
	assert_int_equal(e.exit_code, 3);
	assert_int_equal(e.signal, 0);
}

static void
test_killed_by_signal(void **state)
{
	struct jtd_jail *j = fx_jail(SH("kill -SEGV $$"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	run_sh(j, &r, &e);
	assert_int_equal(e.signal, SIGSEGV);
	assert_int_equal(e.exit_code, 128 + SIGSEGV);
}

static void
test_exec_failure(void **state)
{
	static const char *const cases[][3] = {
		{ "/bin/nope", "exec /bin/nope: No such file or directory" },
		{ "nope", "exec nope: No such file or directory" },
		{ "/etc/passwd", "exec /etc/passwd: Permission denied" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		const char *argv[] = { cases[i][0], NULL };
		struct jtd_jail *j = fx_jail(argv);
		struct jtd_err *err = NULL;
		struct fx_run r;

		assert_int_equal(fx_start(j, &r, &err), -1);
		assert_non_null(strstr(err->msg, cases[i][1]));
		assert_int_equal(err->sys_errno, i < 2 ? ENOENT : EACCES);
		jtd_err_clear(&err);
		jtd_close(r.out);
		jtd_jail_free(j);
	}
}

static void
test_bad_user_fails_start(void **state)
{
	struct jtd_jail *j = fx_jail(SH("true"));
	struct jtd_err *err = NULL;
	struct fx_run r;

	(void)state;
	j->user = strdup("ghost");
	assert_int_equal(fx_start(j, &r, &err), -1);
	if (strstr(err->msg, "user ghost: not in the jail's /etc/passwd") ==
	    NULL)
		fail_msg("%s", err->msg);
	jtd_err_clear(&err);
	jtd_close(r.out);
	jtd_jail_free(j);
}

static void
test_hostname(void **state)
{
	struct jtd_jail *j = fx_jail(SH("hostname"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->hostname = strdup("jailhost");
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "jailhost\n");

	/* Without one, the jail's name. */
	j = fx_jail(SH("hostname"));
	{
		char want[128];

		snprintf(want, sizeof(want), "%s\n", j->name);
		fx_run_jail(j, &r, &e);
		assert_string_equal(r.buf, want);
		jtd_jail_free(j);
	}
}

static void
test_task_dirs(void **state)
{
	char path[512], text[64];
	struct jtd_jail *a, *b;
	struct jtd_err *err = NULL;
	struct fx_run ra, rb;
	struct jtd_exit e;
	int fd;
	ssize_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/marker", fx.local);
	fx_write(path, "A-local\n");
	a = fx_jail(SH("cat /local/marker; echo from-jail > /alloc/out; "
	    "ls /secrets; echo ready; sleep 1000 & wait"));
	fx_start_ok(a, &ra);
	if (!fx_wait_output(&ra, "ready"))
		fail_msg("no %s in \"%s\"", "ready", ra.buf);
	OUT_HAS(ra, "A-local");

	snprintf(path, sizeof(path), "%s/alloc/out", fx.tmp);
	JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC));
	assert_true(fd >= 0);
	n = jtd_read(fd, text, sizeof(text) - 1);
	jtd_close(fd);
	text[n > 0 ? n : 0] = '\0';
	assert_string_equal(text, "from-jail\n");

	/*
	 * A second jail on the same root with other task directories:
	 * neither sees the other's, and the root itself stays untouched.
	 */
	b = fx_jail(SH("ls /local; ls /alloc"));
	free(b->mounts[1].source);
	snprintf(path, sizeof(path), "%s/other", fx.tmp);
	assert_int_equal(mkdir(path, 0755), 0);
	b->mounts[1].source = strdup(path);
	free(b->mounts[0].source);
	b->mounts[0].source = strdup(path);
	fx_run_jail(b, &rb, &e);
	assert_string_equal(rb.buf, "");
	assert_int_equal(e.exit_code, 0);
	jtd_jail_free(b);

	snprintf(path, sizeof(path), "%s/local/marker", fx.root);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(jtd_backend_deliver(&ra.sp, SIGKILL, true, &err), 0);
	fx_finish(&ra, a, &e);
	jtd_jail_free(a);
	snprintf(path, sizeof(path), "%s/marker", fx.local);
	unlink(path);
}

static void
test_symlink_mount_point_refused(void **state)
{
	char path[512];
	struct jtd_jail *j = fx_jail(SH("true"));
	struct jtd_err *err = NULL;
	struct fx_run r;

	(void)state;
	/* A jail's root pointing a mount point at the host's /etc. */
	snprintf(path, sizeof(path), "%s/evil", fx.root);
	assert_int_equal(symlink("/etc", path), 0);
	free(j->mounts[0].target);
	j->mounts[0].target = strdup("/evil/x");
	assert_int_equal(fx_start(j, &r, &err), -1);
	assert_non_null(strstr(err->msg, "evil is a symbolic link"));
	jtd_err_clear(&err);
	jtd_close(r.out);
	jtd_jail_free(j);
	unlink(path);
	assert_int_equal(access("/etc/x", F_OK), -1);
}

static void
test_devfs(void **state)
{
	struct jtd_jail *j = fx_jail(SH("ls /dev; echo x > /dev/null && "
	    "head -c 3 /dev/zero | wc -c; ls /dev/pts; test -c /dev/shm || "
	    "echo shm-dir; ls -l /dev/fd/"));
	struct fx_run r;
	struct jtd_exit e;
	char path[512];
	struct stat st;

	(void)state;
	j->mount_devfs = true;
	j->mount_fdescfs = true;
	j->mount_procfs = true;
	fx_run_jail(j, &r, &e);
	assert_int_equal(e.exit_code, 0);
	OUT_HAS(r, "fd\nfull\nnull\nptmx\npts\nrandom\n"
	    "shm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n");
	OUT_HAS(r, "\n3\n");
	OUT_HAS(r, "ptmx");
	OUT_HAS(r, "shm-dir");
	jtd_jail_free(j);

	/* Nothing was created in the root's own /dev, or left on it. */
	snprintf(path, sizeof(path), "%s/dev", fx.root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/proc", fx.root);
	assert_int_equal(rmdir(path), 0);
}

static void
test_procfs_is_the_jails(void **state)
{
	struct jtd_jail *j = fx_jail(SH("ls /proc | grep -c '^[0-9]'; "
	    "echo 1 > /proc/sys/kernel/ns_last_pid || echo ro; "
	    "cat /proc/keys | wc -c"));
	struct fx_run r;
	struct jtd_exit e;
	char path[512];

	(void)state;
	j->mount_procfs = true;
	run_sh(j, &r, &e);
	/* init, sh, ls, grep (and wc, cat): only the jail's processes. */
	assert_true(atoi(r.buf) >= 3 && atoi(r.buf) <= 6);
	OUT_HAS(r, "ro\n0\n");
	snprintf(path, sizeof(path), "%s/proc", fx.root);
	assert_int_equal(rmdir(path), 0);
}

static void
test_rlimits(void **state)
{
	struct jtd_jail *j = fx_jail(SH("ulimit -n; ulimit -s; ulimit -c; "
	    "ulimit -t"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->rctl[JTD_RCTL_OPENFILES] = (struct jtd_rctl_rule){ true, 77,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	j->rctl[JTD_RCTL_STACKSIZE] = (struct jtd_rctl_rule){ true,
	    4096 * 1024, JTD_RCTL_DENY, "deny", JTD_RCTL_PER_PROCESS };
	j->rctl[JTD_RCTL_COREDUMPSIZE] = (struct jtd_rctl_rule){ true, 0,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	j->rctl[JTD_RCTL_CPUTIME] = (struct jtd_rctl_rule){ true, 3600,
	    JTD_RCTL_SIGNAL, "sigkill", JTD_RCTL_PER_PROCESS };
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "77\n4096\n0\n3600\n");
}

static void
test_cgroup_limits(void **state)
{
	struct jtd_jail *j = fx_jail(SH("echo ready; sleep 1000 & wait"));
	struct jtd_err *err = NULL;
	struct fx_run r;
	struct jtd_exit e;
	char buf[256];

	(void)state;
	j->memory_mb = 64;
	j->memory_max_mb = 128;
	j->cpu_shares = 500;
	j->rctl[JTD_RCTL_MAXPROC] = (struct jtd_rctl_rule){ true, 20,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	j->rctl[JTD_RCTL_PCPU] = (struct jtd_rctl_rule){ true, 50,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	j->rctl[JTD_RCTL_READBPS] = (struct jtd_rctl_rule){ true, 1048576,
	    JTD_RCTL_THROTTLE, "throttle", JTD_RCTL_PER_JAIL };
	fx_start_ok(j, &r);
	if (!fx_wait_output(&r, "ready"))
		fail_msg("no %s in \"%s\"", "ready", r.buf);

	if (fx_cgroup_read(j, "memory", "memory.limit_in_bytes", buf,
	    sizeof(buf))) {
		assert_string_equal(buf, "134217728\n");
		assert_true(fx_cgroup_read(j, "memory",
		    "memory.soft_limit_in_bytes", buf, sizeof(buf)));
		assert_string_equal(buf, "67108864\n");
		assert_true(fx_cgroup_read(j, "pids", "pids.max", buf,
		    sizeof(buf)));
		assert_string_equal(buf, "21\n");
		assert_true(fx_cgroup_read(j, "cpu", "cpu.shares", buf,
		    sizeof(buf)));
		assert_string_equal(buf, "500\n");
		assert_true(fx_cgroup_read(j, "cpu", "cpu.cfs_quota_us", buf,
		    sizeof(buf)));
		assert_string_equal(buf, "50000\n");
		assert_true(fx_cgroup_read(j, "blkio",
		    "blkio.throttle.read_bps_device", buf, sizeof(buf)));
		assert_non_null(strstr(buf, " 1048576"));
	} else {
		assert_true(fx_cgroup_read(j, "", "memory.max", buf,
		    sizeof(buf)));
		assert_string_equal(buf, "134217728\n");
		assert_true(fx_cgroup_read(j, "", "pids.max", buf,
		    sizeof(buf)));
		assert_string_equal(buf, "21\n");
		assert_true(fx_cgroup_read(j, "", "cpu.max", buf,
		    sizeof(buf)));
		assert_string_equal(buf, "50000 100000\n");
	}

	{
		struct jtd_stats st;

		assert_int_equal(jtd_backend_stats(j, &st, &err), 0);
		assert_true(st.measured & JTD_STAT_RSS);
		assert_true(st.measured & JTD_STAT_USAGE);
		assert_true(st.usage > 0);
		assert_true(st.measured & JTD_STAT_CPU_TOTAL);
	}
	assert_true(jtd_backend_alive(j));
	assert_int_equal(jtd_backend_kill_all(j, &err), 0);
	fx_finish(&r, j, &e);
	assert_int_equal(e.signal, SIGKILL);
	assert_false(jtd_backend_alive(j));
	jtd_jail_free(j);
}

static void
test_pids_limit_enforced(void **state)
{
	/* pids.max = 5: init, sh and three sleeps; the fourth cannot fork. */
	struct jtd_jail *j = fx_jail(SH("i=0; while [ $i -lt 4 ]; do "
	    "sleep 1000 & i=$((i+1)); done"));
	struct fx_run r;
	struct jtd_exit e;
	struct jtd_err *err = NULL;

	(void)state;
	j->rctl[JTD_RCTL_MAXPROC] = (struct jtd_rctl_rule){ true, 4,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	fx_start_ok(j, &r);
	if (!fx_wait_output(&r, "can't fork"))
		fail_msg("no %s in \"%s\"", "can't fork", r.buf);
	assert_int_equal(jtd_backend_deliver(&r.sp, SIGKILL, true, &err), 0);
	fx_finish(&r, j, &e);
	jtd_jail_free(j);
}

static void
test_user(void **state)
{
	struct jtd_jail *j = fx_jail(SH("id -u; id -g; id -G; echo $USER "
	    "$HOME"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->user = strdup("nobody");
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "65534\n65534\n65534 50\n"
	    "nobody /nonexistent\n");

	j = fx_jail(SH("id -u"));
	j->user = strdup("4242");
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "4242\n");
}

static void
test_system_jail_user(void **state)
{
	/* "daemon" exists on the host only. */
	struct jtd_jail *j = fx_jail(SH("id -u"));
	struct jtd_err *err = NULL;
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->user = strdup("daemon");
	j->user_from_host = true;
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "1\n");

	j = fx_jail(SH("id -u"));
	j->user = strdup("daemon");
	assert_int_equal(fx_start(j, &r, &err), -1);
	if (strstr(err->msg, "user daemon: not in the jail's") == NULL)
		fail_msg("%s", err->msg);
	jtd_err_clear(&err);
	jtd_close(r.out);
	jtd_jail_free(j);
}

static void
test_env(void **state)
{
	struct jtd_jail *j = fx_jail(SH("env"));
	static const char *const env[] = { "FOO=bar", "NOMAD_TASK_DIR=/local",
		NULL };
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	setenv("JTD_SHIM_ONLY", "leak", 1);
	j->clean_env = true;
	fx_list_set(&j->env, env);
	run_sh(j, &r, &e);
	assert_null(strstr(r.buf, "JTD_SHIM_ONLY"));
	OUT_HAS(r, "FOO=bar\n");
	OUT_HAS(r, "NOMAD_TASK_DIR=/local\n");
	OUT_HAS(r, "HOME=/root\n");
	OUT_HAS(r, "USER=root\n");
	OUT_HAS(r, "SHELL=/bin/sh\n");
	OUT_HAS(r, "PATH=/bin:/usr/bin\n");

	/* Not clean: the supervisor's environment, then Nomad's. */
	j = fx_jail(SH("env"));
	fx_list_set(&j->env, env);
	run_sh(j, &r, &e);
	OUT_HAS(r, "JTD_SHIM_ONLY=leak\n");
	OUT_HAS(r, "FOO=bar\n");
	assert_null(strstr(r.buf, "USER=root"));
	unsetenv("JTD_SHIM_ONLY");
}

static void
test_cwd(void **state)
{
	struct jtd_jail *j = fx_jail(SH("pwd"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "/\n");
	j = fx_jail(SH("pwd"));
	j->clean_env = true;
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "/root\n");
	j = fx_jail(SH("pwd"));
	j->cwd = strdup("/local");
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "/local\n");
}

static void
test_capabilities(void **state)
{
	struct jtd_jail *j = fx_jail(SH("grep Cap /proc/self/status"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->mount_procfs = true;
	run_sh(j, &r, &e);
	/* The base set and CAP_NET_BIND_SERVICE (jail(8)'s default). */
	OUT_HAS(r, "CapBnd:\t00000000a00405fb\n");
	OUT_HAS(r, "CapEff:\t00000000a00405fb\n");
	OUT_HAS(r, "CapInh:\t0000000000000000\n");

	j = fx_jail(SH("grep Cap /proc/self/status"));
	j->mount_procfs = true;
	j->allow_set = 1u << JTD_ALLOW_RAW_SOCKETS | 1u << JTD_ALLOW_MLOCK;
	j->allow_val = j->allow_set;
	run_sh(j, &r, &e);
	OUT_HAS(r, "CapBnd:\t00000000a00465fb\n");

	j = fx_jail(SH("grep Cap /proc/self/status"));
	j->mount_procfs = true;
	j->allow_set = 1u << JTD_ALLOW_SUSER;
	j->allow_val = 0;
	run_sh(j, &r, &e);
	OUT_HAS(r, "CapBnd:\t0000000000000000\n");
	OUT_HAS(r, "CapEff:\t0000000000000000\n");
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/proc", fx.root);
		assert_int_equal(rmdir(path), 0);
	}
}

static void
test_signal_main_then_all(void **state)
{
	struct jtd_jail *j = fx_jail(SH("trap 'echo got-usr1; exit 7' USR1; "
	    "sleep 1000 & echo ready; wait"));
	struct jtd_err *err = NULL;
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	fx_start_ok(j, &r);
	if (!fx_wait_output(&r, "ready"))
		fail_msg("no %s in \"%s\"", "ready", r.buf);
	assert_int_equal(jtd_backend_deliver(&r.sp, SIGUSR1, false, &err), 0);
	if (!fx_wait_output(&r, "got-usr1"))
		fail_msg("no %s in \"%s\"", "got-usr1", r.buf);

	/* The main process is gone; its orphan sleep keeps the jail. */
	assert_int_equal(fx_next(&r, j, &e), 0);
	assert_true(jtd_backend_alive(j));
	assert_int_equal(jtd_backend_deliver(&r.sp, SIGTERM, true, &err), 0);
	fx_finish(&r, j, &e);
	/* The jail ends with its last process; the main's status counts. */
	assert_int_equal(e.exit_code, 7);
	assert_int_equal(e.signal, 0);
	jtd_jail_free(j);
}

static void
test_sigterm_ignored_then_kill(void **state)
{
	struct jtd_jail *j = fx_jail(SH("trap '' TERM; trap 'echo alive' "
	    "USR1; sleep 1000 & echo ready; while :; do wait; done"));
	struct jtd_err *err = NULL;
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	fx_start_ok(j, &r);
	if (!fx_wait_output(&r, "ready"))
		fail_msg("no %s in \"%s\"", "ready", r.buf);
	assert_int_equal(jtd_backend_deliver(&r.sp, SIGTERM, true, &err), 0);
	/* Commands are handled in order: an answer to USR1 shows TERM did
	 * nothing. */
	assert_int_equal(jtd_backend_deliver(&r.sp, SIGUSR1, false, &err), 0);
	if (!fx_wait_output(&r, "alive"))
		fail_msg("no %s in \"%s\"", "alive", r.buf);
	assert_int_equal(jtd_backend_deliver(&r.sp, SIGKILL, true, &err), 0);
	fx_finish(&r, j, &e);
	assert_int_equal(e.signal, SIGKILL);
	assert_int_equal(e.exit_code, 137);
	jtd_jail_free(j);
}

static void
test_persist(void **state)
{
	struct jtd_jail *j = fx_jail(SH("exit 4"));
	struct jtd_err *err = NULL;
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->persist = true;
	fx_start_ok(j, &r);
	/* The main process ends; the jail stays, empty but for init. */
	assert_int_equal(fx_next(&r, j, &e), 0);
	assert_true(jtd_backend_alive(j));
	assert_int_equal(jtd_backend_deliver(&r.sp, SIGTERM, true, &err), 0);
	fx_finish(&r, j, &e);
	assert_int_equal(e.exit_code, 4);
	jtd_jail_free(j);
}

static void
test_orphans_reaped(void **state)
{
	/* Daemons: the main exits at once, a grandchild lives on briefly
	 * and zombies of double forks are reaped by init. */
	struct jtd_jail *j = fx_jail(SH("(sh -c 'echo child; exit 0' &) ; "
	    "(sh -c 'cat /local/go; echo daemon-done' &) ; exit 0"));
	struct fx_run r;
	struct jtd_exit e;
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/go", fx.local);
	assert_int_equal(mkfifo(path, 0600), 0);
	fx_start_ok(j, &r);
	assert_int_equal(fx_next(&r, j, &e), 0);	/* main exited */
	assert_true(jtd_backend_alive(j));
	fx_write(path, "");				/* release the daemon */
	fx_finish(&r, j, &e);
	OUT_HAS(r, "daemon-done");
	assert_int_equal(e.exit_code, 0);
	unlink(path);
	jtd_jail_free(j);
}

static void
test_network_modes(void **state)
{
	struct jtd_jail *j = fx_jail(SH("ip -o link | grep -c ': '; "
	    "ip -o link | grep -q 'lo:.*UP' && echo lo-up"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->net = JTD_NET_NEW;
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "1\nlo-up\n");

	j = fx_jail(SH("ip -o link | grep -c ': '; "
	    "ip -o link | grep -q 'lo:.*UP' && echo lo-up"));
	j->net = JTD_NET_DISABLE;
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "1\n");

	j = fx_jail(SH("ip -o link | grep -c ': '"));
	run_sh(j, &r, &e);
	assert_true(atoi(r.buf) > 1);		/* the host's interfaces */
}

static void
test_join_network(void **state)
{
	/* Nomad's group network: a namespace made elsewhere, here a jail's
	 * (its loopback is up; a fresh namespace's would be down). */
	struct jtd_jail *a = fx_jail(SH("echo ready; exec sleep 1000"));
	struct jtd_jail *b = fx_jail(SH("ip -o link | grep -c ': '; "
	    "ip -o link | grep -q 'lo:.*UP' && echo lo-up"));
	struct jtd_err *err = NULL;
	struct fx_run ra, rb;
	struct jtd_exit e;
	char path[64];

	(void)state;
	a->net = JTD_NET_NEW;
	fx_start_ok(a, &ra);
	if (!fx_wait_output(&ra, "ready"))
		fail_msg("no ready in \"%s\"", ra.buf);
	snprintf(path, sizeof(path), "/proc/%ld/ns/net", (long)ra.sp.init_pid);
	b->net = JTD_NET_JOIN;
	b->netns_path = strdup(path);
	fx_run_jail(b, &rb, &e);
	assert_string_equal(rb.buf, "1\nlo-up\n");
	jtd_jail_free(b);
	assert_int_equal(jtd_backend_deliver(&ra.sp, SIGKILL, true, &err), 0);
	fx_finish(&ra, a, &e);
	jtd_jail_free(a);
}

static void
test_vnet_configures_itself(void **state)
{
	/* A Vnet jail's root may configure its own interfaces. */
	struct jtd_jail *j = fx_jail(SH("ip link set lo down && echo down; "
	    "ip -o link | grep -q 'lo:.*UP' || echo is-down"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->net = JTD_NET_VNET;
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "down\nis-down\n");

	/* Others may not: no CAP_NET_ADMIN. */
	j = fx_jail(SH("ip link set lo down 2>/dev/null || echo refused"));
	j->net = JTD_NET_NEW;
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "refused\n");
}

static void
test_pseudoterminals_limit(void **state)
{
	struct jtd_jail *j = fx_jail(SH("grep devpts /proc/mounts"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->mount_procfs = true;
	j->rctl[JTD_RCTL_PSEUDOTERMINALS] = (struct jtd_rctl_rule){ true, 4,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	run_sh(j, &r, &e);
	OUT_HAS(r, "max=4");
	OUT_HAS(r, "/dev/pts devpts rw,nosuid,noexec");
}

static void
test_vnet_nic(void **state)
{
	static const char *const nics[] = { "jtdtv0", NULL };
	struct jtd_jail *j;
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	if (system("ip link add jtdtv0 type veth peer name jtdtv1") != 0)
		skip();
	j = fx_jail(SH("ip -o link | grep -c jtdtv0"));
	j->net = JTD_NET_VNET;
	fx_list_set(&j->vnet_nics, nics);
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "1\n");
	/* Back on the host once the jail is gone. */
	assert_int_equal(system("ip link show jtdtv0 >/dev/null"), 0);
	assert_int_equal(system("ip link del jtdtv0"), 0);

	j = fx_jail(SH("true"));
	j->net = JTD_NET_VNET;
	fx_list_set(&j->vnet_nics, nics);
	{
		struct jtd_err *err = NULL;

		assert_int_equal(fx_start(j, &r, &err), -1);
		assert_non_null(strstr(err->msg, "Vnet_nic jtdtv0: move into "
		    "the jail: No such device"));
		jtd_err_clear(&err);
		jtd_close(r.out);
	}
	jtd_jail_free(j);
}

static void
test_ipc_limits(void **state)
{
	struct jtd_jail *j = fx_jail(SH("cat /proc/sys/kernel/msgmni "
	    "/proc/sys/kernel/shmmni /proc/sys/kernel/sem"));
	struct fx_run r;
	struct jtd_exit e;
	char path[512];

	(void)state;
	j->mount_procfs = true;
	j->rctl[JTD_RCTL_NMSGQ] = (struct jtd_rctl_rule){ true, 7,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	j->rctl[JTD_RCTL_NSHM] = (struct jtd_rctl_rule){ true, 9,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	j->rctl[JTD_RCTL_NSEM] = (struct jtd_rctl_rule){ true, 100,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	j->rctl[JTD_RCTL_NSEMOP] = (struct jtd_rctl_rule){ true, 5,
	    JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	run_sh(j, &r, &e);
	OUT_HAS(r, "7\n9\n");
	OUT_HAS(r, "\t100\t5\t");
	snprintf(path, sizeof(path), "%s/proc", fx.root);
	assert_int_equal(rmdir(path), 0);
}

static void
test_fs_mounts(void **state)
{
	struct jtd_jail *j = fx_jail(SH("echo hi > /scratch/f && cat "
	    "/scratch/f; (echo x > /ro/y) 2>&1 | grep -q Read-only && "
	    "echo ro-ok"));
	struct fx_run r;
	struct jtd_exit e;
	struct jtd_mount *m;
	char path[512];

	(void)state;
	j->mounts = realloc(j->mounts, (j->n_mounts + 2) * sizeof(*m));
	m = &j->mounts[j->n_mounts++];
	*m = (struct jtd_mount){ JTD_MOUNT_FS, strdup("tmpfs"),
	    strdup("/scratch"), strdup("tmpfs"), strdup("rw,size=1m"), false,
	    true };
	m = &j->mounts[j->n_mounts++];
	*m = (struct jtd_mount){ JTD_MOUNT_BIND, strdup(fx.alloc),
	    strdup("/ro"), NULL, NULL, true, true };
	run_sh(j, &r, &e);
	assert_string_equal(r.buf, "hi\nro-ok\n");
	snprintf(path, sizeof(path), "%s/scratch", fx.root);
	assert_int_equal(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/ro", fx.root);
	assert_int_equal(rmdir(path), 0);
}

static void
test_oom_kill(void **state)
{
	/* tail keeps a "line" of /dev/zero, which never ends. */
	struct jtd_jail *j = fx_jail(SH("exec tail /dev/zero"));
	struct fx_run r;
	struct jtd_exit e;

	(void)state;
	j->mount_devfs = true;
	j->memory_mb = 24;
	run_sh(j, &r, &e);
	assert_int_equal(e.signal, SIGKILL);
	assert_true(e.oom_killed);
}

static void
test_exec_in_jail(void **state)
{
	struct jtd_jail *j = fx_jail(SH("echo ready; sleep 1000 & wait"));
	static const char *const argv[] = { "/bin/sh", "-c",
	    "hostname; cat /local/m; id -u; pwd", NULL };
	static const char *const bad[] = { "/bin/nope", NULL };
	struct jtd_exec_req req;
	struct jtd_exec_proc p;
	struct jtd_err *err = NULL;
	struct fx_run r;
	struct jtd_exit e;
	char path[512], buf[256] = "", pids[128];
	int out[2], st, wst;
	pid_t w;
	ssize_t n;
	struct pollfd pfd;

	(void)state;
	snprintf(path, sizeof(path), "%s/m", fx.local);
	fx_write(path, "marker\n");
	j->hostname = strdup("inside");
	j->user = strdup("nobody");
	fx_start_ok(j, &r);
	if (!fx_wait_output(&r, "ready"))
		fail_msg("no %s in \"%s\"", "ready", r.buf);
	snprintf(path, sizeof(path), "%s/pids", fx.state);
	snprintf(pids, sizeof(pids), "shim 1\ninit %ld\nmain %ld\n",
	    (long)r.sp.init_pid, (long)r.sp.main_pid);
	fx_write(path, pids);

	assert_int_equal(jtd_pipe_cloexec(out, 0), 0);
	memset(&req, 0, sizeof(req));
	req.argv = (char *const *)argv;
	req.stdin_fd = -1;
	req.stdout_fd = out[1];
	req.stderr_fd = out[1];
	req.cwd = "/alloc";
	if (jtd_backend_exec(j, fx.state, &req, &p, &err) != 0)
		fail_msg("exec: %s", err->msg);
	jtd_close(out[1]);
	pfd = (struct pollfd){ p.exit_fd, POLLIN, 0 };
	JTD_RETRY(st, poll(&pfd, 1, 10000));
	assert_int_equal(st, 1);
	JTD_RETRY(w, waitpid(p.pid, &wst, 0));
	assert_int_equal(w, p.pid);
	assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	n = jtd_read(out[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	jtd_close(out[0]);
	jtd_close(p.exit_fd);
	assert_string_equal(buf, "inside\nmarker\n65534\n/alloc\n");

	req.argv = (char *const *)bad;
	req.stdout_fd = -1;
	req.stderr_fd = -1;
	assert_int_equal(jtd_backend_exec(j, fx.state, &req, &p, &err), -1);
	assert_non_null(strstr(err->msg, "exec /bin/nope: No such file"));
	jtd_err_clear(&err);

	assert_int_equal(jtd_backend_deliver(&r.sp, SIGKILL, true, &err), 0);
	fx_finish(&r, j, &e);
	/* The jail is gone: entering it must fail cleanly. */
	req.argv = (char *const *)argv;
	assert_int_equal(jtd_backend_exec(j, fx.state, &req, &p, &err), -1);
	assert_non_null(strstr(err->msg, "is not running"));
	jtd_err_clear(&err);
	jtd_jail_free(j);
	unlink(path);
	snprintf(path, sizeof(path), "%s/m", fx.local);
	unlink(path);
}

static void
test_exec_tty(void **state)
{
	struct jtd_jail *j = fx_jail(SH("echo ready; exec sleep 1000"));
	static const char *const argv[] = { "/bin/sh", "-c",
	    "echo via-tty > /dev/tty", NULL };
	struct jtd_exec_req req;
	struct jtd_exec_proc p;
	struct jtd_err *err = NULL;
	struct fx_run r;
	struct jtd_exit e;
	char path[512], pids[128], buf[256] = "";
	int master, slave, wst;
	size_t got = 0;
	pid_t w;

	(void)state;
	fx_start_ok(j, &r);
	if (!fx_wait_output(&r, "ready"))
		fail_msg("no ready in \"%s\"", r.buf);
	snprintf(path, sizeof(path), "%s/pids", fx.state);
	snprintf(pids, sizeof(pids), "shim 1\ninit %ld\nmain %ld\n",
	    (long)r.sp.init_pid, (long)r.sp.main_pid);
	fx_write(path, pids);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	JTD_RETRY(slave, open(ptsname(master), O_RDWR | O_NOCTTY |
	    O_CLOEXEC));
	assert_true(slave >= 0);
	memset(&req, 0, sizeof(req));
	req.argv = (char *const *)argv;
	req.stdin_fd = req.stdout_fd = req.stderr_fd = slave;
	req.tty = true;
	if (jtd_backend_exec(j, fx.state, &req, &p, &err) != 0)
		fail_msg("exec: %s", err->msg);
	jtd_close(slave);
	while (strstr(buf, "via-tty") == NULL && got + 1 < sizeof(buf)) {
		struct pollfd pfd = { master, POLLIN, 0 };
		ssize_t n;
		int pr;

		JTD_RETRY(pr, poll(&pfd, 1, 10000));
		assert_int_equal(pr, 1);
		n = jtd_read(master, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	JTD_RETRY(w, waitpid(p.pid, &wst, 0));
	assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	jtd_close(p.exit_fd);
	jtd_close(master);
	if (strstr(buf, "via-tty") == NULL)
		fail_msg("terminal got \"%s\"", buf);

	assert_int_equal(jtd_backend_deliver(&r.sp, SIGKILL, true, &err), 0);
	fx_finish(&r, j, &e);
	jtd_jail_free(j);
	unlink(path);
}

static void
test_cleanup_idempotent(void **state)
{
	struct jtd_jail *j = fx_jail(SH("true"));
	struct jtd_err *err = NULL;

	(void)state;
	assert_int_equal(jtd_backend_cleanup(j, &err), 0);
	assert_int_equal(jtd_backend_cleanup(j, &err), 0);
	assert_false(jtd_backend_alive(j));
	assert_int_equal(jtd_backend_stats(j, &(struct jtd_stats){ 0 },
	    &err), -1);
	assert_int_equal(err->code, JTD_NOT_FOUND);
	jtd_err_clear(&err);
	jtd_jail_free(j);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_leak_before, fx_leak_after)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_output_and_exit_0),
		T(test_exit_3),
		T(test_killed_by_signal),
		T(test_exec_failure),
		T(test_bad_user_fails_start),
		T(test_hostname),
		T(test_task_dirs),
		T(test_symlink_mount_point_refused),
		T(test_devfs),
		T(test_procfs_is_the_jails),
		T(test_rlimits),
		T(test_cgroup_limits),
		T(test_pids_limit_enforced),
		T(test_user),
		T(test_system_jail_user),
		T(test_env),
		T(test_cwd),
		T(test_capabilities),
		T(test_signal_main_then_all),
		T(test_sigterm_ignored_then_kill),
		T(test_persist),
		T(test_orphans_reaped),
		T(test_network_modes),
		T(test_join_network),
		T(test_vnet_configures_itself),
		T(test_pseudoterminals_limit),
		T(test_vnet_nic),
		T(test_ipc_limits),
		T(test_fs_mounts),
		T(test_oom_kill),
		T(test_exec_in_jail),
		T(test_exec_tty),
		T(test_cleanup_idempotent),
	};

	if (!fx_root()) {
		fprintf(stderr, "skipped: needs root\n");
		return 77;
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);	/* one test, by hand */
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
