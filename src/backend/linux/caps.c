/*
 * Allow_* as Linux capabilities.  A jail's root keeps a fixed base set
 * (about Docker's default, without CAP_MKNOD and CAP_NET_RAW: no device
 * cgroup guards device nodes here, and raw sockets are jail(8)'s
 * opt-in) plus one capability per Allow_* flag that has an equivalent.
 * The set is enforced through the bounding set, so neither root nor a
 * set-uid program in the jail can get more.  No libcap: prctl and
 * capset directly.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIT(c) (UINT64_C(1) << (c))

static const uint64_t base_caps = BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) |
    BIT(CAP_FOWNER) | BIT(CAP_FSETID) | BIT(CAP_KILL) | BIT(CAP_SETGID) |
    BIT(CAP_SETUID) | BIT(CAP_SETPCAP) | BIT(CAP_SYS_CHROOT) |
    BIT(CAP_SETFCAP) | BIT(CAP_AUDIT_WRITE);

/* Allow_* flags with a capability; unset means jail(8)'s default. */
static const struct {
	enum jtd_allow allow;
	int cap;
	bool dflt;
} allow_caps[] = {
	{ JTD_ALLOW_RESERVED_PORTS, CAP_NET_BIND_SERVICE, true },
	{ JTD_ALLOW_RAW_SOCKETS, CAP_NET_RAW, false },
	{ JTD_ALLOW_CHFLAGS, CAP_LINUX_IMMUTABLE, false },
	{ JTD_ALLOW_MLOCK, CAP_IPC_LOCK, false },
	{ JTD_ALLOW_READ_MSGBUF, CAP_SYSLOG, false },
	{ JTD_ALLOW_ADJTIME, CAP_SYS_TIME, false },
	{ JTD_ALLOW_SETTIME, CAP_SYS_TIME, false },
};

uint64_t
lx_caps_for(const struct jtd_jail *j)
{
	uint64_t caps = base_caps;
	size_t i;

	if (jtd_jail_allow(j, JTD_ALLOW_SUSER) == 0)
		return 0;
	for (i = 0; i < sizeof(allow_caps) / sizeof(allow_caps[0]); i++) {
		int v = jtd_jail_allow(j, allow_caps[i].allow);

		if (v == 1 || (v < 0 && allow_caps[i].dflt))
			caps |= BIT(allow_caps[i].cap);
	}
	/* A Vnet jail configures the interfaces it was given. */
	if (j->net == JTD_NET_VNET)
		caps |= BIT(CAP_NET_ADMIN);
	return caps;
}

int
lx_caps_bound(uint64_t keep, struct lx_fail *f)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int c;

	for (c = 0; c < 64; c++) {
		int r = prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0);

		if (r < 0)
			break;		/* past the kernel's last capability */
		if (r == 0 || (keep & BIT(c)))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) != 0)
			return lx_fail(f, errno, "drop capability %d", c);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL)
		return lx_fail(f, errno, "clear ambient capabilities");
	if (syscall(SYS_capget, &hdr, data) != 0)
		return lx_fail(f, errno, "capget");
	data[0].inheritable = 0;
	data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) != 0)
		return lx_fail(f, errno, "capset");
	return 0;
}
