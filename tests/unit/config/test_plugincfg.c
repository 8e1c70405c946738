/*
 * The plugin (agent-side) config: defaults, Nomad's encoding with the
 * default specs, bad configs, the schema, and the policy check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/plugincfg.h"
#include "cfg_helpers.h"

#define SPEC_(k)	HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__##k

static void
assert_defaults(const struct jtd_plugincfg *pc)
{
	assert_true(pc->enabled);
	assert_false(pc->allow_host_hooks);
	assert_false(pc->allow_host_mounts);
	assert_int_equal(pc->allowed_paths.n, 0);
	assert_int_equal(pc->denied_parameters.n, 0);
}

static struct jtd_plugincfg *
from_bytes(const char *spec, struct jtd_err **err)
{
	uint8_t *b;
	size_t n = bytes_of(spec, &b);
	struct jtd_plugincfg *pc = jtd_plugincfg_decode_msgpack(b, n, err);

	free(b);
	return pc;
}

static void
test_defaults(void **state)
{
	struct jtd_err *err = NULL;
	struct jtd_plugincfg *pc;

	(void)state;
	/* No SetConfig payload at all. */
	pc = jtd_plugincfg_decode_msgpack(NULL, 0, &err);
	assert_non_null(pc);
	assert_defaults(pc);
	jtd_plugincfg_free(pc);

	/* An empty map. */
	pc = from_bytes("80", &err);
	assert_non_null(pc);
	assert_defaults(pc);
	jtd_plugincfg_free(pc);

	/* What Nomad sends for no config block: the default literals. */
	pc = from_bytes("85 a7'enabled' c3 b0'allow_host_hooks' c2 "
	    "b1'allow_host_mounts' c2 ad'allowed_paths' 90 "
	    "b1'denied_parameters' 90", &err);
	if (pc == NULL)
		fail_msg("%s", err->msg);
	assert_defaults(pc);
	jtd_plugincfg_free(pc);

	/* Explicit nulls keep the defaults too. */
	pc = from_bytes("82 a7'enabled' c0 ad'allowed_paths' c0", &err);
	assert_non_null(pc);
	assert_defaults(pc);
	jtd_plugincfg_free(pc);

	assert_true(jtd_plugincfg_enabled(NULL));
	jtd_plugincfg_free(NULL);
}

static void
test_good_config(void **state)
{
	static const char json[] = "{\"enabled\": false,"
	    " \"allow_host_hooks\": \"true\", \"allow_host_mounts\": [true],"
	    " \"allowed_paths\": [\"/zroot/jails\", \"/usr/jails/\"],"
	    " \"denied_parameters\": [\"Allow_mount\", \"Allow_read_msgbug\"]}";
	struct jtd_err *err = NULL;
	struct jtd_plugincfg *pc;

	(void)state;
	pc = jtd_plugincfg_decode_json(json, strlen(json), &err);
	if (pc == NULL)
		fail_msg("%s", err->msg);
	assert_false(pc->enabled);
	assert_false(jtd_plugincfg_enabled(pc));
	assert_true(pc->allow_host_hooks);
	assert_true(pc->allow_host_mounts);
	assert_int_equal(pc->allowed_paths.n, 2);
	assert_string_equal(pc->allowed_paths.v[1], "/usr/jails/");
	assert_int_equal(pc->denied_parameters.n, 2);
	/* The old misspelling is stored as the real name. */
	assert_string_equal(pc->denied_parameters.v[1], "Allow_read_msgbuf");
	jtd_plugincfg_free(pc);

	/* A lone string for a list (HCL1 agent files). */
	pc = from_bytes("81 ad'allowed_paths' a2'/j'", &err);
	assert_non_null(pc);
	assert_string_equal(pc->allowed_paths.v[0], "/j");
	jtd_plugincfg_free(pc);
}

static void
expect_bad(const char *json, const char *a, const char *b)
{
	struct jtd_err *err = NULL;

	assert_null(jtd_plugincfg_decode_json(json, strlen(json), &err));
	assert_non_null(err);
	assert_int_equal(err->code, JTD_INVALID);
	if (!has_problem(err, a, b))
		fail_msg("%s\n  got: %s\n  want: %s ... %s", json, err->msg, a,
		    b != NULL ? b : "");
	jtd_err_clear(&err);
}

