/*
 * The backend interface: what turns a jail model (jail/jail.h) into a
 * running jail on one OS.  Linux builds it from namespaces, pivot_root,
 * cgroups and rlimits; FreeBSD from jail_set(2), nullfs, devfs and RCTL.
 *
 * Two processes use it.  The shim (the per-task supervisor, src/shim/)
 * creates the jail and supervises it: jtd_backend_spawn/deliver/reap.
 * The driver (the plugin) checks configs before anything is created,
 * enters running jails for Exec_stop and ExecTask, samples stats, and
 * removes what is left after the shim is gone: jtd_backend_check/exec/
 * stats/kill_all/cleanup.  Every function undoes its own partial work on
 * failure, and cleanup is idempotent.
 */
#ifndef JTD_BACKEND_BACKEND_H
#define JTD_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/taskcfg.h"
#include "core/err.h"
#include "jail/jail.h"
#include "jail/state.h"

/* "linux" or "freebsd", for messages: "... not supported by the %s
 * backend". */
extern const char jtd_backend_name[];

/*
 * Reject every task parameter this backend cannot honour, and every value
 * it cannot honour (an Rctl action with no equivalent, ...): JTD_INVALID
 * with one problem per parameter, joined by "; " like the config
 * decoder's, each naming the parameter, the backend and what would work.
 * Pure: looks at the config only.
 */
int jtd_backend_check(const struct jtd_taskcfg *tc, struct jtd_err **err);

/* Host preparation done once per plugin start (cgroup parents, ...). */
int jtd_backend_init(struct jtd_err **err);

/* ---- in the shim ---------------------------------------------------- */

/* Where the task's output goes; the shim opens these. -1: /dev/null. */
struct jtd_stdio {
	int stdout_fd;
	int stderr_fd;
};

/* A running jail, as the shim holds it. */
struct jtd_spawned {
	pid_t init_pid;		/* the jail's first process (host pid) */
	pid_t main_pid;		/* the task's process (host pid), or 0 */
	/*
	 * Becomes readable when the jail has ended; then call
	 * jtd_backend_reap().  The shim polls it with its other inputs.
	 */
	int event_fd;
	/*
	 * A limit the OS does not enforce itself, left to the supervisor
	 * (Linux: Rctl Wallclock): timeout_s seconds after the start
	 * (0: none), deliver timeout_sig to every process in the jail.
	 */
	int timeout_s;
	int timeout_sig;
	void *priv;		/* backend state */
};

/*
 * Create the jail described by `j` and exec its main process, with stdio
 * on io's descriptors.  Returns once the program has been exec'd (0) or
 * anything failed (-1, every step undone; an exec failure carries the
 * errno and the program's path).  Blocking; runs in the shim.
 */
int jtd_backend_spawn(const struct jtd_jail *j, const struct jtd_stdio *io,
    struct jtd_spawned *out, struct jtd_err **err);

/* Send `sig` to the main process, or to every process in the jail. */
int jtd_backend_deliver(struct jtd_spawned *s, int sig, bool all,
    struct jtd_err **err);

/*
 * After event_fd turned readable: returns 1 with *e filled when the jail
 * has ended (every process gone, unless the jail persists), 0 when not
 * yet (call again on the next event), -1 on error.
 */
int jtd_backend_reap(struct jtd_spawned *s, const struct jtd_jail *j,
    struct jtd_exit *e, struct jtd_err **err);

/* Release what spawn allocated in the shim (not the jail itself). */
void jtd_backend_spawned_free(struct jtd_spawned *s);

/*
 * Give back memory the calling process no longer needs now that the jail
 * runs: the pages of its program that only starting the jail used.  The
 * shim calls it before supervising, so a task's helpers stay well under
 * 1 MiB.  Best effort; pages come back if used again.
 */
void jtd_backend_trim(void);

/* ---- in the driver -------------------------------------------------- */

/* A process started inside a running jail. */
struct jtd_exec_req {
	char *const *argv;
	char *const *env;	/* NULL: the jail's environment rules */
	const char *user;	/* NULL: the jail's user */
	const char *cwd;	/* NULL: the jail's cwd */
	int stdin_fd;		/* -1: /dev/null */
	int stdout_fd;		/* -1: /dev/null */
	int stderr_fd;		/* -1: /dev/null */
	bool tty;		/* stdin_fd is a pty slave: make it the
				 * controlling terminal */
};

struct jtd_exec_proc {
	pid_t pid;
	/* Readable when the process has exited (pidfd / process
	 * descriptor); the caller then reaps it with waitpid(pid). */
	int exit_fd;
};

/*
 * Start a process inside the running jail (its namespaces / jail_attach,
 * its cgroups, limits and user), forked from the caller.  An exec
 * failure is reported here with its errno, not as exit 127.
 */
int jtd_backend_exec(const struct jtd_jail *j, const char *state_dir,
    const struct jtd_exec_req *req, struct jtd_exec_proc *out,
    struct jtd_err **err);

struct jtd_stats {
	uint64_t rss;			/* bytes */
	uint64_t cache;
	uint64_t swap;
	uint64_t usage;			/* memory charged in total */
	uint64_t max_usage;
	uint64_t cpu_user_ns;
	uint64_t cpu_system_ns;
	uint64_t cpu_total_ns;
	uint64_t throttled_periods;
	uint64_t throttled_ns;
	unsigned measured;		/* JTD_STAT_* bits actually read */
};

#define JTD_STAT_RSS		0x001
#define JTD_STAT_CACHE		0x002
#define JTD_STAT_SWAP		0x004
#define JTD_STAT_USAGE		0x008
#define JTD_STAT_MAX_USAGE	0x010
#define JTD_STAT_CPU_USER	0x020
#define JTD_STAT_CPU_SYSTEM	0x040
#define JTD_STAT_CPU_TOTAL	0x080
#define JTD_STAT_THROTTLE	0x100

int jtd_backend_stats(const struct jtd_jail *j, struct jtd_stats *out,
    struct jtd_err **err);

/* Kill every process of the jail without the shim's help. */
int jtd_backend_kill_all(const struct jtd_jail *j, struct jtd_err **err);

/* Whether any process of the jail still runs. */
bool jtd_backend_alive(const struct jtd_jail *j);

/*
 * Remove everything the jail left on the host (cgroups, mounts, rules,
 * interfaces), after its processes are gone.  Idempotent: what is
 * already gone is not an error.
 */
int jtd_backend_cleanup(const struct jtd_jail *j, struct jtd_err **err);

#endif
