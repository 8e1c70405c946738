/*
 * The driver's view of jails on this host, through their cgroups: stats,
 * whether anything still runs, killing without the shim, and removing
 * what a jail leaves behind.  Mounts and namespaces need no cleanup:
 * they live in the jail's mount namespace and go with its last process.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
jtd_backend_init(struct jtd_err **err)
{
	struct lx_cg cg;

	if (lx_cg_open(&cg, "probe", err) != 0 || lx_cg_prepare(&cg, err) != 0)
		return jtd_err_wrap(err, "prepare the host's cgroups");
	return 0;
}

int
jtd_backend_stats(const struct jtd_jail *j, struct jtd_stats *out,
    struct jtd_err **err)
{
	struct lx_cg cg;

	memset(out, 0, sizeof(*out));
	if (lx_cg_open(&cg, j->name, err) != 0)
		return -1;
	if (!lx_cg_exists(&cg))
		return jtd_err_set(err, JTD_NOT_FOUND,
		    "jail %s has no cgroups", j->name);
	return lx_cg_stats(&cg, out);
}

int
jtd_backend_kill_all(const struct jtd_jail *j, struct jtd_err **err)
{
	struct lx_cg cg;

	if (lx_cg_open(&cg, j->name, err) != 0)
		return -1;
	if (lx_cg_kill(&cg, err) != 0)
		return jtd_err_wrap(err, "kill jail %s", j->name);
	return 0;
}

bool
jtd_backend_alive(const struct jtd_jail *j)
{
	struct jtd_err *err = NULL;
	struct lx_cg cg;
	pid_t pid;
	size_t n = 0;

	if (lx_cg_open(&cg, j->name, &err) != 0) {
		jtd_err_clear(&err);
		return false;
	}
	return lx_cg_procs(&cg, &pid, 1, &n) == 0 && n > 0;
}

int
jtd_backend_cleanup(const struct jtd_jail *j, struct jtd_err **err)
{
	struct lx_cg cg;
	pid_t pid;
	size_t n = 0;

	if (lx_cg_open(&cg, j->name, err) != 0)
		return -1;
	if (!lx_cg_exists(&cg))
		return 0;
	/* Whatever still runs (an orphan of a killed shim) goes first. */
	if (lx_cg_procs(&cg, &pid, 1, &n) == 0 && n > 0) {
		if (lx_cg_kill(&cg, err) != 0)
			return jtd_err_wrap(err, "clean up jail %s", j->name);
		(void)lx_cg_wait_empty(&cg, 10000);
	}
	if (lx_cg_remove(&cg, err) != 0)
		return jtd_err_wrap(err, "clean up jail %s", j->name);
	return 0;
}
