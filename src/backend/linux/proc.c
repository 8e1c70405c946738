/*
 * Turning a child process into a program running in the jail: stdio,
 * session, limits, capabilities, user, working directory, then exec
 * with PATH looked up inside the jail.  Shared by the jail's main
 * process and by processes entered with jtd_backend_exec.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/io.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void
lx_signals_default(void)
{
	struct sigaction sa;
	sigset_t all;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
}

static int
int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static void
close_from_to(unsigned lo, unsigned hi)
{
	struct rlimit rl;
	unsigned fd;

	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	/* Before Linux 5.9: one by one, up to the descriptor limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < hi)
		hi = rl.rlim_cur > 65536 ? 65536 : (unsigned)rl.rlim_cur;
	for (fd = lo; fd <= hi; fd++)
		jtd_close((int)fd);
}

void
lx_close_fds_except(const int *keep, size_t n)
{
	int sorted[16];
	unsigned lo = 3;
	size_t i, m = 0;

	for (i = 0; i < n && m < 16; i++) {
		if (keep[i] >= 3)
			sorted[m++] = keep[i];
	}
	qsort(sorted, m, sizeof(sorted[0]), int_cmp);
	for (i = 0; i < m; i++) {
		if ((unsigned)sorted[i] > lo)
			close_from_to(lo, (unsigned)sorted[i] - 1);
		lo = (unsigned)sorted[i] + 1;
	}
	close_from_to(lo, ~0U);
}

/* fds become 0, 1, 2 even when they overlap those numbers. */
static int
setup_stdio(const int *fds, struct lx_fail *f)
{
	int tmp[3], i;

	for (i = 0; i < 3; i++) {
		tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
		if (tmp[i] < 0)
			return lx_fail(f, errno, "set up stdio");
	}
	for (i = 0; i < 3; i++) {
		int r;

		JTD_RETRY(r, dup2(tmp[i], i));
		if (r < 0)
			return lx_fail(f, errno, "set up stdio");
		jtd_close(tmp[i]);
	}
	return 0;
}

static int
set_ids(const struct lx_user *u, struct lx_fail *f)
{
	if (setgroups((size_t)u->ngroups, u->groups) != 0)
		return lx_fail(f, errno, "user %s: setgroups", u->name);
	if (setgid(u->gid) != 0)
		return lx_fail(f, errno, "user %s: setgid %u", u->name,
		    (unsigned)u->gid);
	if (setuid(u->uid) != 0)
		return lx_fail(f, errno, "user %s: setuid %u", u->name,
		    (unsigned)u->uid);
	return 0;
}

static const char *
env_get(char *const *env, const char *key)
{
	size_t kl = strlen(key), i;

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			return env[i] + kl + 1;
	}
	return NULL;
}

/* execve, searching the jail's PATH for a name without a slash. */
static void
exec_search(char *const *argv, char **env, struct lx_fail *f)
{
	const char *path, *p, *colon;
	char full[4096];
	int first_err = 0;

	if (strchr(argv[0], '/') != NULL) {
		execve(argv[0], argv, env);
		lx_fail(f, errno, "exec %s", argv[0]);
		return;
	}
	path = env_get(env, "PATH");
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = colon + 1) {
		size_t dl;

		colon = strchr(p, ':');
		dl = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if ((size_t)snprintf(full, sizeof(full), "%.*s/%s", (int)dl,
		    dl == 0 ? "." : p, argv[0]) < sizeof(full)) {
			execve(full, argv, env);
			/* Like execvp: keep looking past missing entries. */
			if (errno != ENOENT && errno != ENOTDIR &&
			    errno != EACCES) {
				lx_fail(f, errno, "exec %s", full);
				return;
			}
			if (first_err == 0 || errno == EACCES)
				first_err = errno;
		}
		if (colon == NULL)
			break;
	}
	lx_fail(f, first_err != 0 ? first_err : ENOENT, "exec %s", argv[0]);
}

static const char *
work_dir(const struct lx_plan *p)
{
	if (p->cwd != NULL)
		return p->cwd;
	if (p->j->cwd != NULL)
		return p->j->cwd;
	/* jail(8): a clean environment starts in the user's home. */
	if (p->j->clean_env)
		return p->user->home;
	return "/";
}

void
lx_plan_exec(const struct lx_plan *p, struct lx_fail *f)
{
	const char *cwd = work_dir(p);

	lx_signals_default();
	if (setup_stdio(p->fd, f) != 0)
		return;
	if ((p->setsid || p->tty) && setsid() < 0) {
		lx_fail(f, errno, "setsid");
		return;
	}
	if (p->tty && ioctl(0, TIOCSCTTY, 0) != 0) {
		lx_fail(f, errno, "make the terminal the controlling one");
		return;
	}
	if (lx_rlimits_apply(p->j, f) != 0 || lx_caps_bound(p->caps, f) != 0 ||
	    set_ids(p->user, f) != 0)
		return;
	if (chdir(cwd) != 0) {
		lx_fail(f, errno, "chdir %s", cwd);
		return;
	}
	/* Nothing of ours reaches the program but stdio. */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (p->inherit_fd >= 0)
		(void)fcntl(p->inherit_fd, F_SETFD, 0);
	exec_search(p->argv, p->env, f);
}

int
lx_init_pid(const struct jtd_jail *j, const char *state_dir, pid_t *pid,
    struct jtd_err **err)
{
	char path[1100], needle[200], *text, *p, cg[4096];
	long v = 0;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", state_dir, JTD_STATE_PIDS);
	text = jtd_read_file(path, 4096, NULL, err);
	if (text == NULL)
		return jtd_err_wrap(err, "jail %s is not running", j->name);
	p = strstr(text, "init ");
	if (p == NULL || (p != text && p[-1] != '\n') ||
	    (v = strtol(p + 5, NULL, 10)) <= 1) {
		free(text);
		return jtd_err_set(err, JTD_INTERNAL, "%s has no init pid",
		    path);
	}
	free(text);

	/* The pid may have been reused: it must sit in the jail's group. */
	snprintf(path, sizeof(path), "/proc/%ld/cgroup", v);
	JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC));
	n = fd < 0 ? -1 : jtd_read(fd, cg, sizeof(cg) - 1);
	jtd_close(fd);
	cg[n > 0 ? n : 0] = '\0';
	snprintf(needle, sizeof(needle), "/%s/%s\n", LX_CG_PARENT, j->name);
	if (strstr(cg, needle) == NULL)
		return jtd_err_set(err, JTD_NOT_FOUND,
		    "jail %s is not running (init %ld is gone)", j->name, v);
	*pid = (pid_t)v;
	return 0;
}
