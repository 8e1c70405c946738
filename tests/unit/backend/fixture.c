#include "fixture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/io.h"

struct fx fx;

static const char *const applets[] = {
	"sh", "echo", "cat", "ls", "id", "hostname", "sleep", "true",
	"false", "kill", "env", "head", "tail", "grep", "wc", "touch",
	"mkdir", "ip", "printf", "test", "ps", "stat", "pwd",
};

void
fx_write(const char *path, const char *text)
{
	int fd;

	JTD_RETRY(fd, open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644));
	assert_true(fd >= 0);
	assert_int_equal(jtd_write_all(fd, text, strlen(text)), 0);
	jtd_close(fd);
}

bool
fx_root(void)
{
	return geteuid() == 0;
}

static void mk(const char *fmt, ...) JTD_PRINTF(1, 2);

static void
mk(const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	JTD_RETRY(in, open(from, O_RDONLY | O_CLOEXEC));
	assert_true(in >= 0);
	JTD_RETRY(out, open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0755));
	assert_true(out >= 0);
	while ((n = jtd_read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(jtd_write_all(out, buf, (size_t)n), 0);
	jtd_close(in);
	jtd_close(out);
}

int
fx_setup(void **state)
{
	char path[512];
	size_t i;

	(void)state;
	snprintf(fx.tmp, sizeof(fx.tmp), "/tmp/jtd-backend.XXXXXX");
	assert_non_null(mkdtemp(fx.tmp));
	snprintf(fx.root, sizeof(fx.root), "%s/root", fx.tmp);
	mk("%s", fx.root);
	mk("%s/bin", fx.root);
	mk("%s/etc", fx.root);
	mk("%s/root", fx.root);
	mk("%s/tmp", fx.root);
	snprintf(path, sizeof(path), "%s/bin/busybox", fx.root);
	copy_file("/bin/busybox", path);
	for (i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
		snprintf(path, sizeof(path), "%s/bin/%s", fx.root, applets[i]);
		assert_int_equal(symlink("busybox", path), 0);
	}
	snprintf(path, sizeof(path), "%s/etc/passwd", fx.root);
	fx_write(path, "root:x:0:0:root:/root:/bin/sh\n"
	    "nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
	snprintf(path, sizeof(path), "%s/etc/group", fx.root);
	fx_write(path, "root:x:0:\nstaff:x:50:nobody\nnogroup:x:65534:\n");

	/* A Nomad allocation directory: alloc/ and the task's dirs. */
	snprintf(fx.alloc, sizeof(fx.alloc), "%s/alloc", fx.tmp);
	mk("%s", fx.alloc);
	snprintf(fx.local, sizeof(fx.local), "%s/task", fx.tmp);
	mk("%s", fx.local);
	snprintf(fx.local, sizeof(fx.local), "%s/task/local", fx.tmp);
	mk("%s", fx.local);
	snprintf(fx.secrets, sizeof(fx.secrets), "%s/task/secrets", fx.tmp);
	mk("%s", fx.secrets);
	snprintf(fx.state, sizeof(fx.state), "%s/state", fx.tmp);
	mk("%s", fx.state);
	return 0;
}

static void
remove_tree(int dirfd, const char *name)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		(void)unlinkat(dirfd, name, 0);
		return;
	}
	JTD_RETRY(fd, openat(dirfd, name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC));
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		jtd_close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			remove_tree(fd, de->d_name);
	}
	closedir(d);
	(void)unlinkat(dirfd, name, AT_REMOVEDIR);
}

int
fx_teardown(void **state)
{
	(void)state;
	remove_tree(AT_FDCWD, fx.tmp);
	return 0;
}

/* ---- leak check ------------------------------------------------------ */

static char *mounts_before;
static char cgroups_before[4096];

