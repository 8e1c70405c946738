/*
 * The cty-msgpack front end: every byte example of the protocol notes
 * (§5.3), numbers in every encoding, unknown values, truncation, garbage,
 * nesting and size limits; plus the JSON front end's equivalents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/value.h"
#include "cfg_helpers.h"

static struct jtd_vdoc *
decode(const char *spec, struct jtd_err **err)
{
	uint8_t *b;
	size_t n = bytes_of(spec, &b);
	struct jtd_vdoc *doc = jtd_vdoc_from_msgpack(b, n, err);

	free(b);
	return doc;
}

static void
expect_fail(const char *spec, const char *msg_part)
{
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = decode(spec, &err);

	assert_null(doc);
	assert_non_null(err);
	assert_int_equal(err->code, JTD_INVALID);
	if (strstr(err->msg, msg_part) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err->msg, msg_part);
	jtd_err_clear(&err);
}

static void
assert_str(const struct jtd_value *v, const char *s)
{
	assert_non_null(v);
	assert_int_equal(v->type, JTD_V_STRING);
	assert_int_equal(v->str.len, strlen(s));
	assert_memory_equal(v->str.ptr, s, strlen(s));
	assert_int_equal(v->str.ptr[v->str.len], '\0');
}

static int64_t
as_i64(const struct jtd_value *v)
{
	int64_t x = 0;

	assert_int_equal(jtd_value_to_i64(v, &x), JTD_NUM_OK);
	return x;
}

#define EX1 "83 a4'args' 92 a2'-c' a1'x' a7'command' a7'/bin/sh' " \
	"a4'rctl' 81 a9'memoryuse' cd 03 e8"

static void
check_example1(const struct jtd_value *root)
{
	const struct jtd_value *args, *rctl;

	assert_int_equal(root->type, JTD_V_MAP);
	assert_int_equal(root->map.n, 3);
	args = jtd_value_get(root, "args");
	assert_non_null(args);
	assert_int_equal(args->type, JTD_V_LIST);
	assert_int_equal(args->list.n, 2);
	assert_str(&args->list.items[0], "-c");
	assert_str(&args->list.items[1], "x");
	assert_str(jtd_value_get(root, "command"), "/bin/sh");
	rctl = jtd_value_get(root, "rctl");
	assert_non_null(rctl);
	assert_int_equal(rctl->type, JTD_V_MAP);
	assert_int_equal(as_i64(jtd_value_get(rctl, "memoryuse")), 1000);
}

/* Examples 1 and 2 produce the same 47 bytes. */
static void
test_example1_and_2(void **state)
{
	struct jtd_err *err = NULL;
	uint8_t *b;
	size_t n = bytes_of(EX1, &b);
	struct jtd_vdoc *doc;

	(void)state;
	assert_int_equal(n, 47);
	doc = jtd_vdoc_from_msgpack(b, n, &err);
	assert_null(err);
	assert_non_null(doc);
	check_example1(jtd_vdoc_root(doc));
	jtd_vdoc_free(doc);
	free(b);
}

/* Example 2 with Attr(list(map(number))): block syntax as a list. */
static void
test_example2_block_list(void **state)
{
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = decode("83 a4'args' 92 a2'-c' a1'x' "
	    "a7'command' a7'/bin/sh' a4'rctl' 91 81 a9'memoryuse' cd 03 e8",
	    &err);
	const struct jtd_value *rctl;

	(void)state;
	assert_non_null(doc);
	rctl = jtd_value_get(jtd_vdoc_root(doc), "rctl");
	assert_int_equal(rctl->type, JTD_V_LIST);
	assert_int_equal(rctl->list.n, 1);
	assert_int_equal(as_i64(jtd_value_get(&rctl->list.items[0],
	    "memoryuse")), 1000);
	jtd_vdoc_free(doc);
}

