/*
 * The task configuration (a job's `config { }` block) as one typed C
 * structure, its decoders and its validation.
 *
 * Field names are the parameter names in lower case ("Linux" is
 * linux_mode: compilers in GNU mode predefine `linux`).  "Unset" is
 * distinguishable from every value: strings are NULL, lists have n == 0,
 * jtd_obool/jtd_oint have set == false, enums are 0 (..._UNSET), Rctl
 * rules have set == false.  The backend applies jail(8)'s own defaults
 * for whatever is unset.
 *
 * The decoders return a structure the caller releases with
 * jtd_taskcfg_free().  They report every problem at once: on failure
 * *err is JTD_INVALID and its message is the problems joined by "; "
 * (no problem text contains "; " itself, and ';' inside quoted user
 * text is shown as \x3b, so the message splits back exactly:
 * jtd_taskcfg_print_problems() prints one per line).
 */
#ifndef JTD_CONFIG_TASKCFG_H
#define JTD_CONFIG_TASKCFG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/value.h"

/* An optional boolean / integer. */
struct jtd_obool {
	bool set;
	bool val;
};

struct jtd_oint {
	bool set;
	int64_t val;
};

/* A list of strings; v[n] is NULL, so v can serve as an argv. */
struct jtd_strv {
	size_t n;
	char **v;
};

/*
 * jail(8)'s "jailsys" values.  Kernel numbers differ (disable 0, new 1,
 * inherit 2): use jtd_jailsys_kernel().
 */
enum jtd_jailsys {
	JTD_JAILSYS_UNSET = 0,
	JTD_JAILSYS_DISABLE,
	JTD_JAILSYS_NEW,
	JTD_JAILSYS_INHERIT,
};

int jtd_jailsys_kernel(enum jtd_jailsys v);
const char *jtd_jailsys_name(enum jtd_jailsys v);	/* "new", ... */

/* One Ip4_addr / Ip6_addr entry: [iface|]address[/prefix]. */
struct jtd_ipaddr {
	char *iface;		/* NULL when the entry names none */
	int family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	int prefix;		/* -1 when no /prefix was given */
	char *text;		/* the entry as written, trimmed */
};

struct jtd_iplist {
	size_t n;
	struct jtd_ipaddr *v;
};

/* RCTL resources, in rctl(8)'s order. */
enum jtd_rctl_res {
	JTD_RCTL_CPUTIME,
	JTD_RCTL_DATASIZE,
	JTD_RCTL_STACKSIZE,
	JTD_RCTL_COREDUMPSIZE,
	JTD_RCTL_MEMORYUSE,
	JTD_RCTL_MEMORYLOCKED,
	JTD_RCTL_MAXPROC,
	JTD_RCTL_OPENFILES,
	JTD_RCTL_VMEMORYUSE,
	JTD_RCTL_PSEUDOTERMINALS,
	JTD_RCTL_SWAPUSE,
	JTD_RCTL_NTHR,
	JTD_RCTL_MSGQQUEUED,
	JTD_RCTL_MSGQSIZE,
	JTD_RCTL_NMSGQ,
	JTD_RCTL_NSEM,
	JTD_RCTL_NSEMOP,
	JTD_RCTL_NSHM,
	JTD_RCTL_SHMSIZE,
	JTD_RCTL_WALLCLOCK,
	JTD_RCTL_PCPU,
	JTD_RCTL_READBPS,
	JTD_RCTL_WRITEBPS,
	JTD_RCTL_READIOPS,
	JTD_RCTL_WRITEIOPS,
	JTD_RCTL__COUNT,
};

enum jtd_rctl_action {
	JTD_RCTL_DENY,
	JTD_RCTL_LOG,
	JTD_RCTL_DEVCTL,
	JTD_RCTL_THROTTLE,
	JTD_RCTL_SIGNAL,	/* action_name says which: "sigterm", ... */
};

enum jtd_rctl_per {
	JTD_RCTL_PER_JAIL = 0,	/* the default: the jail as a whole */
	JTD_RCTL_PER_PROCESS,
	JTD_RCTL_PER_USER,
	JTD_RCTL_PER_LOGINCLASS,
};

/* Resource properties (rctl(8), RACCT flags). */
#define JTD_RCTL_F_DENY		0x01	/* action deny accepted */
#define JTD_RCTL_F_THROTTLE	0x02	/* action throttle accepted */
#define JTD_RCTL_F_PROCESS	0x04	/* per = process accepted */
#define JTD_RCTL_F_MILLIONS	0x08	/* kernel keeps amount x 10^6 */

struct jtd_rctl_info {
	const char *name;	/* parameter name: "Vmemoryuse" */
	const char *rctl_name;	/* rctl(8) name: "vmemoryuse" */
	unsigned flags;
	const char *unit;	/* for docs and messages */
};

