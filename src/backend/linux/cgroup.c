/*
 * cgroups for the Linux backend, on v2, v1 and hybrid hosts.  Each
 * mounted hierarchy that carries a controller we use gets a parent group
 * "jail-task-driver" and, per task, a group named after the jail.  On a
 * hybrid host every controller is used where it is mounted: v1 mounts
 * first, and the v2 tree for what it alone offers.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "core/io.h"

static const char *const v1_names[LX_CG__COUNT] = {
	[LX_CG_MEMORY] = "memory",
	[LX_CG_CPU] = "cpu",
	[LX_CG_CPUACCT] = "cpuacct",
	[LX_CG_CPUSET] = "cpuset",
	[LX_CG_PIDS] = "pids",
	[LX_CG_IO] = "blkio",
	[LX_CG_FREEZER] = "freezer",
};

static const char *const v2_names[LX_CG__COUNT] = {
	[LX_CG_MEMORY] = "memory",
	[LX_CG_CPU] = "cpu",
	[LX_CG_CPUSET] = "cpuset",
	[LX_CG_PIDS] = "pids",
	[LX_CG_IO] = "io",
};

/* Read a small file; returns its length or -1 with errno. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd;

	JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC));
	if (fd < 0)
		return -1;
	while ((size_t)total < size - 1) {
		n = jtd_read(fd, buf + total, size - 1 - (size_t)total);
		if (n < 0) {
			jtd_close(fd);
			return -1;
		}
		if (n == 0)
			break;
		total += n;
	}
	jtd_close(fd);
	buf[total] = '\0';
	return total;
}

/* Write a string to a cgroup file; returns 0 or -1 with errno. */
static int
write_str(const char *path, const char *s)
{
	int fd, r;

	JTD_RETRY(fd, open(path, O_WRONLY | O_CLOEXEC));
	if (fd < 0)
		return -1;
	r = jtd_write_all(fd, s, strlen(s));
	if (r != 0) {
		int saved = errno;

		jtd_close(fd);
		errno = saved;
		return -1;
	}
	jtd_close(fd);
	return 0;
}

static bool
valid_name(const char *name)
{
	const char *p;

	if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strlen(name) > 100)
		return false;
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.'))
			return false;
	}
	return true;
}

