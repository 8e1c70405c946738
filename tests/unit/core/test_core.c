/* Unit tests of src/core: the error contract and the hclog line format. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/io.h"
#include "core/log.h"

static void
err_set_wrap_clear(void **state)
{
	struct jtd_err *err = NULL;

	assert_int_equal(jtd_err_set(&err, JTD_INVALID, "Ip4 is %s", "x"), -1);
	assert_non_null(err);
	assert_int_equal(err->code, JTD_INVALID);
	assert_string_equal(err->msg, "Ip4 is x");
	/* The first error is kept: the root cause is what matters. */
	jtd_err_set(&err, JTD_INTERNAL, "later");
	assert_string_equal(err->msg, "Ip4 is x");
	jtd_err_wrap(&err, "task %s", "web");
	assert_string_equal(err->msg, "task web: Ip4 is x");
	jtd_err_clear(&err);
	assert_null(err);
	jtd_err_clear(&err);
}

static void
err_sys_maps_errno(void **state)
{
	struct jtd_err *err = NULL;

	jtd_err_sys(&err, ENOENT, "open %s", "/nope");
	assert_int_equal(err->code, JTD_NOT_FOUND);
	assert_int_equal(err->sys_errno, ENOENT);
	assert_non_null(strstr(err->msg, "open /nope: "));
	jtd_err_clear(&err);
	jtd_err_sys(&err, EPERM, "x");
	assert_int_equal(err->code, JTD_DENIED);
	jtd_err_clear(&err);
}

static void
json_escape(void **state)
{
	char buf[64];

	jtd_json_escape(buf, sizeof(buf), "a\"b\\c\nd\x01");
	assert_string_equal(buf, "a\\\"b\\\\c\\nd\\u0001");
	/* Truncation never splits an escape. */
	jtd_json_escape(buf, 4, "\"\"\"");
	assert_string_equal(buf, "\\\"");
}

/* Capture what one log call writes to stderr. */
static void
capture(char *out, size_t size, enum jtd_log_level level,
    const char *const *kv, const char *msg)
{
	int fds[2], saved;
	ssize_t n;

	assert_int_equal(jtd_pipe_cloexec(fds, 0), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	jtd_logkv(level, kv, "%s", msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = jtd_read(fds[0], out, size - 1);
	close(fds[0]);
	assert_true(n > 0);
	out[n] = '\0';
}

static void
hclog_line(void **state)
{
	const char *kv[] = { "task_id", "a/b/c", "skipped", NULL, NULL };
	char line[1024];
	regex_t re;

	jtd_log_init(JTD_LOG_HCLOG, JTD_LOG_DEBUG);
	capture(line, sizeof(line), JTD_LOG_WARN, kv, "bad \"Ip4\"");
	/* go-plugin parses @level/@message as strings and the timestamp in
	 * Go's 2006-01-02T15:04:05.000000Z07:00 layout. */
	assert_int_equal(regcomp(&re,
	    "^\\{\"@level\":\"warn\",\"@message\":\"bad \\\\\"Ip4\\\\\"\","
	    "\"@module\":\"jail-task-driver\","
	    "\"@timestamp\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{6}(Z|[+-][0-9]{2}:[0-9]{2})\","
	    "\"task_id\":\"a/b/c\"\\}\n$", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, line, 0, NULL, 0), 0);
	regfree(&re);
}

static void
level_filter(void **state)
{
	char line[256];
	int fds[2], saved;
	ssize_t n;

	jtd_log_init(JTD_LOG_PLAIN, JTD_LOG_WARN);
	assert_false(jtd_log_enabled(JTD_LOG_INFO));
	assert_int_equal(jtd_pipe_cloexec(fds, O_NONBLOCK), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	jtd_info("dropped");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], line, sizeof(line));
	close(fds[0]);
	assert_true(n <= 0);
	capture(line, sizeof(line), JTD_LOG_ERROR, NULL, "kept");
	assert_string_equal(line, "error: kept\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(err_set_wrap_clear),
		cmocka_unit_test(err_sys_maps_errno),
		cmocka_unit_test(json_escape),
		cmocka_unit_test(hclog_line),
		cmocka_unit_test(level_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
