/*
 * The task config: the seed document's examples through both front ends,
 * every Rctl form, one bad config per validation rule, and the schema
 * returned to Nomad.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/taskcfg.h"
#include "cfg_helpers.h"

#define SPEC_(k)	HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__##k

/* The seed's first example, as Nomad's JSON form of the task config. */
static const char seed1_json[] =
    "{\"Path\": \"/zroot/iocage/jails/myjail/root\","
    " \"Allow_raw_sockets\": true, \"Allow_chflags\": true,"
    " \"Ip4_addr\": \"em1|192.168.1.102\","
    " \"Exec_start\": \"/usr/local/bin/http-echo -listen :9999 -text hello\","
    " \"Rctl\": {\"Vmemoryuse\": 1200000}}";

static void
check_seed1(const struct jtd_taskcfg *tc)
{
	struct in_addr want;
	size_t r;

	assert_string_equal(tc->path, "/zroot/iocage/jails/myjail/root");
	assert_true(tc->allow_raw_sockets.set && tc->allow_raw_sockets.val);
	assert_true(tc->allow_chflags.set && tc->allow_chflags.val);
	assert_false(tc->allow_mount.set);

	assert_int_equal(tc->ip4_addr.n, 1);
	assert_string_equal(tc->ip4_addr.v[0].iface, "em1");
	assert_int_equal(tc->ip4_addr.v[0].family, AF_INET);
	assert_int_equal(tc->ip4_addr.v[0].prefix, -1);
	assert_string_equal(tc->ip4_addr.v[0].text, "em1|192.168.1.102");
	inet_pton(AF_INET, "192.168.1.102", &want);
	assert_memory_equal(&tc->ip4_addr.v[0].addr.v4, &want, sizeof(want));
	assert_int_equal(tc->ip4, JTD_JAILSYS_UNSET);

	assert_int_equal(tc->exec_start.n, 1);
	assert_string_equal(tc->exec_start.v[0],
	    "/usr/local/bin/http-echo -listen :9999 -text hello");
	assert_null(tc->exec_start.v[1]);
	assert_null(tc->command);

	assert_true(tc->rctl_set);
	for (r = 0; r < JTD_RCTL__COUNT; r++)
		assert_int_equal(tc->rctl[r].set, r == JTD_RCTL_VMEMORYUSE);
	assert_true(tc->rctl[JTD_RCTL_VMEMORYUSE].amount == 1200000);
	assert_int_equal(tc->rctl[JTD_RCTL_VMEMORYUSE].action, JTD_RCTL_DENY);
	assert_string_equal(tc->rctl[JTD_RCTL_VMEMORYUSE].action_name, "deny");
	assert_int_equal(tc->rctl[JTD_RCTL_VMEMORYUSE].per, JTD_RCTL_PER_JAIL);
}

static struct jtd_taskcfg *
from_json(const char *json)
{
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *tc = jtd_taskcfg_decode_json(json, strlen(json),
	    &err);

	if (tc == NULL)
		fail_msg("%s", err->msg);
	assert_null(err);
	return tc;
}

/* Through Nomad's encoding: every key present, nil when absent. */
static struct jtd_taskcfg *
from_nomad(const char *json)
{
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *tc;
	uint8_t *b;
	size_t n = nomad_task_msgpack(json, &b);

	tc = jtd_taskcfg_decode_msgpack(b, n, &err);
	free(b);
	if (tc == NULL)
		fail_msg("%s", err->msg);
	return tc;
}

static void
test_seed1_json(void **state)
{
	struct jtd_taskcfg *tc = from_json(seed1_json);

	(void)state;
	check_seed1(tc);
	jtd_taskcfg_free(tc);
}

static void
test_seed1_msgpack(void **state)
{
	struct jtd_taskcfg *tc = from_nomad(seed1_json);

	(void)state;
	check_seed1(tc);
	jtd_taskcfg_free(tc);

	/* HCL2 block syntax `Rctl { Vmemoryuse = 1200000 }` via JSON. */
	tc = from_json("{\"Path\": \"/zroot/iocage/jails/myjail/root\","
	    " \"Allow_raw_sockets\": true, \"Allow_chflags\": true,"
	    " \"Ip4_addr\": [\"em1|192.168.1.102\"], \"Exec_start\":"
	    " \"/usr/local/bin/http-echo -listen :9999 -text hello\","
	    " \"Rctl\": [{\"Vmemoryuse\": 1200000}]}");
	check_seed1(tc);
	jtd_taskcfg_free(tc);
}