/* Field `idx` (0-based, space separated) of a mountinfo line, in place. */
static char *
field(char *line, int idx)
{
	char *p = line, *end;

	while (idx-- > 0 && p != NULL) {
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return NULL;
	end = strchr(p, ' ');
	if (end != NULL)
		*end = '\0';
	return p;
}

static unsigned
v1_ctls(char *superopts)
{
	char *tok, *save = NULL;
	unsigned ctls = 0;
	int c;

	for (tok = strtok_r(superopts, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		for (c = 0; c < LX_CG__COUNT; c++) {
			if (strcmp(tok, v1_names[c]) == 0)
				ctls |= 1u << c;
		}
	}
	return ctls;
}

static unsigned
v2_ctls(const char *mnt)
{
	char path[256], buf[512], *tok, *save = NULL;
	unsigned ctls = 0;
	int c;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	for (tok = strtok_r(buf, " \n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \n", &save)) {
		for (c = 0; c < LX_CG__COUNT; c++) {
			if (v2_names[c] != NULL &&
			    strcmp(tok, v2_names[c]) == 0)
				ctls |= 1u << c;
		}
	}
	/* Without the cpu controller, cpu.stat still reports usage. */
	return ctls | 1u << LX_CG_CPUACCT;
}

static void
add_hier(struct lx_cg *cg, const char *mnt, bool v2, unsigned ctls)
{
	size_t i;

	for (i = 0; i < cg->n; i++) {
		if (strcmp(cg->h[i].mnt, mnt) == 0)
			return;
		/* A controller lives in one place; the first wins. */
		ctls &= ~cg->h[i].ctls;
	}
	if (ctls == 0 || cg->n == LX_CG_HIER_MAX || strlen(mnt) >=
	    sizeof(cg->h[0].mnt))
		return;
	snprintf(cg->h[cg->n].mnt, sizeof(cg->h[0].mnt), "%s", mnt);
	cg->h[cg->n].v2 = v2;
	cg->h[cg->n].ctls = ctls;
	cg->n++;
}

int
lx_cg_open(struct lx_cg *cg, const char *name, struct jtd_err **err)
{
	char v2mnt[128] = "";
	FILE *f;
	char *line = NULL;
	size_t cap = 0, i;

	memset(cg, 0, sizeof(*cg));
	if (!valid_name(name))
		return jtd_err_set(err, JTD_INVALID,
		    "jail name \"%s\" is not usable as a cgroup name",
		    name != NULL ? name : "");
	f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return jtd_err_sys(err, errno, "open /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char *sep, *mnt, *fstype, *opts;

		line[strcspn(line, "\n")] = '\0';
		sep = strstr(line, " - ");
		if (sep == NULL)
			continue;
		*sep = '\0';
		fstype = field(sep + 3, 0);
		opts = field(sep + 3 + strlen(fstype) + 1, 1);
		mnt = field(line, 4);
		if (mnt == NULL || fstype == NULL)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && v2mnt[0] == '\0' &&
		    strlen(mnt) < sizeof(v2mnt))
			snprintf(v2mnt, sizeof(v2mnt), "%s", mnt);
		else if (strcmp(fstype, "cgroup") == 0 && opts != NULL)
			add_hier(cg, mnt, false, v1_ctls(opts));
	}
	free(line);
	fclose(f);

	if (v2mnt[0] != '\0') {
		unsigned ctls = v2_ctls(v2mnt);

		/* A v2 tree with nothing v1 lacks only helps a pure v2 host. */
		if (cg->n > 0)
			ctls &= ~(1u << LX_CG_CPUACCT);
		if (cg->n == 0)
			ctls |= 1u << LX_CG_CPUACCT;
		add_hier(cg, v2mnt, true, ctls);
	}
	if (cg->n == 0)
		return jtd_err_set(err, JTD_PRECONDITION,
		    "no cgroup controller is mounted: the Linux backend "
		    "needs cgroups to track and limit a jail");
	for (i = 0; i < cg->n; i++)
		snprintf(cg->dir[i], sizeof(cg->dir[i]), "%s/%s/%s",
		    cg->h[i].mnt, LX_CG_PARENT, name);
	return 0;
}

static int
hier_of(const struct lx_cg *cg, enum lx_ctl c)
{
	size_t i;

	for (i = 0; i < cg->n; i++) {
		if (cg->h[i].ctls & (1u << c))
			return (int)i;
	}
	return -1;
}

int
lx_cg_file(const struct lx_cg *cg, enum lx_ctl c, const char *file,
    char *buf, size_t size)
{
	int h = hier_of(cg, c);

	if (h < 0)
		return -1;
	if ((size_t)snprintf(buf, size, "%s/%s", cg->dir[h], file) >= size)
		return -1;
	return 0;
}

/* Copy a v1 cpuset file from the hierarchy root into `dir` if empty. */
static int
cpuset_inherit(const char *mnt, const char *dir, const char *file)
{
	char path[400], val[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_small(path, val, sizeof(val)) > 1)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", mnt, file);
	if (read_small(path, val, sizeof(val)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_str(path, val);
}

/* v2: let our controllers reach the groups below `dir`. */
static void
enable_controllers(const char *dir, unsigned ctls)
{
	char path[300], word[32];
	int c;

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	for (c = 0; c < LX_CG__COUNT; c++) {
		if (!(ctls & (1u << c)) || v2_names[c] == NULL)
			continue;
		snprintf(word, sizeof(word), "+%s", v2_names[c]);
		(void)write_str(path, word);
	}
}

int
lx_cg_prepare(const struct lx_cg *cg, struct jtd_err **err)
{
	char parent[256];
	size_t i;

	for (i = 0; i < cg->n; i++) {
		const struct lx_hier *h = &cg->h[i];

		snprintf(parent, sizeof(parent), "%s/%s", h->mnt,
		    LX_CG_PARENT);
		if (h->v2)
			enable_controllers(h->mnt, h->ctls);
		if (mkdir(parent, 0755) != 0 && errno != EEXIST)
			return jtd_err_sys(err, errno, "create cgroup %s",
			    parent);
		if (h->v2)
			enable_controllers(parent, h->ctls);
		else if ((h->ctls & (1u << LX_CG_CPUSET)) &&
		    (cpuset_inherit(h->mnt, parent, "cpuset.cpus") != 0 ||
		    cpuset_inherit(h->mnt, parent, "cpuset.mems") != 0))
			/* v1 cpuset groups start with no CPUs at all. */
			return jtd_err_sys(err, errno,
			    "set up cpuset cgroup %s", parent);
	}
	return 0;
}

struct writer {
	const struct lx_cg *cg;
	struct jtd_err **err;
};

/* Write `val` to a controller's file; `what` names the limit. */
static int
put(struct writer *w, enum lx_ctl c, const char *file, const char *val,
    const char *what)
{
	char path[400];

	if (lx_cg_file(w->cg, c, file, path, sizeof(path)) != 0)
		return jtd_err_set(w->err, JTD_PRECONDITION,
		    "%s: the host has no %s cgroup controller", what,
		    v1_names[c]);
	if (write_str(path, val) != 0)
		return jtd_err_sys(w->err, errno, "%s: write %s to %s", what,
		    val, path);
	return 0;
}

static int
put_i64(struct writer *w, enum lx_ctl c, const char *file, int64_t v,
    const char *what)
{
	char val[32];

	snprintf(val, sizeof(val), "%" PRId64, v);
	return put(w, c, file, val, what);
}

static bool
is_v2(const struct lx_cg *cg, enum lx_ctl c)
{
	int h = hier_of(cg, c);

	return h >= 0 && cg->h[h].v2;
}

static int
memory_limits(struct writer *w, const struct lx_limits *l)
{
	bool v2 = is_v2(w->cg, LX_CG_MEMORY);

	if (l->mem_hard >= 0 && put_i64(w, LX_CG_MEMORY, v2 ? "memory.max" :
	    "memory.limit_in_bytes", l->mem_hard, "memory limit") != 0)
		return -1;
	if (l->mem_soft >= 0 && put_i64(w, LX_CG_MEMORY, v2 ? "memory.low" :
	    "memory.soft_limit_in_bytes", l->mem_soft,
	    "memory reservation") != 0)
		return -1;
	if (l->swap < 0)
		return 0;
	if (v2)
		return put_i64(w, LX_CG_MEMORY, "memory.swap.max", l->swap,
		    "Swapuse");
	/* v1 counts memory and swap together. */
	return put_i64(w, LX_CG_MEMORY, "memory.memsw.limit_in_bytes",
	    (l->mem_hard >= 0 ? l->mem_hard : 0) + l->swap, "Swapuse");
}

static int
cpu_limits(struct writer *w, const struct jtd_jail *j,
    const struct lx_limits *l)
{
	bool v2 = is_v2(w->cg, LX_CG_CPU);
	char val[64];

	if (l->cpu_shares > 0) {
		int64_t s = l->cpu_shares;

		if (v2) {
			/* The kernel's own shares-to-weight mapping. */
			s = s < 2 ? 2 : s > 262144 ? 262144 : s;
			s = 1 + ((s - 2) * 9999) / 262142;
			if (put_i64(w, LX_CG_CPU, "cpu.weight", s,
			    "Nomad cpu") != 0)
				return -1;
		} else if (put_i64(w, LX_CG_CPU, "cpu.shares",
		    s < 2 ? 2 : s > 262144 ? 262144 : s, "Nomad cpu") != 0)
			return -1;
	}
	if (l->cpu_quota_us > 0) {
		if (v2) {
			snprintf(val, sizeof(val), "%" PRId64 " %d",
			    l->cpu_quota_us, LX_CPU_PERIOD_US);
			if (put(w, LX_CG_CPU, "cpu.max", val, "Pcpu") != 0)
				return -1;
		} else if (put_i64(w, LX_CG_CPU, "cpu.cfs_period_us",
		    LX_CPU_PERIOD_US, "Pcpu") != 0 ||
		    put_i64(w, LX_CG_CPU, "cpu.cfs_quota_us", l->cpu_quota_us,
		    "Pcpu") != 0)
			return -1;
	}
	if (j->cpuset_cpus != NULL && put(w, LX_CG_CPUSET, "cpuset.cpus",
	    j->cpuset_cpus, "Nomad cores") != 0)
		return -1;
	return 0;
}

/*
 * The whole disk under the jail root, for I/O throttling: the kernel
 * throttles disks, not partitions.
 */
static int
root_disk(const char *root, char *devno, size_t size, struct jtd_err **err)
{
	char path[128], val[32];
	struct stat st;
	ssize_t n;

	if (stat(root, &st) != 0)
		return jtd_err_sys(err, errno, "stat %s", root);
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition",
	    major(st.st_dev), minor(st.st_dev));
	if (access(path, F_OK) == 0)
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../dev",
		    major(st.st_dev), minor(st.st_dev));
	else
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dev",
		    major(st.st_dev), minor(st.st_dev));
	n = read_small(path, val, sizeof(val));
	if (n <= 0)
		return jtd_err_set(err, JTD_PRECONDITION,
		    "I/O limits: the jail root %s is not on a block device "
		    "(its file system is device %u:%u)", root,
		    major(st.st_dev), minor(st.st_dev));
	val[strcspn(val, "\n")] = '\0';
	snprintf(devno, size, "%s", val);
	return 0;
}

