/*
 * Starting and supervising a jail, in the shim.
 *
 * The shim clones the jail's first process ("init": pid 1 of a new PID
 * namespace, in new mount, UTS, IPC and, per network mode, network
 * namespaces).  The two talk over a SEQPACKET socket pair:
 *
 *   shim -> init   GO once the cgroups and interfaces are in place,
 *                  then signal commands (to the main process, to all);
 *   init -> shim   EXEC_OK (with the main process's pid as credentials,
 *                  which the kernel translates into the shim's PID
 *                  namespace) or FAIL (errno and what failed), then
 *                  MAIN_EXIT when the task's process ends and END when
 *                  the jail is empty.
 *
 * init builds the file system, forks the main process, reaps every
 * process orphaned in the jail, forwards signals, and ends with the
 * last process of the jail (jail(8): a jail without persist dies with
 * its last process), or on "stop"/"kill" when it persists.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/io.h"

const char jtd_backend_name[] = "linux";

enum {
	LX_EV_EXEC_OK = 1,
	LX_EV_FAIL,
	LX_EV_MAIN_EXIT,
	LX_EV_END,
};

struct lx_ev {
	int32_t type;
	int32_t status;		/* wait status (MAIN_EXIT, END) */
	int32_t err;		/* errno (FAIL) */
	char msg[244];
};

enum {
	LX_CMD_GO = 1,
	LX_CMD_SIGNAL,		/* to the main process */
	LX_CMD_SIGNAL_ALL,	/* to every process in the jail */
	LX_CMD_KILL,		/* SIGKILL all; the jail ends */
};

struct lx_cmd {
	int32_t op;
	int32_t sig;
};

/* The shim's view of a running jail (jtd_spawned.priv). */
struct lx_spawn {
	struct lx_cg cg;
	bool main_exited;
	int main_status;
	bool ended;
};

/* What init needs; a copy lives in its own address space. */
struct init_args {
	const struct jtd_jail *j;
	int sock;		/* init's end of the socket pair */
	int fd[3];		/* the main process's stdio */
	int netns_fd;		/* JTD_NET_JOIN: the namespace to enter */
	int hostns_fd;		/* Vnet: where interfaces go back to */
	struct lx_limits lim;
	uint64_t caps;
};

#define INIT_STACK (256 * 1024)

/* ---- init ------------------------------------------------------------ */

static void
send_ev(int sock, int type, int status, const struct lx_fail *f)
{
	struct lx_ev ev;
	ssize_t n;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.status = status;
	if (f != NULL) {
		ev.err = f->err;
		snprintf(ev.msg, sizeof(ev.msg), "%s", f->msg);
	}
	JTD_RETRY(n, send(sock, &ev, sizeof(ev), MSG_NOSIGNAL));
}

/* EXEC_OK, with the main process's pid as the message's credentials. */
static void
send_exec_ok(int sock, pid_t main_pid)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} c;
	struct lx_ev ev = { .type = LX_EV_EXEC_OK };
	struct iovec iov = { &ev, sizeof(ev) };
	struct msghdr mh = { 0 };
	struct ucred cred = { main_pid, 0, 0 };
	struct cmsghdr *cm;
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = c.buf;
	mh.msg_controllen = sizeof(c.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
	JTD_RETRY(n, sendmsg(sock, &mh, MSG_NOSIGNAL));
}

/* Hand Vnet_nic interfaces back to the host before the namespace goes. */
static void
return_nics(const struct init_args *a)
{
	size_t i;
	int e;

	if (a->hostns_fd < 0)
		return;
	for (i = 0; i < a->j->vnet_nics.n; i++)
		(void)lx_net_move(a->j->vnet_nics.v[i], 0, a->hostns_fd, &e);
}