static void
check_seed2(const struct jtd_taskcfg *tc)
{
	assert_string_equal(tc->path, "/zroot/iocage/jails/myjail/root");
	assert_string_equal(tc->host_hostname, "nomad00");
	assert_true(tc->exec_clean.set && tc->exec_clean.val);
	assert_string_equal(tc->exec_start.v[0], "sh /etc/rc");
	assert_string_equal(tc->exec_stop.v[0], "sh /etc/rc.shutdown");
	assert_true(tc->mount_devfs.set && tc->mount_devfs.val);
	/* Repeated keys: the later value wins, as with HCL1. */
	assert_int_equal(tc->exec_prestart.n, 1);
	assert_string_equal(tc->exec_prestart.v[0],
	    "/usr/share/examples/jails/jib addm loghost em1");
	assert_string_equal(tc->exec_poststart.v[0], "logger jail has started");
	assert_string_equal(tc->exec_prestop.v[0], "logger shutting down jail ");
	assert_int_equal(tc->exec_poststop.n, 1);
	assert_string_equal(tc->exec_poststop.v[0],
	    "/usr/share/examples/jails/jib destroy loghost ");
	assert_string_equal(tc->exec_consolelog, "/var/tmp/vnet-example");
	assert_int_equal(tc->vnet, JTD_JAILSYS_NEW);
	assert_int_equal(tc->vnet_nic.n, 1);
	assert_string_equal(tc->vnet_nic.v[0], "e0b_loghost");
	assert_false(tc->rctl_set);
}

static void
test_seed2_json(void **state)
{
	struct jtd_taskcfg *tc = from_json("{"
	    "\"Path\": \"/zroot/iocage/jails/myjail/root\","
	    "\"Host_hostname\": \"nomad00\", \"Exec_clean\": true,"
	    "\"Exec_start\": \"sh /etc/rc\","
	    "\"Exec_stop\": \"sh /etc/rc.shutdown\", \"Mount_devfs\": true,"
	    "\"Exec_prestart\": \"logger trying to start \","
	    "\"Exec_poststart\": \"logger jail has started\","
	    "\"Exec_prestop\": \"logger shutting down jail \","
	    "\"Exec_poststop\": \"logger has shut down jail \","
	    "\"Exec_consolelog\": \"/var/tmp/vnet-example\","
	    "\"Vnet\": true, \"Vnet_nic\": \"e0b_loghost\","
	    "\"Exec_prestart\": \"/usr/share/examples/jails/jib addm loghost "
	    "em1\","
	    "\"Exec_poststop\": \"/usr/share/examples/jails/jib destroy "
	    "loghost \"}");

	(void)state;
	check_seed2(tc);
	jtd_taskcfg_free(tc);
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* The same, as msgpack bytes that really repeat the two keys. */
static void
test_seed2_msgpack(void **state)
{
	static const char *const kv[] = {
		"Path", "/zroot/iocage/jails/myjail/root",
		"Host_hostname", "nomad00",
		"Exec_start", "sh /etc/rc",
		"Exec_stop", "sh /etc/rc.shutdown",
		"Exec_prestart", "logger trying to start ",
		"Exec_poststart", "logger jail has started",
		"Exec_prestop", "logger shutting down jail ",
		"Exec_poststop", "logger has shut down jail ",
		"Exec_consolelog", "/var/tmp/vnet-example",
		"Vnet", "true",
		"Vnet_nic", "e0b_loghost",
		"Exec_prestart", "/usr/share/examples/jails/jib addm loghost em1",
		"Exec_poststop", "/usr/share/examples/jails/jib destroy loghost ",
	};
	size_t i, npairs = sizeof(kv) / sizeof(kv[0]) / 2;
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *tc;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	(void)state;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, npairs + 2);
	for (i = 0; i < npairs; i++) {
		pack_str(&pk, kv[2 * i]);
		pack_str(&pk, kv[2 * i + 1]);
	}
	pack_str(&pk, "Exec_clean");
	msgpack_pack_true(&pk);
	pack_str(&pk, "Mount_devfs");
	msgpack_pack_true(&pk);

	tc = jtd_taskcfg_decode_msgpack((const uint8_t *)sb.data, sb.size,
	    &err);
	msgpack_sbuffer_destroy(&sb);
	if (tc == NULL)
		fail_msg("%s", err->msg);
	check_seed2(tc);
	jtd_taskcfg_free(tc);
}

