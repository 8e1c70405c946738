/*
 * Unit tests of the go-plugin contract pieces and the gRPC status detail
 * encoding, checked against the byte example of the protocol spec §7.4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "driver/rpc.h"
#include "goplugin/goplugin.h"

static void
handshake_line(void **state)
{
	struct jtd_err *err = NULL;
	char buf[128];

	assert_int_equal(jtd_goplugin_handshake_line(buf, sizeof(buf),
	    "/tmp/x/plugin.sock", &err), 33);
	assert_string_equal(buf, "1|2|unix|/tmp/x/plugin.sock|grpc\n");
	assert_int_equal(jtd_goplugin_handshake_line(buf, sizeof(buf),
	    "/tmp/a|b", &err), -1);
	assert_int_equal(err->code, JTD_INVALID);
	jtd_err_clear(&err);
	assert_int_equal(jtd_goplugin_handshake_line(buf, 10, "/tmp/sock",
	    &err), -1);
	jtd_err_clear(&err);
}

static void
cookie_and_versions(void **state)
{
	struct jtd_err *err = NULL;

	unsetenv(JTD_GOPLUGIN_COOKIE_KEY);
	assert_int_equal(jtd_goplugin_check_env(&err), -1);
	assert_non_null(strstr(err->msg, "not meant to be executed"));
	jtd_err_clear(&err);

	setenv(JTD_GOPLUGIN_COOKIE_KEY, "wrong", 1);
	assert_int_equal(jtd_goplugin_check_env(&err), -1);
	jtd_err_clear(&err);

	setenv(JTD_GOPLUGIN_COOKIE_KEY, JTD_GOPLUGIN_COOKIE_VALUE, 1);
	setenv("PLUGIN_PROTOCOL_VERSIONS", "1,2", 1);
	assert_int_equal(jtd_goplugin_check_env(&err), 0);
	setenv("PLUGIN_PROTOCOL_VERSIONS", "3", 1);
	assert_int_equal(jtd_goplugin_check_env(&err), -1);
	assert_non_null(strstr(err->msg, "PLUGIN_PROTOCOL_VERSIONS"));
	jtd_err_clear(&err);
	unsetenv("PLUGIN_PROTOCOL_VERSIONS");
	assert_int_equal(jtd_goplugin_check_env(&err), 0);
}

static void
recoverable_detail_bytes(void **state)
{
	/* google.rpc.Status{code 9, "boom", [Any RecoverableError{true}]} */
	static const char hex[] =
	    "08091204626f6f6d1a510a4b747970652e676f6f676c65617069732e636f"
	    "6d2f6861736869636f72702e6e6f6d61642e706c7567696e732e73686172"
	    "65642e737472756374732e5265636f76657261626c654572726f72120208"
	    "01";
	uint8_t want[sizeof(hex) / 2], *got = NULL;
	size_t i, n;

	for (i = 0; i < sizeof(want); i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		want[i] = (uint8_t)v;
	}
	n = jtd_rpc_status_details(9, "boom", true, &got);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(got, want, n);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_line),
		cmocka_unit_test(cookie_and_versions),
		cmocka_unit_test(recoverable_detail_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