static char *
read_all(const char *path)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd;

	assert_non_null(buf);
	JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC));
	assert_true(fd >= 0);
	while ((r = jtd_read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	jtd_close(fd);
	buf[n] = '\0';
	return buf;
}

/*
 * The mount table's lines that concern our tree: other programs on the
 * host may mount and unmount meanwhile; our jails must not, anywhere.
 */
static char *
our_mounts(void)
{
	char *all = read_all("/proc/self/mountinfo"), *out, *line, *save;
	size_t o = 0, n = strlen(all);

	out = calloc(1, n + 1);
	assert_non_null(out);
	for (line = strtok_r(all, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, fx.tmp) == NULL &&
		    strstr(line, "jail-task-driver") == NULL)
			continue;
		o += (size_t)snprintf(out + o, n + 1 - o, "%s\n", line);
	}
	free(all);
	return out;
}

/* The task groups of this process's jails, in every hierarchy. */
static void
list_cgroups(char *out, size_t size)
{
	char mine[32];

	static const char *const ctls[] = { "memory", "cpu", "cpuacct",
		"cpuset", "pids", "blkio", "freezer", "unified", "" };
	size_t i, o = 0;

	snprintf(mine, sizeof(mine), "jtdt-%ld-", (long)getpid());
	out[0] = '\0';
	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		char dir[256];
		DIR *d;
		struct dirent *de;

		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s/jail-task-driver",
		    ctls[i]);
		d = opendir(dir);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, mine, strlen(mine)) == 0 &&
			    o < size)
				o += (size_t)snprintf(out + o, size - o,
				    "%s/%s ", ctls[i], de->d_name);
		}
		closedir(d);
	}
}

int
fx_leak_before(void **state)
{
	(void)state;
	free(mounts_before);
	mounts_before = our_mounts();
	list_cgroups(cgroups_before, sizeof(cgroups_before));
	return 0;
}

int
fx_leak_after(void **state)
{
	char now[4096];
	char *mounts = our_mounts();
	int bad = 0;

	(void)state;
	list_cgroups(now, sizeof(now));
	if (strcmp(mounts, mounts_before) != 0) {
		fprintf(stderr, "mounts left:\n%s", mounts);
		bad = 1;
	}
	if (strcmp(now, cgroups_before) != 0) {
		fprintf(stderr, "cgroups left: %s\n", now);
		bad = 1;
	}
	free(mounts);
	free(mounts_before);
	mounts_before = NULL;
	return bad ? -1 : 0;
}

/* ---- jails ----------------------------------------------------------- */

void
fx_list_set(struct jtd_list *l, const char *const *v)
{
	size_t n = 0;

	for (n = 0; v[n] != NULL; n++)
		;
	l->v = calloc(n + 1, sizeof(*l->v));
	assert_non_null(l->v);
	for (l->n = 0; l->n < n; l->n++)
		l->v[l->n] = strdup(v[l->n]);
}

static void
add_bind(struct jtd_jail *j, const char *src, const char *target)
{
	struct jtd_mount *m;

	j->mounts = realloc(j->mounts, (j->n_mounts + 1) * sizeof(*m));
	assert_non_null(j->mounts);
	m = &j->mounts[j->n_mounts++];
	memset(m, 0, sizeof(*m));
	m->kind = JTD_MOUNT_BIND;
	m->source = strdup(src);
	m->target = strdup(target);
	m->create = true;
}

struct jtd_jail *
fx_jail(const char *const *argv)
{
	static int seq;
	struct jtd_jail *j = calloc(1, sizeof(*j));
	char name[64];

	assert_non_null(j);
	snprintf(name, sizeof(name), "jtdt-%ld-%d", (long)getpid(), ++seq);
	j->name = strdup(name);
	j->task_id = strdup(name);
	j->root = strdup(fx.root);
	add_bind(j, fx.alloc, "/alloc");
	add_bind(j, fx.local, "/local");
	add_bind(j, fx.secrets, "/secrets");
	/* Shells need /dev/null (background jobs read it). */
	j->mount_devfs = true;
	j->devfs_ruleset = -1;
	j->net = JTD_NET_INHERIT;
	j->securelevel = -2;
	j->enforce_statfs = -1;
	j->children_max = -1;
	j->stop_timeout = -1;
	fx_list_set(&j->argv, argv);
	return j;
}

