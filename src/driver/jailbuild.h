/*
 * From what Nomad sends (TaskConfig) and the decoded task config to the
 * jail model: names, root, the task directories, mounts, network,
 * program, environment, output, limits and permissions.
 */
#ifndef JTD_DRIVER_JAILBUILD_H
#define JTD_DRIVER_JAILBUILD_H

#include "config/taskcfg.h"
#include "core/err.h"
#include "driver/pb.h"
#include "jail/jail.h"

/*
 * Build the jail.  Fails (JTD_INVALID) only on inputs the config layer
 * cannot see: a TaskConfig without an id or alloc dir, a Mount target
 * outside the jail root, an unreadable Mount_fstab file.
 */
struct jtd_jail *jtd_jail_build(const DRV(TaskConfig) *tc,
    const struct jtd_taskcfg *cfg, struct jtd_err **err);

/* The jail name for a Nomad task id (exposed for tests). */
char *jtd_jail_name_for(const char *task_id, const char *task_name);

#endif