/* Example 3's dynamic wrapper (never sent by Nomad) is tolerated. */
static void
test_example3_dynamic_wrapper(void **state)
{
	struct jtd_err *err = NULL;
	uint8_t *b;
	size_t n = bytes_of("83 a4'args' 92 a2'-c' a1'x' a7'command' "
	    "a7'/bin/sh' a4'rctl' 92 c4 21 "
	    "5b226f626a656374222c7b226d656d6f7279757365223a226e756d626572227d5d"
	    " 81 a9'memoryuse' cd 03 e8", &b);
	struct jtd_vdoc *doc;

	(void)state;
	assert_int_equal(n, 83);
	doc = jtd_vdoc_from_msgpack(b, n, &err);
	assert_null(err);
	check_example1(jtd_vdoc_root(doc));
	jtd_vdoc_free(doc);
	free(b);
}

/* Example 4: absent values are c0, 90 and 80. */
static void
test_example4_absent(void **state)
{
	struct jtd_err *err = NULL;
	uint8_t *b;
	size_t n = bytes_of("89 a3'any' c0 a4'args' c0 a3'blk' c0 a2'bm' 80 "
	    "a7'command' a7'/bin/sh' a5'debug' c2 a6'labels' c0 "
	    "a6'mounts' 90 a4'rctl' c0", &b);
	struct jtd_vdoc *doc = jtd_vdoc_from_msgpack(b, n, &err);
	const struct jtd_value *root, *v;
	bool flag = true;

	(void)state;
	assert_int_equal(n, 66);
	assert_non_null(doc);
	root = jtd_vdoc_root(doc);
	assert_int_equal(root->map.n, 9);
	assert_true(jtd_value_is_null(jtd_value_get(root, "any")));
	assert_true(jtd_value_is_null(jtd_value_get(root, "args")));
	assert_true(jtd_value_is_null(jtd_value_get(root, "blk")));
	assert_true(jtd_value_is_null(jtd_value_get(root, "labels")));
	assert_true(jtd_value_is_null(jtd_value_get(root, "rctl")));
	assert_true(jtd_value_is_null(jtd_value_get(root, "missing")));
	v = jtd_value_get(root, "bm");
	assert_int_equal(v->type, JTD_V_MAP);
	assert_int_equal(v->map.n, 0);
	v = jtd_value_get(root, "mounts");
	assert_int_equal(v->type, JTD_V_LIST);
	assert_int_equal(v->list.n, 0);
	assert_int_equal(jtd_value_to_bool(jtd_value_get(root, "debug"),
	    &flag), 0);
	assert_false(flag);
	assert_str(jtd_value_get(root, "command"), "/bin/sh");
	jtd_vdoc_free(doc);
	free(b);
}

/* Example 4 populated: blk, bm, labels, mounts and any. */
static void
test_example4_populated(void **state)
{
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = decode("85 a3'any' a3'str' "
	    "a3'blk' 81 a1'x' cb 3f f8 00 00 00 00 00 00 "
	    "a2'bm' 81 a2'k1' 81 a1'x' fb "
	    "a6'labels' 82 a1'a' a1'2' a1'z' a1'1' "
	    "a6'mounts' 92 81 a3'src' a1'a' 81 a3'src' a1'b'", &err);
	const struct jtd_value *root, *v;
	int64_t x;

	(void)state;
	assert_non_null(doc);
	root = jtd_vdoc_root(doc);
	assert_str(jtd_value_get(root, "any"), "str");

	v = jtd_value_get(jtd_value_get(root, "blk"), "x");
	assert_int_equal(v->type, JTD_V_DOUBLE);
	assert_true(v->d == 1.5);
	assert_int_equal(jtd_value_to_i64(v, &x), JTD_NUM_NOT_WHOLE);

	v = jtd_value_get(jtd_value_get(jtd_value_get(root, "bm"), "k1"),
	    "x");
	assert_int_equal(as_i64(v), -5);

	v = jtd_value_get(root, "labels");
	assert_int_equal(v->map.n, 2);
	assert_string_equal(v->map.items[0].key, "a");
	assert_str(&v->map.items[0].value, "2");
	assert_str(jtd_value_get(v, "z"), "1");

	v = jtd_value_get(root, "mounts");
	assert_int_equal(v->list.n, 2);
	assert_str(jtd_value_get(&v->list.items[1], "src"), "b");
	jtd_vdoc_free(doc);
}

