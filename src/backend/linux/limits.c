/*
 * From the jail's Rctl rules and Nomad's resources to what Linux
 * enforces: cgroup limits for jail-wide resources, rlimits for the
 * per-process ones, IPC namespace sysctls for System V IPC, and the
 * shim's timer for Wallclock.  docs/linux-backend.md has the table.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/io.h"

int
lx_fail(struct lx_fail *f, int err, const char *fmt, ...)
{
	va_list ap;

	f->err = err;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "sighup", SIGHUP }, { "sigint", SIGINT }, { "sigquit", SIGQUIT },
	{ "sigill", SIGILL }, { "sigtrap", SIGTRAP }, { "sigabrt", SIGABRT },
	{ "sigfpe", SIGFPE }, { "sigkill", SIGKILL }, { "sigbus", SIGBUS },
	{ "sigsegv", SIGSEGV }, { "sigsys", SIGSYS }, { "sigpipe", SIGPIPE },
	{ "sigalrm", SIGALRM }, { "sigterm", SIGTERM }, { "sigurg", SIGURG },
	{ "sigstop", SIGSTOP }, { "sigtstp", SIGTSTP }, { "sigchld", SIGCHLD },
	{ "sigttin", SIGTTIN }, { "sigttou", SIGTTOU }, { "sigio", SIGIO },
	{ "sigxcpu", SIGXCPU }, { "sigxfsz", SIGXFSZ },
	{ "sigvtalrm", SIGVTALRM }, { "sigprof", SIGPROF },
	{ "sigwinch", SIGWINCH }, { "sigusr1", SIGUSR1 },
	{ "sigusr2", SIGUSR2 },
};

int
lx_signal_of(const char *action_name)
{
	size_t i;

	if (action_name == NULL)
		return 0;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (strcmp(signals[i].name, action_name) == 0)
			return signals[i].sig;
	}
	return 0;
}

static int64_t
amount(const struct jtd_jail *j, enum jtd_rctl_res r)
{
	return j->rctl[r].set ? (int64_t)j->rctl[r].amount : -1;
}

static int64_t
min_set(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

void
lx_limits_of(const struct jtd_jail *j, struct lx_limits *l)
{
	int64_t nomad_hard = -1, mib = 1024 * 1024, procs;

	memset(l, 0, sizeof(*l));
	if (j->memory_max_mb > 0)
		nomad_hard = j->memory_max_mb * mib;
	else if (j->memory_mb > 0)
		nomad_hard = j->memory_mb * mib;
	l->mem_hard = min_set(amount(j, JTD_RCTL_MEMORYUSE), nomad_hard);
	l->mem_soft = -1;
	if (j->memory_max_mb > j->memory_mb && j->memory_mb > 0)
		l->mem_soft = j->memory_mb * mib;
	l->swap = amount(j, JTD_RCTL_SWAPUSE);

	/* pids.max counts threads; the jail's init is one more. */
	procs = min_set(amount(j, JTD_RCTL_MAXPROC), amount(j, JTD_RCTL_NTHR));
	l->pids = procs >= 0 ? procs + 1 : -1;

	l->cpu_shares = j->cpu_shares;
	l->cpu_quota_us = -1;
	if (j->rctl[JTD_RCTL_PCPU].set) {
		l->cpu_quota_us = (int64_t)j->rctl[JTD_RCTL_PCPU].amount *
		    LX_CPU_PERIOD_US / 100;
		if (l->cpu_quota_us < 1000)
			l->cpu_quota_us = 1000;	/* the kernel's minimum */
	}
	l->io[0] = amount(j, JTD_RCTL_READBPS);
	l->io[1] = amount(j, JTD_RCTL_WRITEBPS);
	l->io[2] = amount(j, JTD_RCTL_READIOPS);
	l->io[3] = amount(j, JTD_RCTL_WRITEIOPS);

	l->wallclock_s = amount(j, JTD_RCTL_WALLCLOCK);
	l->wallclock_sig = lx_signal_of(
	    j->rctl[JTD_RCTL_WALLCLOCK].action_name);
	if (l->wallclock_sig == 0)
		l->wallclock_sig = SIGKILL;

	l->msgmni = amount(j, JTD_RCTL_NMSGQ);
	l->semmns = amount(j, JTD_RCTL_NSEM);
	l->semopm = amount(j, JTD_RCTL_NSEMOP);
	l->shmmni = amount(j, JTD_RCTL_NSHM);
	l->shmall_bytes = amount(j, JTD_RCTL_SHMSIZE);
}