/* command/args and list forms of the multi-valued parameters. */
static void
test_command_and_lists(void **state)
{
	struct jtd_taskcfg *tc = from_nomad("{\"command\": \"/bin/sh\","
	    " \"args\": [\"-c\", \"\", \"echo hi\"],"
	    " \"Ip4_addr\": \"em0|192.0.2.10/24, 192.0.2.11\","
	    " \"Ip6_addr\": [\"em0|2001:db8::10/64\", \"2001:db8::11\"],"
	    " \"Depend\": \"db, cache\", \"Mount\": [\"/a /j/a nullfs ro 0 0\"],"
	    " \"Mount_fstab\": \"/etc/fstab.j\", \"Exec_poststop\":"
	    " [\"logger a\", \"logger b\"], \"Vnet\": \"inherit\","
	    " \"Exec_timeout\": \"30\", \"Persist\": \"true\","
	    " \"Securelevel\": -1, \"Host_hostid\": 4294967295}");

	(void)state;
	assert_string_equal(tc->command, "/bin/sh");
	assert_int_equal(tc->args.n, 3);
	assert_string_equal(tc->args.v[1], "");
	assert_null(tc->args.v[3]);
	assert_int_equal(tc->ip4_addr.n, 2);
	assert_int_equal(tc->ip4_addr.v[0].prefix, 24);
	assert_null(tc->ip4_addr.v[1].iface);
	assert_string_equal(tc->ip4_addr.v[1].text, "192.0.2.11");
	assert_int_equal(tc->ip6_addr.n, 2);
	assert_int_equal(tc->ip6_addr.v[0].family, AF_INET6);
	assert_int_equal(tc->ip6_addr.v[0].prefix, 64);
	assert_int_equal(tc->depend.n, 2);
	assert_string_equal(tc->depend.v[1], "cache");
	assert_string_equal(tc->mount.v[0], "/a /j/a nullfs ro 0 0");
	assert_string_equal(tc->mount_fstab.v[0], "/etc/fstab.j");
	assert_int_equal(tc->exec_poststop.n, 2);
	assert_int_equal(tc->vnet, JTD_JAILSYS_INHERIT);
	assert_true(tc->exec_timeout.set && tc->exec_timeout.val == 30);
	assert_true(tc->persist.set && tc->persist.val);
	assert_true(tc->securelevel.val == -1);
	assert_true(tc->host_hostid.val == 4294967295LL);
	jtd_taskcfg_free(tc);
}

/* The later Rctl form, { Amount, Action, Per }, for all 25 resources. */
static void
test_rctl_all_resources(void **state)
{
	char json[8192];
	size_t r, off;
	struct jtd_taskcfg *tc;

	(void)state;
	off = (size_t)snprintf(json, sizeof(json),
	    "{\"Exec_start\": \"sh /etc/rc\", \"Rctl\": {");
	for (r = 0; r < JTD_RCTL__COUNT; r++) {
		const struct jtd_rctl_info *ri = &jtd_rctl_info[r];
		const char *action = (ri->flags & JTD_RCTL_F_DENY) ? "deny" :
		    (ri->flags & JTD_RCTL_F_THROTTLE) ? "throttle" : "sigterm";

		off += (size_t)snprintf(json + off, sizeof(json) - off,
		    "%s\"%s\": {\"Amount\": \"%zu\", \"Action\": \"%s\", "
		    "\"Per\": \"%s\"}", r > 0 ? ", " : "", ri->name, r + 1,
		    action, (ri->flags & JTD_RCTL_F_PROCESS) ? "process" :
		    "user");
	}
	snprintf(json + off, sizeof(json) - off, "}}");

	tc = from_json(json);
	for (r = 0; r < JTD_RCTL__COUNT; r++) {
		const struct jtd_rctl_rule *rule = &tc->rctl[r];
		const struct jtd_rctl_info *ri = &jtd_rctl_info[r];

		assert_true(rule->set);
		assert_true(rule->amount == r + 1);
		assert_int_equal(rule->per, (ri->flags & JTD_RCTL_F_PROCESS) ?
		    JTD_RCTL_PER_PROCESS : JTD_RCTL_PER_USER);
		if (ri->flags & JTD_RCTL_F_DENY)
			assert_int_equal(rule->action, JTD_RCTL_DENY);
		else if (ri->flags & JTD_RCTL_F_THROTTLE)
			assert_int_equal(rule->action, JTD_RCTL_THROTTLE);
		else
			assert_string_equal(rule->action_name, "sigterm");
	}
	jtd_taskcfg_free(tc);

	/* Same through Nomad's encoding. */
	tc = from_nomad(json);
	for (r = 0; r < JTD_RCTL__COUNT; r++)
		assert_true(tc->rctl[r].set && tc->rctl[r].amount == r + 1);
	jtd_taskcfg_free(tc);
}