static int
io_limits(struct writer *w, const struct jtd_jail *j,
    const struct lx_limits *l)
{
	static const char *const v1_files[4] = {
		"blkio.throttle.read_bps_device",
		"blkio.throttle.write_bps_device",
		"blkio.throttle.read_iops_device",
		"blkio.throttle.write_iops_device",
	};
	static const char *const v2_keys[4] = { "rbps", "wbps", "riops",
		"wiops" };
	static const char *const params[4] = { "Readbps", "Writebps",
		"Readiops", "Writeiops" };
	char dev[32], val[160];
	size_t o;
	int i;

	if (l->io[0] < 0 && l->io[1] < 0 && l->io[2] < 0 && l->io[3] < 0)
		return 0;
	if (root_disk(j->root, dev, sizeof(dev), w->err) != 0)
		return -1;
	if (is_v2(w->cg, LX_CG_IO)) {
		o = (size_t)snprintf(val, sizeof(val), "%s", dev);
		for (i = 0; i < 4; i++) {
			if (l->io[i] >= 0)
				o += (size_t)snprintf(val + o, sizeof(val) - o,
				    " %s=%" PRId64, v2_keys[i], l->io[i]);
		}
		return put(w, LX_CG_IO, "io.max", val, "I/O limits");
	}
	for (i = 0; i < 4; i++) {
		if (l->io[i] < 0)
			continue;
		snprintf(val, sizeof(val), "%s %" PRId64, dev, l->io[i]);
		if (put(w, LX_CG_IO, v1_files[i], val, params[i]) != 0)
			return -1;
	}
	return 0;
}

