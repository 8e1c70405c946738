/*
 * The jail model: one backend-neutral description of a task's jail, built
 * by the driver from the task config and Nomad's TaskConfig, handed to a
 * backend (Linux namespaces now, FreeBSD jail(2) next) and serialised into
 * the task's state directory for its supervisor (the shim).
 *
 * Everything here is plain data.  Paths are absolute host paths unless
 * the field says "inside": those are paths as seen inside the jail.
 */
#ifndef JTD_JAIL_JAIL_H
#define JTD_JAIL_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/taskcfg.h"
#include "core/err.h"

enum jtd_net_mode {
	JTD_NET_INHERIT,	/* the host's stack (Ip4 = inherit) */
	JTD_NET_NEW,		/* own stack, loopback only, plus addresses */
	JTD_NET_DISABLE,	/* own stack, no IPv4 at all */
	JTD_NET_VNET,		/* own stack; Vnet_nic interfaces moved in */
	JTD_NET_JOIN,		/* an existing namespace (Nomad group network) */
};

enum jtd_mount_kind {
	JTD_MOUNT_BIND,		/* source: host path, bound at target */
	JTD_MOUNT_FS,		/* a file system: fstype, source, options */
};

struct jtd_mount {
	enum jtd_mount_kind kind;
	char *source;		/* host path (bind) or fs source ("tmpfs") */
	char *target;		/* inside */
	char *fstype;		/* JTD_MOUNT_FS: "tmpfs", "proc", ... */
	char *options;		/* fstab(5)-style, or NULL */
	bool readonly;
	bool create;		/* create target (dir or file) if missing */
};

/* A flat list of strings; v[n] == NULL. */
struct jtd_list {
	size_t n;
	char **v;
};

/* Allow_* flags as a bit set; see jtd_allow_names[] for the mapping. */
enum jtd_allow {
	JTD_ALLOW_SET_HOSTNAME,
	JTD_ALLOW_SYSVIPC,
	JTD_ALLOW_RAW_SOCKETS,
	JTD_ALLOW_CHFLAGS,
	JTD_ALLOW_MOUNT,
	JTD_ALLOW_MOUNT_DEVFS,
	JTD_ALLOW_MOUNT_FDESCFS,
	JTD_ALLOW_MOUNT_FUSEFS,
	JTD_ALLOW_MOUNT_LINPROCFS,
	JTD_ALLOW_MOUNT_LINSYSFS,
	JTD_ALLOW_MOUNT_NULLFS,
	JTD_ALLOW_MOUNT_PROCFS,
	JTD_ALLOW_MOUNT_TMPFS,
	JTD_ALLOW_MOUNT_ZFS,
	JTD_ALLOW_QUOTAS,
	JTD_ALLOW_READ_MSGBUF,
	JTD_ALLOW_SOCKET_AF,
	JTD_ALLOW_RESERVED_PORTS,
	JTD_ALLOW_MLOCK,
	JTD_ALLOW_VMM,
	JTD_ALLOW_SUSER,
	JTD_ALLOW_UNPRIVILEGED_PROC_DEBUG,
	JTD_ALLOW_NFSD,
	JTD_ALLOW_EXTATTR,
	JTD_ALLOW_ADJTIME,
	JTD_ALLOW_SETTIME,
	JTD_ALLOW__COUNT,
};

/* Parameter name of each flag ("Allow_raw_sockets"). */
extern const char *const jtd_allow_names[JTD_ALLOW__COUNT];

struct jtd_jail {
	/* Identity. */
	char *name;		/* unique per task start; safe as a file,
				 * cgroup and jail name: [A-Za-z0-9_.-] */
	char *task_id;		/* Nomad's TaskConfig.id */
	char *root;		/* the jail root (Path, or the task dir) */
	char *hostname;		/* NULL: the jail's name */
	char *domainname;	/* NULL: none */

	/* File system: mounts in order (task dirs first). */
	size_t n_mounts;
	struct jtd_mount *mounts;
	bool mount_devfs;	/* a minimal /dev */
	bool mount_fdescfs;	/* /dev/fd */
	bool mount_procfs;	/* /proc */
	int devfs_ruleset;	/* -1 unset */

	/* Network. */
	enum jtd_net_mode net;
	char *netns_path;	/* JTD_NET_JOIN */
	struct jtd_iplist ip4;	/* borrowed layout from the task config */
	struct jtd_iplist ip6;
	struct jtd_list vnet_nics;

	/* The main process. */
	struct jtd_list argv;	/* argv[0] is resolved inside the jail */
	struct jtd_list env;	/* "K=V", Nomad's task environment */
	bool clean_env;		/* Exec_clean: jail(8)'s clean environment */
	char *user;		/* name or uid inside the jail; NULL: root */
	bool user_from_host;	/* Exec_system_jail_user */
	char *cwd;		/* inside; NULL: the user's home or "/" */
	bool persist;		/* keep running while the jail is empty */

	/* Output. */
	char *stdout_path;	/* Nomad's FIFO, or a file; NULL: /dev/null */
	char *stderr_path;
	char *consolelog;	/* Exec_consolelog: also append both here */

	/* Limits: the job's Rctl rules and Nomad's resources. */
	struct jtd_rctl_rule rctl[JTD_RCTL__COUNT];
	int64_t memory_mb;	/* Nomad memory (soft), 0: none */
	int64_t memory_max_mb;	/* Nomad memory_max (hard), 0: none */
	int64_t cpu_shares;	/* Nomad cpu, 0: none */
	char *cpuset_cpus;	/* Nomad reserved cores, NULL: none */

	/* Security. */
	uint64_t allow_set;	/* bit i: jtd_allow i was set by the job */
	uint64_t allow_val;	/* bit i: its value */
	int securelevel;	/* -2: unset */
	int enforce_statfs;	/* -1: unset */
	int children_max;	/* -1: unset */

	/* In-jail commands run by the supervisor or the driver. */
	struct jtd_list exec_stop;	/* before the stop signal */
	int exec_timeout;		/* seconds per command, 0: none */
	int stop_timeout;		/* seconds, -1: Nomad's kill_timeout */
};

/* Allow_* state: returns -1 unset, 0 false, 1 true. */
int jtd_jail_allow(const struct jtd_jail *j, enum jtd_allow a);

/* Release everything the jail owns (NULL is fine). */
void jtd_jail_free(struct jtd_jail *j);

/*
 * Serialise the jail into `path` (written to path.tmp, fsync'ed, then
 * renamed) and read it back.  The format is private to one build of the
 * project: lines "key value" with values percent-escaped; repeated keys
 * build lists.  The reader checks every line and rejects unknown keys.
 */
int jtd_jail_save(const struct jtd_jail *j, const char *path,
    struct jtd_err **err);
struct jtd_jail *jtd_jail_load(const char *path, struct jtd_err **err);

/* The same on memory buffers (for tests and fuzzing). */
char *jtd_jail_encode(const struct jtd_jail *j, size_t *len,
    struct jtd_err **err);
struct jtd_jail *jtd_jail_decode(const char *buf, size_t len,
    struct jtd_err **err);

#endif
