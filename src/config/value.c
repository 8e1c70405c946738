#include "config/value.h"

#include <math.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/vbuild.h"

/*
 * The arena: a list of blocks, each carved front to back.  Requests
 * larger than a block get a block of their own.
 */
#define ARENA_BLOCK	16384

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct jtd_vdoc {
	struct arena_block *blocks;
	const struct jtd_value *root;
};

struct jtd_vdoc *
jtd_vdoc_new(void)
{
	return calloc(1, sizeof(struct jtd_vdoc));
}

void *
jtd_vdoc_alloc(struct jtd_vdoc *doc, size_t nmemb, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct arena_block *b = doc->blocks;
	size_t need, off;

	if (size != 0 && nmemb > SIZE_MAX / 2 / size)
		return NULL;
	need = nmemb * size;
	if (need == 0)
		need = 1;

	off = b != NULL ? (b->used + align - 1) / align * align : 0;
	if (b == NULL || off > b->size || b->size - off < need) {
		size_t bsize = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		b = malloc(sizeof(*b) + bsize);
		if (b == NULL)
			return NULL;
		b->next = doc->blocks;
		b->size = bsize;
		b->used = 0;
		doc->blocks = b;
		off = 0;
	}

	b->used = off + need;
	memset(b->data + off, 0, need);
	return b->data + off;
}