static int
init_setup(struct init_args *a, struct lx_user *u, struct lx_fail *f)
{
	const struct jtd_jail *j = a->j;
	const char *host = j->hostname != NULL ? j->hostname : j->name;

	if (a->netns_fd >= 0 && setns(a->netns_fd, CLONE_NEWNET) != 0)
		return lx_fail(f, errno, "enter network namespace %s",
		    j->netns_path);
	if (sethostname(host, strlen(host)) != 0)
		return lx_fail(f, errno, "set host name %s", host);
	if (j->domainname != NULL && setdomainname(j->domainname,
	    strlen(j->domainname)) != 0)
		return lx_fail(f, errno, "set domain name %s", j->domainname);
	/* Through the host's /proc: ours does not exist yet. */
	if (lx_ipc_apply(&a->lim, f) != 0)
		return -1;
	if ((j->net == JTD_NET_NEW || j->net == JTD_NET_VNET) &&
	    lx_net_lo_up(f) != 0)
		return -1;
	if (j->user != NULL && j->user_from_host &&
	    lx_user_lookup("the host's", j->user, u, f) != 0)
		return -1;
	if (lx_fs_setup(j, f) != 0)
		return -1;
	if (j->user == NULL)
		lx_user_root(u);
	else if (!j->user_from_host && lx_user_lookup("the jail's", j->user,
	    u, f) != 0)
		return -1;
	return 0;
}

/* The main process: returns only if it could not exec. */
static void
run_main(struct init_args *a, const struct lx_user *u, int errfd)
{
	extern char **environ;
	struct lx_plan p;
	struct lx_fail f = { 0 };
	ssize_t n;

	memset(&p, 0, sizeof(p));
	p.j = a->j;
	p.argv = a->j->argv.v;
	p.user = u;
	p.caps = a->caps;
	p.setsid = true;
	p.inherit_fd = -1;
	memcpy(p.fd, a->fd, sizeof(p.fd));
	p.env = lx_env_build(a->j, environ, NULL, u);
	if (p.env == NULL)
		lx_fail(&f, ENOMEM, "build the environment");
	else
		lx_plan_exec(&p, &f);
	JTD_RETRY(n, write(errfd, &f, sizeof(f)));
}

/* Fork the main process; 0 with its pid, or -1 with f set. */
static int
start_main(struct init_args *a, const struct lx_user *u, pid_t *pid,
    struct lx_fail *f)
{
	struct lx_fail cf;
	int p[2], st;
	ssize_t n;

	if (jtd_pipe_cloexec(p, 0) != 0)
		return lx_fail(f, errno, "pipe");
	*pid = fork();
	if (*pid < 0) {
		jtd_close(p[0]);
		jtd_close(p[1]);
		return lx_fail(f, errno, "fork the main process");
	}
	if (*pid == 0) {
		jtd_close(p[0]);
		run_main(a, u, p[1]);
		_exit(127);
	}
	jtd_close(p[1]);
	n = jtd_read(p[0], &cf, sizeof(cf));
	jtd_close(p[0]);
	if (n == 0)
		return 0;	/* the pipe closed on exec */
	JTD_RETRY(st, (int)waitpid(*pid, NULL, 0));
	if (n != (ssize_t)sizeof(cf))
		return lx_fail(f, EIO, "the main process died before exec");
	*f = cf;
	return -1;
}

struct init_state {
	pid_t main;
	bool main_alive;
	int main_status;
	bool children;		/* any child left to wait for */
	bool stopping;		/* "stop" or "kill" came */
};

static void
reap(struct init_args *a, struct init_state *s)
{
	for (;;) {
		int st;
		pid_t p;

		JTD_RETRY(p, waitpid(-1, &st, WNOHANG));
		if (p < 0) {
			s->children = false;	/* ECHILD: nobody left */
			return;
		}
		if (p == 0)
			return;
		if (p == s->main && s->main_alive) {
			s->main_alive = false;
			s->main_status = st;
			send_ev(a->sock, LX_EV_MAIN_EXIT, st, NULL);
		}
	}
}

