/*
 * gRPC message framing: the deframer against every way a peer may cut
 * a byte stream, and the grpc-message / -bin header encodings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire/grpc.h"

#define MAX_MSGS 16

struct got {
	size_t n;
	uint8_t *msg[MAX_MSGS];
	size_t len[MAX_MSGS];
	const uint8_t *ptr[MAX_MSGS];	/* where the deframer handed it */
	int stop_after;			/* return 1 after this many */
};

static int
collect(void *arg, const uint8_t *msg, size_t len)
{
	struct got *g = arg;

	assert_true(g->n < MAX_MSGS);
	assert_non_null(msg);
	g->msg[g->n] = malloc(len + 1);
	assert_non_null(g->msg[g->n]);
	memcpy(g->msg[g->n], msg, len);
	g->len[g->n] = len;
	g->ptr[g->n] = msg;
	g->n++;
	return g->stop_after > 0 && (int)g->n >= g->stop_after;
}

static void
got_free(struct got *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->msg[i]);
	memset(g, 0, sizeof(*g));
}

/* Append one framed message to buf; returns the new length. */
static size_t
frame(uint8_t *buf, size_t at, const char *msg, size_t len)
{
	buf[at] = 0;
	buf[at + 1] = (uint8_t)(len >> 24);
	buf[at + 2] = (uint8_t)(len >> 16);
	buf[at + 3] = (uint8_t)(len >> 8);
	buf[at + 4] = (uint8_t)len;
	memcpy(buf + at + 5, msg, len);
	return at + 5 + len;
}

static size_t
three_messages(uint8_t *buf)
{
	size_t n = 0;

	n = frame(buf, n, "hello", 5);
	n = frame(buf, n, "", 0);
	n = frame(buf, n, "world!", 6);
	return n;
}

static void
check_three(const struct got *g)
{
	assert_int_equal(g->n, 3);
	assert_int_equal(g->len[0], 5);
	assert_memory_equal(g->msg[0], "hello", 5);
	assert_int_equal(g->len[1], 0);
	assert_int_equal(g->len[2], 6);
	assert_memory_equal(g->msg[2], "world!", 6);
}

static void
test_one_chunk(void **state)
{
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	struct got g = { 0 };
	uint8_t buf[64];
	size_t n = three_messages(buf);

	grpc_deframer_init(&d, 1024);
	assert_int_equal(grpc_deframer_feed(&d, buf, n, collect, &g, &err),
	    0);
	assert_null(err);
	check_three(&g);
	/* Whole messages in the chunk are handed over without a copy. */
	assert_ptr_equal(g.ptr[0], buf + 5);
	assert_ptr_equal(g.ptr[2], buf + 20);
	assert_int_equal(d.hdr_len, 0);
	grpc_deframer_free(&d);
	got_free(&g);
}

static void
test_byte_by_byte(void **state)
{
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	struct got g = { 0 };
	uint8_t buf[64];
	size_t i, n = three_messages(buf);

	grpc_deframer_init(&d, 1024);
	for (i = 0; i < n; i++) {
		assert_int_equal(grpc_deframer_feed(&d, buf + i, 1, collect,
		    &g, &err), 0);
		/* A message is delivered exactly when its last byte is in. */
		if (i == 8)
			assert_int_equal(g.n, 0);
		if (i == 9 || i == 13)
			assert_int_equal(g.n, 1);
		if (i == 14 || i == 24)
			assert_int_equal(g.n, 2);
	}
	check_three(&g);
	grpc_deframer_free(&d);
	got_free(&g);
}

static void
test_every_split(void **state)
{
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	struct got g = { 0 };
	uint8_t buf[64];
	size_t i, j, n = three_messages(buf);

	/* Three chunks, cut at every pair of positions. */
	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			grpc_deframer_init(&d, 1024);
			assert_int_equal(grpc_deframer_feed(&d, buf, i,
			    collect, &g, &err), 0);
			assert_int_equal(grpc_deframer_feed(&d, buf + i, j - i,
			    collect, &g, &err), 0);
			assert_int_equal(grpc_deframer_feed(&d, buf + j, n - j,
			    collect, &g, &err), 0);
			check_three(&g);
			grpc_deframer_free(&d);
			got_free(&g);
		}
	}
}

static void
test_zero_length_only(void **state)
{
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	struct got g = { 0 };
	uint8_t buf[16];
	size_t n = 0;

	n = frame(buf, n, "", 0);
	n = frame(buf, n, "", 0);
	grpc_deframer_init(&d, 0);
	assert_int_equal(grpc_deframer_feed(&d, buf, n, collect, &g, &err),
	    0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], 0);
	assert_int_equal(g.len[1], 0);
	/* An empty feed delivers nothing and is fine. */
	assert_int_equal(grpc_deframer_feed(&d, buf, 0, collect, &g, &err),
	    0);
	assert_int_equal(g.n, 2);
	grpc_deframer_free(&d);
	got_free(&g);
}

