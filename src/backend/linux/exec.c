/*
 * Entering a running jail (Exec_stop, Nomad's ExecTask), from the
 * plugin.  A forked helper joins the jail's cgroups and namespaces (those
 * of its init, from the state directory's pids file), then clones the
 * process that runs the command with CLONE_PARENT: that process is in
 * the jail's PID namespace (which applies to children only) yet is the
 * caller's own child, so the caller waits for it directly.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io.h"

static const struct {
	const char *name;
	int type;
} namespaces[] = {
	/* mnt last: it changes our root and with it /proc. */
	{ "net", CLONE_NEWNET }, { "uts", CLONE_NEWUTS },
	{ "ipc", CLONE_NEWIPC }, { "pid", CLONE_NEWPID },
	{ "mnt", CLONE_NEWNS },
};

#define NNS (sizeof(namespaces) / sizeof(namespaces[0]))
#define CHILD_STACK (128 * 1024)

struct exec_ctx {
	const struct jtd_jail *j;
	const struct jtd_exec_req *req;
	struct lx_cg cg;
	int ns[NNS];
	int null_fd;
	int err_pipe[2];	/* lx_fail from the helper or the command */
	int pid_pipe[2];	/* the command's pid, from the helper */
	int exit_pipe[2];	/* without pidfds: EOF when it exits */
	struct lx_plan plan;
	struct lx_user user;
};

static int
command_main(void *arg)
{
	struct exec_ctx *c = arg;
	struct lx_fail f = { 0 };
	ssize_t n;

	c->plan.inherit_fd = c->exit_pipe[1];
	lx_plan_exec(&c->plan, &f);
	JTD_RETRY(n, write(c->err_pipe[1], &f, sizeof(f)));
	_exit(127);
}

static int
join(struct exec_ctx *c, struct lx_fail *f)
{
	struct jtd_err *err = NULL;
	const char *user = c->req->user != NULL ? c->req->user : c->j->user;
	bool host_user = user != NULL && c->req->user == NULL &&
	    c->j->user_from_host;
	size_t i;

	if (lx_cg_attach(&c->cg, getpid(), &err) != 0) {
		lx_fail(f, err->sys_errno, "%s", err->msg);
		jtd_err_clear(&err);
		return -1;
	}
	if (host_user && lx_user_lookup("the host's", user, &c->user, f) != 0)
		return -1;
	for (i = 0; i < NNS; i++) {
		if (setns(c->ns[i], namespaces[i].type) != 0)
			return lx_fail(f, errno, "enter the jail's %s "
			    "namespace", namespaces[i].name);
	}
	if (user == NULL)
		lx_user_root(&c->user);
	else if (!host_user && lx_user_lookup("the jail's", user, &c->user,
	    f) != 0)
		return -1;
	return 0;
}

/* The helper: join, clone the command, report its pid, exit. */
static void
helper(struct exec_ctx *c)
{
	struct lx_fail f = { 0 };
	void *stack;
	pid_t pid;
	ssize_t n;

	jtd_close(c->err_pipe[0]);
	jtd_close(c->pid_pipe[0]);
	jtd_close(c->exit_pipe[0]);
	if (join(c, &f) != 0)
		goto fail;
	c->plan.env = c->req->env != NULL ? NULL : lx_env_build(c->j, NULL,
	    NULL, &c->user);
	if (c->req->env == NULL && c->plan.env == NULL) {
		lx_fail(&f, ENOMEM, "build the environment");
		goto fail;
	}
	if (c->req->env != NULL)
		c->plan.env = (char **)c->req->env;
	stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		lx_fail(&f, errno, "allocate a stack");
		goto fail;
	}
	pid = clone(command_main, (char *)stack + CHILD_STACK, CLONE_PARENT |
	    SIGCHLD, c);
	if (pid < 0) {
		lx_fail(&f, errno, "start the process in the jail");
		goto fail;
	}
	JTD_RETRY(n, write(c->pid_pipe[1], &pid, sizeof(pid)));
	_exit(0);
fail:
	JTD_RETRY(n, write(c->err_pipe[1], &f, sizeof(f)));
	_exit(1);
}