/* Signal the main process, or everyone in the jail (kill(-1) from the
 * namespace's init reaches all of it but init). */
static void
forward(struct init_state *s, int sig, bool all)
{
	if (!all && s->main_alive)
		(void)kill(s->main, sig);
	else
		(void)kill(-1, sig);
}

static void
command(struct init_args *a, struct init_state *s)
{
	struct lx_cmd c;
	ssize_t n;

	JTD_RETRY(n, recv(a->sock, &c, sizeof(c), MSG_DONTWAIT));
	if (n == 0) {
		/* The shim is gone; PR_SET_PDEATHSIG ends us too. */
		jtd_close(a->sock);
		a->sock = -1;
		return;
	}
	if (n != (ssize_t)sizeof(c) || c.sig <= 0 || c.sig >= NSIG)
		return;
	switch (c.op) {
	case LX_CMD_SIGNAL:
		forward(s, c.sig, false);
		break;
	case LX_CMD_SIGNAL_ALL:
		s->stopping = true;
		forward(s, c.sig, true);
		break;
	case LX_CMD_KILL:
		s->stopping = true;
		forward(s, SIGKILL, true);
		break;
	}
}

static bool
finished(const struct init_args *a, const struct init_state *s)
{
	if (s->children)
		return false;
	return a->j->persist ? s->stopping : !s->main_alive;
}

static void
init_loop(struct init_args *a, struct init_state *s, int sfd)
{
	while (!finished(a, s)) {
		struct pollfd pfd[2] = {
			{ sfd, POLLIN, 0 }, { a->sock, POLLIN, 0 },
		};
		struct signalfd_siginfo si;
		int r;
		ssize_t n;

		JTD_RETRY(r, poll(pfd, a->sock >= 0 ? 2 : 1, -1));
		if (r < 0)
			continue;
		if (pfd[1].revents != 0 && a->sock >= 0)
			command(a, s);
		while ((n = jtd_read(sfd, &si, sizeof(si))) ==
		    (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGCHLD)
				forward(s, (int)si.ssi_signo, false);
		}
		reap(a, s);
	}
}

static int
init_main(void *arg)
{
	struct init_args *a = arg;
	struct init_state s = { .main_alive = true, .children = true };
	struct lx_fail f = { 0 };
	struct lx_user u;
	struct lx_cmd go;
	sigset_t all;
	int keep[6], sfd;
	ssize_t n;

	/* If the shim dies, nothing would record how the task ends. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	(void)prctl(PR_SET_NAME, "jail-init", 0, 0, 0);
	keep[0] = a->sock;
	keep[1] = a->fd[0];
	keep[2] = a->fd[1];
	keep[3] = a->fd[2];
	keep[4] = a->netns_fd;
	keep[5] = a->hostns_fd;
	lx_close_fds_except(keep, 6);

	JTD_RETRY(n, recv(a->sock, &go, sizeof(go), 0));
	if (n != (ssize_t)sizeof(go) || go.op != LX_CMD_GO)
		_exit(1);

	/* Signals wait in the signalfd from now on, SIGCHLD included. */
	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, NULL);
	sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		lx_fail(&f, errno, "signalfd");
	if (sfd < 0 || init_setup(a, &u, &f) != 0 ||
	    start_main(a, &u, &s.main, &f) != 0) {
		return_nics(a);
		send_ev(a->sock, LX_EV_FAIL, 0, &f);
		_exit(1);
	}
	send_exec_ok(a->sock, s.main);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	jtd_backend_trim();

	init_loop(a, &s, sfd);
	return_nics(a);
	if (a->sock >= 0)
		send_ev(a->sock, LX_EV_END, s.main_status, NULL);
	_exit(0);
}

/* ---- the shim's side ------------------------------------------------- */

struct spawn_ctx {
	const struct jtd_jail *j;
	struct lx_spawn *ls;
	struct init_args a;
	int sock;		/* the shim's end */
	pid_t pid;
	bool cg_made;
};

