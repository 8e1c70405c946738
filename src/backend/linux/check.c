/*
 * Which task parameters the Linux backend honours, and why it refuses
 * the others.  docs/linux-backend.md is the same table in prose; keep
 * the two in step.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/value.h"

#define NOT "not supported by the Linux backend"

/* Problems joined by "; ", as the config decoder reports them. */
struct probs {
	char *buf;
	size_t len;
	bool oom;
};

static void add(struct probs *p, const char *fmt, ...) JTD_PRINTF(2, 3);

static void
add(struct probs *p, const char *fmt, ...)
{
	char msg[512], *nb;
	size_t ml;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ml = strlen(msg);
	nb = realloc(p->buf, p->len + ml + 3);
	if (nb == NULL) {
		p->oom = true;
		return;
	}
	p->buf = nb;
	if (p->len > 0) {
		memcpy(p->buf + p->len, "; ", 2);
		p->len += 2;
	}
	memcpy(p->buf + p->len, msg, ml + 1);
	p->len += ml;
}

static void
identity(const struct jtd_taskcfg *tc, struct probs *p)
{
	if (tc->jid.set)
		add(p, "Jid: " NOT ": Linux has no jail ids, a jail is known "
		    "by its name");
	if (tc->osrelease != NULL)
		add(p, "Osrelease: " NOT ": a Linux jail runs on the host's "
		    "kernel and shows its release");
	if (tc->osreldate.set)
		add(p, "Osreldate: " NOT ": a Linux jail runs on the host's "
		    "kernel and shows its release");
	if (tc->host == JTD_JAILSYS_INHERIT)
		add(p, "Host = \"inherit\": " NOT ": a Linux jail always has "
		    "a host name of its own (UTS namespace), leave Host unset");
	if (tc->host_hostname != NULL && strlen(tc->host_hostname) > 64)
		add(p, "Host_hostname: %zu bytes is " NOT ": Linux host names "
		    "have at most 64", strlen(tc->host_hostname));
	if (tc->host_domainname != NULL && strlen(tc->host_domainname) > 64)
		add(p, "Host_domainname: %zu bytes is " NOT ": Linux domain "
		    "names have at most 64", strlen(tc->host_domainname));
	if (tc->host_hostuuid != NULL)
		add(p, "Host_hostuuid: " NOT ": Linux has no host UUID per "
		    "jail");
	if (tc->host_hostid.set)
		add(p, "Host_hostid: " NOT ": Linux has no host id per jail");
	if (tc->securelevel.set)
		add(p, "Securelevel: " NOT ": Linux has no securelevel (a "
		    "jail's root is confined by its capabilities, see "
		    "Allow_suser)");
	if (tc->devfs_ruleset.set)
		add(p, "Devfs_ruleset: " NOT ": the /dev of a Linux jail "
		    "(Mount_devfs) is a fixed minimal set without rulesets");
	if (tc->children_max.set)
		add(p, "Children_max: " NOT ": Linux has no jail hierarchy "
		    "to limit");
	if (tc->enforce_statfs.set && tc->enforce_statfs.val != 1)
		add(p, "Enforce_statfs = %d: " NOT ": a Linux jail sees "
		    "exactly its own mounts, all below its root, which is "
		    "Enforce_statfs = 1", (int)tc->enforce_statfs.val);
	if (tc->depend.n > 0)
		add(p, "Depend: " NOT ": Nomad starts each jail, order tasks "
		    "with Nomad's lifecycle block instead");
}

static const char *
sysname(enum jtd_jailsys v)
{
	return jtd_jailsys_name(v);
}