const char *
jtd_vdoc_strdup(struct jtd_vdoc *doc, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = jtd_vdoc_alloc(doc, len + 1, 1);
	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
jtd_vdoc_set_root(struct jtd_vdoc *doc, const struct jtd_value *root)
{
	doc->root = root;
}

const struct jtd_value *
jtd_vdoc_root(const struct jtd_vdoc *doc)
{
	return doc->root;
}

void
jtd_vdoc_free(struct jtd_vdoc *doc)
{
	struct arena_block *b, *next;

	if (doc == NULL)
		return;
	for (b = doc->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(doc);
}

struct keyref {
	const char *key;
	size_t len;
	size_t idx;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = n > 0 ? memcmp(x->key, y->key, n) : 0;

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

int
jtd_vmap_dedupe(struct jtd_member *items, size_t *n)
{
	struct keyref *refs;
	bool *drop;
	size_t i, out;

	if (*n < 2)
		return 0;
	refs = calloc(*n, sizeof(*refs));
	drop = calloc(*n, sizeof(*drop));
	if (refs == NULL || drop == NULL) {
		free(refs);
		free(drop);
		return -1;
	}

	/* Sorted by key, then position: a run's last entry is the winner. */
	for (i = 0; i < *n; i++)
		refs[i] = (struct keyref){ items[i].key, items[i].key_len, i };
	qsort(refs, *n, sizeof(*refs), keyref_cmp);
	for (i = 0; i + 1 < *n; i++) {
		if (refs[i].len == refs[i + 1].len &&
		    memcmp(refs[i].key, refs[i + 1].key, refs[i].len) == 0)
			drop[refs[i].idx] = true;
	}

	for (i = 0, out = 0; i < *n; i++) {
		if (!drop[i])
			items[out++] = items[i];
	}
	*n = out;
	free(refs);
	free(drop);
	return 0;
}

const struct jtd_value *
jtd_value_get(const struct jtd_value *map, const char *key)
{
	size_t i, len = strlen(key);

	if (map == NULL || map->type != JTD_V_MAP)
		return NULL;
	for (i = 0; i < map->map.n; i++) {
		const struct jtd_member *m = &map->map.items[i];

		if (m->key_len == len && memcmp(m->key, key, len) == 0)
			return &m->value;
	}
	return NULL;
}

bool
jtd_value_is_null(const struct jtd_value *v)
{
	return v == NULL || v->type == JTD_V_NULL;
}

const char *
jtd_value_cstr(const struct jtd_value *v)
{
	if (v == NULL || v->type != JTD_V_STRING)
		return NULL;
	if (memchr(v->str.ptr, '\0', v->str.len) != NULL)
		return NULL;
	return v->str.ptr;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Scan digits at s[*i..len); returns how many. */
static size_t
scan_digits(const char *s, size_t len, size_t *i)
{
	size_t start = *i;

	while (*i < len && is_digit(s[*i]))
		(*i)++;
	return *i - start;
}

/*
 * The significant digits are s[istart..iend) followed by s[fstart..fend)
 * (the fraction), scaled by 10^exp10.  Leading and trailing zeros are
 * dropped first, so the magnitude is exact or out of range.
 */
struct digits {
	const char *s;
	size_t istart, iend, fstart, fend;
	long exp10;
};

static char
digit_at(const struct digits *d, size_t k)
{
	size_t ni = d->iend - d->istart;

	return k < ni ? d->s[d->istart + k] : d->s[d->fstart + k - ni];
}

static enum jtd_num
digits_value(const struct digits *d, uint64_t *mag)
{
	size_t n = (d->iend - d->istart) + (d->fend - d->fstart);
	size_t first = 0, last = n;
	long exp10 = d->exp10;
	uint64_t v = 0;
	size_t k;

	while (first < n && digit_at(d, first) == '0')
		first++;
	while (last > first && digit_at(d, last - 1) == '0') {
		last--;
		exp10++;
	}
	if (first == last) {
		*mag = 0;
		return JTD_NUM_OK;
	}
	if (exp10 < 0)
		return JTD_NUM_NOT_WHOLE;
	if (last - first > 20 || (long)(last - first) + exp10 > 20)
		return JTD_NUM_RANGE;

	for (k = first; k < last; k++) {
		unsigned dg = (unsigned)(digit_at(d, k) - '0');

		if (v > (UINT64_MAX - dg) / 10)
			return JTD_NUM_RANGE;
		v = v * 10 + dg;
	}
	for (; exp10 > 0; exp10--) {
		if (v > UINT64_MAX / 10)
			return JTD_NUM_RANGE;
		v *= 10;
	}
	*mag = v;
	return JTD_NUM_OK;
}

enum jtd_num
jtd_parse_decimal(const char *s, size_t len, bool *neg, uint64_t *mag)
{
	struct digits d = { .s = s };
	size_t i = 0, nfrac = 0;
	long e = 0;
	bool eneg = false;

	*neg = false;
	if (i < len && s[i] == '-') {
		*neg = true;
		i++;
	}
	d.istart = i;
	if (scan_digits(s, len, &i) == 0)
		return JTD_NUM_NOT_NUMBER;
	d.iend = d.fstart = d.fend = i;

	if (i < len && s[i] == '.') {
		i++;
		d.fstart = i;
		nfrac = scan_digits(s, len, &i);
		if (nfrac == 0)
			return JTD_NUM_NOT_NUMBER;
		d.fend = i;
	}

	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (i >= len || !is_digit(s[i]))
			return JTD_NUM_NOT_NUMBER;
		/* Cap the exponent; anything this large is out of range. */
		for (; i < len && is_digit(s[i]); i++) {
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		}
	}
	if (i != len)
		return JTD_NUM_NOT_NUMBER;

	if (nfrac > 200000)
		return JTD_NUM_NOT_WHOLE;
	d.exp10 = (eneg ? -e : e) - (long)nfrac;
	return digits_value(&d, mag);
}

enum jtd_num
jtd_value_to_i64(const struct jtd_value *v, int64_t *out)
{
	enum jtd_num r;
	uint64_t mag;
	bool neg;

	switch (v->type) {
	case JTD_V_INT:
		*out = v->i;
		return JTD_NUM_OK;
	case JTD_V_UINT:
		return JTD_NUM_RANGE;
	case JTD_V_DOUBLE:
		if (!isfinite(v->d))
			return JTD_NUM_RANGE;
		if (trunc(v->d) != v->d)
			return JTD_NUM_NOT_WHOLE;
		if (v->d < -9223372036854775808.0 ||
		    v->d >= 9223372036854775808.0)
			return JTD_NUM_RANGE;
		*out = (int64_t)v->d;
		return JTD_NUM_OK;
	case JTD_V_STRING:
		r = jtd_parse_decimal(v->str.ptr, v->str.len, &neg, &mag);
		if (r != JTD_NUM_OK)
			return r;
		if (mag > (uint64_t)INT64_MAX + (neg ? 1 : 0))
			return JTD_NUM_RANGE;
		if (neg)
			*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
			    -(int64_t)mag;
		else
			*out = (int64_t)mag;
		return JTD_NUM_OK;
	default:
		return JTD_NUM_NOT_NUMBER;
	}
}

enum jtd_num
jtd_value_to_u64(const struct jtd_value *v, uint64_t *out)
{
	enum jtd_num r;
	uint64_t mag;
	bool neg;

	switch (v->type) {
	case JTD_V_INT:
		if (v->i < 0)
			return JTD_NUM_RANGE;
		*out = (uint64_t)v->i;
		return JTD_NUM_OK;
	case JTD_V_UINT:
		*out = v->u;
		return JTD_NUM_OK;
	case JTD_V_DOUBLE:
		if (!isfinite(v->d))
			return JTD_NUM_RANGE;
		if (trunc(v->d) != v->d)
			return JTD_NUM_NOT_WHOLE;
		if (v->d < 0 || v->d >= 18446744073709551616.0)
			return JTD_NUM_RANGE;
		*out = (uint64_t)v->d;
		return JTD_NUM_OK;
	case JTD_V_STRING:
		r = jtd_parse_decimal(v->str.ptr, v->str.len, &neg, &mag);
		if (r != JTD_NUM_OK)
			return r;
		if (neg && mag != 0)
			return JTD_NUM_RANGE;
		*out = mag;
		return JTD_NUM_OK;
	default:
		return JTD_NUM_NOT_NUMBER;
	}
}

static bool
str_is(const struct jtd_value *v, const char *lit)
{
	size_t n = strlen(lit);

	return v->str.len == n && memcmp(v->str.ptr, lit, n) == 0;
}

int
jtd_value_to_bool(const struct jtd_value *v, bool *out)
{
	if (v->type == JTD_V_BOOL) {
		*out = v->b;
		return 0;
	}
	if (v->type != JTD_V_STRING)
		return -1;
	if (str_is(v, "true") || str_is(v, "1")) {
		*out = true;
		return 0;
	}
	if (str_is(v, "false") || str_is(v, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

const char *
jtd_vtype_name(enum jtd_vtype type)
{
	switch (type) {
	case JTD_V_NULL: return "null";
	case JTD_V_BOOL: return "bool";
	case JTD_V_INT:
	case JTD_V_UINT:
	case JTD_V_DOUBLE: return "number";
	case JTD_V_STRING: return "string";
	case JTD_V_LIST: return "list";
	case JTD_V_MAP: return "object";
	}
	return "unknown";
}

/*
 * Longest stretch of a string shown in messages.  ';' is escaped too, so
 * that problem lists joined with "; " split back exactly.
 */
#define QUOTE_MAX	48

void
jtd_quote(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0, i;

	if (size == 0)
		return;
	/* Reserve room for the closing quote, "..." and the NUL. */
	if (size < 8) {
		buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (i = 0; i < len && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		size_t n;

		if (c == '"' || c == '\\')
			n = (size_t)snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20 || c == 0x7f || c == ';')
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			n = (size_t)snprintf(esc, sizeof(esc), "%c", c);
		if (o + n + 5 >= size)
			break;
		memcpy(buf + o, esc, n);
		o += n;
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

void
jtd_value_describe(const struct jtd_value *v, char *buf, size_t size)
{
	if (size == 0)
		return;
	if (v == NULL) {
		snprintf(buf, size, "nothing");
		return;
	}
	switch (v->type) {
	case JTD_V_NULL:
		snprintf(buf, size, "null");
		break;
	case JTD_V_BOOL:
		snprintf(buf, size, "%s", v->b ? "true" : "false");
		break;
	case JTD_V_INT:
		snprintf(buf, size, "%lld", (long long)v->i);
		break;
	case JTD_V_UINT:
		snprintf(buf, size, "%llu", (unsigned long long)v->u);
		break;
	case JTD_V_DOUBLE:
		snprintf(buf, size, "%.17g", v->d);
		break;
	case JTD_V_STRING:
		jtd_quote(v->str.ptr, v->str.len, buf, size);
		break;
	case JTD_V_LIST:
		snprintf(buf, size, "a list of %zu item%s", v->list.n,
		    v->list.n == 1 ? "" : "s");
		break;
	case JTD_V_MAP:
		snprintf(buf, size, "an object with %zu key%s", v->map.n,
		    v->map.n == 1 ? "" : "s");
		break;
	}
}
