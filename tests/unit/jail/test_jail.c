/* Unit tests of src/jail: the spec round trip, its strictness, and the
 * exit record and escaping helpers of the state protocol. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "jail/jail.h"
#include "jail/state.h"

static char *
sdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
list_set(struct jtd_list *l, const char *const *v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	l->v = calloc(n + 1, sizeof(*l->v));
	for (l->n = 0; l->n < n; l->n++)
		l->v[l->n] = sdup(v[l->n]);
}

static struct jtd_jail *
sample(void)
{
	static const char *const argv[] = { "/bin/sh", "-c",
	    "echo \"a b\" 100% ok\n-", NULL };
	static const char *const env[] = { "NOMAD_TASK_DIR=/local",
	    "EMPTY=", "-", NULL };
	static const char *const nics[] = { "e0b_loghost", NULL };
	static const char *const stop[] = { "sh /etc/rc.shutdown", NULL };
	struct jtd_jail *j = calloc(1, sizeof(*j));

	j->name = sdup("jtd-1234abcd-web-x1y2z3w4");
	j->task_id = sdup("1234abcd-0000/web/x1y2z3w4");
	j->root = sdup("/var/jails/web root");
	j->hostname = sdup("nomad00");
	j->n_mounts = 2;
	j->mounts = calloc(2, sizeof(*j->mounts));
	j->mounts[0] = (struct jtd_mount){ JTD_MOUNT_BIND, sdup("/a/alloc"),
	    sdup("/alloc"), NULL, NULL, false, true };
	j->mounts[1] = (struct jtd_mount){ JTD_MOUNT_FS, sdup("tmpfs"),
	    sdup("/tmp"), sdup("tmpfs"), sdup("size=1m,mode=1777"), true,
	    false };
	j->mount_devfs = true;
	j->devfs_ruleset = 4;
	j->net = JTD_NET_VNET;
	j->ip4.n = 1;
	j->ip4.v = calloc(1, sizeof(*j->ip4.v));
	j->ip4.v[0].family = AF_INET;
	j->ip4.v[0].iface = sdup("em1");
	inet_pton(AF_INET, "192.168.1.102", &j->ip4.v[0].addr);
	j->ip4.v[0].prefix = 24;
	j->ip4.v[0].text = sdup("em1|192.168.1.102/24");
	j->ip6.n = 1;
	j->ip6.v = calloc(1, sizeof(*j->ip6.v));
	j->ip6.v[0].family = AF_INET6;
	inet_pton(AF_INET6, "fe80::1", &j->ip6.v[0].addr);
	j->ip6.v[0].prefix = -1;
	j->ip6.v[0].text = sdup("fe80::1");
	list_set(&j->vnet_nics, nics);
	list_set(&j->argv, argv);
	list_set(&j->env, env);
	list_set(&j->exec_stop, stop);
	j->clean_env = true;
	j->persist = true;
	j->user = sdup("nobody");
	j->stdout_path = sdup("/a/alloc/logs/.web.stdout.fifo");
	j->consolelog = sdup("/var/tmp/vnet-example");
	j->rctl[JTD_RCTL_VMEMORYUSE] = (struct jtd_rctl_rule){ true,
	    1200000, JTD_RCTL_DENY, "deny", JTD_RCTL_PER_JAIL };
	j->rctl[JTD_RCTL_CPUTIME] = (struct jtd_rctl_rule){ true, 10,
	    JTD_RCTL_SIGNAL, "sigkill", JTD_RCTL_PER_PROCESS };
	j->memory_mb = 256;
	j->memory_max_mb = 512;
	j->cpu_shares = 500;
	j->allow_set = 5;
	j->allow_val = 4;
	j->securelevel = -2;
	j->enforce_statfs = -1;
	j->children_max = -1;
	j->exec_timeout = 30;
	j->stop_timeout = -1;
	return j;
}

static void
round_trip(void **state)
{
	struct jtd_jail *j = sample(), *k;
	struct jtd_err *err = NULL;
	char *a, *b;
	size_t alen, blen;

	a = jtd_jail_encode(j, &alen, &err);
	assert_non_null(a);
	k = jtd_jail_decode(a, alen, &err);
	assert_non_null(k);
	assert_string_equal(k->root, "/var/jails/web root");
	assert_string_equal(k->argv.v[2], "echo \"a b\" 100% ok\n-");
	assert_string_equal(k->env.v[1], "EMPTY=");
	assert_string_equal(k->env.v[2], "-");
	assert_null(k->argv.v[3]);
	assert_null(k->stderr_path);
	assert_int_equal(k->mounts[1].kind, JTD_MOUNT_FS);
	assert_true(k->mounts[1].readonly);
	assert_string_equal(k->ip4.v[0].iface, "em1");
	assert_int_equal(k->ip4.v[0].prefix, 24);
	assert_null(k->ip6.v[0].iface);
	assert_int_equal(k->rctl[JTD_RCTL_CPUTIME].per, JTD_RCTL_PER_PROCESS);
	assert_string_equal(k->rctl[JTD_RCTL_CPUTIME].action_name, "sigkill");
	assert_false(k->rctl[JTD_RCTL_MEMORYUSE].set);
	assert_int_equal(jtd_jail_allow(k, 0), 0);
	assert_int_equal(jtd_jail_allow(k, 2), 1);
	assert_int_equal(jtd_jail_allow(k, 1), -1);
	/* Encoding what was decoded gives the same bytes. */
	b = jtd_jail_encode(k, &blen, &err);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	jtd_jail_free(j);
	jtd_jail_free(k);
}