static void
network(const struct jtd_taskcfg *tc, struct probs *p)
{
	enum jtd_jailsys ip4 = tc->ip4 != JTD_JAILSYS_UNSET ? tc->ip4 :
	    JTD_JAILSYS_INHERIT;

	if (tc->ip4_addr.n > 0)
		add(p, "Ip4_addr: " NOT ": Linux cannot restrict a jail to "
		    "some of the host's addresses, give it a network stack "
		    "with Vnet = true and Vnet_nic, or use a Nomad group "
		    "network (network { mode = \"bridge\" })");
	if (tc->ip6_addr.n > 0)
		add(p, "Ip6_addr: " NOT ": Linux cannot restrict a jail to "
		    "some of the host's addresses, give it a network stack "
		    "with Vnet = true and Vnet_nic, or use a Nomad group "
		    "network (network { mode = \"bridge\" })");
	if (tc->nic != NULL)
		add(p, "Nic: " NOT ": it names the interface for Ip4_addr and "
		    "Ip6_addr, which Linux cannot honour");
	if (tc->ip_hostname.set && tc->ip_hostname.val)
		add(p, "Ip_hostname: " NOT ": it adds addresses to the jail, "
		    "which Linux cannot honour");
	if (tc->ip6 != JTD_JAILSYS_UNSET && tc->vnet != JTD_JAILSYS_NEW &&
	    tc->ip6 != ip4)
		add(p, "Ip6 = \"%s\" with Ip4 = \"%s\": " NOT ": a Linux jail "
		    "has one network stack for both address families, set "
		    "Ip6 like Ip4", sysname(tc->ip6), sysname(ip4));
	if (tc->ip4_saddrsel.set && !tc->ip4_saddrsel.val)
		add(p, "Ip4_saddrsel = false: " NOT ": Linux always picks "
		    "source addresses by its routes");
	if (tc->ip6_saddrsel.set && !tc->ip6_saddrsel.val)
		add(p, "Ip6_saddrsel = false: " NOT ": Linux always picks "
		    "source addresses by its routes");
	if (tc->exec_fib.set)
		add(p, "Exec_fib: " NOT ": Linux has no FIBs, give the jail "
		    "its own routes with Vnet = true");
}

static void
modules(const struct jtd_taskcfg *tc, struct probs *p)
{
	static const char *const sysv[] = { "Sysvmsg", "Sysvsem", "Sysvshm" };
	const enum jtd_jailsys v[] = { tc->sysvmsg, tc->sysvsem, tc->sysvshm };
	size_t i;

	if (tc->linux_mode != JTD_JAILSYS_UNSET)
		add(p, "Linux: " NOT ": it is FreeBSD's Linux ABI, and Linux "
		    "programs run natively here");
	if (tc->linux_osname != NULL)
		add(p, "Linux_osname: " NOT ": it belongs to FreeBSD's Linux "
		    "ABI");
	if (tc->linux_osrelease != NULL)
		add(p, "Linux_osrelease: " NOT ": it belongs to FreeBSD's "
		    "Linux ABI");
	if (tc->linux_oss_version.set)
		add(p, "Linux_oss_version: " NOT ": it belongs to FreeBSD's "
		    "Linux ABI");
	for (i = 0; i < 3; i++) {
		if (v[i] == JTD_JAILSYS_UNSET || v[i] == JTD_JAILSYS_NEW)
			continue;
		add(p, "%s = \"%s\": " NOT ": every Linux jail has System V "
		    "IPC of its own (IPC namespace), which is \"new\"", sysv[i],
		    sysname(v[i]));
	}
}

/* Allow_* flags that cannot be granted, or cannot be refused. */
static void
permissions(const struct jtd_taskcfg *tc, struct probs *p)
{
	static const char *const sysadmin[] = {
		"Allow_mount", "Allow_mount_devfs", "Allow_mount_fdescfs",
		"Allow_mount_fusefs", "Allow_mount_linprocfs",
		"Allow_mount_linsysfs", "Allow_mount_nullfs",
		"Allow_mount_procfs", "Allow_mount_tmpfs", "Allow_mount_zfs",
	};
	const struct jtd_obool *mounts[] = {
		&tc->allow_mount, &tc->allow_mount_devfs,
		&tc->allow_mount_fdescfs, &tc->allow_mount_fusefs,
		&tc->allow_mount_linprocfs, &tc->allow_mount_linsysfs,
		&tc->allow_mount_nullfs, &tc->allow_mount_procfs,
		&tc->allow_mount_tmpfs, &tc->allow_mount_zfs,
	};
	size_t i;

	if (tc->allow_set_hostname.set && tc->allow_set_hostname.val)
		add(p, "Allow_set_hostname = true: " NOT ": setting the host "
		    "name needs CAP_SYS_ADMIN, which would also let the jail "
		    "undo its isolation, set the name with Host_hostname");
	for (i = 0; i < sizeof(sysadmin) / sizeof(sysadmin[0]); i++) {
		if (mounts[i]->set && mounts[i]->val)
			add(p, "%s = true: " NOT ": mounting needs "
			    "CAP_SYS_ADMIN, which would also let the jail undo "
			    "its isolation, list the file systems in Mount "
			    "instead", sysadmin[i]);
	}
	if (tc->allow_quotas.set && tc->allow_quotas.val)
		add(p, "Allow_quotas = true: " NOT ": quotactl needs "
		    "CAP_SYS_ADMIN");
	if (tc->allow_extattr.set && tc->allow_extattr.val)
		add(p, "Allow_extattr = true: " NOT ": trusted extended "
		    "attributes need CAP_SYS_ADMIN");
	if (tc->allow_nfsd.set && tc->allow_nfsd.val)
		add(p, "Allow_nfsd = true: " NOT ": the kernel NFS server "
		    "needs CAP_SYS_ADMIN");
	if (tc->allow_vmm.set && tc->allow_vmm.val)
		add(p, "Allow_vmm = true: " NOT ": there is no bhyve on Linux");
	if (tc->allow_socket_af.set && !tc->allow_socket_af.val)
		add(p, "Allow_socket_af = false: " NOT ": Linux cannot limit "
		    "socket families without seccomp (leave it unset)");
	if (tc->allow_unprivileged_proc_debug.set &&
	    !tc->allow_unprivileged_proc_debug.val)
		add(p, "Allow_unprivileged_proc_debug = false: " NOT ": Linux "
		    "cannot stop a user's processes from debugging each other "
		    "without seccomp (leave it unset)");
}