static int
open_fds(struct spawn_ctx *c, const struct jtd_stdio *io,
    struct jtd_err **err)
{
	const struct jtd_jail *j = c->j;
	int null_fd;

	JTD_RETRY(null_fd, open("/dev/null", O_RDWR | O_CLOEXEC));
	if (null_fd < 0)
		return jtd_err_sys(err, errno, "open /dev/null");
	c->a.fd[0] = null_fd;
	c->a.fd[1] = io->stdout_fd >= 0 ? io->stdout_fd : null_fd;
	c->a.fd[2] = io->stderr_fd >= 0 ? io->stderr_fd : null_fd;
	if (j->net == JTD_NET_JOIN) {
		JTD_RETRY(c->a.netns_fd, open(j->netns_path != NULL ?
		    j->netns_path : "", O_RDONLY | O_CLOEXEC));
		if (c->a.netns_fd < 0)
			return jtd_err_sys(err, errno, "network namespace %s",
			    j->netns_path != NULL ? j->netns_path : "(none)");
	}
	if (j->net == JTD_NET_VNET && j->vnet_nics.n > 0) {
		JTD_RETRY(c->a.hostns_fd, open("/proc/self/ns/net",
		    O_RDONLY | O_CLOEXEC));
		if (c->a.hostns_fd < 0)
			return jtd_err_sys(err, errno,
			    "open the host's network namespace");
	}
	return 0;
}

static void
close_fds(struct spawn_ctx *c)
{
	jtd_close(c->a.fd[0]);
	jtd_close(c->a.netns_fd);
	jtd_close(c->a.hostns_fd);
	jtd_close(c->a.sock);
	c->a.fd[0] = c->a.netns_fd = c->a.hostns_fd = c->a.sock = -1;
}

static int
clone_init(struct spawn_ctx *c, struct jtd_err **err)
{
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
	    SIGCHLD;
	int sv[2], one = 1;
	void *stack;

	if (c->j->net == JTD_NET_NEW || c->j->net == JTD_NET_DISABLE ||
	    c->j->net == JTD_NET_VNET)
		flags |= CLONE_NEWNET;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return jtd_err_sys(err, errno, "socketpair");
	c->sock = sv[0];
	c->a.sock = sv[1];
	if (setsockopt(c->sock, SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof(one)) != 0)
		return jtd_err_sys(err, errno, "SO_PASSCRED");
	stack = mmap(NULL, INIT_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return jtd_err_sys(err, errno, "allocate init's stack");
	c->pid = clone(init_main, (char *)stack + INIT_STACK, flags, &c->a);
	if (c->pid < 0) {
		int e = errno;

		munmap(stack, INIT_STACK);
		return jtd_err_sys(err, e, "clone the jail's init");
	}
	/* init has its own copy of everything, stack included. */
	munmap(stack, INIT_STACK);
	jtd_close(c->a.sock);
	c->a.sock = -1;
	return 0;
}

static int
send_cmd(int sock, int op, int sig)
{
	struct lx_cmd c = { op, sig };
	ssize_t n;

	JTD_RETRY(n, send(sock, &c, sizeof(c), MSG_NOSIGNAL));
	return n == (ssize_t)sizeof(c) ? 0 : -1;
}

/* Receive one event; returns its size (0 at EOF), and the sender's
 * credentials pid when it came with some. */
static ssize_t
recv_ev(int sock, struct lx_ev *ev, pid_t *cred_pid, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { ev, sizeof(*ev) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = c.buf;
	mh.msg_controllen = sizeof(c.buf);
	JTD_RETRY(n, recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags));
	if (n <= 0 || cred_pid == NULL)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cr;

			memcpy(&cr, CMSG_DATA(cm), sizeof(cr));
			*cred_pid = cr.pid;
		}
	}
	return n;
}

