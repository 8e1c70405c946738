/*
 * A task's state directory and the protocol between the driver (the
 * plugin process) and the task's supervisor (the shim).
 *
 * Why a supervisor: a task must outlive the plugin (Nomad kills the
 * plugin on every agent shutdown, and it may crash), and its exit status
 * must not be lost when it ends while no plugin runs.  So every task has a
 * small supervisor process, the shim, in its own session: it starts the
 * jail, is the parent of the jail's first process, and records how the
 * task ended.  The plugin only ever talks to it through this directory.
 *
 * <state_dir>/tasks/<jail name>/ (mode 0700) holds:
 *
 *   spec      the jail (jail.h), written by the plugin before the shim
 *             starts; read by the shim.
 *   task      what the plugin needs to recover the task without Nomad's
 *             help (TaskConfig id, name, alloc id), written by the plugin.
 *   ctl       a FIFO the shim reads commands from (one per line, below).
 *             The shim holds it open read-write, so writers never block
 *             and plugins may come and go.
 *   wait      a FIFO the shim holds open for writing for its whole life.
 *             A plugin that opens it for reading sees end-of-file exactly
 *             when the shim has exited: exit is noticed at once, on every
 *             OS, by any later plugin, with no pid to race on.
 *   pids      "shim <pid>\ninit <pid>\nmain <pid>\n" written by the shim
 *             once the jail runs (init: the jail's first process, from the
 *             host's point of view; main: the task's process, when the
 *             backend knows it).
 *   exit      written by the shim (atomically, before it exits) when the
 *             task has ended: jtd_exit_format().
 *   destroy   written by the plugin when teardown starts; a plugin that
 *             finds it on start-up finishes the teardown.
 *
 * Start-up handshake: the plugin passes the write end of a pipe as file
 * descriptor 3 to the shim.  The shim writes exactly one line and closes
 * it:  "ok <init pid> <main pid>\n" once the task's program has been
 * exec'd, or "error <errno> <message>\n" (message percent-escaped) when
 * anything failed; in that case the shim has undone every step it made
 * and exits without writing `exit`.
 *
 * Commands on `ctl`:
 *   "signal <signo>\n"   deliver to the task's main process
 *   "stop <signo>\n"     deliver to every process in the jail
 *   "kill\n"             SIGKILL every process in the jail now
 */
#ifndef JTD_JAIL_STATE_H
#define JTD_JAIL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define JTD_STATE_SPEC "spec"
#define JTD_STATE_TASK "task"
#define JTD_STATE_CTL "ctl"
#define JTD_STATE_WAIT "wait"
#define JTD_STATE_PIDS "pids"
#define JTD_STATE_EXIT "exit"
#define JTD_STATE_DESTROY "destroy"

/* The shim's file descriptor for the start-up handshake. */
#define JTD_SHIM_SYNC_FD 3

/* How a task ended. */
struct jtd_exit {
	int exit_code;		/* exit status, or 128 + signal */
	int signal;		/* terminating signal, 0 if it exited */
	bool oom_killed;	/* killed for exceeding its memory limit */
	int64_t ended_ns;	/* CLOCK_REALTIME, nanoseconds */
	char err[256];		/* supervisor-side failure, "" if none */
};

/* "code signal oom ended_ns err\n" (err percent-escaped, "-" if empty). */
int jtd_exit_format(const struct jtd_exit *e, char *buf, size_t size);
int jtd_exit_parse(const char *buf, size_t len, struct jtd_exit *e,
    struct jtd_err **err);

/* Percent-escaping for one-line values: bytes <= 0x20, 0x7f+ and '%'. */
char *jtd_pct_escape(const char *s);
char *jtd_pct_unescape(const char *s, size_t len);

/*
 * Write a small file atomically: path.tmp, then rename.  Mode 0600.
 * Readers see the old file or the whole new one, whichever process dies
 * when.  There is no fsync: these files describe processes, and a crash
 * of the machine ends those processes too, while the page cache outlives
 * any process crash.  (An fsync here cost 1-13 ms on every task start
 * and exit.)
 */
int jtd_write_file_atomic(const char *path, const void *data, size_t len,
    struct jtd_err **err);

/* Read a small file (at most `max` bytes) into a NUL-terminated buffer. */
char *jtd_read_file(const char *path, size_t max, size_t *len,
    struct jtd_err **err);

#endif