int
lx_cg_create(const struct lx_cg *cg, const struct jtd_jail *j,
    struct jtd_err **err)
{
	struct writer w = { cg, err };
	struct lx_limits l;
	size_t i;

	if (lx_cg_prepare(cg, err) != 0)
		return -1;
	for (i = 0; i < cg->n; i++) {
		if (mkdir(cg->dir[i], 0755) != 0) {
			jtd_err_sys(err, errno, "create cgroup %s", cg->dir[i]);
			goto fail;
		}
		if (!cg->h[i].v2 && (cg->h[i].ctls & (1u << LX_CG_CPUSET)) &&
		    (cpuset_inherit(cg->h[i].mnt, cg->dir[i],
		    "cpuset.cpus") != 0 || cpuset_inherit(cg->h[i].mnt,
		    cg->dir[i], "cpuset.mems") != 0)) {
			jtd_err_sys(err, errno, "set up cpuset cgroup %s",
			    cg->dir[i]);
			i++;
			goto fail;
		}
	}

	lx_limits_of(j, &l);
	if (memory_limits(&w, &l) != 0 ||
	    (l.pids >= 0 && put_i64(&w, LX_CG_PIDS, "pids.max", l.pids,
	    "Maxproc/Nthr") != 0) ||
	    cpu_limits(&w, j, &l) != 0 || io_limits(&w, j, &l) != 0) {
		i = cg->n;
		goto fail;
	}
	return 0;
fail:
	while (i-- > 0)
		(void)rmdir(cg->dir[i]);
	return -1;
}

int
lx_cg_attach(const struct lx_cg *cg, pid_t pid, struct jtd_err **err)
{
	char path[300], val[32];
	size_t i;

	snprintf(val, sizeof(val), "%ld", (long)pid);
	for (i = 0; i < cg->n; i++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir[i]);
		if (write_str(path, val) != 0)
			return jtd_err_sys(err, errno, "move pid %s into %s",
			    val, cg->dir[i]);
	}
	return 0;
}