static int
move_nics(struct spawn_ctx *c, struct jtd_err **err)
{
	size_t i;
	int e;

	if (c->j->net != JTD_NET_VNET)
		return 0;
	for (i = 0; i < c->j->vnet_nics.n; i++) {
		if (lx_net_move(c->j->vnet_nics.v[i], c->pid, -1, &e) != 0)
			return jtd_err_sys(err, e, "Vnet_nic %s: move into "
			    "the jail", c->j->vnet_nics.v[i]);
	}
	return 0;
}

static void
protect_init(pid_t pid)
{
	char path[64];
	int fd;

	/*
	 * The memory controller's OOM killer should pick the task, not
	 * the tiny init whose death would take every process with it.
	 * Set after the main process forked, so it does not inherit it.
	 */
	snprintf(path, sizeof(path), "/proc/%ld/oom_score_adj", (long)pid);
	JTD_RETRY(fd, open(path, O_WRONLY | O_CLOEXEC));
	if (fd >= 0) {
		(void)jtd_write_all(fd, "-1000", 5);
		jtd_close(fd);
	}
}

/* init ended before saying why: report how it ended. */
static int
init_died(struct spawn_ctx *c, struct jtd_err **err)
{
	pid_t r;
	int st;

	JTD_RETRY(r, waitpid(c->pid, &st, 0));
	if (r != c->pid)
		return jtd_err_set(err, JTD_INTERNAL,
		    "the jail's init ended during set-up");
	c->pid = 0;
	if (WIFSIGNALED(st))
		return jtd_err_set(err, JTD_INTERNAL, "the jail's init was "
		    "killed by signal %d during set-up", WTERMSIG(st));
	return jtd_err_set(err, JTD_INTERNAL, "the jail's init exited "
	    "with %d during set-up", WEXITSTATUS(st));
}

/* Wait for EXEC_OK or FAIL. */
static int
await_exec(struct spawn_ctx *c, pid_t *main_pid, struct jtd_err **err)
{
	struct lx_ev ev;
	ssize_t n;

	*main_pid = 0;
	n = recv_ev(c->sock, &ev, main_pid, 0);
	if (n == (ssize_t)sizeof(ev) && ev.type == LX_EV_EXEC_OK)
		return 0;
	if (n == (ssize_t)sizeof(ev) && ev.type == LX_EV_FAIL) {
		ev.msg[sizeof(ev.msg) - 1] = '\0';
		if (ev.err != 0)
			return jtd_err_sys(err, ev.err, "%s", ev.msg);
		return jtd_err_set(err, JTD_INTERNAL, "%s", ev.msg);
	}
	return init_died(c, err);
}

static void
undo(struct spawn_ctx *c)
{
	struct jtd_err *e = NULL;
	int st;

	if (c->pid > 0) {
		(void)kill(c->pid, SIGKILL);
		JTD_RETRY(st, (int)waitpid(c->pid, NULL, 0));
	}
	jtd_close(c->sock);
	close_fds(c);
	if (c->cg_made) {
		(void)lx_cg_kill(&c->ls->cg, &e);
		jtd_err_clear(&e);
		(void)lx_cg_remove(&c->ls->cg, &e);
		jtd_err_clear(&e);
	}
	free(c->ls);
}

int
jtd_backend_spawn(const struct jtd_jail *j, const struct jtd_stdio *io,
    struct jtd_spawned *out, struct jtd_err **err)
{
	struct spawn_ctx c;

	memset(out, 0, sizeof(*out));
	out->event_fd = -1;
	memset(&c, 0, sizeof(c));
	c.j = j;
	c.sock = c.a.sock = c.a.netns_fd = c.a.hostns_fd = -1;
	c.a.fd[0] = -1;
	c.a.j = j;
	if (j->argv.n == 0)
		return jtd_err_set(err, JTD_INVALID, "nothing to run");
	c.ls = calloc(1, sizeof(*c.ls));
	if (c.ls == NULL)
		return jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
	c.ls->main_status = -1;
	lx_limits_of(j, &c.a.lim);
	c.a.caps = lx_caps_for(j);