/* Bare amounts take the resource's enforcing action; block forms. */
static void
test_rctl_forms(void **state)
{
	struct jtd_taskcfg *tc = from_nomad("{\"Exec_start\": \"x\","
	    " \"Rctl\": [{\"Cputime\": 60, \"Readbps\": \"10m\","
	    " \"Pcpu\": 250, \"Memoryuse\": \"536870912\","
	    " \"Maxproc\": [{\"Amount\": 512, \"Action\": \"SIGKILL\"}],"
	    " \"Openfiles\": {\"Amount\": 1024.0, \"Action\": \"log\"},"
	    " \"Nthr\": [], \"Swapuse\": null, \"Wallclock\": \"1g\"}]}");
	const struct jtd_rctl_rule *rc = tc->rctl;

	(void)state;
	assert_string_equal(rc[JTD_RCTL_CPUTIME].action_name, "sigkill");
	assert_int_equal(rc[JTD_RCTL_CPUTIME].action, JTD_RCTL_SIGNAL);
	assert_true(rc[JTD_RCTL_CPUTIME].amount == 60);
	assert_int_equal(rc[JTD_RCTL_READBPS].action, JTD_RCTL_THROTTLE);
	assert_true(rc[JTD_RCTL_READBPS].amount == 10 * 1024 * 1024);
	assert_int_equal(rc[JTD_RCTL_PCPU].action, JTD_RCTL_DENY);
	assert_true(rc[JTD_RCTL_MEMORYUSE].amount == 536870912);
	assert_string_equal(rc[JTD_RCTL_MAXPROC].action_name, "sigkill");
	assert_true(rc[JTD_RCTL_MAXPROC].amount == 512);
	assert_int_equal(rc[JTD_RCTL_OPENFILES].action, JTD_RCTL_LOG);
	assert_true(rc[JTD_RCTL_OPENFILES].amount == 1024);
	assert_false(rc[JTD_RCTL_NTHR].set);
	assert_false(rc[JTD_RCTL_SWAPUSE].set);
	assert_true(rc[JTD_RCTL_WALLCLOCK].amount == 1ULL << 30);
	jtd_taskcfg_free(tc);
}

/* Old misspellings fill the real parameter. */
static void
test_aliases(void **state)
{
	struct jtd_taskcfg *tc = from_nomad("{\"Exec_start\": \"x\","
	    " \"Allow_read_msgbug\": true, \"Allow_mount_fdescds\": true,"
	    " \"Exec_postart\": \"logger up\"}");

	(void)state;
	assert_true(tc->allow_read_msgbuf.set && tc->allow_read_msgbuf.val);
	assert_true(tc->allow_mount_fdescfs.val);
	assert_string_equal(tc->exec_poststart.v[0], "logger up");
	assert_ptr_equal(jtd_param_find("Allow_read_msgbug"),
	    jtd_param_find("Allow_read_msgbuf"));
	jtd_taskcfg_free(tc);
}

/*
 * One bad config per rule: it must fail, with a problem that names the
 * parameter (a) and says what is accepted (b).  Each goes through both
 * front ends.
 */
struct bad {
	const char *json;
	const char *a;
	const char *b;
};

