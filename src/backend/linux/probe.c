/*
 * Host probe for the Linux backend: root, the namespaces a jail is built
 * from, and the cgroup layout (v2 unified, v1 controllers, or both).
 */
#define _GNU_SOURCE
#include "backend/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/io.h"

/* Namespaces the backend needs, and their /proc/sys/user limit names. */
static const struct {
	const char *name;
	const char *limit;
} needed_ns[] = {
	{ "mnt", "max_mnt_namespaces" },
	{ "pid", "max_pid_namespaces" },
	{ "uts", "max_uts_namespaces" },
	{ "ipc", "max_ipc_namespaces" },
	{ "net", "max_net_namespaces" },
};

static int
read_small_file(const char *path, char *buf, size_t size)
{
	int fd;
	ssize_t n;

	JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC));
	if (fd < 0)
		return -1;
	n = jtd_read(fd, buf, size - 1);
	jtd_close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static void
probe_namespaces(struct jtd_probe *p)
{
	char path[128], val[32], list[128] = "";
	char missing[128] = "";
	size_t i;

	for (i = 0; i < sizeof(needed_ns) / sizeof(needed_ns[0]); i++) {
		struct stat st;
		int ok;

		snprintf(path, sizeof(path), "/proc/self/ns/%s",
		    needed_ns[i].name);
		ok = stat(path, &st) == 0;
		snprintf(path, sizeof(path), "/proc/sys/user/%s",
		    needed_ns[i].limit);
		if (ok && read_small_file(path, val, sizeof(val)) == 0 &&
		    strcmp(val, "0") == 0)
			ok = 0;
		if (ok) {
			if (list[0] != '\0')
				strcat(list, ",");
			strcat(list, needed_ns[i].name);
		} else {
			if (missing[0] != '\0')
				strcat(missing, ",");
			strcat(missing, needed_ns[i].name);
		}
	}
	jtd_probe_str(p, "namespaces", list);
	if (missing[0] != '\0') {
		char reason[192];

		snprintf(reason, sizeof(reason),
		    "kernel lacks namespaces: %s", missing);
		jtd_probe_fail(p, JTD_HEALTH_UNDETECTED, reason);
	}
}

/* Append `word` to a comma list unless already there. */
static void
list_add(char *list, size_t size, const char *word)
{
	size_t wl = strlen(word), n = strlen(list);
	const char *s;

	for (s = list; (s = strstr(s, word)) != NULL; s += wl) {
		if ((s == list || s[-1] == ',') &&
		    (s[wl] == ',' || s[wl] == '\0'))
			return;
	}
	if (n + wl + 2 > size)
		return;
	if (n > 0)
		list[n++] = ',';
	memcpy(list + n, word, wl + 1);
}

/*
 * Walk /proc/self/mountinfo for cgroup2 and cgroup (v1) mounts.  A
 * mountinfo line ends in "- FSTYPE SOURCE SUPEROPTIONS"; v1 controller
 * names are among the super options.
 */
static void
probe_cgroups(struct jtd_probe *p)
{
	static const char *const v1_known[] = {
		"cpu", "cpuacct", "cpuset", "memory", "pids", "blkio",
		"devices", "freezer",
	};
	char buf[65536], v1[256] = "", v2[256] = "";
	bool have_v1 = false, have_v2 = false;
	char *line, *save = NULL;

	if (read_small_file("/proc/self/mountinfo", buf, sizeof(buf)) != 0) {
		jtd_probe_fail(p, JTD_HEALTH_UNHEALTHY,
		    "cannot read /proc/self/mountinfo");
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(line, " - "), *fstype, *opts;
		char *mnt, *tok, *s2 = NULL;
		size_t i;

		if (sep == NULL)
			continue;
		fstype = sep + 3;
		if (strncmp(fstype, "cgroup2 ", 8) == 0) {
			char path[512], ctl[256];

			/* field 5 is the mount point */
			mnt = line;
			for (i = 0; i < 4 && mnt != NULL; i++) {
				mnt = strchr(mnt, ' ');
				if (mnt != NULL)
					mnt++;
			}
			if (mnt == NULL || strchr(mnt, ' ') == NULL)
				continue;
			*strchr(mnt, ' ') = '\0';
			have_v2 = true;
			snprintf(path, sizeof(path), "%s/cgroup.controllers",
			    mnt);
			if (read_small_file(path, ctl, sizeof(ctl)) == 0) {
				for (tok = strtok_r(ctl, " ", &s2); tok != NULL;
				    tok = strtok_r(NULL, " ", &s2))
					list_add(v2, sizeof(v2), tok);
			}
		} else if (strncmp(fstype, "cgroup ", 7) == 0) {
			opts = strrchr(fstype, ' ');
			if (opts == NULL)
				continue;
			for (tok = strtok_r(opts + 1, ",", &s2); tok != NULL;
			    tok = strtok_r(NULL, ",", &s2)) {
				for (i = 0; i < sizeof(v1_known) /
				    sizeof(v1_known[0]); i++) {
					if (strcmp(tok, v1_known[i]) == 0) {
						list_add(v1, sizeof(v1), tok);
						have_v1 = true;
					}
				}
			}
		}
	}

	if (have_v2 && v2[0] != '\0' && !have_v1)
		jtd_probe_str(p, "cgroup.version", "v2");
	else if (have_v1 && have_v2)
		jtd_probe_str(p, "cgroup.version", "hybrid");
	else if (have_v1)
		jtd_probe_str(p, "cgroup.version", "v1");
	if (v2[0] != '\0')
		jtd_probe_str(p, "cgroup.v2_controllers", v2);
	if (v1[0] != '\0')
		jtd_probe_str(p, "cgroup.v1_controllers", v1);
	if (v2[0] == '\0' && v1[0] == '\0')
		jtd_probe_fail(p, JTD_HEALTH_UNHEALTHY,
		    "no cgroup controllers mounted: resource limits "
		    "cannot be enforced");
}

void
jtd_backend_probe(struct jtd_probe *p)
{
	struct utsname u;

	memset(p, 0, sizeof(*p));
	p->health = JTD_HEALTH_HEALTHY;
	jtd_probe_str(p, "os", "linux");
	jtd_probe_str(p, "backend", "linux-namespaces");
	if (uname(&u) == 0)
		jtd_probe_str(p, "os_release", u.release);
	jtd_probe_bool(p, "root", geteuid() == 0);
	if (geteuid() != 0)
		jtd_probe_fail(p, JTD_HEALTH_UNHEALTHY,
		    "plugin is not running as root: jails need root");
	probe_namespaces(p);
	probe_cgroups(p);
	if (p->health == JTD_HEALTH_HEALTHY)
		snprintf(p->reason, sizeof(p->reason), "Healthy");
}