static void
rejects_corruption(void **state)
{
	struct jtd_jail *j = sample();
	struct jtd_err *err = NULL;
	size_t len, cut;
	char *a = jtd_jail_encode(j, &len, &err);
	static const char *const bad[] = {
		"name x\nroot /\nargv /bin/true\n",		/* no end */
		"name x\nroot /\nargv /bin/true\nend\nname y\n",
		"name x\nname y\nroot /\nargv /bin/true\nend\n",
		"name x\nroot /\nargv /bin/true\nbogus 1\nend\n",
		"name x\nroot /\nend\n",			/* no argv */
		"name x\nroot /\nargv %zz\nend\n",
		"name x\nroot /\nargv a%00b\nend\n",
		"name x\nroot /\nargv /bin/true\nfs 1 0 0 70000\nend\n",
		"name x\nroot /\nargv /bin/true\nrctl nope 1 deny jail\nend\n",
		"name x\nroot /\nargv /bin/true\nip 4 - 300.1.1.1 -1 x\nend\n",
		"name x\nroot  /\nargv /bin/true\nend\n",
	};
	size_t i;

	/* Every truncation of a valid spec is refused. */
	for (cut = 0; cut < len; cut++) {
		struct jtd_jail *k = jtd_jail_decode(a, cut, &err);

		assert_null(k);
		assert_non_null(err);
		jtd_err_clear(&err);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(jtd_jail_decode(bad[i], strlen(bad[i]), &err));
		jtd_err_clear(&err);
	}
	free(a);
	jtd_jail_free(j);
}

static void
save_load(void **state)
{
	char dir[] = "/tmp/jtd-jail-test-XXXXXX", path[64];
	struct jtd_jail *j = sample(), *k;
	struct jtd_err *err = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/spec", dir);
	assert_int_equal(jtd_jail_save(j, path, &err), 0);
	k = jtd_jail_load(path, &err);
	assert_non_null(k);
	assert_string_equal(k->name, j->name);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);	/* no .tmp left behind */
	jtd_jail_free(j);
	jtd_jail_free(k);
}

static void
exit_record(void **state)
{
	struct jtd_exit e = { 137, 9, true, 1700000000123456789, "" }, f;
	struct jtd_err *err = NULL;
	char buf[600];
	int n;

	snprintf(e.err, sizeof(e.err), "supervisor lost: 50%% done");
	n = jtd_exit_format(&e, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(jtd_exit_parse(buf, (size_t)n, &f, &err), 0);
	assert_int_equal(f.exit_code, 137);
	assert_int_equal(f.signal, 9);
	assert_true(f.oom_killed);
	assert_true(f.ended_ns == e.ended_ns);
	assert_string_equal(f.err, e.err);
	assert_int_equal(jtd_exit_parse("1 2 3 4 -\n", 10, &f, &err), -1);
	jtd_err_clear(&err);
	assert_int_equal(jtd_exit_parse("1 2 0 4\n", 8, &f, &err), -1);
	jtd_err_clear(&err);
}

static void
escaping(void **state)
{
	char *e = jtd_pct_escape("a b%\n\x7f");
	char *u;

	assert_string_equal(e, "a%20b%25%0A%7F");
	u = jtd_pct_unescape(e, strlen(e));
	assert_string_equal(u, "a b%\n\x7f");
	free(e);
	free(u);
	assert_null(jtd_pct_unescape("%4", 2));
	assert_null(jtd_pct_unescape("%00", 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(rejects_corruption),
		cmocka_unit_test(save_load),
		cmocka_unit_test(exit_record),
		cmocka_unit_test(escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
