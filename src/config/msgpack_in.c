/*
 * cty msgpack -> value tree.
 *
 * Two passes.  A structural scan walks the raw bytes first, checking
 * every header against the bytes that remain, the nesting depth and the
 * number of values; only input that passes it reaches msgpack-c, whose
 * unpacker would otherwise allocate whatever a container header claims.
 * The msgpack_object tree is then converted with every access behind a
 * type switch and a size check.
 */
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "config/value.h"
#include "config/vbuild.h"

/* cty's extension types for unknown values (§5.1 of the protocol notes). */
#define CTY_EXT_UNKNOWN		0
#define CTY_EXT_REFINED		0x0c

struct mp_head {
	size_t hdr;		/* header bytes */
	uint64_t payload;	/* bytes after the header (scalars) */
	uint64_t items;		/* values inside (containers; maps x2) */
	bool container;
};

static uint64_t
be_read(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Sized forms: header length and width of the big-endian length field. */
static int
head_sized(const uint8_t *b, size_t avail, size_t lenw, size_t extra,
    bool container, uint64_t mult, struct mp_head *h)
{
	h->hdr = 1 + lenw + extra;
	if (avail < h->hdr)
		return -1;
	h->container = container;
	if (container)
		h->items = be_read(b + 1, lenw) * mult;
	else
		h->payload = be_read(b + 1, lenw);
	return 0;
}

static int
head_fixed(size_t avail, size_t hdr, uint64_t payload, struct mp_head *h)
{
	h->hdr = hdr;
	h->payload = payload;
	return avail < hdr ? -1 : 0;
}

/*
 * Decode the header of the value at b (avail bytes left).  Returns 0,
 * -1 if the header is cut short, -2 for the reserved byte 0xc1.
 */
static int
mp_head(const uint8_t *b, size_t avail, struct mp_head *h)
{
	uint8_t c = b[0];

	memset(h, 0, sizeof(*h));
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return head_fixed(avail, 1, 0, h);
	if (c >= 0x80 && c <= 0x8f) {
		h->hdr = 1;
		h->container = true;
		h->items = (uint64_t)(c & 0x0f) * 2;
		return 0;
	}
	if (c >= 0x90 && c <= 0x9f) {
		h->hdr = 1;
		h->container = true;
		h->items = c & 0x0f;
		return 0;
	}
	if (c >= 0xa0 && c <= 0xbf)
		return head_fixed(avail, 1, c & 0x1f, h);

	switch (c) {
	case 0xc4: return head_sized(b, avail, 1, 0, false, 0, h);
	case 0xc5: return head_sized(b, avail, 2, 0, false, 0, h);
	case 0xc6: return head_sized(b, avail, 4, 0, false, 0, h);
	case 0xc7: return head_sized(b, avail, 1, 1, false, 0, h);
	case 0xc8: return head_sized(b, avail, 2, 1, false, 0, h);
	case 0xc9: return head_sized(b, avail, 4, 1, false, 0, h);
	case 0xca: return head_fixed(avail, 5, 0, h);
	case 0xcb: return head_fixed(avail, 9, 0, h);
	case 0xcc: return head_fixed(avail, 2, 0, h);
	case 0xcd: return head_fixed(avail, 3, 0, h);
	case 0xce: return head_fixed(avail, 5, 0, h);
	case 0xcf: return head_fixed(avail, 9, 0, h);
	case 0xd0: return head_fixed(avail, 2, 0, h);
	case 0xd1: return head_fixed(avail, 3, 0, h);
	case 0xd2: return head_fixed(avail, 5, 0, h);
	case 0xd3: return head_fixed(avail, 9, 0, h);
	case 0xd4: return head_fixed(avail, 2, 1, h);
	case 0xd5: return head_fixed(avail, 2, 2, h);
	case 0xd6: return head_fixed(avail, 2, 4, h);
	case 0xd7: return head_fixed(avail, 2, 8, h);
	case 0xd8: return head_fixed(avail, 2, 16, h);
	case 0xd9: return head_sized(b, avail, 1, 0, false, 0, h);
	case 0xda: return head_sized(b, avail, 2, 0, false, 0, h);
	case 0xdb: return head_sized(b, avail, 4, 0, false, 0, h);
	case 0xdc: return head_sized(b, avail, 2, 0, true, 1, h);
	case 0xdd: return head_sized(b, avail, 4, 0, true, 1, h);
	case 0xde: return head_sized(b, avail, 2, 0, true, 2, h);
	case 0xdf: return head_sized(b, avail, 4, 0, true, 2, h);
	default: return -2;	/* 0xc1 */
	}
}

/*
 * Check that buf holds exactly one well-formed value within the limits.
 * pending[d] counts the values still expected at depth d.
 */
static int
mp_scan(const uint8_t *buf, size_t len, struct jtd_err **err)
{
	uint64_t pending[JTD_VALUE_MAX_DEPTH + 1];
	size_t pos = 0, nodes = 0;
	int depth = 0, r;
	struct mp_head h;

	pending[0] = 1;
	while (depth >= 0) {
		if (pending[depth] == 0) {
			depth--;
			continue;
		}
		pending[depth]--;

		if (++nodes > JTD_VALUE_MAX_NODES)
			return jtd_err_set(err, JTD_INVALID,
			    "msgpack: more than %d values",
			    JTD_VALUE_MAX_NODES);
		if (pos >= len)
			return jtd_err_set(err, JTD_INVALID,
			    "msgpack: input ends early (%zu bytes)", len);
		r = mp_head(buf + pos, len - pos, &h);
		if (r == -2)
			return jtd_err_set(err, JTD_INVALID,
			    "msgpack: invalid byte 0xc1 at offset %zu", pos);
		if (r < 0)
			return jtd_err_set(err, JTD_INVALID,
			    "msgpack: header cut short at offset %zu", pos);

		if (!h.container) {
			if (h.payload > len - pos - h.hdr)
				return jtd_err_set(err, JTD_INVALID,
				    "msgpack: value at offset %zu runs past "
				    "the end of the input", pos);
			pos += h.hdr + (size_t)h.payload;
			continue;
		}

		/* Every value takes at least one byte. */
		pos += h.hdr;
		if (h.items > len - pos)
			return jtd_err_set(err, JTD_INVALID,
			    "msgpack: container at offset %zu claims %llu "
			    "values but only %zu bytes remain",
			    pos - h.hdr, (unsigned long long)h.items,
			    len - pos);
		/* Empty containers count too: msgpack-c checks them. */
		if (depth + 1 > JTD_VALUE_MAX_DEPTH)
			return jtd_err_set(err, JTD_INVALID,
			    "msgpack: nesting deeper than %d",
			    JTD_VALUE_MAX_DEPTH);
		if (h.items > 0)
			pending[++depth] = h.items;
	}

	if (pos != len)
		return jtd_err_set(err, JTD_INVALID,
		    "msgpack: %zu unexpected bytes after the value",
		    len - pos);
	return 0;
}

/* Conversion state: the document and the path of the current value. */
struct conv {
	struct jtd_vdoc *doc;
	char path[256];
	size_t plen;
};

static size_t
path_set(struct conv *c, size_t old, int n)
{
	if (n > 0)
		c->plen = old + (size_t)n < sizeof(c->path) ?
		    old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

/* Append ".key" (or "key" at the top); returns the length to restore. */
static size_t
path_push_key(struct conv *c, const char *key)
{
	size_t old = c->plen, klen = strlen(key);
	const char *dot = old > 0 ? "." : "";
	char q[64];

	/* Plain names read better unquoted. */
	if (klen > 0 && strcspn(key, ". \"\\[]") == klen)
		return path_set(c, old, snprintf(c->path + old,
		    sizeof(c->path) - old, "%s%s", dot, key));
	jtd_quote(key, klen, q, sizeof(q));
	return path_set(c, old, snprintf(c->path + old,
	    sizeof(c->path) - old, "%s%s", dot, q));
}

static size_t
path_push_index(struct conv *c, size_t idx)
{
	size_t old = c->plen;

	return path_set(c, old, snprintf(c->path + old,
	    sizeof(c->path) - old, "[%zu]", idx));
}

static void
path_pop(struct conv *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static const char *
path_name(const struct conv *c)
{
	return c->plen > 0 ? c->path : "top level";
}

static int conv_value(struct conv *c, const msgpack_object *o,
    struct jtd_value *out, struct jtd_err **err);

static int
conv_oom(struct jtd_err **err)
{
	return jtd_err_set(err, JTD_EXHAUSTED,
	    "msgpack: out of memory decoding the config");
}

static int
conv_string(struct conv *c, const msgpack_object_str *s,
    struct jtd_value *out, struct jtd_err **err)
{
	if (s->size > 0 && s->ptr == NULL)
		return jtd_err_set(err, JTD_INVALID, "msgpack: %s: bad string",
		    path_name(c));
	out->type = JTD_V_STRING;
	out->str.len = s->size;
	out->str.ptr = jtd_vdoc_strdup(c->doc, s->ptr, s->size);
	return out->str.ptr == NULL ? conv_oom(err) : 0;
}

static int
conv_array(struct conv *c, const msgpack_object_array *a,
    struct jtd_value *out, struct jtd_err **err)
{
	struct jtd_value *items;
	size_t i, old;

	if (a->size > 0 && a->ptr == NULL)
		return jtd_err_set(err, JTD_INVALID, "msgpack: %s: bad array",
		    path_name(c));

	/* cty's dynamic wrapper: [bin type-JSON, value]. */
	if (a->size == 2 && a->ptr[0].type == MSGPACK_OBJECT_BIN)
		return conv_value(c, &a->ptr[1], out, err);

	items = jtd_vdoc_alloc(c->doc, a->size, sizeof(*items));
	if (items == NULL)
		return conv_oom(err);
	for (i = 0; i < a->size; i++) {
		old = path_push_index(c, i);
		if (conv_value(c, &a->ptr[i], &items[i], err) < 0)
			return -1;
		path_pop(c, old);
	}
	out->type = JTD_V_LIST;
	out->list.items = items;
	out->list.n = a->size;
	return 0;
}

static int
conv_map(struct conv *c, const msgpack_object_map *m,
    struct jtd_value *out, struct jtd_err **err)
{
	struct jtd_member *items;
	size_t i, n = m->size, old;

	if (n > 0 && m->ptr == NULL)
		return jtd_err_set(err, JTD_INVALID, "msgpack: %s: bad map",
		    path_name(c));
	items = jtd_vdoc_alloc(c->doc, n, sizeof(*items));
	if (items == NULL)
		return conv_oom(err);

	for (i = 0; i < n; i++) {
		const msgpack_object *k = &m->ptr[i].key;

		if (k->type != MSGPACK_OBJECT_STR ||
		    (k->via.str.size > 0 && k->via.str.ptr == NULL))
			return jtd_err_set(err, JTD_INVALID,
			    "msgpack: %s: map key is a %s, not a string",
			    path_name(c), k->type == MSGPACK_OBJECT_STR ?
			    "bad string" : "non-string");
		items[i].key_len = k->via.str.size;
		items[i].key = jtd_vdoc_strdup(c->doc, k->via.str.ptr,
		    k->via.str.size);
		if (items[i].key == NULL)
			return conv_oom(err);

		old = path_push_key(c, items[i].key);
		if (conv_value(c, &m->ptr[i].val, &items[i].value, err) < 0)
			return -1;
		path_pop(c, old);
	}

	if (jtd_vmap_dedupe(items, &n) < 0)
		return conv_oom(err);
	out->type = JTD_V_MAP;
	out->map.items = items;
	out->map.n = n;
	return 0;
}

static int
conv_ext(struct conv *c, const msgpack_object_ext *e, struct jtd_err **err)
{
	if (e->type == CTY_EXT_UNKNOWN || e->type == CTY_EXT_REFINED)
		return jtd_err_set(err, JTD_INVALID,
		    "%s: value not known yet", path_name(c));
	return jtd_err_set(err, JTD_INVALID,
	    "msgpack: %s: unsupported extension type %d", path_name(c),
	    e->type);
}

static int
conv_value(struct conv *c, const msgpack_object *o, struct jtd_value *out,
    struct jtd_err **err)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		out->type = JTD_V_NULL;
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		out->type = JTD_V_BOOL;
		out->b = o->via.boolean;
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > (uint64_t)INT64_MAX) {
			out->type = JTD_V_UINT;
			out->u = o->via.u64;
		} else {
			out->type = JTD_V_INT;
			out->i = (int64_t)o->via.u64;
		}
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		out->type = JTD_V_INT;
		out->i = o->via.i64;
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		out->type = JTD_V_DOUBLE;
		out->d = o->via.f64;
		return 0;
	case MSGPACK_OBJECT_STR:
		return conv_string(c, &o->via.str, out, err);
	case MSGPACK_OBJECT_ARRAY:
		return conv_array(c, &o->via.array, out, err);
	case MSGPACK_OBJECT_MAP:
		return conv_map(c, &o->via.map, out, err);
	case MSGPACK_OBJECT_EXT:
		return conv_ext(c, &o->via.ext, err);
	case MSGPACK_OBJECT_BIN:
		return jtd_err_set(err, JTD_INVALID,
		    "msgpack: %s: unexpected binary value", path_name(c));
	}
	return jtd_err_set(err, JTD_INVALID,
	    "msgpack: %s: unexpected msgpack type %d", path_name(c),
	    (int)o->type);
}