static const struct bad bad_configs[] = {
	/* Types. */
	{ "\"Allow_raw_sockets\": \"yes\"", "Allow_raw_sockets:",
	    "expected true or false" },
	{ "\"Host_hostname\": [\"a\"]", "Host_hostname:", "expected a string" },
	{ "\"Jid\": \"seven\"", "Jid:", "expected a whole number" },
	{ "\"args\": \"-c\", \"command\": \"/bin/sh\"", "args:",
	    "expected a list of strings" },
	{ "\"Exec_prestart\": {\"a\": 1}", "Exec_prestart:",
	    "a string or a list of strings" },
	{ "\"Depend\": [\"a\", [\"b\"]]", "Depend: item 2:",
	    "expected a string" },
	{ "\"Host_hostname\": \"a\\u0000b\"", "Host_hostname:",
	    "NUL byte" },
	{ "\"Host_hostname\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaa\"", "Host_hostname:",
	    "longer than 255 bytes" },
	/* Enumerations. */
	{ "\"Ip4\": \"foo\"", "Ip4: \"foo\" is not accepted",
	    "\"inherit\", \"new\" or \"disable\"" },
	{ "\"Ip6\": \"none\"", "Ip6:", "\"inherit\", \"new\" or \"disable\"" },
	{ "\"Vnet\": \"maybe\"", "Vnet:",
	    "use true, false, \"new\" or \"inherit\"" },
	{ "\"Vnet\": \"disable\"", "Vnet:", "\"new\" or \"inherit\"" },
	{ "\"Host\": \"disable\"", "Host:", "\"inherit\" or \"new\"" },
	{ "\"Linux\": \"off\"", "Linux:", "\"inherit\" or \"new\"" },
	{ "\"Sysvmsg\": \"private\"", "Sysvmsg:",
	    "\"inherit\", \"new\" or \"disable\"" },
	{ "\"Sysvshm\": true", "Sysvshm:",
	    "\"inherit\", \"new\" or \"disable\"" },
	/* Ranges. */
	{ "\"Enforce_statfs\": 3", "Enforce_statfs: 3 is out of range",
	    "from 0 to 2" },
	{ "\"Securelevel\": 4", "Securelevel:", "from -1 to 3" },
	{ "\"Securelevel\": -2", "Securelevel:", "from -1 to 3" },
	{ "\"Devfs_ruleset\": 65536", "Devfs_ruleset:", "from 0 to 65535" },
	{ "\"Children_max\": -1", "Children_max:", "from 0 to" },
	{ "\"Exec_timeout\": 1.5", "Exec_timeout:",
	    "must be a whole number, got 1.5" },
	{ "\"Stop_timeout\": -5", "Stop_timeout:", "from 0 to" },
	{ "\"Jid\": 0", "Jid:", "from 1 to 999999" },
	{ "\"Exec_fib\": 1e30", "Exec_fib:", "from 0 to 65535" },
	/* Read-only. */
	{ "\"Children_cur\": 0", "Children_cur:", "read-only" },
	/* Paths. */
	{ "\"Path\": \"jails/root\"", "Path:", "absolute path" },
	{ "\"Path\": \"/jails/../etc\"", "Path:", "without \"..\"" },
	{ "\"Exec_consolelog\": \"log.txt\"", "Exec_consolelog:",
	    "absolute path" },
	{ "\"Mount_fstab\": [\"/etc/fstab.a\", \"fstab.b\"]", "Mount_fstab:",
	    "absolute path" },
	{ "\"Mount\": \"/a /b nullfs\"", "Mount:", "not an fstab(5) line" },
	{ "\"Mount\": [\"/a b nullfs ro\"]", "Mount:",
	    "absolute mount point" },
	/* Addresses. */
	{ "\"Ip4_addr\": \"em1|300.1.1.1\"", "Ip4_addr:",
	    "not an IPv4 address" },
	{ "\"Ip4_addr\": \"em1|192.0.2.1/33\"", "Ip4_addr:",
	    "prefix length (0 to 32)" },
	{ "\"Ip4_addr\": \"2001:db8::1\"", "Ip4_addr:", "put it in Ip6_addr" },
	{ "\"Ip4_addr\": \"em 1|192.0.2.1\"", "Ip4_addr:",
	    "bad interface name" },
	{ "\"Ip6_addr\": [\"em0|2001:db8::zz\"]", "Ip6_addr:",
	    "[interface|]address[/prefix]" },
	{ "\"Ip6_addr\": \"2001:db8::1/129\"", "Ip6_addr:",
	    "prefix length (0 to 128)" },
	/* Conflicts. */
	{ "\"Vnet\": true, \"Ip4_addr\": \"192.0.2.1\"", "Ip4_addr:",
	    "Vnet jail cannot have IP address restrictions" },
	{ "\"Vnet\": \"new\", \"Ip6_addr\": \"2001:db8::1\"", "Ip6_addr:",
	    "Vnet jail" },
	{ "\"Ip4\": \"disable\", \"Ip4_addr\": \"192.0.2.1\"", "Ip4_addr:",
	    "needs Ip4 = \"new\"" },
	{ "\"Ip6\": \"inherit\", \"Ip6_addr\": \"2001:db8::1\"", "Ip6_addr:",
	    "needs Ip6 = \"new\"" },
	{ "\"Vnet_nic\": \"epair0b\"", "Vnet_nic:", "needs Vnet = true" },
	{ "\"Vnet\": true, \"Nic\": \"em0\"", "Nic:", "use Vnet_nic" },
	{ "\"Host\": \"inherit\", \"Host_hostname\": \"x\"", "Host_hostname:",
	    "needs Host = \"new\"" },
	{ "\"command\": \"/bin/sh\", \"Exec_start\": \"sh /etc/rc\"",
	    "command:",
	    "use command (with args) or Exec_start" },
	{ "\"Allow_read_msgbug\": true, \"Allow_read_msgbuf\": false",
	    "Allow_read_msgbug:", "keep only Allow_read_msgbuf" },
	/* Rctl. */
	{ "\"Rctl\": {\"Cputime\": {\"Amount\": 5, \"Action\": \"deny\"}}",
	    "Rctl.Cputime.Action: deny is not possible for cputime",
	    "log, devctl or a signal" },
	{ "\"Rctl\": {\"Vmemoryuse\": {\"Amount\": 5, \"Action\": "
	    "\"throttle\"}}", "Rctl.Vmemoryuse.Action:",
	    "use deny, log, devctl or a signal" },
	{ "\"Rctl\": {\"Readbps\": {\"Amount\": 5, \"Action\": \"deny\"}}",
	    "Rctl.Readbps.Action:", "use throttle, log, devctl" },
	{ "\"Rctl\": {\"Maxproc\": {\"Amount\": 5, \"Action\": \"kill\"}}",
	    "Rctl.Maxproc.Action: \"kill\" is not an rctl action",
	    "deny, log, devctl or a signal" },
	{ "\"Rctl\": {\"Swapuse\": {\"Amount\": 5, \"Per\": \"process\"}}",
	    "Rctl.Swapuse.Per:", "use \"jail\", \"user\" or \"loginclass\"" },
	{ "\"Rctl\": {\"Nthr\": {\"Amount\": 5, \"Per\": \"group\"}}",
	    "Rctl.Nthr.Per:", "\"jail\", \"process\", \"user\" or" },
	{ "\"Rctl\": {\"Nthr\": {\"Action\": \"deny\"}}", "Rctl.Nthr:",
	    "Amount is missing" },
	{ "\"Rctl\": {\"Nthr\": {\"Amount\": 5, \"amount\": 6}}",
	    "Rctl.Nthr: unknown key \"amount\"", "did you mean \"Amount\"" },
	{ "\"Rctl\": {\"Memory\": 5}", "Rctl: unknown key \"Memory\"",
	    "Vmemoryuse" },
	{ "\"Rctl\": {\"vmemoryuse\": 5}", "Rctl: unknown key",
	    "did you mean \"Vmemoryuse\"" },
	{ "\"Rctl\": {\"Vmemoryuse\": -1}", "Rctl.Vmemoryuse:",
	    "from 0 to" },
	{ "\"Rctl\": {\"Vmemoryuse\": 1.5}", "Rctl.Vmemoryuse:",
	    "whole number of bytes" },
	{ "\"Rctl\": {\"Vmemoryuse\": \"lots\"}", "Rctl.Vmemoryuse:",
	    "k, m, g, t, p or e suffix" },
	{ "\"Rctl\": {\"Pcpu\": 200000}", "Rctl.Pcpu:", "limit is 100000" },
	{ "\"Rctl\": {\"Cputime\": 9223372036855}", "Rctl.Cputime:",
	    "limit is 9223372036854" },
	{ "\"Rctl\": {\"Vmemoryuse\": true}", "Rctl.Vmemoryuse:",
	    "an amount or { Amount, Action, Per }" },
	{ "\"Rctl\": [{\"Pcpu\": 1}, {\"Pcpu\": 2}]", "Rctl:",
	    "give it once" },
	{ "\"Rctl\": 5", "Rctl:", "object of RCTL resources" },
	/* Unknown parameters. */
	{ "\"path\": \"/x\"", "unknown parameter \"path\"",
	    "did you mean \"Path\"" },
	{ "\"exec.prestop\": \"x\"", "unknown parameter \"exec.prestop\"",
	    "did you mean \"Exec_prestop\"" },
	{ "\"Docker\": \"alpine\"", "unknown parameter \"Docker\"", NULL },
};

