/*
 * Helpers shared by the config unit tests: byte strings written like the
 * protocol notes write them, and a msgpack encoder that shapes a config
 * the way Nomad's hcldec + cty do with our schema.
 */
#ifndef JTD_TEST_CFG_HELPERS_H
#define JTD_TEST_CFG_HELPERS_H

#include <jansson.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "config/taskcfg.h"

/*
 * Parse "83 a4'args' 92" into bytes: hex pairs, and ASCII between single
 * quotes.  Returns the length; *out is malloc'd.
 */
static inline size_t
bytes_of(const char *spec, uint8_t **out)
{
	size_t cap = strlen(spec) + 1, n = 0;
	uint8_t *b = malloc(cap);
	const char *p = spec;

	assert_non_null(b);
	while (*p != '\0') {
		if (*p == ' ' || *p == '\n') {
			p++;
		} else if (*p == '\'') {
			for (p++; *p != '\'' && *p != '\0'; p++)
				b[n++] = (uint8_t)*p;
			assert_int_equal(*p, '\'');
			p++;
		} else {
			char hx[3] = { p[0], p[1], '\0' };

			assert_true(p[1] != '\0');
			b[n++] = (uint8_t)strtoul(hx, NULL, 16);
			p += 2;
		}
	}
	*out = b;
	return n;
}

/* Pack a JSON value as cty would marshal its own type. */
static inline void
pack_json(msgpack_packer *pk, json_t *j)
{
	size_t i;

	switch (json_typeof(j)) {
	case JSON_NULL:
		msgpack_pack_nil(pk);
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(j));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_STRING:
		msgpack_pack_str_with_body(pk, json_string_value(j),
		    json_string_length(j));
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		for (i = 0; i < json_array_size(j); i++)
			pack_json(pk, json_array_get(j, i));
		break;
	case JSON_OBJECT: {
		const char *keys[256];
		size_t n = 0, a, b;
		const char *k;
		json_t *v;

		json_object_foreach(j, k, v) {
			assert_true(n < 256);
			keys[n++] = k;
		}
		/* cty sorts object attribute names bytewise. */
		for (a = 1; a < n; a++)
			for (b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0;
			    b--) {
				const char *t = keys[b];

				keys[b] = keys[b - 1];
				keys[b - 1] = t;
			}
		msgpack_pack_map(pk, n);
		for (a = 0; a < n; a++) {
			msgpack_pack_str_with_body(pk, keys[a],
			    strlen(keys[a]));
			pack_json(pk, json_object_get(j, keys[a]));
		}
		break;
	}
	}
}

/* What an Attr of type `type` turns a JSON scalar into (cty convert). */
static inline json_t *
convert_attr(json_t *v, const char *type)
{
	if (v == NULL)
		return json_null();
	if (strcmp(type, "string") == 0) {
		if (json_is_true(v))
			return json_string("true");
		if (json_is_false(v))
			return json_string("false");
		if (json_is_integer(v)) {
			char buf[32];

			snprintf(buf, sizeof(buf), "%lld",
			    (long long)json_integer_value(v));
			return json_string(buf);
		}
	}
	if (strcmp(type, "bool") == 0 && json_is_string(v)) {
		if (strcmp(json_string_value(v), "true") == 0)
			return json_true();
		if (strcmp(json_string_value(v), "false") == 0)
			return json_false();
	}
	return json_incref(v);
}

/*
 * Encode a task config given as JSON the way Nomad does with our
 * schema: every parameter (and alias) present, null when absent, string
 * attributes converted, Rctl unwrapped from block form and given all
 * its resources.  Returns the length; *out is malloc'd.
 */
static inline size_t
nomad_task_msgpack(const char *json, uint8_t **out)
{
	json_error_t jerr;
	json_t *in = json_loads(json, JSON_ALLOW_NUL, &jerr);
	json_t *shaped = json_object();
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t i, r;

	assert_non_null(in);
	for (i = 0; i < jtd_nparams; i++) {
		const struct jtd_param *p = &jtd_params[i];
		json_t *v = json_object_get(in, p->name);

		if (p->type == JTD_PT_RCTL) {
			json_t *obj;

			if (json_is_array(v))
				v = json_array_get(v, 0);
			if (v == NULL || json_is_null(v)) {
				json_object_set_new(shaped, p->name,
				    json_null());
				continue;
			}
			obj = json_object();
			for (r = 0; r < JTD_RCTL__COUNT; r++) {
				json_t *rv = json_object_get(v,
				    jtd_rctl_info[r].name);

				json_object_set_new(obj, jtd_rctl_info[r].name,
				    rv != NULL ? json_incref(rv) : json_null());
			}
			json_object_set_new(shaped, p->name, obj);
			continue;
		}
		json_object_set_new(shaped, p->name,
		    convert_attr(v, p->schema_type));
	}
	for (i = 0; i < jtd_nparam_aliases; i++) {
		const char *name = jtd_param_aliases[i].name;

		json_object_set_new(shaped, name,
		    convert_attr(json_object_get(in, name),
		    jtd_param_find(name)->schema_type));
	}

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_json(&pk, shaped);
	*out = malloc(sb.size);
	assert_non_null(*out);
	memcpy(*out, sb.data, sb.size);
	r = sb.size;
	msgpack_sbuffer_destroy(&sb);
	json_decref(in);
	json_decref(shaped);
	return r;
}

/* Does the error list a problem containing every one of the strings? */
static inline int
has_problem(const struct jtd_err *err, const char *a, const char *b)
{
	const char *cur = err->msg, *p;
	size_t len;

	while ((p = jtd_problem_next(&cur, &len)) != NULL) {
		char *one = strndup(p, len);
		int ok = strstr(one, a) != NULL &&
		    (b == NULL || strstr(one, b) != NULL);

		free(one);
		if (ok)
			return 1;
	}
	return 0;
}

#endif
