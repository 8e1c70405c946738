/*
 * A small generic value tree: what the cty-msgpack and JSON front ends
 * produce and the typed decoders walk.
 *
 * A document (struct jtd_vdoc) owns every node and string of its tree in
 * one arena; jtd_vdoc_free() releases it all at once.  Trees are
 * read-only once built.
 *
 * Shape guarantees, whichever front end built the tree:
 * - the root is a map;
 * - map keys are unique (a repeated key keeps its later value, as HCL1
 *   and jansson do);
 * - integers that fit int64 are JTD_V_INT; JTD_V_UINT holds only values
 *   above INT64_MAX;
 * - every string is NUL-terminated at str.ptr[str.len] but may also
 *   contain NUL bytes before that: use jtd_value_cstr() where a C string
 *   is needed;
 * - nesting is at most JTD_VALUE_MAX_DEPTH containers deep.
 * Numbers that Nomad sends as decimal text (0.1, big integers) stay
 * strings here; the numeric helpers below accept them.
 */
#ifndef JTD_CONFIG_VALUE_H
#define JTD_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define JTD_VALUE_MAX_DEPTH	32	/* nested lists/maps */
#define JTD_VALUE_MAX_INPUT	1048576	/* bytes of msgpack or JSON */
#define JTD_VALUE_MAX_NODES	100000	/* values in one document */

enum jtd_vtype {
	JTD_V_NULL,
	JTD_V_BOOL,
	JTD_V_INT,
	JTD_V_UINT,
	JTD_V_DOUBLE,
	JTD_V_STRING,
	JTD_V_LIST,
	JTD_V_MAP,
};

struct jtd_member;

struct jtd_value {
	enum jtd_vtype type;
	union {
		bool b;
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const char *ptr;
			size_t len;
		} str;
		struct {
			const struct jtd_value *items;
			size_t n;
		} list;
		struct {
			const struct jtd_member *items;
			size_t n;
		} map;
	};
};

struct jtd_member {
	const char *key;	/* NUL-terminated; may contain NUL */
	size_t key_len;
	struct jtd_value value;
};

struct jtd_vdoc;

/*
 * Decode cty msgpack (one value, top level a map, nothing after it).
 * Wholly or partly unknown values (msgpack ext 0 and 0x0c) are an error
 * "value not known yet"; a cty dynamic wrapper [bin type, value] is
 * replaced by its value.  Errors are JTD_INVALID (JTD_EXHAUSTED when out
 * of memory).
 */
struct jtd_vdoc *jtd_vdoc_from_msgpack(const uint8_t *buf, size_t len,
    struct jtd_err **err);

/* Decode a JSON object (text need not be NUL-terminated). */
struct jtd_vdoc *jtd_vdoc_from_json(const char *text, size_t len,
    struct jtd_err **err);

const struct jtd_value *jtd_vdoc_root(const struct jtd_vdoc *doc);
void jtd_vdoc_free(struct jtd_vdoc *doc);

/* Member `key` of a map, or NULL if absent or if `map` is not a map. */
const struct jtd_value *jtd_value_get(const struct jtd_value *map,
    const char *key);

/* True for a missing value (NULL) and for an explicit null. */
bool jtd_value_is_null(const struct jtd_value *v);

/* The string as a C string, or NULL if v is not a string or has a NUL. */
const char *jtd_value_cstr(const struct jtd_value *v);

/*
 * Whole-number conversion.  Accepts JTD_V_INT/UINT, a JTD_V_DOUBLE with
 * no fractional part, and a string of decimal text ("42", "-7", "1.0",
 * "12e3", surrounding blanks not allowed).
 */
enum jtd_num {
	JTD_NUM_OK,
	JTD_NUM_NOT_NUMBER,	/* not a number or decimal text */
	JTD_NUM_NOT_WHOLE,	/* has a fractional part */
	JTD_NUM_RANGE,		/* does not fit the requested type */
};

enum jtd_num jtd_value_to_i64(const struct jtd_value *v, int64_t *out);
enum jtd_num jtd_value_to_u64(const struct jtd_value *v, uint64_t *out);

/* Decimal text (as above) to sign and magnitude, exactly. */
enum jtd_num jtd_parse_decimal(const char *s, size_t len, bool *neg,
    uint64_t *mag);

/*
 * Boolean conversion: a JTD_V_BOOL, or the strings "true"/"false"/"1"/"0"
 * (what HCL converts to bool).  Returns 0, or -1 if v is neither.
 */
int jtd_value_to_bool(const struct jtd_value *v, bool *out);

/* "string", "number", "list", ... for messages. */
const char *jtd_vtype_name(enum jtd_vtype type);

/*
 * A short, printable rendering of v for error messages: strings quoted
 * with non-printable bytes escaped and long ones cut with "...", lists
 * and maps summarised.  Always NUL-terminates buf (size > 0).
 */
void jtd_value_describe(const struct jtd_value *v, char *buf, size_t size);

/*
 * Escape and quote len bytes of s like jtd_value_describe() does: '"',
 * '\\', control bytes and ';' are escaped, at most 48 bytes are shown.
 */
void jtd_quote(const char *s, size_t len, char *buf, size_t size);

#endif