static void
test_oversized(void **state)
{
	static const uint8_t hdr[] = { 0, 0, 0, 0x04, 0x01 };	/* 1025 */
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	struct got g = { 0 };

	grpc_deframer_init(&d, 1024);
	assert_int_equal(grpc_deframer_feed(&d, hdr, sizeof(hdr), collect,
	    &g, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->code, JTD_EXHAUSTED);
	assert_int_equal(g.n, 0);
	jtd_err_clear(&err);
	grpc_deframer_free(&d);

	/* The limit itself is fine. */
	grpc_deframer_init(&d, 1025);
	assert_int_equal(grpc_deframer_feed(&d, hdr, sizeof(hdr), collect,
	    &g, &err), 0);
	assert_int_equal(d.want, 1025);
	grpc_deframer_free(&d);
}

static void
test_compressed_flag(void **state)
{
	static const uint8_t msg[] = { 1, 0, 0, 0, 1, 'x' };
	static const uint8_t bad[] = { 0x80, 0, 0, 0, 0 };
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	struct got g = { 0 };

	grpc_deframer_init(&d, 1024);
	assert_int_equal(grpc_deframer_feed(&d, msg, sizeof(msg), collect,
	    &g, &err), -1);
	assert_int_equal(err->code, JTD_INTERNAL);
	jtd_err_clear(&err);
	grpc_deframer_free(&d);

	grpc_deframer_init(&d, 1024);
	assert_int_equal(grpc_deframer_feed(&d, bad, sizeof(bad), collect,
	    &g, &err), -1);
	assert_int_equal(err->code, JTD_INTERNAL);
	assert_int_equal(g.n, 0);
	jtd_err_clear(&err);
	grpc_deframer_free(&d);
}

static void
test_callback_stops(void **state)
{
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	struct got g = { .stop_after = 1 };
	uint8_t buf[64];
	size_t n = three_messages(buf);

	grpc_deframer_init(&d, 1024);
	assert_int_equal(grpc_deframer_feed(&d, buf, n, collect, &g, &err),
	    -1);
	assert_non_null(err);
	assert_int_equal(g.n, 1);
	jtd_err_clear(&err);
	grpc_deframer_free(&d);
	got_free(&g);
}

static uint8_t *taken;

static int
take_cb(void *arg, const uint8_t *msg, size_t len)
{
	struct grpc_deframer *d = arg;

	taken = grpc_deframer_take(d, msg);
	return 0;
}

static void
test_take(void **state)
{
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	uint8_t buf[64];
	size_t n = frame(buf, 0, "split message", 13);

	/* Assembled from two chunks: the buffer can be taken. */
	grpc_deframer_init(&d, 1024);
	assert_int_equal(grpc_deframer_feed(&d, buf, 8, take_cb, &d, &err),
	    0);
	assert_int_equal(grpc_deframer_feed(&d, buf + 8, n - 8, take_cb, &d,
	    &err), 0);
	assert_non_null(taken);
	assert_memory_equal(taken, "split message", 13);
	assert_null(d.buf);
	free(taken);

	/* Handed over in place: nothing to take. */
	assert_int_equal(grpc_deframer_feed(&d, buf, n, take_cb, &d, &err),
	    0);
	assert_null(taken);
	grpc_deframer_free(&d);
}

static void
test_large_split(void **state)
{
	size_t len = 3 * 1024 * 1024 + 7, off, step;
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	struct got g = { 0 };
	uint8_t *buf;
	size_t i;

	buf = malloc(len + 5);
	assert_non_null(buf);
	buf[0] = 0;
	buf[1] = (uint8_t)(len >> 24);
	buf[2] = (uint8_t)(len >> 16);
	buf[3] = (uint8_t)(len >> 8);
	buf[4] = (uint8_t)len;
	for (i = 0; i < len; i++)
		buf[5 + i] = (uint8_t)(i * 31 + 7);

	grpc_deframer_init(&d, GRPC_MAX_MESSAGE);
	for (off = 0, step = 1; off < len + 5; off += step, step = step * 3 +
	    1) {
		if (step > len + 5 - off)
			step = len + 5 - off;
		assert_int_equal(grpc_deframer_feed(&d, buf + off, step,
		    collect, &g, &err), 0);
	}
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], len);
	assert_memory_equal(g.msg[0], buf + 5, len);
	grpc_deframer_free(&d);
	got_free(&g);
	free(buf);
}

static void
check_pct(const char *in, const char *want)
{
	char *out = grpc_percent_encode(in);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void
test_percent_encode(void **state)
{
	check_pct("", "");
	check_pct("plain text", "plain text");
	check_pct("100%", "100%25");
	check_pct("a\nb\tc\r", "a%0Ab%09c%0D");
	check_pct(" ~", " ~");
	check_pct("\x1f\x7f", "%1F%7F");
	check_pct("caf\xc3\xa9", "caf%C3%A9");
	check_pct("\xff", "%FF");
	check_pct("%%", "%25%25");
	check_pct("{\"k\": [1,2]}", "{\"k\": [1,2]}");
}

static void
check_b64(const char *in, size_t len, const char *want)
{
	char *out = grpc_base64_encode((const uint8_t *)in, len);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void
test_base64(void **state)
{
	/* RFC 4648 test vectors, without the padding. */
	check_b64("", 0, "");
	check_b64("f", 1, "Zg");
	check_b64("fo", 2, "Zm8");
	check_b64("foo", 3, "Zm9v");
	check_b64("foob", 4, "Zm9vYg");
	check_b64("fooba", 5, "Zm9vYmE");
	check_b64("foobar", 6, "Zm9vYmFy");
	check_b64("\xff\xfe\x00", 3, "//4A");
	check_b64("\x08\x09\x12\x04\x62\x6f\x6f\x6d", 8, "CAkSBGJvb20");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_chunk),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_zero_length_only),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_compressed_flag),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_large_split),
		cmocka_unit_test(test_percent_encode),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