static void
expect_bad(const char *json, const char *a, const char *b, bool nomad)
{
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *tc;

	if (nomad) {
		uint8_t *bytes;
		size_t n = nomad_task_msgpack(json, &bytes);

		tc = jtd_taskcfg_decode_msgpack(bytes, n, &err);
		free(bytes);
	} else {
		tc = jtd_taskcfg_decode_json(json, strlen(json), &err);
	}
	if (tc != NULL)
		fail_msg("accepted: %s", json);
	assert_non_null(err);
	assert_int_equal(err->code, JTD_INVALID);
	if (!has_problem(err, a, b))
		fail_msg("%s\n  got: %s\n  want: %s ... %s", json, err->msg, a,
		    b != NULL ? b : "");
	jtd_err_clear(&err);
}

/* Would Nomad's hcldec pass this value to us (not a schema error)? */
static bool
nomad_would_send(const char *json)
{
	/* Unknown keys and Rctl's unknown resources stop at hcldec. */
	return strstr(json, "unknown") == NULL;
}

static void
test_bad_configs(void **state)
{
	char json[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		const struct bad *c = &bad_configs[i];
		const char *run = strstr(c->json, "Exec_start") != NULL ||
		    strstr(c->json, "\"command\"") != NULL ? "" :
		    "\"Exec_start\": \"sh /etc/rc\", ";

		snprintf(json, sizeof(json), "{%s%s}", run, c->json);
		expect_bad(json, c->a, c->b, false);
		if (nomad_would_send(c->a) && strstr(c->a, "Rctl:") == NULL)
			expect_bad(json, c->a, c->b, true);
	}

	/* No run command at all. */
	expect_bad("{\"Path\": \"/j\"}", "nothing to run",
	    "set command (with optional args) or Exec_start", false);
	expect_bad("{\"Path\": \"/j\"}", "nothing to run", NULL, true);
	expect_bad("{\"args\": [\"-c\"], \"Exec_start\": \"x\"}", "args:",
	    "needs command", false);
	expect_bad("{\"command\": \"\"}", "nothing to run", NULL, true);
	expect_bad("[]", "must be a JSON object", NULL, false);
	expect_bad("{\"Path\": ", "json: line 1", NULL, false);
}

