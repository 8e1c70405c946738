/*
 * jtd_backend_check on Linux: every parameter is honoured or refused
 * with a problem naming it, the backend and what works instead.  Pure:
 * no root needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend/backend.h"

static struct jtd_taskcfg *
cfg(const char *json)
{
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *tc = jtd_taskcfg_decode_json(json, strlen(json),
	    &err);

	if (tc == NULL)
		fail_msg("decode %s: %s", json, err->msg);
	return tc;
}

static void
accepted(const char *json)
{
	struct jtd_taskcfg *tc = cfg(json);
	struct jtd_err *err = NULL;

	if (jtd_backend_check(tc, &err) != 0)
		fail_msg("refused %s: %s", json, err->msg);
	jtd_taskcfg_free(tc);
}

/* Refused with exactly one problem, which contains `want`. */
static void
refused(const char *json, const char *want)
{
	struct jtd_taskcfg *tc = cfg(json);
	struct jtd_err *err = NULL;
	const char *cur, *p;
	size_t len, n = 0;

	if (jtd_backend_check(tc, &err) == 0)
		fail_msg("accepted %s", json);
	assert_int_equal(err->code, JTD_INVALID);
	cur = err->msg;
	while ((p = jtd_problem_next(&cur, &len)) != NULL)
		n++;
	if (n != 1 || strstr(err->msg, want) == NULL)
		fail_msg("%s: got \"%s\", want one problem with \"%s\"", json,
		    err->msg, want);
	jtd_err_clear(&err);
	jtd_taskcfg_free(tc);
}

