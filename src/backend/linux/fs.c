/*
 * The jail's file system, built by its init in a new mount namespace:
 * the jail's mounts (task directories first), a minimal /dev, /proc,
 * then pivot_root into the jail root.
 *
 * The root may be shared with other jails whose processes can change
 * it while we work, so nothing here follows a path through it: mount
 * points are walked from a descriptor of the root one component at a
 * time with O_NOFOLLOW (a symlink anywhere below the root is refused,
 * like jail(8)'s check_path), and every mount is attached to the
 * descriptor found, with the mount API that takes descriptors
 * (open_tree, fsopen, move_mount; Linux 5.2).
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/io.h"

/* Open (creating if asked) one component below dirfd, refusing links. */
static int
step(int dirfd, const char *comp, bool create, bool dir, mode_t mode)
{
	int fd, r;

	JTD_RETRY(fd, openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC));
	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	if (dir)
		r = mkdirat(dirfd, comp, mode);
	else {
		JTD_RETRY(r, openat(dirfd, comp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, mode));
		if (r >= 0) {
			jtd_close(r);
			r = 0;
		}
	}
	if (r != 0 && errno != EEXIST)
		return -1;
	JTD_RETRY(fd, openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC));
	return fd;
}

/*
 * An O_PATH descriptor of `path` (inside the jail) below root_fd.  With
 * `create`, missing components are made: directories, and the last one
 * a directory or an empty file as `dir` says.
 */
static int
resolve(int root_fd, const char *path, bool create, bool dir,
    struct lx_fail *f)
{
	char buf[1024], *comp, *save = NULL, *next;
	int cur, fd;

	if (path[0] != '/' || strlen(path) >= sizeof(buf))
		return lx_fail(f, EINVAL, "mount point %s: not an absolute "
		    "path", path);
	snprintf(buf, sizeof(buf), "%s", path);
	cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return lx_fail(f, errno, "mount point %s", path);
	for (comp = strtok_r(buf, "/", &save); comp != NULL; comp = next) {
		struct stat st;
		bool last;

		next = strtok_r(NULL, "/", &save);
		last = next == NULL;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			jtd_close(cur);
			return lx_fail(f, EINVAL, "mount point %s: \"..\" is "
			    "not allowed", path);
		}
		fd = step(cur, comp, create, !last || dir, 0755);
		if (fd < 0) {
			int e = errno;

			jtd_close(cur);
			return lx_fail(f, e, "mount point %s", path);
		}
		jtd_close(cur);
		cur = fd;
		if (fstat(cur, &st) != 0 || S_ISLNK(st.st_mode) ||
		    (!last && !S_ISDIR(st.st_mode))) {
			jtd_close(cur);
			return lx_fail(f, S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR,
			    "mount point %s: %s is a %s in the jail", path,
			    comp, S_ISLNK(st.st_mode) ? "symbolic link" :
			    "file, not a directory");
		}
	}
	return cur;
}

static int
attach(int mfd, int target_fd, const char *what, struct lx_fail *f)
{
	if (move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH |
	    MOVE_MOUNT_T_EMPTY_PATH) != 0)
		return lx_fail(f, errno, "mount %s", what);
	return 0;
}

/* Mount attribute of an fstab option, or 0 for a file system option. */
static unsigned
attr_of(const char *opt, bool *skip)
{
	static const struct {
		const char *name;
		unsigned attr;
	} attrs[] = {
		{ "ro", MOUNT_ATTR_RDONLY }, { "rdonly", MOUNT_ATTR_RDONLY },
		{ "nosuid", MOUNT_ATTR_NOSUID }, { "nodev", MOUNT_ATTR_NODEV },
		{ "noexec", MOUNT_ATTR_NOEXEC },
		{ "noatime", MOUNT_ATTR_NOATIME },
		{ "nodiratime", MOUNT_ATTR_NODIRATIME },
	};
	/* fstab(5) words that are not mount options. */
	static const char *const ignored[] = { "rw", "defaults", "late",
		"noauto", "auto", "failok" };
	size_t i;

	*skip = false;
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		if (strcmp(opt, ignored[i]) == 0) {
			*skip = true;
			return 0;
		}
	}
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (strcmp(opt, attrs[i].name) == 0)
			return attrs[i].attr;
	}
	return 0;
}

