/*
 * Internal to the Linux backend: cgroups, capabilities, the jail's file
 * system, users, networking and the code that turns a forked child into
 * the task's program.  Functions that run in a child after fork/clone
 * report failure through struct lx_fail (errno plus what failed), since
 * a child cannot hand a struct jtd_err back to its parent.
 */
#ifndef JTD_BACKEND_LINUX_LX_H
#define JTD_BACKEND_LINUX_LX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/backend.h"

/* The parent group of every task's cgroup, in every hierarchy. */
#define LX_CG_PARENT "jail-task-driver"

/* A failure in a child: errno (0 if none applies) and what failed. */
struct lx_fail {
	int err;
	char msg[240];
};

/* Record a failure; returns -1. */
int lx_fail(struct lx_fail *f, int err, const char *fmt, ...)
    JTD_PRINTF(3, 4);

/* ---- cgroup.c ------------------------------------------------------- */

enum lx_ctl {
	LX_CG_MEMORY,
	LX_CG_CPU,
	LX_CG_CPUACCT,
	LX_CG_CPUSET,
	LX_CG_PIDS,
	LX_CG_IO,		/* blkio on v1, io on v2 */
	LX_CG_FREEZER,		/* v1 only: v2 freezes in the core */
	LX_CG__COUNT,
};

#define LX_CG_HIER_MAX	8

/* One mounted hierarchy that carries controllers we use. */
struct lx_hier {
	char mnt[128];		/* mount point */
	bool v2;
	unsigned ctls;		/* bit per enum lx_ctl */
};

/* A task's cgroups: one directory per hierarchy. */
struct lx_cg {
	size_t n;
	struct lx_hier h[LX_CG_HIER_MAX];
	char dir[LX_CG_HIER_MAX][256];	/* <mnt>/jail-task-driver/<name> */
};

/*
 * Find the host's hierarchies (v2, v1 or both) and the task's directory
 * in each; creates nothing.  Fails when no controller is mounted at all.
 */
int lx_cg_open(struct lx_cg *cg, const char *name, struct jtd_err **err);

/* Create the parent groups (idempotent): what jtd_backend_init does. */
int lx_cg_prepare(const struct lx_cg *cg, struct jtd_err **err);

/*
 * Create the task's groups and write its limits (Rctl and Nomad
 * resources).  Undoes its own work on failure.
 */
int lx_cg_create(const struct lx_cg *cg, const struct jtd_jail *j,
    struct jtd_err **err);

/* Move pid (0: the caller) into every group of the task. */
int lx_cg_attach(const struct lx_cg *cg, pid_t pid, struct jtd_err **err);

/* The path of a controller's file in the task's group, or -1. */
int lx_cg_file(const struct lx_cg *cg, enum lx_ctl c, const char *file,
    char *buf, size_t size);

/* Up to max pids of the task's processes (from the first hierarchy);
 * none if the groups are gone. */
int lx_cg_procs(const struct lx_cg *cg, pid_t *pids, size_t max,
    size_t *n);

/* Whether any of the task's groups exists. */
bool lx_cg_exists(const struct lx_cg *cg);

/* OOM kills counted in the task's memory group (0 if unknown). */
uint64_t lx_cg_oom_kills(const struct lx_cg *cg);

int lx_cg_stats(const struct lx_cg *cg, struct jtd_stats *st);

/* SIGKILL every process in the groups (cgroup.kill, or freeze+kill). */
int lx_cg_kill(const struct lx_cg *cg, struct jtd_err **err);

/*
 * Wait (up to timeout_ms) until no process is left in the groups;
 * returns 0 when empty, -1 (errno ETIMEDOUT) when not.
 */
int lx_cg_wait_empty(const struct lx_cg *cg, int timeout_ms);

/* Remove the task's groups; what is gone already is fine. */
int lx_cg_remove(const struct lx_cg *cg, struct jtd_err **err);

/* ---- limits.c ------------------------------------------------------- */

/* The jail's limits, as the Linux mechanisms take them; -1: none. */
struct lx_limits {
	int64_t mem_hard;	/* bytes */
	int64_t mem_soft;
	int64_t swap;		/* bytes of swap beyond memory */
	int64_t pids;
	int64_t cpu_shares;	/* Nomad MHz, cgroup v1 shares */
	int64_t cpu_quota_us;	/* per LX_CPU_PERIOD_US */
	int64_t io[4];		/* read bps, write bps, read iops, write iops */
	int64_t wallclock_s;
	int wallclock_sig;
	/* SysV limits for the jail's IPC namespace. */
	int64_t msgmni, semmns, semopm, shmmni, shmall_bytes;
};