static void
test_bad_configs(void **state)
{
	(void)state;
	expect_bad("{\"enabled\": \"yes\"}", "enabled:",
	    "expected true or false");
	expect_bad("{\"allowed_paths\": [\"jails\"]}", "allowed_paths:",
	    "absolute path");
	expect_bad("{\"allowed_paths\": [\"/a/../b\"]}", "allowed_paths:",
	    "without \"..\"");
	expect_bad("{\"allowed_paths\": [1]}", "allowed_paths: item 1:",
	    "expected a string");
	expect_bad("{\"allowed_paths\": {\"a\": 1}}", "allowed_paths:",
	    "expected a list of strings");
	expect_bad("{\"denied_parameters\": [\"Frobnicate\"]}",
	    "denied_parameters: \"Frobnicate\" is not a task parameter",
	    "Allow_raw_sockets, ");
	expect_bad("{\"denied_parameters\": [\"allow_mount\"]}",
	    "denied_parameters:", "did you mean \"Allow_mount\"");
	expect_bad("{\"Enabled\": true}", "unknown plugin option \"Enabled\"",
	    "did you mean \"enabled\"");
	expect_bad("{\"gc\": true}", "unknown plugin option \"gc\"",
	    "accepted: enabled, allow_host_hooks");
	expect_bad("[]", "must be a JSON object", NULL);
	{
		struct jtd_err *err = NULL;

		assert_null(from_bytes("81 a7'enabled' d4 00 00", &err));
		assert_non_null(strstr(err->msg, "enabled: value not known"));
		jtd_err_clear(&err);
		assert_null(from_bytes("91 c3", &err));
		assert_non_null(strstr(err->msg, "must be an object"));
		jtd_err_clear(&err);
	}
}

static void
test_schema(void **state)
{
	const Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec *s =
	    jtd_plugincfg_spec();
	size_t i, len;
	uint8_t *buf;

	(void)state;
	assert_ptr_equal(s, jtd_plugincfg_spec());
	assert_int_equal(s->block_case,
	    SPEC_(BLOCK_OBJECT));
	assert_int_equal(s->object->n_attributes, jtd_nplugin_opts);
	for (i = 0; i < s->object->n_attributes; i++) {
		const Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec *v =
		    s->object->attributes[i]->value;

		assert_int_equal(v->block_case,
		    SPEC_(BLOCK_DEFAULT));
		assert_string_equal(v->default_->primary->attr->name,
		    s->object->attributes[i]->key);
		assert_string_equal(v->default_->primary->attr->type,
		    jtd_plugin_opts[i].type);
		assert_string_equal(v->default_->default_->literal->value,
		    jtd_plugin_opts[i].default_literal);
	}
	len = hashicorp__nomad__plugins__shared__hclspec__spec__get_packed_size(
	    s);
	buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(hashicorp__nomad__plugins__shared__hclspec__spec__pack(
	    s, buf), len);
	free(buf);
}

static struct jtd_plugincfg *
plugin(const char *json)
{
	struct jtd_err *err = NULL;
	struct jtd_plugincfg *pc = jtd_plugincfg_decode_json(json,
	    strlen(json), &err);

	if (pc == NULL)
		fail_msg("%s", err->msg);
	return pc;
}

static struct jtd_taskcfg *
task(const char *json)
{
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *tc = jtd_taskcfg_decode_json(json, strlen(json),
	    &err);

	if (tc == NULL)
		fail_msg("%s", err->msg);
	return tc;
}