/* A new file system instance as a detached mount, or -1. */
static int
fs_new(const char *fstype, const char *source, const char *options,
    unsigned attrs, const char *what, struct lx_fail *f)
{
	char opts[1024], *tok, *save = NULL;
	int fsfd, mfd;

	fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return lx_fail(f, errno, "mount %s: file system %s", what,
		    fstype);
	if (source != NULL && fsconfig(fsfd, FSCONFIG_SET_STRING, "source",
	    source, 0) != 0)
		goto fail;
	snprintf(opts, sizeof(opts), "%s", options != NULL ? options : "");
	for (tok = strtok_r(opts, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned a;
		bool skip;

		a = attr_of(tok, &skip);
		if (skip)
			continue;
		if (a != 0) {
			attrs |= a;
			continue;
		}
		if (eq != NULL)
			*eq = '\0';
		if (fsconfig(fsfd, eq != NULL ? FSCONFIG_SET_STRING :
		    FSCONFIG_SET_FLAG, tok, eq != NULL ? eq + 1 : NULL,
		    0) != 0) {
			int e = errno;

			jtd_close(fsfd);
			return lx_fail(f, e, "mount %s: option %s", what, tok);
		}
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
		goto fail;
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		goto fail;
	jtd_close(fsfd);
	return mfd;
fail:
	{
		int e = errno;

		jtd_close(fsfd);
		return lx_fail(f, e, "mount %s (%s)", what, fstype);
	}
}

/*
 * Read-only for a detached tree, all of it; returns 1 when the kernel
 * lacks mount_setattr (5.12): then tree_ro_attached() after attaching.
 */
static int
tree_ro_detached(int tfd, const char *what, struct lx_fail *f)
{
	struct mount_attr ma = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount_setattr(tfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma,
	    sizeof(ma)) == 0)
		return 0;
	if (errno == ENOSYS)
		return 1;
	return lx_fail(f, errno, "make %s read-only", what);
}

/* The old way, for the top mount of an attached tree. */
static int
tree_ro_attached(int tfd, const char *what, struct lx_fail *f)
{
	unsigned long fl = MS_REMOUNT | MS_BIND | MS_RDONLY;
	char proc[64];
	struct statvfs sv;

	/* A bind remount resets what it is not told: keep the rest. */
	if (fstatvfs(tfd, &sv) == 0) {
		fl |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
		fl |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
		fl |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
		fl |= (sv.f_flag & ST_NOATIME) ? MS_NOATIME : 0;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tfd);
	if (mount(NULL, proc, NULL, fl, NULL) != 0)
		return lx_fail(f, errno, "make %s read-only", what);
	return 0;
}

/*
 * Bind `src` (relative to src_dirfd; "" for src_dirfd itself) onto
 * target_fd.
 */
static int
bind_at(int src_dirfd, const char *src, int target_fd, bool ro,
    bool recursive, const char *what, struct lx_fail *f)
{
	int tfd, later = 0;

	tfd = open_tree(src_dirfd, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
	    (recursive ? AT_RECURSIVE : 0) | (src[0] == '\0' ?
	    AT_EMPTY_PATH : 0));
	if (tfd < 0)
		return lx_fail(f, errno, "bind %s onto %s", src[0] != '\0' ?
		    src : what, what);
	if (ro)
		later = tree_ro_detached(tfd, what, f);
	if (later >= 0 && attach(tfd, target_fd, what, f) != 0)
		later = -1;
	if (later == 1)
		later = tree_ro_attached(tfd, what, f);
	jtd_close(tfd);
	return later < 0 ? -1 : 0;
}

/* "procfs" and friends as Linux names them; NULL if unsupported. */
static const char *
linux_fstype(const char *t)
{
	if (strcmp(t, "tmpfs") == 0)
		return "tmpfs";
	if (strcmp(t, "procfs") == 0 || strcmp(t, "linprocfs") == 0 ||
	    strcmp(t, "proc") == 0)
		return "proc";
	return NULL;
}

static int
one_mount(int root_fd, const struct jtd_mount *m, struct lx_fail *f)
{
	struct stat st;
	const char *fstype = NULL;
	int tfd, mfd, rc;
	bool dir = true;

	if (m->kind == JTD_MOUNT_BIND) {
		if (stat(m->source, &st) != 0)
			return lx_fail(f, errno, "mount %s: source %s",
			    m->target, m->source);
		dir = S_ISDIR(st.st_mode);
	} else {
		fstype = linux_fstype(m->fstype != NULL ? m->fstype : "");
		if (fstype == NULL)
			return lx_fail(f, EINVAL, "mount %s: file system type "
			    "%s is not supported by the Linux backend (nullfs, "
			    "tmpfs and procfs are)", m->target,
			    m->fstype != NULL ? m->fstype : "(none)");
	}
	tfd = resolve(root_fd, m->target, m->create, dir, f);
	if (tfd < 0)
		return -1;
	if (m->kind == JTD_MOUNT_BIND) {
		rc = bind_at(AT_FDCWD, m->source, tfd, m->readonly, true,
		    m->target, f);
		jtd_close(tfd);
		return rc;
	}
	mfd = fs_new(fstype, m->source, m->options, (m->readonly ?
	    MOUNT_ATTR_RDONLY : 0) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	    m->target, f);
	if (mfd < 0) {
		jtd_close(tfd);
		return -1;
	}
	rc = attach(mfd, tfd, m->target, f);
	jtd_close(mfd);
	jtd_close(tfd);
	return rc;
}

/* ---- /dev ----------------------------------------------------------- */

static const char *const dev_nodes[] = { "null", "zero", "full", "random",
	"urandom", "tty" };

static int
dev_node(int devfd, const char *name, struct lx_fail *f)
{
	char host[64], what[64];
	int fd, rc;

	snprintf(host, sizeof(host), "/dev/%s", name);
	snprintf(what, sizeof(what), "/dev/%s", name);
	fd = step(devfd, name, true, false, 0666);
	if (fd < 0)
		return lx_fail(f, errno, "create %s", what);
	rc = bind_at(AT_FDCWD, host, fd, false, false, what, f);
	jtd_close(fd);
	return rc;
}

static int
dev_fs(int devfd, const char *name, const char *fstype, const char *opts,
    unsigned attrs, mode_t mode, struct lx_fail *f)
{
	char what[64];
	int fd, mfd, rc;

	snprintf(what, sizeof(what), "/dev/%s", name);
	fd = step(devfd, name, true, true, mode);
	if (fd < 0)
		return lx_fail(f, errno, "create %s", what);
	mfd = fs_new(fstype, fstype, opts, attrs, what, f);
	if (mfd < 0) {
		jtd_close(fd);
		return -1;
	}
	rc = attach(mfd, fd, what, f);
	jtd_close(mfd);
	jtd_close(fd);
	return rc;
}

static int
dev_links(int devfd, bool fdescfs, struct lx_fail *f)
{
	static const char *const fd_links[][2] = {
		{ "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
	};
	size_t i;

	if (symlinkat("pts/ptmx", devfd, "ptmx") != 0)
		return lx_fail(f, errno, "create /dev/ptmx");
	for (i = 0; fdescfs && i < sizeof(fd_links) / sizeof(fd_links[0]);
	    i++) {
		if (symlinkat(fd_links[i][0], devfd, fd_links[i][1]) != 0)
			return lx_fail(f, errno, "create /dev/%s",
			    fd_links[i][1]);
	}
	return 0;
}

/*
 * A minimal /dev: a small tmpfs with the harmless host devices bound in,
 * a devpts instance of its own, /dev/shm, and with fdescfs the fd links.
 */
static int
setup_dev(const struct jtd_jail *j, int root_fd, struct lx_fail *f)
{
	char pts[160];
	int target, devfd, rc = -1;
	size_t i;

	target = resolve(root_fd, "/dev", true, true, f);
	if (target < 0)
		return -1;
	/* Device nodes work only as the host's, bound in. */
	devfd = fs_new("tmpfs", "tmpfs", "mode=755,size=65536k",
	    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "/dev",
	    f);
	if (devfd < 0) {
		jtd_close(target);
		return -1;
	}
	if (attach(devfd, target, "/dev", f) != 0)
		goto out;
	for (i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		if (dev_node(devfd, dev_nodes[i], f) != 0)
			goto out;
	}
	snprintf(pts, sizeof(pts), "newinstance,ptmxmode=0666,mode=0620,gid=5");
	if (j->rctl[JTD_RCTL_PSEUDOTERMINALS].set)
		snprintf(pts + strlen(pts), sizeof(pts) - strlen(pts),
		    ",max=%llu", (unsigned long long)
		    j->rctl[JTD_RCTL_PSEUDOTERMINALS].amount);
	if (dev_fs(devfd, "pts", "devpts", pts, MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NOEXEC, 0755, f) != 0 ||
	    dev_fs(devfd, "shm", "tmpfs", "mode=1777,size=65536k",
	    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 01777,
	    f) != 0 ||
	    dev_links(devfd, j->mount_fdescfs, f) != 0)
		goto out;
	rc = 0;
out:
	jtd_close(devfd);
	jtd_close(target);
	return rc;
}

/* ---- /proc ---------------------------------------------------------- */

/*
 * What a jail's root must not write or read in /proc: the kernel-wide
 * knobs (it has no CAP_SYS_ADMIN, but /proc/sys checks only file
 * modes) and kernel memory views.
 */
static const char *const proc_ro[] = { "sys", "sysrq-trigger", "irq",
	"bus", "fs" };
static const char *const proc_masked[] = { "kcore", "keys", "timer_list",
	"latency_stats", "sched_debug", "acpi", "scsi", "kallsyms" };

static int
proc_mask(int procfd, struct lx_fail *f)
{
	char what[64];
	size_t i;

	for (i = 0; i < sizeof(proc_ro) / sizeof(proc_ro[0]); i++) {
		int fd = step(procfd, proc_ro[i], false, false, 0);
		int rc;

		if (fd < 0)
			continue;	/* not on this kernel */
		snprintf(what, sizeof(what), "/proc/%s", proc_ro[i]);
		rc = bind_at(fd, "", fd, true, true, what, f);
		jtd_close(fd);
		if (rc != 0)
			return -1;
	}
	for (i = 0; i < sizeof(proc_masked) / sizeof(proc_masked[0]); i++) {
		int fd = step(procfd, proc_masked[i], false, false, 0), rc;
		struct stat st;

		if (fd < 0)
			continue;
		snprintf(what, sizeof(what), "/proc/%s", proc_masked[i]);
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			int mfd = fs_new("tmpfs", "tmpfs", NULL,
			    MOUNT_ATTR_RDONLY, what, f);

			rc = mfd < 0 ? -1 : attach(mfd, fd, what, f);
			jtd_close(mfd);
		} else
			rc = bind_at(AT_FDCWD, "/dev/null", fd, true, false,
			    what, f);
		jtd_close(fd);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
setup_proc(int root_fd, struct lx_fail *f)
{
	int target, procfd, rc = -1;

	target = resolve(root_fd, "/proc", true, true, f);
	if (target < 0)
		return -1;
	/* fsopen in the jail's PID namespace: /proc shows the jail only. */
	procfd = fs_new("proc", "proc", NULL, MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "/proc", f);
	if (procfd >= 0 && attach(procfd, target, "/proc", f) == 0 &&
	    proc_mask(procfd, f) == 0)
		rc = 0;
	jtd_close(procfd);
	jtd_close(target);
	return rc;
}

/* ---- the whole --------------------------------------------------------- */

static int
enter_root(int root_fd, const char *root, struct lx_fail *f)
{
	if (fchdir(root_fd) != 0)
		return lx_fail(f, errno, "chdir %s", root);
	/* The old root ends up on top of the new; detach it from there. */
	if (syscall(SYS_pivot_root, ".", ".") != 0)
		return lx_fail(f, errno, "pivot_root %s", root);
	if (umount2(".", MNT_DETACH) != 0)
		return lx_fail(f, errno, "detach the host's root");
	if (chdir("/") != 0)
		return lx_fail(f, errno, "chdir /");
	return 0;
}

int
lx_fs_setup(const struct jtd_jail *j, struct lx_fail *f)
{
	int root_fd, tfd = -1, rc = -1;
	size_t i;

	/* Nothing we mount may leak back to the host, nor the reverse. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return lx_fail(f, errno, "make the jail's mounts private");
	root_fd = open_tree(AT_FDCWD, j->root, OPEN_TREE_CLONE |
	    OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (root_fd < 0)
		return lx_fail(f, errno, "jail root %s", j->root);
	JTD_RETRY(tfd, open(j->root, O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (tfd < 0) {
		lx_fail(f, errno, "jail root %s", j->root);
		goto out;
	}
	/* The root as a mount of its own, which pivot_root needs. */
	if (attach(root_fd, tfd, j->root, f) != 0)
		goto out;

	for (i = 0; i < j->n_mounts; i++) {
		if (one_mount(root_fd, &j->mounts[i], f) != 0)
			goto out;
	}
	if (j->mount_devfs && setup_dev(j, root_fd, f) != 0)
		goto out;
	if (j->mount_procfs && setup_proc(root_fd, f) != 0)
		goto out;
	rc = enter_root(root_fd, j->root, f);
out:
	jtd_close(tfd);
	jtd_close(root_fd);
	return rc;
}