struct jtd_vdoc *
jtd_vdoc_from_msgpack(const uint8_t *buf, size_t len, struct jtd_err **err)
{
	msgpack_unpacked up;
	struct jtd_value *root;
	struct conv c = { .doc = NULL };
	size_t off = 0;
	int ret;

	if (len == 0)
		return jtd_err_set(err, JTD_INVALID, "msgpack: empty input"),
		    NULL;
	if (len > JTD_VALUE_MAX_INPUT)
		return jtd_err_set(err, JTD_INVALID,
		    "msgpack: input of %zu bytes is larger than %d", len,
		    JTD_VALUE_MAX_INPUT), NULL;
	if (mp_scan(buf, len, err) < 0)
		return NULL;

	msgpack_unpacked_init(&up);
	ret = msgpack_unpack_next(&up, (const char *)buf, len, &off);
	if (ret != MSGPACK_UNPACK_SUCCESS || off != len) {
		msgpack_unpacked_destroy(&up);
		jtd_err_set(err, ret == MSGPACK_UNPACK_NOMEM_ERROR ?
		    JTD_EXHAUSTED : JTD_INVALID,
		    "msgpack: unpacker failed (%d)", ret);
		return NULL;
	}

	c.doc = jtd_vdoc_new();
	root = c.doc != NULL ? jtd_vdoc_alloc(c.doc, 1, sizeof(*root)) : NULL;
	if (root == NULL) {
		conv_oom(err);
		goto fail;
	}
	if (conv_value(&c, &up.data, root, err) < 0)
		goto fail;
	if (root->type != JTD_V_MAP) {
		jtd_err_set(err, JTD_INVALID,
		    "the config must be an object, not a %s",
		    jtd_vtype_name(root->type));
		goto fail;
	}

	msgpack_unpacked_destroy(&up);
	jtd_vdoc_set_root(c.doc, root);
	return c.doc;

fail:
	msgpack_unpacked_destroy(&up);
	jtd_vdoc_free(c.doc);
	return NULL;
}