static void
expect_denied(const struct jtd_plugincfg *pc, const struct jtd_taskcfg *tc,
    const char *alloc_dir, const char *a, const char *b)
{
	struct jtd_err *err = NULL;

	assert_int_equal(jtd_policy_check_alloc(pc, tc, alloc_dir, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->code, JTD_DENIED);
	if (!has_problem(err, a, b))
		fail_msg("got: %s\n  want: %s ... %s", err->msg, a,
		    b != NULL ? b : "");
	jtd_err_clear(&err);
}

static void
expect_allowed(const struct jtd_plugincfg *pc, const struct jtd_taskcfg *tc,
    const char *alloc_dir)
{
	struct jtd_err *err = NULL;

	if (jtd_policy_check_alloc(pc, tc, alloc_dir, &err) != 0)
		fail_msg("denied: %s", err->msg);
}

/* The seed's second example is the interesting case for policy. */
static const char seed2[] = "{\"Path\": \"/zroot/iocage/jails/myjail/root\","
    " \"Exec_start\": \"sh /etc/rc\", \"Exec_prestart\": \"jib addm a em1\","
    " \"Exec_poststop\": \"jib destroy a\", \"Vnet\": true,"
    " \"Vnet_nic\": \"e0b_a\", \"Exec_consolelog\": \"/var/tmp/log\"}";

static void
test_policy(void **state)
{
	struct jtd_plugincfg *open_pc = plugin("{\"allow_host_hooks\": true,"
	    " \"allowed_paths\": [\"/zroot/iocage/jails\", \"/var/tmp\"]}");
	struct jtd_plugincfg *deny = plugin("{\"allow_host_hooks\": true,"
	    " \"allowed_paths\": [\"/\"],"
	    " \"denied_parameters\": [\"Vnet\", \"Allow_mount_fdescds\"]}");
	struct jtd_plugincfg *off = plugin("{\"enabled\": false}");
	struct jtd_taskcfg *tc = task(seed2);
	struct jtd_taskcfg *plain = task("{\"command\": \"/bin/true\"}");
	struct jtd_taskcfg *mounts = task("{\"command\": \"/bin/true\","
	    " \"Mount\": \"/a /b nullfs ro 0 0\", \"Allow_mount_fdescfs\": "
	    "false}");
	struct jtd_taskcfg *inalloc = task("{\"command\": \"/bin/true\","
	    " \"Path\": \"/var/nomad/alloc/1234/task/root\"}");
	struct jtd_err *err = NULL;

	(void)state;
	/* Defaults (NULL config): hooks, path and log all refused. */
	assert_int_equal(jtd_policy_check(NULL, tc, &err), -1);
	assert_int_equal(err->code, JTD_DENIED);
	assert_true(has_problem(err, "Exec_prestart:",
	    "allow_host_hooks (false)"));
	assert_true(has_problem(err, "Exec_poststop:", "allow_host_hooks"));
	assert_true(has_problem(err, "Path: \"/zroot/iocage/jails/myjail/"
	    "root\" is outside", "allowed_paths (which is empty)"));
	assert_true(has_problem(err, "Exec_consolelog:", "allowed_paths"));
	assert_false(has_problem(err, "Exec_start", NULL));
	jtd_err_clear(&err);

	expect_allowed(open_pc, tc, NULL);
	expect_allowed(NULL, plain, NULL);
	expect_allowed(NULL, plain, "/var/nomad/alloc/1234");
	expect_denied(deny, tc, NULL, "Vnet:",
	    "not allowed by the plugin option denied_parameters");
	expect_denied(deny, mounts, NULL, "Allow_mount_fdescfs:",
	    "denied_parameters");
	expect_denied(deny, mounts, NULL, "Mount:",
	    "allow_host_mounts (false) forbids");
	expect_denied(off, plain, NULL, "disabled", "enabled = false");

	/* Inside the allocation directory is always fine. */
	expect_allowed(NULL, inalloc, "/var/nomad/alloc/1234");
	expect_denied(NULL, inalloc, "/var/nomad/alloc/12", "Path:",
	    "outside the allocation directory");
	expect_denied(NULL, inalloc, NULL, "Path:", "allowed_paths");

	jtd_plugincfg_free(open_pc);
	jtd_plugincfg_free(deny);
	jtd_plugincfg_free(off);
	jtd_taskcfg_free(tc);
	jtd_taskcfg_free(plain);
	jtd_taskcfg_free(mounts);
	jtd_taskcfg_free(inalloc);
}

static void
test_path_within(void **state)
{
	(void)state;
	assert_true(jtd_path_within("/a/b", "/a"));
	assert_true(jtd_path_within("/a", "/a"));
	assert_true(jtd_path_within("/a/", "/a//"));
	assert_true(jtd_path_within("//a/./b", "/a"));
	assert_true(jtd_path_within("/anything", "/"));
	assert_false(jtd_path_within("/ab", "/a"));
	assert_false(jtd_path_within("/a", "/a/b"));
	assert_false(jtd_path_within("/a/../etc", "/a"));
	assert_false(jtd_path_within("/a/b", "/a/.."));
	assert_false(jtd_path_within("a/b", "a"));
	assert_false(jtd_path_within("/", "/a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_path_within),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