int
lx_cg_procs(const struct lx_cg *cg, pid_t *pids, size_t max, size_t *n)
{
	char path[300], *buf, *p, *end;
	size_t cap = 65536;

	*n = 0;
	if (cg->n == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir[0]);
	buf = malloc(cap);
	if (buf == NULL)
		return -1;
	if (read_small(path, buf, cap) < 0) {
		int saved = errno;

		free(buf);
		if (saved == ENOENT)
			return 0;
		errno = saved;
		return -1;
	}
	for (p = buf; *p != '\0' && *n < max; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v > 0)
			pids[(*n)++] = (pid_t)v;
		while (*end == '\n')
			end++;
	}
	free(buf);
	return 0;
}

bool
lx_cg_exists(const struct lx_cg *cg)
{
	size_t i;

	for (i = 0; i < cg->n; i++) {
		if (access(cg->dir[i], F_OK) == 0)
			return true;
	}
	return false;
}

/* The number after `key` in a "key value" per line file, or 0. */
static uint64_t
keyed(const char *buf, const char *key)
{
	size_t kl = strlen(key);
	const char *p = buf;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return 0;
}

static bool
read_keyed(const struct lx_cg *cg, enum lx_ctl c, const char *file,
    char *buf, size_t size)
{
	char path[400];

	return lx_cg_file(cg, c, file, path, sizeof(path)) == 0 &&
	    read_small(path, buf, size) >= 0;
}

static bool
read_u64(const struct lx_cg *cg, enum lx_ctl c, const char *file,
    uint64_t *v)
{
	char buf[64];

	if (!read_keyed(cg, c, file, buf, sizeof(buf)))
		return false;
	*v = strtoull(buf, NULL, 10);
	return true;
}

uint64_t
lx_cg_oom_kills(const struct lx_cg *cg)
{
	char buf[1024];

	if (is_v2(cg, LX_CG_MEMORY))
		return read_keyed(cg, LX_CG_MEMORY, "memory.events", buf,
		    sizeof(buf)) ? keyed(buf, "oom_kill") : 0;
	return read_keyed(cg, LX_CG_MEMORY, "memory.oom_control", buf,
	    sizeof(buf)) ? keyed(buf, "oom_kill") : 0;
}

static void
memory_stats(const struct lx_cg *cg, struct jtd_stats *st)
{
	char buf[8192];
	bool v2 = is_v2(cg, LX_CG_MEMORY);

	if (read_keyed(cg, LX_CG_MEMORY, "memory.stat", buf, sizeof(buf))) {
		st->rss = keyed(buf, v2 ? "anon" : "total_rss");
		st->cache = keyed(buf, v2 ? "file" : "total_cache");
		st->measured |= JTD_STAT_RSS | JTD_STAT_CACHE;
		if (!v2 && strstr(buf, "total_swap ") != NULL) {
			st->swap = keyed(buf, "total_swap");
			st->measured |= JTD_STAT_SWAP;
		}
	}
	if (v2 && read_u64(cg, LX_CG_MEMORY, "memory.swap.current",
	    &st->swap))
		st->measured |= JTD_STAT_SWAP;
	if (read_u64(cg, LX_CG_MEMORY, v2 ? "memory.current" :
	    "memory.usage_in_bytes", &st->usage))
		st->measured |= JTD_STAT_USAGE;
	if (read_u64(cg, LX_CG_MEMORY, v2 ? "memory.peak" :
	    "memory.max_usage_in_bytes", &st->max_usage))
		st->measured |= JTD_STAT_MAX_USAGE;
}

static void
cpu_stats(const struct lx_cg *cg, struct jtd_stats *st)
{
	char buf[2048];

	if (is_v2(cg, LX_CG_CPUACCT)) {
		if (read_keyed(cg, LX_CG_CPUACCT, "cpu.stat", buf,
		    sizeof(buf))) {
			st->cpu_total_ns = keyed(buf, "usage_usec") * 1000;
			st->cpu_user_ns = keyed(buf, "user_usec") * 1000;
			st->cpu_system_ns = keyed(buf, "system_usec") * 1000;
			st->throttled_periods = keyed(buf, "nr_throttled");
			st->throttled_ns = keyed(buf, "throttled_usec") * 1000;
			st->measured |= JTD_STAT_CPU_TOTAL | JTD_STAT_CPU_USER |
			    JTD_STAT_CPU_SYSTEM | JTD_STAT_THROTTLE;
		}
		return;
	}
	if (read_u64(cg, LX_CG_CPUACCT, "cpuacct.usage", &st->cpu_total_ns))
		st->measured |= JTD_STAT_CPU_TOTAL;
	if (read_u64(cg, LX_CG_CPUACCT, "cpuacct.usage_user",
	    &st->cpu_user_ns))
		st->measured |= JTD_STAT_CPU_USER;
	if (read_u64(cg, LX_CG_CPUACCT, "cpuacct.usage_sys",
	    &st->cpu_system_ns))
		st->measured |= JTD_STAT_CPU_SYSTEM;
	if (read_keyed(cg, LX_CG_CPU, "cpu.stat", buf, sizeof(buf))) {
		st->throttled_periods = keyed(buf, "nr_throttled");
		st->throttled_ns = keyed(buf, "throttled_time");
		st->measured |= JTD_STAT_THROTTLE;
	}
}