extern const struct jtd_rctl_info jtd_rctl_info[JTD_RCTL__COUNT];

/*
 * One rule: jail:<name>:<rctl_name>:<action_name>=<amount>[/<per>].
 * A bare number in the job means the resource's default action: deny,
 * or throttle for Readbps/Writebps/Readiops/Writeiops, or sigkill for
 * Cputime/Wallclock (which cannot be denied).
 */
struct jtd_rctl_rule {
	bool set;
	uint64_t amount;		/* <= INT64_MAX */
	enum jtd_rctl_action action;
	const char *action_name;	/* static rctl(8) spelling */
	enum jtd_rctl_per per;
};

const char *jtd_rctl_per_name(enum jtd_rctl_per per);	/* "jail", ... */

/*
 * Set r->action and r->action_name (the static spelling) from an rctl(8)
 * action name, any letter case; -1 if it names no action.
 */
int jtd_rctl_action_lookup(const char *name, struct jtd_rctl_rule *r);

/* Every task parameter.  See docs/configuration.md for each one. */
struct jtd_taskcfg {
	/* What runs (command/args, or Exec_start). */
	char *command;
	struct jtd_strv args;

	/* Root and identity. */
	char *path;
	struct jtd_oint jid;
	char *osrelease;
	struct jtd_oint osreldate;

	/* Networking. */
	enum jtd_jailsys ip4;
	struct jtd_iplist ip4_addr;
	struct jtd_obool ip4_saddrsel;
	enum jtd_jailsys ip6;
	struct jtd_iplist ip6_addr;
	struct jtd_obool ip6_saddrsel;
	enum jtd_jailsys vnet;		/* new or inherit only */
	struct jtd_strv vnet_nic;
	char *nic;
	struct jtd_obool ip_hostname;

	/* Host identity. */
	enum jtd_jailsys host;		/* new or inherit only */
	char *host_hostname;
	char *host_domainname;
	char *host_hostuuid;
	struct jtd_oint host_hostid;

	/* Security. */
	struct jtd_oint securelevel;
	struct jtd_oint devfs_ruleset;
	struct jtd_oint children_max;
	struct jtd_oint enforce_statfs;
	struct jtd_obool persist;

	/* allow.* */
	struct jtd_obool allow_set_hostname;
	struct jtd_obool allow_sysvipc;
	struct jtd_obool allow_raw_sockets;
	struct jtd_obool allow_chflags;
	struct jtd_obool allow_mount;
	struct jtd_obool allow_mount_devfs;
	struct jtd_obool allow_mount_fdescfs;
	struct jtd_obool allow_mount_fusefs;
	struct jtd_obool allow_mount_linprocfs;
	struct jtd_obool allow_mount_linsysfs;
	struct jtd_obool allow_mount_nullfs;
	struct jtd_obool allow_mount_procfs;
	struct jtd_obool allow_mount_tmpfs;
	struct jtd_obool allow_mount_zfs;
	struct jtd_obool allow_quotas;
	struct jtd_obool allow_read_msgbuf;
	struct jtd_obool allow_socket_af;
	struct jtd_obool allow_reserved_ports;
	struct jtd_obool allow_mlock;
	struct jtd_obool allow_vmm;
	struct jtd_obool allow_suser;
	struct jtd_obool allow_unprivileged_proc_debug;
	struct jtd_obool allow_nfsd;
	struct jtd_obool allow_extattr;
	struct jtd_obool allow_adjtime;
	struct jtd_obool allow_settime;

	/* Modules. */
	enum jtd_jailsys linux_mode;	/* "Linux": new or inherit only */
	char *linux_osname;
	char *linux_osrelease;
	struct jtd_oint linux_oss_version;
	enum jtd_jailsys sysvmsg;
	enum jtd_jailsys sysvsem;
	enum jtd_jailsys sysvshm;

	/* exec.* : each a list of sh(1) command lines. */
	struct jtd_strv exec_prepare;	/* host */
	struct jtd_strv exec_prestart;	/* host */
	struct jtd_strv exec_created;	/* host */
	struct jtd_strv exec_start;	/* jail */
	struct jtd_strv exec_poststart;	/* host */
	struct jtd_strv exec_prestop;	/* host */
	struct jtd_strv exec_stop;	/* jail */
	struct jtd_strv exec_poststop;	/* host */
	struct jtd_strv exec_release;	/* host */
	struct jtd_obool exec_clean;
	char *exec_jail_user;
	struct jtd_obool exec_system_jail_user;
	char *exec_system_user;
	struct jtd_oint exec_timeout;
	char *exec_consolelog;
	struct jtd_oint exec_fib;
	struct jtd_oint stop_timeout;

	/* Mounts and dependencies. */
	struct jtd_strv mount;		/* fstab(5) lines */
	struct jtd_strv mount_fstab;	/* fstab files */
	struct jtd_obool mount_devfs;
	struct jtd_obool mount_fdescfs;
	struct jtd_obool mount_procfs;
	struct jtd_strv depend;