	if (lx_cg_open(&c.ls->cg, j->name, err) != 0 ||
	    open_fds(&c, io, err) != 0)
		goto fail;
	if (lx_cg_create(&c.ls->cg, j, err) != 0)
		goto fail;
	c.cg_made = true;
	if (clone_init(&c, err) != 0)
		goto fail;
	if (lx_cg_attach(&c.ls->cg, c.pid, err) != 0 ||
	    move_nics(&c, err) != 0)
		goto fail;
	if (send_cmd(c.sock, LX_CMD_GO, 0) != 0) {
		init_died(&c, err);
		goto fail;
	}
	if (await_exec(&c, &out->main_pid, err) != 0)
		goto fail;
	protect_init(c.pid);

	close_fds(&c);
	out->init_pid = c.pid;
	out->event_fd = c.sock;
	out->priv = c.ls;
	if (c.a.lim.wallclock_s > 0) {
		out->timeout_s = c.a.lim.wallclock_s > 0x7fffffff ?
		    0x7fffffff : (int)c.a.lim.wallclock_s;
		out->timeout_sig = c.a.lim.wallclock_sig;
	}
	return 0;
fail:
	undo(&c);
	return jtd_err_wrap(err, "start jail %s", j->name);
}

int
jtd_backend_deliver(struct jtd_spawned *s, int sig, bool all,
    struct jtd_err **err)
{
	int op = !all ? LX_CMD_SIGNAL : sig == SIGKILL ? LX_CMD_KILL :
	    LX_CMD_SIGNAL_ALL;

	if (sig <= 0 || sig >= NSIG)
		return jtd_err_set(err, JTD_INVALID, "no signal %d", sig);
	if (s->event_fd < 0 || send_cmd(s->event_fd, op, sig) != 0)
		return jtd_err_sys(err, s->event_fd < 0 ? ESRCH : errno,
		    "signal the jail");
	return 0;
}

static void
status_to_exit(int st, struct jtd_exit *e)
{
	if (WIFEXITED(st)) {
		e->exit_code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		e->signal = WTERMSIG(st);
		e->exit_code = 128 + e->signal;
	}
}

int
jtd_backend_reap(struct jtd_spawned *s, const struct jtd_jail *j,
    struct jtd_exit *e, struct jtd_err **err)
{
	struct lx_spawn *ls = s->priv;
	struct timespec ts;
	struct lx_ev ev;
	int ist = 0;
	pid_t r;

	while (!ls->ended) {
		ssize_t n = recv_ev(s->event_fd, &ev, NULL, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			ls->ended = true;	/* init is gone */
			break;
		}
		if (n != (ssize_t)sizeof(ev))
			continue;
		if (ev.type == LX_EV_MAIN_EXIT) {
			ls->main_exited = true;
			ls->main_status = ev.status;
		} else if (ev.type == LX_EV_END)
			ls->ended = true;
	}

	JTD_RETRY(r, waitpid(s->init_pid, &ist, 0));
	if (r < 0 && errno != ECHILD)
		return jtd_err_sys(err, errno, "wait for the jail's init");
	memset(e, 0, sizeof(*e));
	/* Without MAIN_EXIT, the main process died with its init. */
	status_to_exit(ls->main_exited ? ls->main_status : ist, e);
	if (!ls->main_exited && WIFEXITED(ist)) {
		e->signal = SIGKILL;
		e->exit_code = 128 + SIGKILL;
	}
	e->oom_killed = e->signal == SIGKILL && lx_cg_oom_kills(&ls->cg) > 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	e->ended_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	(void)j;
	return 1;
}

void
jtd_backend_spawned_free(struct jtd_spawned *s)
{
	jtd_close(s->event_fd);
	s->event_fd = -1;
	free(s->priv);
	s->priv = NULL;
}