/* Example 5: every number encoding cty produces. */
static void
test_example5_numbers(void **state)
{
	static const int64_t ints[] = { 0, 127, 128, 255, 256, 65536,
	    4294967296LL, -1, -32, -33, -129 };
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = decode("81 a1'n' 9f 00 7f cc80 ccff cd0100 "
	    "ce00010000 cf0000000100000000 ff e0 d0df d1ff7f "
	    "cb3ff8000000000000 a3'0.1' b5'100000000000000000000' "
	    "be'123456789012345678901234567890'", &err);
	const struct jtd_value *n;
	uint64_t u;
	int64_t x;
	size_t i;

	(void)state;
	assert_null(err);
	n = jtd_value_get(jtd_vdoc_root(doc), "n");
	assert_int_equal(n->list.n, 15);
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		assert_int_equal(n->list.items[i].type, JTD_V_INT);
		assert_int_equal(as_i64(&n->list.items[i]), ints[i]);
	}
	assert_int_equal(jtd_value_to_i64(&n->list.items[11], &x),
	    JTD_NUM_NOT_WHOLE);
	assert_int_equal(jtd_value_to_i64(&n->list.items[12], &x),
	    JTD_NUM_NOT_WHOLE);
	assert_int_equal(jtd_value_to_u64(&n->list.items[13], &u),
	    JTD_NUM_RANGE);
	assert_int_equal(jtd_value_to_u64(&n->list.items[14], &u),
	    JTD_NUM_RANGE);
	assert_int_equal(jtd_value_to_u64(&n->list.items[6], &u),
	    JTD_NUM_OK);
	assert_true(u == 4294967296ULL);
	jtd_vdoc_free(doc);

	/* 1e20 as float64 (Nomad <= 1.9.4). */
	doc = decode("81 a1'n' cb 44 15 af 1d 78 b5 8c 40", &err);
	n = jtd_value_get(jtd_vdoc_root(doc), "n");
	assert_int_equal(n->type, JTD_V_DOUBLE);
	assert_int_equal(jtd_value_to_u64(n, &u), JTD_NUM_RANGE);
	jtd_vdoc_free(doc);
}

/* Values just past int64, float32, big unsigned. */
static void
test_number_edges(void **state)
{
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = decode("84 a1'a' cf ffffffffffffffff "
	    "a1'b' cf 7fffffffffffffff a1'c' ca 3fc00000 "
	    "a1'd' d3 8000000000000000", &err);
	const struct jtd_value *root, *v;
	uint64_t u;
	int64_t x;

	(void)state;
	assert_non_null(doc);
	root = jtd_vdoc_root(doc);
	v = jtd_value_get(root, "a");
	assert_int_equal(v->type, JTD_V_UINT);
	assert_int_equal(jtd_value_to_u64(v, &u), JTD_NUM_OK);
	assert_true(u == UINT64_MAX);
	assert_int_equal(jtd_value_to_i64(v, &x), JTD_NUM_RANGE);
	assert_int_equal(jtd_value_get(root, "b")->type, JTD_V_INT);
	assert_true(as_i64(jtd_value_get(root, "b")) == INT64_MAX);
	v = jtd_value_get(root, "c");
	assert_int_equal(v->type, JTD_V_DOUBLE);
	assert_true(v->d == 1.5);
	assert_true(as_i64(jtd_value_get(root, "d")) == INT64_MIN);
	jtd_vdoc_free(doc);
}