	/* Rctl: rctl_set when the job had an Rctl block at all. */
	bool rctl_set;
	struct jtd_rctl_rule rctl[JTD_RCTL__COUNT];
};

/*
 * Decode and validate.  Returns the config, or NULL with *err set:
 * JTD_INVALID listing every problem (input that cannot be parsed at all
 * is one problem), or JTD_EXHAUSTED when out of memory.
 */
struct jtd_taskcfg *jtd_taskcfg_decode_value(const struct jtd_value *root,
    struct jtd_err **err);
struct jtd_taskcfg *jtd_taskcfg_decode_msgpack(const uint8_t *buf,
    size_t len, struct jtd_err **err);
struct jtd_taskcfg *jtd_taskcfg_decode_json(const char *text, size_t len,
    struct jtd_err **err);

/* NULL is fine. */
void jtd_taskcfg_free(struct jtd_taskcfg *tc);

/*
 * Print each problem of a failed decode (task or plugin config) on its
 * own line: "<prefix>: <problem>" (just "<problem>" if prefix is NULL).
 * Returns the number of problems printed.
 */
size_t jtd_taskcfg_print_problems(FILE *f, const char *prefix,
    const struct jtd_err *err);

/*
 * The next problem in a joined message: returns its start and sets *len,
 * and advances *cursor; NULL at the end.  Start with *cursor = err->msg.
 */
const char *jtd_problem_next(const char **cursor, size_t *len);

/*
 * Parameter descriptors: one per accepted name, in schema order.  Later
 * layers map parameters generically through them (jail_name, offset).
 */
enum jtd_ptype {
	JTD_PT_STRING,		/* char * */
	JTD_PT_PATH,		/* char *, absolute, no ".." */
	JTD_PT_BOOL,		/* struct jtd_obool */
	JTD_PT_INT,		/* struct jtd_oint, within [min, max] */
	JTD_PT_JAILSYS,		/* enum jtd_jailsys */
	JTD_PT_VNET,		/* enum jtd_jailsys, also true/false */
	JTD_PT_STRLIST,		/* struct jtd_strv: a string or list */
	JTD_PT_PATHLIST,	/* struct jtd_strv of absolute paths */
	JTD_PT_ARGV,		/* struct jtd_strv: list(string) */
	JTD_PT_IP4LIST,		/* struct jtd_iplist */
	JTD_PT_IP6LIST,		/* struct jtd_iplist */
	JTD_PT_RCTL,		/* rctl_set + rctl[] */
	JTD_PT_READONLY,	/* accepted by the schema, always rejected */
};

enum jtd_pkind {
	JTD_PK_DRIVER,		/* the driver's own: command, args, Rctl */
	JTD_PK_KERNEL,		/* a jail_set(2) parameter */
	JTD_PK_JAIL8,		/* a jail(8) pseudo-parameter */
};

#define JTD_PF_HOST_HOOK	0x01	/* runs host commands as root */
#define JTD_PF_HOST_MOUNT	0x02	/* mounts host file systems */
#define JTD_PF_CREATE_ONLY	0x04	/* cannot change after creation */
#define JTD_PF_NO_DISABLE	0x08	/* jailsys without "disable" */
#define JTD_PF_SPLIT_COMMA	0x10	/* a string is a comma list */
#define JTD_PF_HOST_PATH	0x20	/* a host path the plugin writes */
#define JTD_PF_FSTAB		0x40	/* entries are fstab(5) lines */

struct jtd_param {
	const char *name;	/* exact spelling in jobs */
	enum jtd_ptype type;
	enum jtd_pkind kind;
	unsigned flags;
	const char *jail_name;	/* jail(8) name, or NULL */
	const char *schema_type;/* hclspec Attr type, NULL for Rctl */
	size_t offset;		/* of the field in struct jtd_taskcfg */
	int64_t min, max;	/* JTD_PT_INT range; strings: max length */
};

extern const struct jtd_param jtd_params[];
extern const size_t jtd_nparams;

/*
 * Old misspellings still accepted (the original driver's): the schema
 * declares them too and they fill the canonical parameter.
 */
struct jtd_param_alias {
	const char *name;	/* e.g. "Allow_read_msgbug" */
	const char *canonical;	/* e.g. "Allow_read_msgbuf" */
};

extern const struct jtd_param_alias jtd_param_aliases[];
extern const size_t jtd_nparam_aliases;

/* Descriptor by exact name (aliases resolve to their target), or NULL. */
const struct jtd_param *jtd_param_find(const char *name);

/* Whether the job set the parameter. */
bool jtd_taskcfg_is_set(const struct jtd_taskcfg *tc,
    const struct jtd_param *p);

#endif