/* Every problem is reported, and print_problems lists them one a line. */
static void
test_all_problems_listed(void **state)
{
	static const char json[] = "{\"Ip4\": \"x;y\", \"Jid\": -3,"
	    " \"Bogus\": 1, \"Exec_start\": \"a; b\", \"command\": \"c\"}";
	struct jtd_err *err = NULL;
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	(void)state;
	assert_null(jtd_taskcfg_decode_json(json, strlen(json), &err));
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	n = jtd_taskcfg_print_problems(f, "job.json", err);
	fclose(f);
	assert_int_equal(n, 4);
	assert_string_equal(buf,
	    "job.json: Jid: -3 is out of range, use a whole number from 1 to "
	    "999999\n"
	    "job.json: Ip4: \"x\\x3by\" is not accepted, use \"inherit\", "
	    "\"new\" or \"disable\"\n"
	    "job.json: unknown parameter \"Bogus\"\n"
	    "job.json: command: cannot be used together with Exec_start, use "
	    "command (with args) or Exec_start\n");
	free(buf);
	jtd_err_clear(&err);
}

/* Many problems: the first 64 are kept, the rest counted. */
static void
test_problem_cap(void **state)
{
	char json[16384];
	struct jtd_err *err = NULL;
	size_t off, i;

	(void)state;
	off = (size_t)snprintf(json, sizeof(json), "{\"Exec_start\": \"x\"");
	for (i = 0; i < 100; i++)
		off += (size_t)snprintf(json + off, sizeof(json) - off,
		    ", \"bad%zu\": 1", i);
	snprintf(json + off, sizeof(json) - off, "}");
	assert_null(jtd_taskcfg_decode_json(json, strlen(json), &err));
	assert_non_null(strstr(err->msg, "; and 36 more problems"));
	jtd_err_clear(&err);
}

static bool
valid_type(const char *t)
{
	return strcmp(t, "string") == 0 || strcmp(t, "bool") == 0 ||
	    strcmp(t, "number") == 0 || strcmp(t, "any") == 0 ||
	    strcmp(t, "list(string)") == 0;
}

/* Recursively: no block_map anywhere; every Attr has a valid type. */
static void
check_spec(const Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec *s)
{
	size_t i;

	switch (s->block_case) {
	case SPEC_(BLOCK_OBJECT):
		for (i = 0; i < s->object->n_attributes; i++)
			check_spec(s->object->attributes[i]->value);
		break;
	case SPEC_(BLOCK_ATTR):
		assert_true(valid_type(s->attr->type));
		assert_false(s->attr->required);
		break;
	case SPEC_(BLOCK_BLOCK_VALUE):
		assert_false(s->block_value->required);
		check_spec(s->block_value->nested);
		break;
	default:
		fail_msg("unexpected spec kind %d", (int)s->block_case);
	}
}

