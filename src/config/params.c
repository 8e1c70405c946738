/*
 * The table of task parameters: names as jobs spell them, value types,
 * jail(8) equivalents and where each lands in struct jtd_taskcfg.  The
 * schema, the decoder, the policy check and the backends all read it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/taskcfg.h"

#define OFF(f)	offsetof(struct jtd_taskcfg, f)

#define STR(n, k, fl, j, f, max) \
	{ n, JTD_PT_STRING, k, fl, j, "string", OFF(f), 0, max }
#define PATH(n, k, fl, j, f) \
	{ n, JTD_PT_PATH, k, fl, j, "string", OFF(f), 0, 1023 }
#define BOOL(n, k, fl, j, f) \
	{ n, JTD_PT_BOOL, k, fl, j, "bool", OFF(f), 0, 0 }
#define INT(n, k, fl, j, f, lo, hi) \
	{ n, JTD_PT_INT, k, fl, j, "number", OFF(f), lo, hi }
#define SYS(n, fl, j, f) \
	{ n, JTD_PT_JAILSYS, JTD_PK_KERNEL, fl, j, "string", OFF(f), 0, 0 }
#define LIST(n, fl, j, f, max) \
	{ n, JTD_PT_STRLIST, JTD_PK_JAIL8, fl, j, "any", OFF(f), 0, max }
#define ALLOW(n, j, f)	BOOL(n, JTD_PK_KERNEL, 0, j, f)

#define HOOK		JTD_PF_HOST_HOOK
#define CREATE		JTD_PF_CREATE_ONLY
#define NODIS		JTD_PF_NO_DISABLE
#define I32MAX		INT32_MAX

const struct jtd_param jtd_params[] = {
	/* What runs. */
	STR("command", JTD_PK_DRIVER, 0, NULL, command, 1023),
	{ "args", JTD_PT_ARGV, JTD_PK_DRIVER, 0, NULL, "list(string)",
	    OFF(args), 0, 0 },

	/* Root and identity. */
	PATH("Path", JTD_PK_KERNEL, CREATE, "path", path),
	INT("Jid", JTD_PK_KERNEL, CREATE, "jid", jid, 1, 999999),
	STR("Osrelease", JTD_PK_KERNEL, CREATE, "osrelease", osrelease, 31),
	INT("Osreldate", JTD_PK_KERNEL, CREATE, "osreldate", osreldate, 1,
	    I32MAX),

	/* Networking. */
	SYS("Ip4", CREATE, "ip4", ip4),
	{ "Ip4_addr", JTD_PT_IP4LIST, JTD_PK_KERNEL, JTD_PF_SPLIT_COMMA,
	    "ip4.addr", "any", OFF(ip4_addr), 0, 0 },
	BOOL("Ip4_saddrsel", JTD_PK_KERNEL, 0, "ip4.saddrsel", ip4_saddrsel),
	SYS("Ip6", CREATE, "ip6", ip6),
	{ "Ip6_addr", JTD_PT_IP6LIST, JTD_PK_KERNEL, JTD_PF_SPLIT_COMMA,
	    "ip6.addr", "any", OFF(ip6_addr), 0, 0 },
	BOOL("Ip6_saddrsel", JTD_PK_KERNEL, 0, "ip6.saddrsel", ip6_saddrsel),
	{ "Vnet", JTD_PT_VNET, JTD_PK_KERNEL, CREATE | NODIS, "vnet",
	    "string", OFF(vnet), 0, 0 },
	LIST("Vnet_nic", JTD_PF_SPLIT_COMMA, "vnet.interface", vnet_nic, 15),
	STR("Nic", JTD_PK_JAIL8, 0, "interface", nic, 15),
	BOOL("Ip_hostname", JTD_PK_JAIL8, 0, "ip_hostname", ip_hostname),

	/* Host identity. */
	SYS("Host", NODIS, "host", host),
	STR("Host_hostname", JTD_PK_KERNEL, 0, "host.hostname",
	    host_hostname, 255),
	STR("Host_domainname", JTD_PK_KERNEL, 0, "host.domainname",
	    host_domainname, 255),
	STR("Host_hostuuid", JTD_PK_KERNEL, 0, "host.hostuuid",
	    host_hostuuid, 63),
	INT("Host_hostid", JTD_PK_KERNEL, 0, "host.hostid", host_hostid, 0,
	    UINT32_MAX),

	/* Security. */
	INT("Securelevel", JTD_PK_KERNEL, 0, "securelevel", securelevel, -1,
	    3),
	INT("Devfs_ruleset", JTD_PK_KERNEL, 0, "devfs_ruleset",
	    devfs_ruleset, 0, 65535),
	INT("Children_max", JTD_PK_KERNEL, 0, "children.max", children_max,
	    0, I32MAX),
	{ "Children_cur", JTD_PT_READONLY, JTD_PK_KERNEL, 0, "children.cur",
	    "any", 0, 0, 0 },
	INT("Enforce_statfs", JTD_PK_KERNEL, 0, "enforce_statfs",
	    enforce_statfs, 0, 2),
	BOOL("Persist", JTD_PK_KERNEL, 0, "persist", persist),

	/* allow.* */
	ALLOW("Allow_set_hostname", "allow.set_hostname", allow_set_hostname),
	ALLOW("Allow_sysvipc", "allow.sysvipc", allow_sysvipc),
	ALLOW("Allow_raw_sockets", "allow.raw_sockets", allow_raw_sockets),
	ALLOW("Allow_chflags", "allow.chflags", allow_chflags),
	ALLOW("Allow_mount", "allow.mount", allow_mount),
	ALLOW("Allow_mount_devfs", "allow.mount.devfs", allow_mount_devfs),
	ALLOW("Allow_mount_fdescfs", "allow.mount.fdescfs",
	    allow_mount_fdescfs),
	ALLOW("Allow_mount_fusefs", "allow.mount.fusefs", allow_mount_fusefs),
	ALLOW("Allow_mount_linprocfs", "allow.mount.linprocfs",
	    allow_mount_linprocfs),
	ALLOW("Allow_mount_linsysfs", "allow.mount.linsysfs",
	    allow_mount_linsysfs),
	ALLOW("Allow_mount_nullfs", "allow.mount.nullfs", allow_mount_nullfs),
	ALLOW("Allow_mount_procfs", "allow.mount.procfs", allow_mount_procfs),
	ALLOW("Allow_mount_tmpfs", "allow.mount.tmpfs", allow_mount_tmpfs),
	ALLOW("Allow_mount_zfs", "allow.mount.zfs", allow_mount_zfs),
	ALLOW("Allow_quotas", "allow.quotas", allow_quotas),
	ALLOW("Allow_read_msgbuf", "allow.read_msgbuf", allow_read_msgbuf),
	ALLOW("Allow_socket_af", "allow.socket_af", allow_socket_af),
	ALLOW("Allow_reserved_ports", "allow.reserved_ports",
	    allow_reserved_ports),
	ALLOW("Allow_mlock", "allow.mlock", allow_mlock),
	ALLOW("Allow_vmm", "allow.vmm", allow_vmm),
	ALLOW("Allow_suser", "allow.suser", allow_suser),
	ALLOW("Allow_unprivileged_proc_debug",
	    "allow.unprivileged_proc_debug", allow_unprivileged_proc_debug),
	ALLOW("Allow_nfsd", "allow.nfsd", allow_nfsd),
	ALLOW("Allow_extattr", "allow.extattr", allow_extattr),
	ALLOW("Allow_adjtime", "allow.adjtime", allow_adjtime),
	ALLOW("Allow_settime", "allow.settime", allow_settime),

	/* Modules. */
	SYS("Linux", NODIS, "linux", linux_mode),
	STR("Linux_osname", JTD_PK_KERNEL, 0, "linux.osname", linux_osname,
	    64),
	STR("Linux_osrelease", JTD_PK_KERNEL, 0, "linux.osrelease",
	    linux_osrelease, 64),
	INT("Linux_oss_version", JTD_PK_KERNEL, 0, "linux.oss_version",
	    linux_oss_version, 0, I32MAX),
	SYS("Sysvmsg", 0, "sysvmsg", sysvmsg),
	SYS("Sysvsem", 0, "sysvsem", sysvsem),
	SYS("Sysvshm", 0, "sysvshm", sysvshm),

	/* exec.* */
	LIST("Exec_prepare", HOOK, "exec.prepare", exec_prepare, 0),
	LIST("Exec_prestart", HOOK, "exec.prestart", exec_prestart, 0),
	LIST("Exec_created", HOOK, "exec.created", exec_created, 0),
	LIST("Exec_start", 0, "exec.start", exec_start, 0),
	LIST("Exec_poststart", HOOK, "exec.poststart", exec_poststart, 0),
	LIST("Exec_prestop", HOOK, "exec.prestop", exec_prestop, 0),
	LIST("Exec_stop", 0, "exec.stop", exec_stop, 0),
	LIST("Exec_poststop", HOOK, "exec.poststop", exec_poststop, 0),
	LIST("Exec_release", HOOK, "exec.release", exec_release, 0),
	BOOL("Exec_clean", JTD_PK_JAIL8, 0, "exec.clean", exec_clean),
	STR("Exec_jail_user", JTD_PK_JAIL8, 0, "exec.jail_user",
	    exec_jail_user, 32),
	BOOL("Exec_system_jail_user", JTD_PK_JAIL8, 0,
	    "exec.system_jail_user", exec_system_jail_user),
	STR("Exec_system_user", JTD_PK_JAIL8, HOOK, "exec.system_user",
	    exec_system_user, 32),
	INT("Exec_timeout", JTD_PK_JAIL8, 0, "exec.timeout", exec_timeout, 0,
	    I32MAX),
	PATH("Exec_consolelog", JTD_PK_JAIL8, JTD_PF_HOST_PATH,
	    "exec.consolelog", exec_consolelog),
	INT("Exec_fib", JTD_PK_JAIL8, 0, "exec.fib", exec_fib, 0, 65535),
	INT("Stop_timeout", JTD_PK_JAIL8, 0, "stop.timeout", stop_timeout, 0,
	    I32MAX),

	/* Mounts and dependencies. */
	LIST("Mount", JTD_PF_HOST_MOUNT | JTD_PF_FSTAB, "mount", mount, 0),
	{ "Mount_fstab", JTD_PT_PATHLIST, JTD_PK_JAIL8, JTD_PF_HOST_MOUNT,
	    "mount.fstab", "any", OFF(mount_fstab), 0, 1023 },
	BOOL("Mount_devfs", JTD_PK_JAIL8, 0, "mount.devfs", mount_devfs),
	BOOL("Mount_fdescfs", JTD_PK_JAIL8, 0, "mount.fdescfs",
	    mount_fdescfs),
	BOOL("Mount_procfs", JTD_PK_JAIL8, 0, "mount.procfs", mount_procfs),
	LIST("Depend", JTD_PF_SPLIT_COMMA, "depend", depend, 255),

	/* Resource limits (rctl(8)). */
	{ "Rctl", JTD_PT_RCTL, JTD_PK_DRIVER, 0, NULL, NULL, OFF(rctl), 0,
	    0 },
};

