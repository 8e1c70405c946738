/*
 * Host probe for the FreeBSD backend: root, jail support (and whether we
 * run inside a jail that may create children), RACCT/RCTL, VIMAGE and
 * the OS release, all through sysctl(3): no jls, no rctl(8).
 */
#include "backend/probe.h"

#include <sys/types.h>
#include <sys/sysctl.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
sysctl_int(const char *name, int *out)
{
	size_t len = sizeof(*out);

	return sysctlbyname(name, out, &len, NULL, 0);
}

void
jtd_backend_probe(struct jtd_probe *p)
{
	char release[64];
	size_t len = sizeof(release);
	int v;

	memset(p, 0, sizeof(*p));
	p->health = JTD_HEALTH_HEALTHY;
	jtd_probe_str(p, "os", "freebsd");
	jtd_probe_str(p, "backend", "freebsd-jail");
	if (sysctlbyname("kern.osrelease", release, &len, NULL, 0) == 0)
		jtd_probe_str(p, "os_release", release);
	jtd_probe_bool(p, "root", geteuid() == 0);
	if (geteuid() != 0)
		jtd_probe_fail(p, JTD_HEALTH_UNHEALTHY,
		    "plugin is not running as root: jail_set(2) needs root");

	if (sysctl_int("security.jail.jailed", &v) != 0) {
		jtd_probe_fail(p, JTD_HEALTH_UNDETECTED,
		    "kernel has no jail support (security.jail missing)");
	} else if (v != 0) {
		int max = 0;

		jtd_probe_bool(p, "jailed", true);
		if (sysctl_int("security.jail.param.children.max", &max) != 0
		    || max == 0)
			jtd_probe_fail(p, JTD_HEALTH_UNHEALTHY,
			    "running inside a jail that may not create "
			    "child jails (children.max is 0)");
	}

	if (sysctl_int("kern.racct.enable", &v) == 0) {
		jtd_probe_bool(p, "racct", v != 0);
	} else {
		jtd_probe_bool(p, "racct", false);
	}
	if (sysctl_int("kern.features.vimage", &v) == 0)
		jtd_probe_bool(p, "vimage", v != 0);
	else
		jtd_probe_bool(p, "vimage", false);

	if (p->health == JTD_HEALTH_HEALTHY)
		snprintf(p->reason, sizeof(p->reason), "Healthy");
}