static void
test_accepted(void **state)
{
	static const char *const ok[] = {
		"{\"command\": \"/bin/true\"}",
		"{\"command\": \"/bin/true\", \"args\": [\"a\"], "
		    "\"Path\": \"/srv/root\", \"Persist\": true}",
		"{\"Exec_start\": \"sh /etc/rc\", \"Exec_stop\": \"sh x\", "
		    "\"Exec_clean\": true, \"Exec_jail_user\": \"www\", "
		    "\"Exec_system_jail_user\": true, \"Exec_timeout\": 5, "
		    "\"Exec_consolelog\": \"/var/log/j\", \"Stop_timeout\": 3}",
		"{\"command\": \"x\", \"Host_hostname\": \"h\", "
		    "\"Host_domainname\": \"d\", \"Host\": \"new\"}",
		"{\"command\": \"x\", \"Ip4\": \"inherit\", "
		    "\"Ip6\": \"inherit\"}",
		"{\"command\": \"x\", \"Ip4\": \"new\", \"Ip6\": \"new\"}",
		"{\"command\": \"x\", \"Ip4\": \"disable\"}",
		"{\"command\": \"x\", \"Vnet\": true, \"Vnet_nic\": \"veth0\"}",
		"{\"command\": \"x\", \"Ip4_saddrsel\": true}",
		"{\"command\": \"x\", \"Enforce_statfs\": 1}",
		"{\"command\": \"x\", \"Allow_raw_sockets\": true, "
		    "\"Allow_chflags\": true, \"Allow_mlock\": true, "
		    "\"Allow_read_msgbuf\": true, \"Allow_reserved_ports\": "
		    "false, \"Allow_suser\": false, \"Allow_sysvipc\": true, "
		    "\"Allow_adjtime\": true, \"Allow_settime\": true, "
		    "\"Allow_set_hostname\": false, \"Allow_mount\": false, "
		    "\"Allow_socket_af\": true, "
		    "\"Allow_unprivileged_proc_debug\": true}",
		"{\"command\": \"x\", \"Sysvmsg\": \"new\", \"Sysvsem\": "
		    "\"new\", \"Sysvshm\": \"new\"}",
		"{\"command\": \"x\", \"Mount_devfs\": true, \"Mount_procfs\": "
		    "true, \"Mount_fdescfs\": true}",
		"{\"command\": \"x\", \"Mount\": [\"/a /r/a nullfs ro 0 0\", "
		    "\"tmpfs /r/t tmpfs rw,size=1m 0 0\", "
		    "\"proc /r/proc procfs rw 0 0\"]}",
		"{\"command\": \"x\", \"Mount_devfs\": true, \"Rctl\": {"
		    "\"Cputime\": 60, \"Datasize\": \"1g\", \"Stacksize\": "
		    "\"8m\", \"Coredumpsize\": 0, \"Memoryuse\": \"512m\", "
		    "\"Memorylocked\": \"64k\", \"Maxproc\": 64, "
		    "\"Openfiles\": 1024, \"Vmemoryuse\": \"4g\", "
		    "\"Pseudoterminals\": 8, \"Swapuse\": \"1g\", "
		    "\"Nthr\": 256, \"Nmsgq\": 8, \"Nsem\": 64, "
		    "\"Nsemop\": 16, \"Nshm\": 8, \"Shmsize\": \"64m\", "
		    "\"Wallclock\": 3600, \"Pcpu\": 150, \"Readbps\": \"10m\", "
		    "\"Writebps\": \"10m\", \"Readiops\": 100, \"Writeiops\": "
		    "100}}",
		"{\"command\": \"x\", \"Rctl\": {\"Openfiles\": "
		    "{\"Amount\": 64, \"Per\": \"process\"}, "
		    "\"Cputime\": {\"Amount\": 5, "
		    "\"Action\": \"sigxcpu\", \"Per\": \"process\"}, "
		    "\"Wallclock\": {\"Amount\": 5, \"Action\": \"sigterm\"}}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		accepted(ok[i]);
}

static void
test_refused(void **state)
{
	static const char *const bad[][2] = {
		{ "\"Jid\": 5", "Jid: not supported by the Linux backend: "
		    "Linux has no jail ids" },
		{ "\"Osrelease\": \"13.0-RELEASE\"", "Osrelease: not supported "
		    "by the Linux backend" },
		{ "\"Osreldate\": 1300000", "Osreldate: not supported" },
		{ "\"Host\": \"inherit\"", "Host = \"inherit\": not supported "
		    "by the Linux backend" },
		{ "\"Host_hostuuid\": \"x\"", "Host_hostuuid: not supported" },
		{ "\"Host_hostname\": \"" "0123456789012345678901234567890123"
		    "4567890123456789012345678901234\"", "Host_hostname: 65 "
		    "bytes is not supported by the Linux backend: Linux host "
		    "names have at most 64" },
		{ "\"Host_hostid\": 3", "Host_hostid: not supported" },
		{ "\"Securelevel\": 2", "Securelevel: not supported" },
		{ "\"Devfs_ruleset\": 4", "Devfs_ruleset: not supported" },
		{ "\"Children_max\": 2", "Children_max: not supported" },
		{ "\"Enforce_statfs\": 2", "Enforce_statfs = 2: not supported "
		    "by the Linux backend: a Linux jail sees exactly its own "
		    "mounts" },
		{ "\"Depend\": \"db\"", "Depend: not supported" },
		{ "\"Ip4_addr\": \"192.0.2.1\"", "Ip4_addr: not supported by "
		    "the Linux backend: Linux cannot restrict a jail to some "
		    "of the host's addresses, give it a network stack with "
		    "Vnet = true" },
		{ "\"Ip6_addr\": \"2001:db8::1\"", "Ip6_addr: not supported" },
		{ "\"Ip4\": \"new\", \"Ip6\": \"inherit\"", "Ip6 = \"inherit\" "
		    "with Ip4 = \"new\": not supported" },
		{ "\"Ip6\": \"disable\"", "Ip6 = \"disable\" with Ip4 = "
		    "\"inherit\"" },
		{ "\"Ip4_saddrsel\": false", "Ip4_saddrsel = false: not "
		    "supported" },
		{ "\"Exec_fib\": 1", "Exec_fib: not supported" },
		{ "\"Linux\": \"new\"", "Linux: not supported" },
		{ "\"Linux_osname\": \"x\"", "Linux_osname: not supported" },
		{ "\"Sysvshm\": \"inherit\"", "Sysvshm = \"inherit\": not "
		    "supported by the Linux backend" },
		{ "\"Sysvmsg\": \"disable\"", "Sysvmsg = \"disable\": not "
		    "supported" },
		{ "\"Allow_set_hostname\": true", "Allow_set_hostname = true: "
		    "not supported by the Linux backend: setting the host name "
		    "needs CAP_SYS_ADMIN" },
		{ "\"Allow_mount\": true", "Allow_mount = true: not "
		    "supported" },
		{ "\"Allow_mount_tmpfs\": true", "Allow_mount_tmpfs = true: "
		    "not supported" },
		{ "\"Allow_quotas\": true", "Allow_quotas = true" },
		{ "\"Allow_vmm\": true", "Allow_vmm = true" },
		{ "\"Allow_nfsd\": true", "Allow_nfsd = true" },
		{ "\"Allow_extattr\": true", "Allow_extattr = true" },
		{ "\"Allow_socket_af\": false", "Allow_socket_af = false" },
		{ "\"Allow_unprivileged_proc_debug\": false",
		    "Allow_unprivileged_proc_debug = false" },
		{ "\"Mount\": \"/dev/ada0 /j/x ufs rw 0 0\"", "Mount: file "
		    "system type \"ufs\" is not supported by the Linux "
		    "backend: nullfs, tmpfs and procfs are" },
		{ "\"Mount_fdescfs\": true", "Mount_fdescfs: on Linux /dev/fd "
		    "is a link into /proc/self/fd" },
		{ "\"Rctl\": {\"Msgqqueued\": 5}", "Rctl.Msgqqueued: not "
		    "supported by the Linux backend" },
		{ "\"Rctl\": {\"Msgqsize\": 5}", "Rctl.Msgqsize: not "
		    "supported" },
		{ "\"Rctl\": {\"Memoryuse\": {\"Amount\": 5, \"Per\": "
		    "\"process\"}}", "Rctl.Memoryuse: Per = \"process\" is not "
		    "supported by the Linux backend" },
		{ "\"Rctl\": {\"Openfiles\": {\"Amount\": 5, \"Per\": "
		    "\"user\"}}", "Rctl.Openfiles: Per = \"user\" is not "
		    "supported" },
		{ "\"Rctl\": {\"Memoryuse\": {\"Amount\": 5, \"Action\": "
		    "\"log\"}}", "Rctl.Memoryuse: action log is not supported "
		    "by the Linux backend: Linux reports no events" },
		{ "\"Rctl\": {\"Vmemoryuse\": {\"Amount\": 5, \"Action\": "
		    "\"sigterm\"}}", "Rctl.Vmemoryuse: action sigterm is not "
		    "supported" },
		{ "\"Rctl\": {\"Cputime\": {\"Amount\": 5, \"Action\": "
		    "\"sigterm\"}}", "Rctl.Cputime: action sigterm is not "
		    "supported by the Linux backend: RLIMIT_CPU sends sigxcpu "
		    "or sigkill" },
		{ "\"Rctl\": {\"Wallclock\": {\"Amount\": 5, \"Action\": "
		    "\"siginfo\"}}", "Rctl.Wallclock: action siginfo is not "
		    "supported" },
		{ "\"Rctl\": {\"Pseudoterminals\": 4}", "Rctl.Pseudoterminals: "
		    "the Linux backend limits the jail's own pseudo-terminals, "
		    "set Mount_devfs = true" },
	};
	char json[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"command\": \"x\", %s}",
		    bad[i][0]);
		refused(json, bad[i][1]);
	}
}

static void
test_all_problems_at_once(void **state)
{
	struct jtd_taskcfg *tc = cfg("{\"command\": \"x\", \"Jid\": 3, "
	    "\"Securelevel\": 1, \"Ip4_addr\": \"192.0.2.1\", \"Rctl\": "
	    "{\"Msgqqueued\": 1}}");
	struct jtd_err *err = NULL;
	const char *cur, *p;
	size_t len, n = 0;

	(void)state;
	assert_int_equal(jtd_backend_check(tc, &err), -1);
	cur = err->msg;
	while ((p = jtd_problem_next(&cur, &len)) != NULL) {
		assert_non_null(strstr(p, "the Linux backend"));
		n++;
	}
	assert_int_equal(n, 4);
	jtd_err_clear(&err);
	jtd_taskcfg_free(tc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_all_problems_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