static int
prepare(struct exec_ctx *c, const char *state_dir, struct jtd_err **err)
{
	char path[64];
	pid_t init;
	size_t i;

	if (c->req->argv == NULL || c->req->argv[0] == NULL)
		return jtd_err_set(err, JTD_INVALID, "exec: no command");
	if (lx_cg_open(&c->cg, c->j->name, err) != 0 ||
	    lx_init_pid(c->j, state_dir, &init, err) != 0)
		return -1;
	for (i = 0; i < NNS; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/ns/%s", (long)init,
		    namespaces[i].name);
		JTD_RETRY(c->ns[i], open(path, O_RDONLY | O_CLOEXEC));
		if (c->ns[i] < 0)
			return jtd_err_sys(err, errno, "open %s", path);
	}
	JTD_RETRY(c->null_fd, open("/dev/null", O_RDWR | O_CLOEXEC));
	if (c->null_fd < 0)
		return jtd_err_sys(err, errno, "open /dev/null");
	if (jtd_pipe_cloexec(c->err_pipe, 0) != 0 ||
	    jtd_pipe_cloexec(c->pid_pipe, 0) != 0)
		return jtd_err_sys(err, errno, "pipe");

	c->plan.j = c->j;
	c->plan.argv = c->req->argv;
	c->plan.user = &c->user;
	c->plan.cwd = c->req->cwd;
	c->plan.caps = lx_caps_for(c->j);
	c->plan.tty = c->req->tty;
	c->plan.fd[0] = c->req->stdin_fd >= 0 ? c->req->stdin_fd : c->null_fd;
	c->plan.fd[1] = c->req->stdout_fd >= 0 ? c->req->stdout_fd :
	    c->null_fd;
	c->plan.fd[2] = c->req->stderr_fd >= 0 ? c->req->stderr_fd :
	    c->null_fd;
	return 0;
}

static void
release(struct exec_ctx *c)
{
	size_t i;

	for (i = 0; i < NNS; i++)
		jtd_close(c->ns[i]);
	jtd_close(c->null_fd);
	for (i = 0; i < 2; i++) {
		jtd_close(c->err_pipe[i]);
		jtd_close(c->pid_pipe[i]);
		jtd_close(c->exit_pipe[i]);
	}
}

/* After the helper: the command's pid and whether it exec'd. */
static int
collect(struct exec_ctx *c, pid_t helper_pid, pid_t *pid,
    struct jtd_err **err)
{
	struct lx_fail f;
	ssize_t n;
	int st;

	jtd_close(c->err_pipe[1]);
	jtd_close(c->pid_pipe[1]);
	c->err_pipe[1] = c->pid_pipe[1] = -1;
	JTD_RETRY(st, (int)waitpid(helper_pid, NULL, 0));
	*pid = 0;
	n = jtd_read(c->pid_pipe[0], pid, sizeof(*pid));
	if (n != (ssize_t)sizeof(*pid))
		*pid = 0;
	/* EOF: the helper and the command have both closed it by exec. */
	n = jtd_read(c->err_pipe[0], &f, sizeof(f));
	if (n == 0 && *pid > 0)
		return 0;
	if (*pid > 0)
		JTD_RETRY(st, (int)waitpid(*pid, NULL, 0));
	if (n != (ssize_t)sizeof(f))
		return jtd_err_set(err, JTD_INTERNAL,
		    "exec in jail %s: the helper died", c->j->name);
	f.msg[sizeof(f.msg) - 1] = '\0';
	return jtd_err_sys(err, f.err, "%s", f.msg);
}

int
jtd_backend_exec(const struct jtd_jail *j, const char *state_dir,
    const struct jtd_exec_req *req, struct jtd_exec_proc *out,
    struct jtd_err **err)
{
	struct exec_ctx *c;
	pid_t hp, pid;
	size_t i;
	int pfd, rc = -1;

	out->pid = 0;
	out->exit_fd = -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
	c->j = j;
	c->req = req;
	c->null_fd = -1;
	for (i = 0; i < NNS; i++)
		c->ns[i] = -1;
	for (i = 0; i < 2; i++)
		c->err_pipe[i] = c->pid_pipe[i] = c->exit_pipe[i] = -1;
	if (prepare(c, state_dir, err) != 0)
		goto out;

	/* Older kernels have no pidfd: a pipe the command holds open. */
	pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pfd >= 0)
		jtd_close(pfd);
	else if (errno == ENOSYS && jtd_pipe_cloexec(c->exit_pipe, 0) != 0) {
		jtd_err_sys(err, errno, "pipe");
		goto out;
	}

	hp = fork();
	if (hp < 0) {
		jtd_err_sys(err, errno, "fork");
		goto out;
	}
	if (hp == 0)
		helper(c);
	jtd_close(c->exit_pipe[1]);
	c->exit_pipe[1] = -1;
	if (collect(c, hp, &pid, err) != 0)
		goto out;

	out->pid = pid;
	if (c->exit_pipe[0] >= 0) {
		out->exit_fd = c->exit_pipe[0];
		c->exit_pipe[0] = -1;
	} else {
		out->exit_fd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (out->exit_fd < 0) {
			jtd_err_sys(err, errno, "pidfd_open %ld", (long)pid);
			(void)kill(pid, SIGKILL);
			JTD_RETRY(rc, (int)waitpid(pid, NULL, 0));
			rc = -1;
			goto out;
		}
	}
	rc = 0;
out:
	release(c);
	free(c);
	if (rc != 0)
		jtd_err_wrap(err, "exec in jail %s", j->name);
	return rc;
}
