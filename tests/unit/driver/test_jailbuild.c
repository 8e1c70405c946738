/*
 * Unit tests of the jail builder: what Nomad's TaskConfig and a decoded
 * task config become in the jail model (names, task dirs, mounts,
 * program, environment, network, limits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "driver/jailbuild.h"

static struct jtd_taskcfg *
cfg_of(const char *json)
{
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *c = jtd_taskcfg_decode_json(json, strlen(json),
	    &err);

	if (c == NULL)
		fail_msg("config rejected: %s", err->msg);
	return c;
}

static DRV(TaskConfig)
nomad_task(DRV(TaskConfig__EnvEntry) **envp, size_t nenv)
{
	DRV(TaskConfig) tc = DRV_C(TASK_CONFIG__INIT);

	tc.id = "5e2b9c1d-7777-8888-9999-000011112222/web/ab12cd34";
	tc.name = "web";
	tc.alloc_id = "5e2b9c1d-7777-8888-9999-000011112222";
	tc.alloc_dir = "/var/nomad/alloc/5e2b9c1d";
	tc.stdout_path = "/var/nomad/alloc/5e2b9c1d/alloc/logs/.web.stdout.fifo";
	tc.n_env = nenv;
	tc.env = envp;
	return tc;
}

static void
names(void **state)
{
	char *n = jtd_jail_name_for(
	    "5e2b9c1d-7777/web server.v2/ab12cd34", "web server.v2");

	assert_string_equal(n, "jtd-5e2b9c1d-web_server_v2-ab12cd34");
	free(n);
	/* Not Nomad's id shape: still unique and safe. */
	n = jtd_jail_name_for("weird", "t");
	assert_int_equal(strncmp(n, "jtd-weird-t-", 12), 0);
	assert_int_equal(strlen(n), 20);
	free(n);
}

static void
defaults_and_task_dirs(void **state)
{
	DRV(TaskConfig__EnvEntry) e[2] = {
		DRV_C(TASK_CONFIG__ENV_ENTRY__INIT),
		DRV_C(TASK_CONFIG__ENV_ENTRY__INIT),
	}, *envp[2] = { &e[0], &e[1] };
	DRV(TaskConfig) tc;
	struct jtd_taskcfg *cfg = cfg_of("{\"command\": \"/bin/echo\", "
	    "\"args\": [\"a b\", \"$HOME\"]}");
	struct jtd_err *err = NULL;
	struct jtd_jail *j;

	e[0].key = "ZED";
	e[0].value = "1";
	e[1].key = "NOMAD_TASK_DIR";
	e[1].value = "/local";
	tc = nomad_task(envp, 2);
	j = jtd_jail_build(&tc, cfg, &err);
	assert_non_null(j);
	assert_string_equal(j->root, "/var/nomad/alloc/5e2b9c1d/web");
	assert_string_equal(j->hostname, "web");
	assert_int_equal(j->n_mounts, 3);
	assert_string_equal(j->mounts[0].source,
	    "/var/nomad/alloc/5e2b9c1d/alloc");
	assert_string_equal(j->mounts[0].target, "/alloc");
	assert_string_equal(j->mounts[1].source,
	    "/var/nomad/alloc/5e2b9c1d/web/local");
	assert_string_equal(j->mounts[2].target, "/secrets");
	/* command/args: no shell, arguments verbatim. */
	assert_int_equal(j->argv.n, 3);
	assert_string_equal(j->argv.v[1], "a b");
	assert_string_equal(j->argv.v[2], "$HOME");
	/* The environment is sorted, so the jail's is deterministic. */
	assert_string_equal(j->env.v[0], "NOMAD_TASK_DIR=/local");
	assert_string_equal(j->env.v[1], "ZED=1");
	assert_int_equal(j->net, JTD_NET_INHERIT);
	assert_null(j->stderr_path);
	jtd_jail_free(j);
	jtd_taskcfg_free(cfg);
}

