/*
 * The driver's tasks: start, wait, stop, signal, destroy and recover,
 * independent of gRPC so the standalone runner drives the same code as
 * Nomad.  Everything runs on the plugin's libuv loop and never blocks
 * it: host hooks, the supervisor's start-up and stop timeouts are all
 * loop events.  Each task has a supervisor process (the shim, see
 * jail/state.h) that keeps it running when the plugin is gone.
 */
#ifndef JTD_DRIVER_TASKS_H
#define JTD_DRIVER_TASKS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config/plugincfg.h"
#include "config/taskcfg.h"
#include "core/err.h"
#include "driver/pb.h"
#include "jail/jail.h"
#include "jail/state.h"

struct jtd_tasks;
struct jtd_task;

enum jtd_task_state {
	JTD_TASK_STARTING,
	JTD_TASK_RUNNING,
	JTD_TASK_EXITED,
};

/* Events a task reports on its way (for Nomad's TaskEvents stream). */
typedef void (*jtd_task_event_fn)(void *arg, const struct jtd_task *t,
    const char *message);

struct jtd_tasks *jtd_tasks_new(uv_loop_t *loop, struct jtd_err **err);

/*
 * Stop watching every task (they keep running under their supervisors)
 * and release the table.  `done` runs once every handle is closed.
 */
void jtd_tasks_free(struct jtd_tasks *ts, void (*done)(void *), void *arg);

void jtd_tasks_set_events(struct jtd_tasks *ts, jtd_task_event_fn fn,
    void *arg);

/*
 * Use this plugin config (not owned) for state_dir and host-hook
 * policy.  With `sweep`, also remove what tasks no handle can claim any
 * more (interrupted starts, interrupted destroys): only the long-lived
 * plugin instance does that.
 */
int jtd_tasks_configure(struct jtd_tasks *ts, const struct jtd_plugincfg *pc,
    bool sweep, struct jtd_err **err);

/* Path to the shim executable (default: beside the plugin binary). */
void jtd_tasks_set_shim(struct jtd_tasks *ts, const char *path);

struct jtd_task *jtd_tasks_find(struct jtd_tasks *ts, const char *id);
size_t jtd_tasks_count(const struct jtd_tasks *ts);

/* ---- start ------------------------------------------------------------ */

/*
 * Called once: with the task (RUNNING) and NULL, or with NULL and an error
 * the callee owns (every step undone).  `recoverable` says whether a retry
 * could succeed.
 */
typedef void (*jtd_start_cb)(void *arg, struct jtd_task *t,
    struct jtd_err *err, bool recoverable);

/*
 * Start a task: `tc` is Nomad's TaskConfig (copied), `cfg` its decoded
 * config (ownership passes to the task).  Returns -1 with *err set when
 * it fails at once (then cb is not called, and cfg is freed).
 */
int jtd_task_start(struct jtd_tasks *ts, const DRV(TaskConfig) *tc,
    struct jtd_taskcfg *cfg, jtd_start_cb cb, void *arg,
    struct jtd_err **err);

/* ---- queries ---------------------------------------------------------- */

const char *jtd_task_id(const struct jtd_task *t);
const char *jtd_task_name(const struct jtd_task *t);
const char *jtd_task_alloc_id(const struct jtd_task *t);
const char *jtd_task_jail_name(const struct jtd_task *t);
const struct jtd_jail *jtd_task_jail(const struct jtd_task *t);
const char *jtd_task_dir(const struct jtd_task *t);	/* its state dir */
enum jtd_task_state jtd_task_state(const struct jtd_task *t);
const struct jtd_exit *jtd_task_exit(const struct jtd_task *t);
int64_t jtd_task_started_ns(const struct jtd_task *t);

/* The TaskHandle's driver_state for this task (static per task). */
const uint8_t *jtd_task_driver_state(const struct jtd_task *t, size_t *len);

/* The TaskConfig Nomad sent, as Nomad must store it in the handle. */
const DRV(TaskConfig) *jtd_task_config(const struct jtd_task *t);

/* ---- wait ------------------------------------------------------------- */

struct jtd_waiter;
typedef void (*jtd_wait_cb)(void *arg, const struct jtd_exit *e);

/*
 * Call cb once the task has exited (at once if it has).  Returns a
 * waiter that jtd_task_unwait() cancels (cb is then never called), or
 * NULL when cb already ran.
 */
struct jtd_waiter *jtd_task_wait(struct jtd_task *t, jtd_wait_cb cb,
    void *arg);
void jtd_task_unwait(struct jtd_waiter *w);

/* ---- control ---------------------------------------------------------- */

/* Deliver a signal to the task's main process. */
int jtd_task_signal(struct jtd_task *t, int sig, struct jtd_err **err);

typedef void (*jtd_done_cb)(void *arg, struct jtd_err *err);

/*
 * Stop: Exec_prestop (host), Exec_stop (in the jail), `sig` to every
 * process of the jail, then SIGKILL once `timeout_ms` has passed.  cb
 * runs as soon as the jail is empty.  Stopping an exited task succeeds.
 */
void jtd_task_stop(struct jtd_task *t, int sig, uint64_t timeout_ms,
    jtd_done_cb cb, void *arg);

/*
 * Destroy: refuse a running task unless `force` (then kill it), run
 * Exec_poststop and Exec_release on the host, remove everything the
 * task left, and forget it.  cb runs when all is gone.
 */
void jtd_task_destroy(struct jtd_task *t, bool force, jtd_done_cb cb,
    void *arg);

/* ---- recovery --------------------------------------------------------- */

/*
 * Take a task back from a TaskHandle's driver_state after a plugin
 * restart: no recreation, just reattach to its supervisor (or read how
 * it ended).  Succeeds at once if the task is already known.
 */
int jtd_task_recover(struct jtd_tasks *ts, const DRV(TaskConfig) *tc,
    const uint8_t *driver_state, size_t len, struct jtd_err **err);

/* ---- helpers ---------------------------------------------------------- */

/* "SIGTERM", "TERM", "15" -> 15; -1 if unknown. */
int jtd_signal_number(const char *name);

#endif
