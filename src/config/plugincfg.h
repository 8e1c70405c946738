/*
 * The agent-side configuration, `plugin "jail-task-driver" { config {
 * ... } }`, and the policy it imposes on task configs.
 *
 * Options (defaults in brackets):
 *
 * enabled [true]            false: the driver reports itself undetected
 *                           and refuses every task.
 * allow_host_hooks [false]  lets jobs set the parameters that run
 *                           commands on the host as root: Exec_prepare,
 *                           Exec_prestart, Exec_created, Exec_poststart,
 *                           Exec_prestop, Exec_poststop, Exec_release
 *                           (and Exec_system_user, which only they use).
 * allow_host_mounts [false] lets jobs set Mount and Mount_fstab, which
 *                           mount host file systems as root.
 * allowed_paths [[]]        absolute host directories under which a job's
 *                           Path (jail root) and Exec_consolelog may lie.
 *                           Whatever this list says, an unset Path (the
 *                           task directory) and paths inside the
 *                           allocation directory are always allowed; so
 *                           the default, an empty list, allows nothing
 *                           else.  ["/"] allows any path.
 * denied_parameters [[]]    task parameter names jobs may not set at all
 *                           (e.g. ["Allow_mount", "Enforce_statfs"]).
 *                           Old misspellings resolve to the real name.
 * state_dir [/var/lib/jail-task-driver, FreeBSD: /var/db/jail-task-driver]
 *                           where the driver keeps each task's state (its
 *                           supervisor's files), so a restarted plugin
 *                           finds its tasks again.  Root-only (0700).
 *
 * Nomad encodes this block with the schema from jtd_plugincfg_spec(),
 * whose `default` specs fill in absent options; the decoder applies the
 * same defaults itself, so an empty byte string (no SetConfig payload),
 * an empty map and a NULL config all mean "all defaults".
 */
#ifndef JTD_CONFIG_PLUGINCFG_H
#define JTD_CONFIG_PLUGINCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/taskcfg.h"

#ifdef __FreeBSD__
#define JTD_DEFAULT_STATE_DIR "/var/db/jail-task-driver"
#else
#define JTD_DEFAULT_STATE_DIR "/var/lib/jail-task-driver"
#endif

struct jtd_plugincfg {
	bool enabled;
	bool allow_host_hooks;
	bool allow_host_mounts;
	struct jtd_strv allowed_paths;
	struct jtd_strv denied_parameters;	/* canonical names */
	char *state_dir;			/* NULL: the default */
};

/* One plugin option as declared in the schema. */
struct jtd_plugin_opt {
	const char *name;
	const char *type;		/* hclspec Attr type */
	const char *default_literal;	/* HCL expression text */
};

extern const struct jtd_plugin_opt jtd_plugin_opts[];
extern const size_t jtd_nplugin_opts;

/*
 * Decode and validate, like the task config decoders: the config, or
 * NULL with *err JTD_INVALID listing every problem (JTD_EXHAUSTED when
 * out of memory).  An empty input (len 0) yields the defaults.
 */
struct jtd_plugincfg *jtd_plugincfg_decode_value(
    const struct jtd_value *root, struct jtd_err **err);
struct jtd_plugincfg *jtd_plugincfg_decode_msgpack(const uint8_t *buf,
    size_t len, struct jtd_err **err);
struct jtd_plugincfg *jtd_plugincfg_decode_json(const char *text,
    size_t len, struct jtd_err **err);

/* NULL is fine. */
void jtd_plugincfg_free(struct jtd_plugincfg *pc);

/*
 * Everywhere below, pc == NULL means "no SetConfig yet": all defaults.
 */
bool jtd_plugincfg_enabled(const struct jtd_plugincfg *pc);
const char *jtd_plugincfg_state_dir(const struct jtd_plugincfg *pc);

/*
 * May this task run under this plugin config?  Returns 0, or -1 with
 * *err JTD_DENIED naming each parameter refused and the option that
 * refuses it (all of them, joined by "; ").
 *
 * alloc_dir is the task's allocation directory on the host
 * (TaskConfig.alloc_dir): Path and Exec_consolelog inside it are always
 * allowed.  jtd_policy_check() is the same with alloc_dir unknown (NULL):
 * then only an unset Path/Exec_consolelog or one under allowed_paths
 * passes.
 *
 * The path checks are lexical (Path and allowed_paths have no ".."
 * components); whoever creates the jail must check the resolved path
 * again with jtd_path_within() before using it.
 */
int jtd_policy_check_alloc(const struct jtd_plugincfg *pc,
    const struct jtd_taskcfg *tc, const char *alloc_dir,
    struct jtd_err **err);
int jtd_policy_check(const struct jtd_plugincfg *pc,
    const struct jtd_taskcfg *tc, struct jtd_err **err);

/*
 * Whether absolute path `path` is `dir` or lies below it, comparing
 * components ("/a/b" is within "/a", "/ab" is not; repeated and trailing
 * slashes and "." components are ignored).  Any ".." in either makes the
 * answer false.
 */
bool jtd_path_within(const char *path, const char *dir);

#endif