static void
exec_start_and_params(void **state)
{
	DRV(TaskConfig) tc = nomad_task(NULL, 0);
	DRV(Resources) res = DRV_C(RESOURCES__INIT);
	DRV(AllocatedTaskResources) ar = DRV_C(ALLOCATED_TASK_RESOURCES__INIT);
	DRV(AllocatedMemoryResources) mem =
	    DRV_C(ALLOCATED_MEMORY_RESOURCES__INIT);
	struct jtd_taskcfg *cfg = cfg_of("{\"Path\": \"/jails/web\", "
	    "\"Exec_start\": [\"echo one\", \"echo two\"], "
	    "\"Host_hostname\": \"nomad00\", \"Vnet\": true, "
	    "\"Vnet_nic\": \"e0b_web\", \"Allow_raw_sockets\": true, "
	    "\"Allow_chflags\": false, \"Exec_clean\": true, "
	    "\"Exec_jail_user\": \"nobody\", \"Persist\": true, "
	    "\"Mount_devfs\": true, \"Exec_stop\": \"sh /etc/rc.shutdown\", "
	    "\"Mount\": \"/usr/ports /jails/web/usr/ports nullfs ro 0 0\", "
	    "\"Rctl\": {\"Memoryuse\": 1048576, \"Maxproc\": "
	    "{\"Amount\": 20, \"Action\": \"deny\"}}}");
	struct jtd_err *err = NULL;
	struct jtd_jail *j;

	mem.memory_mb = 256;
	mem.memory_max_mb = 512;
	ar.memory = &mem;
	res.allocated_resources = &ar;
	tc.resources = &res;
	tc.user = "www";
	j = jtd_jail_build(&tc, cfg, &err);
	assert_non_null(j);
	assert_string_equal(j->root, "/jails/web");
	assert_string_equal(j->hostname, "nomad00");
	/* Several Exec_start lines: one shell, stopping at a failure. */
	assert_string_equal(j->argv.v[0], "/bin/sh");
	assert_string_equal(j->argv.v[2], "set -e\necho one\necho two\n");
	assert_int_equal(j->net, JTD_NET_VNET);
	assert_string_equal(j->vnet_nics.v[0], "e0b_web");
	assert_int_equal(jtd_jail_allow(j, JTD_ALLOW_RAW_SOCKETS), 1);
	assert_int_equal(jtd_jail_allow(j, JTD_ALLOW_CHFLAGS), 0);
	assert_int_equal(jtd_jail_allow(j, JTD_ALLOW_MLOCK), -1);
	assert_true(j->clean_env);
	/* Exec_jail_user wins over Nomad's task user. */
	assert_string_equal(j->user, "nobody");
	assert_true(j->persist);
	assert_true(j->mount_devfs);
	assert_string_equal(j->exec_stop.v[0], "sh /etc/rc.shutdown");
	/* The fstab mount point is a host path inside the root. */
	assert_int_equal(j->n_mounts, 4);
	assert_int_equal(j->mounts[3].kind, JTD_MOUNT_BIND);
	assert_string_equal(j->mounts[3].target, "/usr/ports");
	assert_true(j->mounts[3].readonly);
	assert_true(j->rctl[JTD_RCTL_MEMORYUSE].set);
	assert_int_equal(j->rctl[JTD_RCTL_MAXPROC].amount, 20);
	assert_int_equal(j->memory_mb, 256);
	assert_int_equal(j->memory_max_mb, 512);
	jtd_jail_free(j);
	jtd_taskcfg_free(cfg);
}

static void
mount_outside_root(void **state)
{
	DRV(TaskConfig) tc = nomad_task(NULL, 0);
	struct jtd_taskcfg *cfg = cfg_of("{\"Path\": \"/jails/web\", "
	    "\"command\": \"/bin/true\", "
	    "\"Mount\": \"/usr/ports /usr/ports nullfs ro 0 0\"}");
	struct jtd_err *err = NULL;

	assert_null(jtd_jail_build(&tc, cfg, &err));
	assert_non_null(strstr(err->msg, "Mount"));
	assert_non_null(strstr(err->msg, "not inside the jail root"));
	jtd_err_clear(&err);
	jtd_taskcfg_free(cfg);
}

static void
networks(void **state)
{
	DRV(TaskConfig) tc = nomad_task(NULL, 0);
	DRV(NetworkIsolationSpec) ns = DRV_C(NETWORK_ISOLATION_SPEC__INIT);
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *cfg;
	struct jtd_jail *j;

	cfg = cfg_of("{\"command\": \"/bin/true\", \"Ip4\": \"disable\"}");
	j = jtd_jail_build(&tc, cfg, &err);
	assert_int_equal(j->net, JTD_NET_DISABLE);
	jtd_jail_free(j);
	jtd_taskcfg_free(cfg);

	/* Nomad's group network: join the namespace Nomad made. */
	ns.mode = DRV_C(NETWORK_ISOLATION_SPEC__NETWORK_ISOLATION_MODE__GROUP);
	ns.path = "/var/run/netns/abc";
	tc.network_isolation_spec = &ns;
	cfg = cfg_of("{\"command\": \"/bin/true\"}");
	j = jtd_jail_build(&tc, cfg, &err);
	assert_int_equal(j->net, JTD_NET_JOIN);
	assert_string_equal(j->netns_path, "/var/run/netns/abc");
	jtd_jail_free(j);
	jtd_taskcfg_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(defaults_and_task_dirs),
		cmocka_unit_test(exec_start_and_params),
		cmocka_unit_test(mount_outside_root),
		cmocka_unit_test(networks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