/* The fstab type of a Mount line (third field), quoted for messages. */
static void
mount_lines(const struct jtd_taskcfg *tc, struct probs *p)
{
	static const char *const ok[] = { "nullfs", "tmpfs", "procfs",
		"linprocfs" };
	size_t i, k;

	for (i = 0; i < tc->mount.n; i++) {
		char copy[1024], *f[3], *save = NULL, *tok, shown[128];
		size_t n = 0;
		bool good = false;

		snprintf(copy, sizeof(copy), "%s", tc->mount.v[i]);
		for (tok = strtok_r(copy, " \t", &save); tok != NULL && n < 3;
		    tok = strtok_r(NULL, " \t", &save))
			f[n++] = tok;
		if (n < 3 || f[0][0] == '#')
			continue;	/* the jail builder reports it */
		for (k = 0; k < sizeof(ok) / sizeof(ok[0]); k++)
			good = good || strcmp(f[2], ok[k]) == 0;
		if (good)
			continue;
		jtd_quote(f[2], strlen(f[2]), shown, sizeof(shown));
		add(p, "Mount: file system type %s is " NOT ": nullfs, tmpfs "
		    "and procfs are", shown);
	}
	if (tc->mount_fdescfs.set && tc->mount_fdescfs.val &&
	    (!tc->mount_devfs.set || !tc->mount_devfs.val ||
	    !tc->mount_procfs.set || !tc->mount_procfs.val))
		add(p, "Mount_fdescfs: on Linux /dev/fd is a link into "
		    "/proc/self/fd, set Mount_devfs = true and "
		    "Mount_procfs = true with it");
}

enum rshape {
	R_RLIMIT,	/* per process (RLIMIT_*), deny */
	R_CPUTIME,	/* RLIMIT_CPU: sigkill or sigxcpu */
	R_CGROUP,	/* jail-wide, deny */
	R_IPC,		/* IPC namespace sysctl, deny */
	R_PTS,		/* devpts max=, deny */
	R_WALL,		/* the shim's timer, a signal */
	R_IO,		/* blkio / io.max, throttle */
	R_NONE,		/* no equivalent */
};

static const enum rshape shapes[JTD_RCTL__COUNT] = {
	[JTD_RCTL_CPUTIME] = R_CPUTIME,
	[JTD_RCTL_DATASIZE] = R_RLIMIT,
	[JTD_RCTL_STACKSIZE] = R_RLIMIT,
	[JTD_RCTL_COREDUMPSIZE] = R_RLIMIT,
	[JTD_RCTL_MEMORYUSE] = R_CGROUP,
	[JTD_RCTL_MEMORYLOCKED] = R_RLIMIT,
	[JTD_RCTL_MAXPROC] = R_CGROUP,
	[JTD_RCTL_OPENFILES] = R_RLIMIT,
	[JTD_RCTL_VMEMORYUSE] = R_RLIMIT,
	[JTD_RCTL_PSEUDOTERMINALS] = R_PTS,
	[JTD_RCTL_SWAPUSE] = R_CGROUP,
	[JTD_RCTL_NTHR] = R_CGROUP,
	[JTD_RCTL_MSGQQUEUED] = R_NONE,
	[JTD_RCTL_MSGQSIZE] = R_NONE,
	[JTD_RCTL_NMSGQ] = R_IPC,
	[JTD_RCTL_NSEM] = R_IPC,
	[JTD_RCTL_NSEMOP] = R_IPC,
	[JTD_RCTL_NSHM] = R_IPC,
	[JTD_RCTL_SHMSIZE] = R_IPC,
	[JTD_RCTL_WALLCLOCK] = R_WALL,
	[JTD_RCTL_PCPU] = R_CGROUP,
	[JTD_RCTL_READBPS] = R_IO,
	[JTD_RCTL_WRITEBPS] = R_IO,
	[JTD_RCTL_READIOPS] = R_IO,
	[JTD_RCTL_WRITEIOPS] = R_IO,
};