int
fx_start(const struct jtd_jail *j, struct fx_run *r, struct jtd_err **err)
{
	struct jtd_stdio io;
	int p[2], rc;

	memset(r, 0, sizeof(*r));
	r->sp.event_fd = -1;
	assert_int_equal(jtd_pipe_cloexec(p, 0), 0);
	io.stdout_fd = p[1];
	io.stderr_fd = p[1];
	rc = jtd_backend_spawn(j, &io, &r->sp, err);
	jtd_close(p[1]);
	r->out = p[0];
	return rc;
}

void
fx_start_ok(const struct jtd_jail *j, struct fx_run *r)
{
	struct jtd_err *err = NULL;

	if (fx_start(j, r, &err) != 0)
		fail_msg("spawn %s: %s", j->name, err->msg);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One read with a deadline; false at EOF or timeout. */
static bool
read_some(struct fx_run *r, int64_t deadline)
{
	struct pollfd pfd = { r->out, POLLIN, 0 };
	int64_t left = deadline - now_ms();
	ssize_t n;
	int pr;

	if (r->eof || left <= 0 || r->len + 1 >= sizeof(r->buf))
		return false;
	JTD_RETRY(pr, poll(&pfd, 1, (int)left));
	if (pr <= 0)
		return false;
	n = jtd_read(r->out, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n <= 0) {
		r->eof = true;
		return false;
	}
	r->len += (size_t)n;
	r->buf[r->len] = '\0';
	return true;
}

bool
fx_wait_output(struct fx_run *r, const char *needle)
{
	int64_t deadline = now_ms() + 10000;

	while (strstr(r->buf, needle) == NULL) {
		if (!read_some(r, deadline))
			return strstr(r->buf, needle) != NULL;
	}
	return true;
}

void
fx_drain(struct fx_run *r)
{
	int64_t deadline = now_ms() + 10000;

	while (read_some(r, deadline))
		;
}

int
fx_next(struct fx_run *r, const struct jtd_jail *j, struct jtd_exit *e)
{
	struct jtd_err *err = NULL;
	int64_t deadline = now_ms() + 10000;

	for (;;) {
		struct pollfd pfd = { r->sp.event_fd, POLLIN, 0 };
		int64_t left = deadline - now_ms();
		int pr, rc;

		if (left <= 0)
			fail_msg("jail %s: no event within 10 s", j->name);
		JTD_RETRY(pr, poll(&pfd, 1, (int)left));
		assert_true(pr >= 0);
		if (pr == 0)
			continue;
		rc = jtd_backend_reap(&r->sp, j, e, &err);
		if (rc < 0)
			fail_msg("reap: %s", err->msg);
		if (rc == 1 || pfd.revents != 0)
			return rc;
	}
}

void
fx_finish(struct fx_run *r, const struct jtd_jail *j, struct jtd_exit *e)
{
	struct jtd_err *err = NULL;

	while (fx_next(r, j, e) == 0)
		;
	fx_drain(r);
	jtd_close(r->out);
	r->out = -1;
	jtd_backend_spawned_free(&r->sp);
	if (jtd_backend_cleanup(j, &err) != 0)
		fail_msg("cleanup: %s", err->msg);
}

void
fx_run_jail(struct jtd_jail *j, struct fx_run *r, struct jtd_exit *e)
{
	struct jtd_err *err = NULL;

	if (fx_start(j, r, &err) != 0)
		fail_msg("spawn: %s", err->msg);
	fx_finish(r, j, e);
}

bool
fx_cgroup_read(const struct jtd_jail *j, const char *ctl, const char *file,
    char *buf, size_t size)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/jail-task-driver/%s/%s",
	    ctl, j->name, file);
	JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC));
	if (fd < 0)
		return false;
	n = jtd_read(fd, buf, size - 1);
	jtd_close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n >= 0;
}