/* Decimal text, exactly. */
static void
test_decimal_text(void **state)
{
	static const struct {
		const char *s;
		enum jtd_num st;
		bool neg;
		uint64_t mag;
	} cases[] = {
		{ "0", JTD_NUM_OK, false, 0 },
		{ "-0", JTD_NUM_OK, true, 0 },
		{ "42", JTD_NUM_OK, false, 42 },
		{ "-7", JTD_NUM_OK, true, 7 },
		{ "1.0", JTD_NUM_OK, false, 1 },
		{ "1200000.000", JTD_NUM_OK, false, 1200000 },
		{ "12e3", JTD_NUM_OK, false, 12000 },
		{ "1.5e1", JTD_NUM_OK, false, 15 },
		{ "1500e-2", JTD_NUM_OK, false, 15 },
		{ "0.1", JTD_NUM_NOT_WHOLE, false, 0 },
		{ "1.5", JTD_NUM_NOT_WHOLE, false, 0 },
		{ "1e-1", JTD_NUM_NOT_WHOLE, false, 0 },
		{ "18446744073709551615", JTD_NUM_OK, false, UINT64_MAX },
		{ "18446744073709551616", JTD_NUM_RANGE, false, 0 },
		{ "1e20", JTD_NUM_RANGE, false, 0 },
		{ "1e999999999", JTD_NUM_RANGE, false, 0 },
		{ "0e999999999", JTD_NUM_OK, false, 0 },
		{ "", JTD_NUM_NOT_NUMBER, false, 0 },
		{ "-", JTD_NUM_NOT_NUMBER, false, 0 },
		{ "1.", JTD_NUM_NOT_NUMBER, false, 0 },
		{ ".5", JTD_NUM_NOT_NUMBER, false, 0 },
		{ "+5", JTD_NUM_NOT_NUMBER, false, 0 },
		{ " 5", JTD_NUM_NOT_NUMBER, false, 0 },
		{ "5 ", JTD_NUM_NOT_NUMBER, false, 0 },
		{ "1e", JTD_NUM_NOT_NUMBER, false, 0 },
		{ "0x10", JTD_NUM_NOT_NUMBER, false, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool neg = false;
		uint64_t mag = 0;
		enum jtd_num st = jtd_parse_decimal(cases[i].s,
		    strlen(cases[i].s), &neg, &mag);

		if (st != cases[i].st)
			fail_msg("\"%s\": status %d, want %d", cases[i].s,
			    (int)st, (int)cases[i].st);
		if (st == JTD_NUM_OK) {
			assert_true(neg == cases[i].neg);
			assert_true(mag == cases[i].mag);
		}
	}
}

/* set(string) of ["b","a","b"] and a 40-character str8. */
static void
test_set_and_str8(void **state)
{
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = decode("82 a1's' 92 a1'a' a1'b' a1'l' d9 28 "
	    "'0123456789012345678901234567890123456789'", &err);
	const struct jtd_value *s;

	(void)state;
	assert_non_null(doc);
	s = jtd_value_get(jtd_vdoc_root(doc), "s");
	assert_int_equal(s->list.n, 2);
	assert_str(&s->list.items[0], "a");
	assert_str(&s->list.items[1], "b");
	assert_str(jtd_value_get(jtd_vdoc_root(doc), "l"),
	    "0123456789012345678901234567890123456789");
	jtd_vdoc_free(doc);
}

static void
test_unknown_values(void **state)
{
	(void)state;
	expect_fail("81 a4'Path' d4 00 00", "Path: value not known yet");
	expect_fail("81 a4'Rctl' 81 a4'Pcpu' c7 03 0c 81 01 c3",
	    "Rctl.Pcpu: value not known yet");
	expect_fail("81 a1'x' d5 05 00 00", "unsupported extension type 5");
	expect_fail("81 a1'x' c4 01 00", "unexpected binary value");
}

/* Every proper prefix of example 1 is rejected cleanly. */
static void
test_truncated(void **state)
{
	uint8_t *b;
	size_t n = bytes_of(EX1, &b), i;

	(void)state;
	for (i = 0; i < n; i++) {
		struct jtd_err *err = NULL;

		assert_null(jtd_vdoc_from_msgpack(b, i, &err));
		assert_non_null(err);
		assert_int_equal(err->code, JTD_INVALID);
		jtd_err_clear(&err);
	}
	free(b);
}

static void
test_garbage(void **state)
{
	(void)state;
	expect_fail("c1", "invalid byte 0xc1");
	expect_fail("81 a1'a' c1", "invalid byte 0xc1");
	expect_fail(EX1 " 00", "unexpected bytes after the value");
	expect_fail("dd ffffffff", "claims 4294967295 values");
	expect_fail("df ffffffff", "claims 8589934590 values");
	expect_fail("81 a1'a' db ffffffff 00", "runs past the end");
	expect_fail("81 a1'a' c6 7fffffff", "runs past the end");
	expect_fail("81 a1'a' c9 00000010 01", "runs past the end");
	expect_fail("92 01 02", "must be an object");
	expect_fail("c0", "must be an object");
	expect_fail("81 01 02", "map key is a non-string");
	expect_fail("81 a1'a' da 00", "header cut short");
	expect_fail("", "empty input");
}

/* n nested maps {"a": {"a": ... 1}}. */
static size_t
nested(size_t depth, uint8_t **out)
{
	uint8_t *b = malloc(depth * 3 + 1);
	size_t i, n = 0;

	assert_non_null(b);
	for (i = 0; i < depth; i++) {
		b[n++] = 0x81;
		b[n++] = 0xa1;
		b[n++] = 'a';
	}
	b[n++] = 0x01;
	*out = b;
	return n;
}

static void
test_depth_limit(void **state)
{
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc;
	uint8_t *b;
	size_t n;

	(void)state;
	n = nested(JTD_VALUE_MAX_DEPTH, &b);
	doc = jtd_vdoc_from_msgpack(b, n, &err);
	assert_null(err);
	assert_non_null(doc);
	jtd_vdoc_free(doc);
	free(b);

	n = nested(JTD_VALUE_MAX_DEPTH + 1, &b);
	assert_null(jtd_vdoc_from_msgpack(b, n, &err));
	assert_non_null(strstr(err->msg, "nesting deeper than 32"));
	jtd_err_clear(&err);
	free(b);

	/* An empty container counts as a level too. */
	n = nested(JTD_VALUE_MAX_DEPTH - 1, &b);
	b[n - 1] = 0x90;
	doc = jtd_vdoc_from_msgpack(b, n, &err);
	assert_null(err);
	jtd_vdoc_free(doc);
	free(b);
	n = nested(JTD_VALUE_MAX_DEPTH, &b);
	b[n - 1] = 0x80;
	assert_null(jtd_vdoc_from_msgpack(b, n, &err));
	assert_non_null(strstr(err->msg, "nesting deeper than 32"));
	jtd_err_clear(&err);
	free(b);
}

static void
test_size_limits(void **state)
{
	size_t n = JTD_VALUE_MAX_NODES + 10;
	struct jtd_err *err = NULL;
	uint8_t *b = calloc(1, JTD_VALUE_MAX_INPUT + 1);

	(void)state;
	assert_non_null(b);
	/* {"": [0, 0, ...]} with too many values. */
	b[0] = 0x81;
	b[1] = 0xa0;
	b[2] = 0xdd;
	b[3] = (uint8_t)(n >> 24);
	b[4] = (uint8_t)(n >> 16);
	b[5] = (uint8_t)(n >> 8);
	b[6] = (uint8_t)n;
	assert_null(jtd_vdoc_from_msgpack(b, n + 7, &err));
	assert_non_null(strstr(err->msg, "more than 100000 values"));
	jtd_err_clear(&err);

	assert_null(jtd_vdoc_from_msgpack(b, JTD_VALUE_MAX_INPUT + 1, &err));
	assert_non_null(strstr(err->msg, "larger than"));
	jtd_err_clear(&err);
	free(b);
}

/* A repeated key keeps the later value, wherever it appears. */
static void
test_repeated_keys(void **state)
{
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = decode("84 a1'a' 01 a1'b' 02 a1'a' 03 "
	    "a1'c' 81 a1'x' 04", &err);
	const struct jtd_value *root;

	(void)state;
	root = jtd_vdoc_root(doc);
	assert_int_equal(root->map.n, 3);
	assert_int_equal(as_i64(jtd_value_get(root, "a")), 3);
	assert_int_equal(as_i64(jtd_value_get(root, "b")), 2);
	jtd_vdoc_free(doc);
}

/* Keys and strings may hold NUL; jtd_value_cstr refuses those. */
static void
test_nul_in_strings(void **state)
{
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = decode("82 a3 61 00 62 01 a1'p' a3 61 00 62",
	    &err);
	const struct jtd_value *root, *p;
	char buf[64];

	(void)state;
	root = jtd_vdoc_root(doc);
	assert_int_equal(root->map.items[0].key_len, 3);
	assert_null(jtd_value_get(root, "a"));
	p = jtd_value_get(root, "p");
	assert_int_equal(p->str.len, 3);
	assert_null(jtd_value_cstr(p));
	jtd_value_describe(p, buf, sizeof(buf));
	assert_string_equal(buf, "\"a\\x00b\"");
	jtd_vdoc_free(doc);
}

static void
test_json_front_end(void **state)
{
	static const char text[] = "{\"args\":[\"-c\",\"x\"],"
	    "\"command\":\"/bin/sh\",\"rctl\":{\"memoryuse\":1000},"
	    "\"command\":\"/bin/sh\"}";
	struct jtd_err *err = NULL;
	struct jtd_vdoc *doc = jtd_vdoc_from_json(text, strlen(text), &err);
	char deep[200];

	(void)state;
	assert_null(err);
	check_example1(jtd_vdoc_root(doc));
	jtd_vdoc_free(doc);

	assert_null(jtd_vdoc_from_json("[1]", 3, &err));
	assert_non_null(strstr(err->msg, "must be a JSON object"));
	jtd_err_clear(&err);
	assert_null(jtd_vdoc_from_json("{\"a\":", 5, &err));
	assert_non_null(strstr(err->msg, "json: line 1"));
	jtd_err_clear(&err);

	/* 32 nested containers pass, 33 do not. */
	snprintf(deep, sizeof(deep), "{\"a\":%.*s1%.*s}", 31,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 31,
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	doc = jtd_vdoc_from_json(deep, strlen(deep), &err);
	assert_null(err);
	jtd_vdoc_free(doc);
	snprintf(deep, sizeof(deep), "{\"a\":%.*s1%.*s}", 32,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 32,
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	assert_null(jtd_vdoc_from_json(deep, strlen(deep), &err));
	assert_non_null(strstr(err->msg, "nesting deeper than 32"));
	jtd_err_clear(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example1_and_2),
		cmocka_unit_test(test_example2_block_list),
		cmocka_unit_test(test_example3_dynamic_wrapper),
		cmocka_unit_test(test_example4_absent),
		cmocka_unit_test(test_example4_populated),
		cmocka_unit_test(test_example5_numbers),
		cmocka_unit_test(test_number_edges),
		cmocka_unit_test(test_decimal_text),
		cmocka_unit_test(test_set_and_str8),
		cmocka_unit_test(test_unknown_values),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_repeated_keys),
		cmocka_unit_test(test_nul_in_strings),
		cmocka_unit_test(test_json_front_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