#define LX_CPU_PERIOD_US 100000

void lx_limits_of(const struct jtd_jail *j, struct lx_limits *l);

/* Signal number of an rctl(8) action name ("sigterm"), or 0. */
int lx_signal_of(const char *action_name);

/* Apply the jail's rlimits to the calling process. */
int lx_rlimits_apply(const struct jtd_jail *j, struct lx_fail *f);

/* Write the SysV IPC sysctls of the caller's IPC namespace. */
int lx_ipc_apply(const struct lx_limits *l, struct lx_fail *f);

/* ---- caps.c --------------------------------------------------------- */

/* The capability set the jail's root keeps (bit per CAP_*). */
uint64_t lx_caps_for(const struct jtd_jail *j);

/* Drop every capability outside `keep` from the bounding set, and the
 * inheritable and ambient sets. */
int lx_caps_bound(uint64_t keep, struct lx_fail *f);

/* ---- user.c --------------------------------------------------------- */

#define LX_NGROUPS_MAX 64

struct lx_user {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[LX_NGROUPS_MAX];
	char name[64];
	char home[256];
	char shell[256];
};

/*
 * Look `user` (a name or a number) up in the caller's /etc/passwd and
 * /etc/group; `where` names them in messages ("the jail's").  A number
 * not in passwd is accepted with gid = uid, home "/" and shell /bin/sh.
 */
int lx_user_lookup(const char *where, const char *user, struct lx_user *u,
    struct lx_fail *f);

/* Root, when the jail names no user. */
void lx_user_root(struct lx_user *u);

/*
 * The environment of a process in the jail: `base` (NULL: none), then
 * jail(8)'s login variables when exec.clean or a user is set, then the
 * jail's (Nomad's) variables, later ones replacing earlier ones; PATH is
 * added if nothing set it.  Returns a malloc'ed NULL-ended array of
 * malloc'ed strings, or NULL (ENOMEM).
 */
char **lx_env_build(const struct jtd_jail *j, char *const *base,
    char *const *extra, const struct lx_user *u);
void lx_env_free(char **env);

/* ---- fs.c ----------------------------------------------------------- */

/*
 * In the jail's new mount namespace (as its init, before anything is
 * exec'd): the mounts, /dev, /proc, then pivot_root into the root.
 */
int lx_fs_setup(const struct jtd_jail *j, struct lx_fail *f);

/* ---- net.c ---------------------------------------------------------- */

/* Bring the loopback interface of the caller's namespace up. */
int lx_net_lo_up(struct lx_fail *f);

/*
 * Move interface `ifname` of the caller's network namespace into that
 * of `pid` (ns_fd < 0) or of the namespace file ns_fd.  On failure
 * *err_out is the errno.
 */
int lx_net_move(const char *ifname, pid_t pid, int ns_fd, int *err_out);

/* ---- proc.c --------------------------------------------------------- */

/* How a process in the jail is started (main process and exec). */
struct lx_plan {
	const struct jtd_jail *j;
	char *const *argv;
	char **env;
	const struct lx_user *user;
	const char *cwd;	/* NULL: jail(8)'s choice */
	uint64_t caps;
	int fd[3];		/* become 0, 1, 2 */
	bool tty;		/* fd[0] becomes the controlling terminal */
	bool setsid;
	int inherit_fd;		/* left open across exec, or -1 */
};

/*
 * In a child: stdio, session, rlimits, capabilities, user, cwd, then
 * exec (PATH searched inside the jail).  Returns only on failure, with
 * f set; the caller reports it and _exit()s.
 */
void lx_plan_exec(const struct lx_plan *p, struct lx_fail *f);

/* Close every descriptor >= 3 except those in keep[]. */
void lx_close_fds_except(const int *keep, size_t n);

/* Reset signal dispositions and the mask to their defaults. */
void lx_signals_default(void);

/* The jail's init pid from <state_dir>/pids, checked to belong to the
 * jail's cgroups. */
int lx_init_pid(const struct jtd_jail *j, const char *state_dir,
    pid_t *pid, struct jtd_err **err);

#endif