static const struct {
	enum jtd_rctl_res res;
	int resource;
	const char *name;
} rlimits[] = {
	{ JTD_RCTL_DATASIZE, RLIMIT_DATA, "Datasize" },
	{ JTD_RCTL_STACKSIZE, RLIMIT_STACK, "Stacksize" },
	{ JTD_RCTL_COREDUMPSIZE, RLIMIT_CORE, "Coredumpsize" },
	{ JTD_RCTL_MEMORYLOCKED, RLIMIT_MEMLOCK, "Memorylocked" },
	{ JTD_RCTL_OPENFILES, RLIMIT_NOFILE, "Openfiles" },
	{ JTD_RCTL_VMEMORYUSE, RLIMIT_AS, "Vmemoryuse" },
	{ JTD_RCTL_CPUTIME, RLIMIT_CPU, "Cputime" },
};

int
lx_rlimits_apply(const struct jtd_jail *j, struct lx_fail *f)
{
	size_t i;

	for (i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++) {
		const struct jtd_rctl_rule *r = &j->rctl[rlimits[i].res];
		struct rlimit rl;

		if (!r->set)
			continue;
		rl.rlim_cur = rl.rlim_max = (rlim_t)r->amount;
		/*
		 * RLIMIT_CPU sends SIGXCPU at the soft limit and SIGKILL at
		 * the hard one: "sigxcpu" is a soft limit alone.
		 */
		if (rlimits[i].res == JTD_RCTL_CPUTIME &&
		    r->action_name != NULL &&
		    strcmp(r->action_name, "sigxcpu") == 0)
			rl.rlim_max = RLIM_INFINITY;
		if (setrlimit(rlimits[i].resource, &rl) != 0)
			return lx_fail(f, errno, "%s: setrlimit %" PRIu64,
			    rlimits[i].name, r->amount);
	}
	return 0;
}

static int
sysctl_write(const char *name, const char *val, struct lx_fail *f)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	JTD_RETRY(fd, open(path, O_WRONLY | O_CLOEXEC));
	if (fd < 0 || jtd_write_all(fd, val, strlen(val)) != 0) {
		int saved = errno;

		jtd_close(fd);
		return lx_fail(f, saved, "write %s in the jail's IPC "
		    "namespace", path);
	}
	jtd_close(fd);
	return 0;
}

static int
sysctl_i64(const char *name, int64_t v, struct lx_fail *f)
{
	char val[32];

	snprintf(val, sizeof(val), "%" PRId64, v);
	return sysctl_write(name, val, f);
}

/* kernel.sem is "SEMMSL SEMMNS SEMOPM SEMMNI": change two of them. */
static int
sem_apply(const struct lx_limits *l, struct lx_fail *f)
{
	long long v[4];
	char buf[128];
	ssize_t n;
	int fd;

	if (l->semmns < 0 && l->semopm < 0)
		return 0;
	JTD_RETRY(fd, open("/proc/sys/kernel/sem", O_RDONLY | O_CLOEXEC));
	if (fd < 0)
		return lx_fail(f, errno, "open /proc/sys/kernel/sem");
	n = jtd_read(fd, buf, sizeof(buf) - 1);
	jtd_close(fd);
	if (n <= 0)
		return lx_fail(f, errno, "read /proc/sys/kernel/sem");
	buf[n] = '\0';
	if (sscanf(buf, "%lld %lld %lld %lld", &v[0], &v[1], &v[2],
	    &v[3]) != 4)
		return lx_fail(f, EINVAL, "parse /proc/sys/kernel/sem");
	if (l->semmns >= 0)
		v[1] = l->semmns;
	if (l->semopm >= 0)
		v[2] = l->semopm;
	snprintf(buf, sizeof(buf), "%lld %lld %lld %lld", v[0], v[1], v[2],
	    v[3]);
	return sysctl_write("sem", buf, f);
}

int
lx_ipc_apply(const struct lx_limits *l, struct lx_fail *f)
{
	long page = sysconf(_SC_PAGESIZE);

	if (l->msgmni >= 0 && sysctl_i64("msgmni", l->msgmni, f) != 0)
		return -1;
	if (l->shmmni >= 0 && sysctl_i64("shmmni", l->shmmni, f) != 0)
		return -1;
	if (l->shmall_bytes >= 0) {
		int64_t pages = (l->shmall_bytes + page - 1) / page;

		if (sysctl_i64("shmall", pages, f) != 0 ||
		    sysctl_i64("shmmax", l->shmall_bytes, f) != 0)
			return -1;
	}
	return sem_apply(l, f);
}
