/*
 * The FreeBSD backend's entry points.  jail_set(2), nullfs, devfs, RCTL
 * and VNET support is not written yet: until it is, every task is
 * refused here with a message saying so, and nothing is ever created, so
 * the teardown functions have nothing to remove.  The host probe
 * (probe.c) already reports what the host offers.
 */
#include "backend/backend.h"

const char jtd_backend_name[] = "freebsd";

int
jtd_backend_check(const struct jtd_taskcfg *tc, struct jtd_err **err)
{
	return jtd_err_set(err, JTD_UNIMPLEMENTED, "this build of "
	    "jail-task-driver cannot start jails on FreeBSD yet (the "
	    "jail_set(2) backend is not written)");
}

int
jtd_backend_init(struct jtd_err **err)
{
	return 0;
}

int
jtd_backend_spawn(const struct jtd_jail *j, const struct jtd_stdio *io,
    struct jtd_spawned *out, struct jtd_err **err)
{
	return jtd_backend_check(NULL, err);
}

int
jtd_backend_deliver(struct jtd_spawned *s, int sig, bool all,
    struct jtd_err **err)
{
	return jtd_backend_check(NULL, err);
}

int
jtd_backend_reap(struct jtd_spawned *s, const struct jtd_jail *j,
    struct jtd_exit *e, struct jtd_err **err)
{
	return jtd_backend_check(NULL, err);
}

void
jtd_backend_spawned_free(struct jtd_spawned *s)
{
}

void
jtd_backend_trim(void)
{
}

int
jtd_backend_exec(const struct jtd_jail *j, const char *state_dir,
    const struct jtd_exec_req *req, struct jtd_exec_proc *out,
    struct jtd_err **err)
{
	return jtd_backend_check(NULL, err);
}

int
jtd_backend_stats(const struct jtd_jail *j, struct jtd_stats *out,
    struct jtd_err **err)
{
	out->measured = 0;
	return 0;
}

int
jtd_backend_kill_all(const struct jtd_jail *j, struct jtd_err **err)
{
	return 0;
}

bool
jtd_backend_alive(const struct jtd_jail *j)
{
	return false;
}

int
jtd_backend_cleanup(const struct jtd_jail *j, struct jtd_err **err)
{
	return 0;
}