static void
test_task_schema(void **state)
{
	const Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec *s =
	    jtd_taskcfg_spec(), *rctl = NULL;
	Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec *back;
	static const char *const seed_names[] = { "Path", "Ip4", "Ip4_addr",
	    "Allow_raw_sockets", "Allow_chflags", "Exec_start", "Rctl",
	    "Host_hostname", "Exec_clean", "Exec_stop", "Mount_devfs",
	    "Exec_prestart", "Exec_poststart", "Exec_prestop", "Exec_poststop",
	    "Exec_consolelog", "Vnet", "Vnet_nic", "command", "args",
	    "Allow_read_msgbuf", "Allow_mount_fdescfs" };
	uint8_t *buf;
	size_t i, k, len;

	(void)state;
	assert_ptr_equal(s, jtd_taskcfg_spec());
	check_spec(s);
	assert_int_equal(s->object->n_attributes,
	    jtd_nparams + jtd_nparam_aliases);

	for (i = 0; i < sizeof(seed_names) / sizeof(seed_names[0]); i++) {
		for (k = 0; k < s->object->n_attributes; k++) {
			if (strcmp(s->object->attributes[k]->key,
			    seed_names[i]) == 0)
				break;
		}
		if (k == s->object->n_attributes)
			fail_msg("schema lacks %s", seed_names[i]);
		if (strcmp(seed_names[i], "Rctl") == 0)
			rctl = s->object->attributes[k]->value;
		else
			assert_string_equal(
			    s->object->attributes[k]->value->attr->name,
			    seed_names[i]);
	}

	assert_non_null(rctl);
	assert_int_equal(rctl->block_case,
	    SPEC_(BLOCK_BLOCK_VALUE));
	assert_string_equal(rctl->block_value->name, "Rctl");
	assert_int_equal(rctl->block_value->nested->object->n_attributes, 25);
	for (i = 0; i < 25; i++) {
		const Hashicorp__Nomad__Plugins__Shared__Hclspec__Attr *a =
		    rctl->block_value->nested->object->attributes[i]->
		    value->attr;

		assert_string_equal(a->name, jtd_rctl_info[i].name);
		assert_string_equal(a->type, "any");
	}

	/* It serialises and reads back. */
	len = hashicorp__nomad__plugins__shared__hclspec__spec__get_packed_size(
	    s);
	buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(hashicorp__nomad__plugins__shared__hclspec__spec__pack(
	    s, buf), len);
	back = hashicorp__nomad__plugins__shared__hclspec__spec__unpack(NULL,
	    len, buf);
	assert_non_null(back);
	assert_int_equal(back->object->n_attributes, s->object->n_attributes);
	hashicorp__nomad__plugins__shared__hclspec__spec__free_unpacked(back,
	    NULL);
	free(buf);
}

/* The descriptor table agrees with the structure and jail(8). */
static void
test_param_table(void **state)
{
	struct jtd_taskcfg *tc = from_json("{\"Exec_start\": \"x\","
	    " \"Allow_mount_nullfs\": false, \"Jid\": 5}");
	size_t i;

	(void)state;
	assert_string_equal(jtd_param_find("Allow_mount_nullfs")->jail_name,
	    "allow.mount.nullfs");
	assert_string_equal(jtd_param_find("Vnet_nic")->jail_name,
	    "vnet.interface");
	assert_true(jtd_param_find("Exec_poststop")->flags &
	    JTD_PF_HOST_HOOK);
	assert_false(jtd_param_find("Exec_start")->flags & JTD_PF_HOST_HOOK);
	assert_null(jtd_param_find("path"));
	for (i = 0; i < jtd_nparams; i++) {
		const struct jtd_param *p = &jtd_params[i];
		bool want = strcmp(p->name, "Exec_start") == 0 ||
		    strcmp(p->name, "Allow_mount_nullfs") == 0 ||
		    strcmp(p->name, "Jid") == 0;

		if (jtd_taskcfg_is_set(tc, p) != want)
			fail_msg("%s: is_set wrong", p->name);
	}
	assert_int_equal(jtd_jailsys_kernel(JTD_JAILSYS_INHERIT), 2);
	assert_int_equal(jtd_jailsys_kernel(JTD_JAILSYS_DISABLE), 0);
	jtd_taskcfg_free(tc);
	jtd_taskcfg_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed1_json),
		cmocka_unit_test(test_seed1_msgpack),
		cmocka_unit_test(test_seed2_json),
		cmocka_unit_test(test_seed2_msgpack),
		cmocka_unit_test(test_command_and_lists),
		cmocka_unit_test(test_rctl_all_resources),
		cmocka_unit_test(test_rctl_forms),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_all_problems_listed),
		cmocka_unit_test(test_problem_cap),
		cmocka_unit_test(test_task_schema),
		cmocka_unit_test(test_param_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