const size_t jtd_nparams = sizeof(jtd_params) / sizeof(jtd_params[0]);

const struct jtd_param_alias jtd_param_aliases[] = {
	{ "Allow_read_msgbug", "Allow_read_msgbuf" },
	{ "Allow_mount_fdescds", "Allow_mount_fdescfs" },
	{ "Exec_postart", "Exec_poststart" },
};

const size_t jtd_nparam_aliases =
    sizeof(jtd_param_aliases) / sizeof(jtd_param_aliases[0]);

static const struct jtd_param *
find_exact(const char *name)
{
	size_t i;

	for (i = 0; i < jtd_nparams; i++) {
		if (strcmp(jtd_params[i].name, name) == 0)
			return &jtd_params[i];
	}
	return NULL;
}

const struct jtd_param *
jtd_param_find(const char *name)
{
	size_t i;

	for (i = 0; i < jtd_nparam_aliases; i++) {
		if (strcmp(jtd_param_aliases[i].name, name) == 0)
			return find_exact(jtd_param_aliases[i].canonical);
	}
	return find_exact(name);
}

bool
jtd_taskcfg_is_set(const struct jtd_taskcfg *tc, const struct jtd_param *p)
{
	const char *base = (const char *)tc + p->offset;

	switch (p->type) {
	case JTD_PT_STRING:
	case JTD_PT_PATH:
		return *(char *const *)(const void *)base != NULL;
	case JTD_PT_BOOL:
		return ((const struct jtd_obool *)(const void *)base)->set;
	case JTD_PT_INT:
		return ((const struct jtd_oint *)(const void *)base)->set;
	case JTD_PT_JAILSYS:
	case JTD_PT_VNET:
		return *(const enum jtd_jailsys *)(const void *)base !=
		    JTD_JAILSYS_UNSET;
	case JTD_PT_STRLIST:
	case JTD_PT_PATHLIST:
	case JTD_PT_ARGV:
		return ((const struct jtd_strv *)(const void *)base)->n > 0;
	case JTD_PT_IP4LIST:
	case JTD_PT_IP6LIST:
		return ((const struct jtd_iplist *)(const void *)base)->n > 0;
	case JTD_PT_RCTL:
		return tc->rctl_set;
	case JTD_PT_READONLY:
		return false;
	}
	return false;
}