int
lx_cg_stats(const struct lx_cg *cg, struct jtd_stats *st)
{
	memset(st, 0, sizeof(*st));
	memory_stats(cg, st);
	cpu_stats(cg, st);
	return 0;
}

#define PIDS_MAX 4096

static void
kill_listed(const struct lx_cg *cg)
{
	pid_t *pids = malloc(PIDS_MAX * sizeof(*pids));
	size_t n = 0, i;

	if (pids == NULL)
		return;
	if (lx_cg_procs(cg, pids, PIDS_MAX, &n) == 0) {
		for (i = 0; i < n; i++)
			(void)kill(pids[i], SIGKILL);
	}
	free(pids);
}

int
lx_cg_kill(const struct lx_cg *cg, struct jtd_err **err)
{
	char path[300];
	size_t i;
	int round;

	for (i = 0; i < cg->n; i++) {
		if (!cg->h[i].v2)
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.kill", cg->dir[i]);
		if (write_str(path, "1") == 0)
			return 0;
		if (errno == ENOENT && access(cg->dir[i], F_OK) != 0)
			return 0;
	}

	/*
	 * v1: freeze so nothing forks while we kill the list, then thaw
	 * so the kills take effect.  Without a freezer a few rounds catch
	 * what forked meanwhile.
	 */
	if (lx_cg_file(cg, LX_CG_FREEZER, "freezer.state", path,
	    sizeof(path)) == 0 && write_str(path, "FROZEN") == 0) {
		kill_listed(cg);
		if (write_str(path, "THAWED") != 0)
			return jtd_err_sys(err, errno, "thaw %s", path);
		kill_listed(cg);
		return 0;
	}
	for (round = 0; round < 4; round++)
		kill_listed(cg);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
lx_cg_wait_empty(const struct lx_cg *cg, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	pid_t pids[64];
	struct pollfd pfd[64];

	for (;;) {
		size_t n = 0, i, np = 0;
		int64_t left;
		bool nosys;
		int r;

		if (lx_cg_procs(cg, pids, 64, &n) != 0)
			return -1;
		if (n == 0)
			return 0;
		left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		/* Wait for the listed processes to exit, by pidfd. */
		nosys = false;
		for (i = 0; i < n; i++) {
			int fd = (int)syscall(SYS_pidfd_open, pids[i], 0);

			if (fd >= 0) {
				pfd[np].fd = fd;
				pfd[np].events = POLLIN;
				np++;
			} else if (errno == ENOSYS)
				nosys = true;
		}
		if (np == 0 && nosys) {
			/* No pidfds on this kernel: look again shortly. */
			JTD_RETRY(r, poll(NULL, 0, left < 10 ? (int)left : 10));
			continue;
		}
		if (np == 0)
			continue;	/* all gone since the read */
		JTD_RETRY(r, poll(pfd, np, (int)left));
		for (i = 0; i < np; i++)
			jtd_close(pfd[i].fd);
	}
}

int
lx_cg_remove(const struct lx_cg *cg, struct jtd_err **err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < cg->n; i++) {
		if (rmdir(cg->dir[i]) == 0 || errno == ENOENT)
			continue;
		if (errno == EBUSY) {
			/* Exiting processes leave the group a moment later. */
			(void)lx_cg_wait_empty(cg, 5000);
			if (rmdir(cg->dir[i]) == 0 || errno == ENOENT)
				continue;
		}
		rc = jtd_err_sys(err, errno, "remove cgroup %s", cg->dir[i]);
	}
	return rc;
}
