/*
 * JSON -> value tree, through jansson.  jansson already keeps the later
 * value of a repeated key; this file only enforces our depth and size
 * limits and copies into the document's arena.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "config/value.h"
#include "config/vbuild.h"

struct jconv {
	struct jtd_vdoc *doc;
	size_t nodes;
};

static int jconv_value(struct jconv *c, json_t *j, struct jtd_value *out,
    int depth, struct jtd_err **err);

static int
jconv_oom(struct jtd_err **err)
{
	return jtd_err_set(err, JTD_EXHAUSTED,
	    "json: out of memory decoding the config");
}

static int
jconv_array(struct jconv *c, json_t *j, struct jtd_value *out, int depth,
    struct jtd_err **err)
{
	size_t i, n = json_array_size(j);
	struct jtd_value *items;

	items = jtd_vdoc_alloc(c->doc, n, sizeof(*items));
	if (items == NULL)
		return jconv_oom(err);
	for (i = 0; i < n; i++) {
		if (jconv_value(c, json_array_get(j, i), &items[i], depth + 1,
		    err) < 0)
			return -1;
	}
	out->type = JTD_V_LIST;
	out->list.items = items;
	out->list.n = n;
	return 0;
}

static int
jconv_object(struct jconv *c, json_t *j, struct jtd_value *out, int depth,
    struct jtd_err **err)
{
	size_t i = 0, n = json_object_size(j);
	struct jtd_member *items;
	void *it;

	items = jtd_vdoc_alloc(c->doc, n, sizeof(*items));
	if (items == NULL)
		return jconv_oom(err);
	for (it = json_object_iter(j); it != NULL && i < n;
	    it = json_object_iter_next(j, it), i++) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);

		items[i].key_len = klen;
		items[i].key = jtd_vdoc_strdup(c->doc, key, klen);
		if (items[i].key == NULL)
			return jconv_oom(err);
		if (jconv_value(c, json_object_iter_value(it),
		    &items[i].value, depth + 1, err) < 0)
			return -1;
	}
	out->type = JTD_V_MAP;
	out->map.items = items;
	out->map.n = i;
	return 0;
}

static int
jconv_value(struct jconv *c, json_t *j, struct jtd_value *out, int depth,
    struct jtd_err **err)
{
	if (j == NULL)
		return jtd_err_set(err, JTD_INTERNAL, "json: missing value");
	if (++c->nodes > JTD_VALUE_MAX_NODES)
		return jtd_err_set(err, JTD_INVALID,
		    "json: more than %d values", JTD_VALUE_MAX_NODES);

	switch (json_typeof(j)) {
	case JSON_NULL:
		out->type = JTD_V_NULL;
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		out->type = JTD_V_BOOL;
		out->b = json_is_true(j);
		return 0;
	case JSON_INTEGER:
		out->type = JTD_V_INT;
		out->i = (int64_t)json_integer_value(j);
		return 0;
	case JSON_REAL:
		out->type = JTD_V_DOUBLE;
		out->d = json_real_value(j);
		return 0;
	case JSON_STRING:
		out->type = JTD_V_STRING;
		out->str.len = json_string_length(j);
		out->str.ptr = jtd_vdoc_strdup(c->doc, json_string_value(j),
		    out->str.len);
		return out->str.ptr == NULL ? jconv_oom(err) : 0;
	case JSON_ARRAY:
	case JSON_OBJECT:
		break;
	}

	/* depth counts the containers around this one. */
	if (depth >= JTD_VALUE_MAX_DEPTH)
		return jtd_err_set(err, JTD_INVALID,
		    "json: nesting deeper than %d", JTD_VALUE_MAX_DEPTH);
	if (json_is_array(j))
		return jconv_array(c, j, out, depth, err);
	return jconv_object(c, j, out, depth, err);
}

struct jtd_vdoc *
jtd_vdoc_from_json(const char *text, size_t len, struct jtd_err **err)
{
	struct jconv c = { .doc = NULL };
	struct jtd_value *root;
	json_error_t jerr;
	json_t *j;

	if (len > JTD_VALUE_MAX_INPUT)
		return jtd_err_set(err, JTD_INVALID,
		    "json: input of %zu bytes is larger than %d", len,
		    JTD_VALUE_MAX_INPUT), NULL;
	j = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
	if (j == NULL)
		return jtd_err_set(err, JTD_INVALID,
		    "json: line %d column %d: %s", jerr.line, jerr.column,
		    jerr.text), NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return jtd_err_set(err, JTD_INVALID,
		    "the config must be a JSON object"), NULL;
	}

	c.doc = jtd_vdoc_new();
	root = c.doc != NULL ? jtd_vdoc_alloc(c.doc, 1, sizeof(*root)) : NULL;
	if (root == NULL) {
		jconv_oom(err);
		goto fail;
	}
	if (jconv_value(&c, j, root, 0, err) < 0)
		goto fail;

	json_decref(j);
	jtd_vdoc_set_root(c.doc, root);
	return c.doc;

fail:
	json_decref(j);
	jtd_vdoc_free(c.doc);
	return NULL;
}