static void
rctl_action(const struct jtd_rctl_rule *r, const char *name,
    enum rshape shape, struct probs *p)
{
	const char *an = r->action_name != NULL ? r->action_name : "?";

	switch (shape) {
	case R_CPUTIME:
		if (strcmp(an, "sigkill") != 0 && strcmp(an, "sigxcpu") != 0)
			add(p, "Rctl.%s: action %s is " NOT ": RLIMIT_CPU "
			    "sends sigxcpu or sigkill", name, an);
		return;
	case R_WALL:
		if (r->action != JTD_RCTL_SIGNAL || lx_signal_of(an) == 0)
			add(p, "Rctl.%s: action %s is " NOT ": use a signal "
			    "that Linux has, such as sigkill or sigterm", name,
			    an);
		return;
	case R_IO:
		if (r->action != JTD_RCTL_THROTTLE)
			add(p, "Rctl.%s: action %s is " NOT ": the I/O "
			    "controller throttles", name, an);
		return;
	default:
		break;
	}
	if (r->action == JTD_RCTL_LOG || r->action == JTD_RCTL_DEVCTL)
		add(p, "Rctl.%s: action %s is " NOT ": Linux reports no "
		    "events for a limit, use deny", name, an);
	else if (r->action != JTD_RCTL_DENY)
		add(p, "Rctl.%s: action %s is " NOT ": Linux refuses what "
		    "exceeds the limit, use deny", name, an);
}

static void
rctl(const struct jtd_taskcfg *tc, struct probs *p)
{
	size_t i;

	for (i = 0; i < JTD_RCTL__COUNT; i++) {
		const struct jtd_rctl_rule *r = &tc->rctl[i];
		const char *name = jtd_rctl_info[i].name;
		enum rshape shape = shapes[i];

		if (!r->set)
			continue;
		if (shape == R_NONE) {
			add(p, "Rctl.%s: " NOT ": Linux has no limit on %s "
			    "(Nmsgq limits the number of queues)", name,
			    jtd_rctl_info[i].unit);
			continue;
		}
		if (r->per == JTD_RCTL_PER_USER ||
		    r->per == JTD_RCTL_PER_LOGINCLASS)
			add(p, "Rctl.%s: Per = \"%s\" is " NOT ": its limits "
			    "apply to the jail or to each process", name,
			    jtd_rctl_per_name(r->per));
		else if (r->per == JTD_RCTL_PER_PROCESS && shape != R_RLIMIT &&
		    shape != R_CPUTIME && i != JTD_RCTL_NSEMOP)
			add(p, "Rctl.%s: Per = \"process\" is " NOT ": Linux "
			    "limits this for the jail as a whole", name);
		rctl_action(r, name, shape, p);
		if (shape == R_PTS && (!tc->mount_devfs.set ||
		    !tc->mount_devfs.val))
			add(p, "Rctl.%s: the Linux backend limits the jail's "
			    "own pseudo-terminals, set Mount_devfs = true",
			    name);
	}
}

int
jtd_backend_check(const struct jtd_taskcfg *tc, struct jtd_err **err)
{
	struct probs p = { 0 };
	int rc = 0;

	identity(tc, &p);
	network(tc, &p);
	modules(tc, &p);
	permissions(tc, &p);
	mount_lines(tc, &p);
	rctl(tc, &p);
	if (p.oom)
		rc = jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
	else if (p.len > 0)
		rc = jtd_err_set(err, JTD_INVALID, "%s", p.buf);
	free(p.buf);
	return rc;
}
