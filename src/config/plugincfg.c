#include "config/plugincfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfgutil.h"

const struct jtd_plugin_opt jtd_plugin_opts[] = {
	{ "enabled", "bool", "true" },
	{ "allow_host_hooks", "bool", "false" },
	{ "allow_host_mounts", "bool", "false" },
	{ "allowed_paths", "list(string)", "[]" },
	{ "denied_parameters", "list(string)", "[]" },
	{ "state_dir", "string", "\"" JTD_DEFAULT_STATE_DIR "\"" },
};

const size_t jtd_nplugin_opts =
    sizeof(jtd_plugin_opts) / sizeof(jtd_plugin_opts[0]);

static void
set_defaults(struct jtd_plugincfg *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->enabled = true;
}

static const struct jtd_plugincfg defaults = { .enabled = true };

void
jtd_plugincfg_free(struct jtd_plugincfg *pc)
{
	if (pc == NULL)
		return;
	jtd_strv_free(&pc->allowed_paths);
	jtd_strv_free(&pc->denied_parameters);
	free(pc->state_dir);
	free(pc);
}

bool
jtd_plugincfg_enabled(const struct jtd_plugincfg *pc)
{
	return pc == NULL || pc->enabled;
}

const char *
jtd_plugincfg_state_dir(const struct jtd_plugincfg *pc)
{
	if (pc == NULL || pc->state_dir == NULL || pc->state_dir[0] == '\0')
		return JTD_DEFAULT_STATE_DIR;
	return pc->state_dir;
}

/* HCL1 agent files may wrap a value in a one-element list. */
static const struct jtd_value *
unwrap(const struct jtd_value *v)
{
	if (v->type == JTD_V_LIST && v->list.n == 1 &&
	    v->list.items[0].type != JTD_V_LIST)
		return &v->list.items[0];
	return v;
}

static void
decode_state_dir(struct jtd_probs *pr, const struct jtd_value *v,
    struct jtd_plugincfg *pc)
{
	char shown[80];

	v = unwrap(v);
	if (v->type != JTD_V_STRING) {
		jtd_value_describe(v, shown, sizeof(shown));
		jtd_probs_add(pr, "state_dir: expected an absolute path, got %s",
		    shown);
		return;
	}
	if (v->str.len == 0 || v->str.ptr[0] != '/' ||
	    memchr(v->str.ptr, '\0', v->str.len) != NULL ||
	    v->str.len > 200) {
		jtd_quote(v->str.ptr, v->str.len, shown, sizeof(shown));
		jtd_probs_add(pr, "state_dir: %s must be an absolute path of "
		    "at most 200 bytes", shown);
		return;
	}
	free(pc->state_dir);
	pc->state_dir = strndup(v->str.ptr, v->str.len);
	if (pc->state_dir == NULL)
		pr->oom = true;
}

static void
decode_bool(struct jtd_probs *pr, const char *name,
    const struct jtd_value *v, bool *out)
{
	char shown[80];

	if (jtd_value_to_bool(unwrap(v), out) == 0)
		return;
	jtd_value_describe(v, shown, sizeof(shown));
	jtd_probs_add(pr, "%s: expected true or false, got %s", name, shown);
}

/* A list of strings (a lone string is taken as a list of one). */
static int
decode_list(struct jtd_probs *pr, const char *name,
    const struct jtd_value *v, struct jtd_strv *out)
{
	char shown[80];
	size_t i;

	if (v->type == JTD_V_STRING) {
		struct jtd_value one = { .type = JTD_V_LIST };

		one.list.items = v;
		one.list.n = 1;
		return decode_list(pr, name, &one, out);
	}
	if (v->type != JTD_V_LIST) {
		jtd_value_describe(v, shown, sizeof(shown));
		jtd_probs_add(pr, "%s: expected a list of strings, got %s",
		    name, shown);
		return -1;
	}
	for (i = 0; i < v->list.n; i++) {
		const char *s = jtd_value_cstr(&v->list.items[i]);

		if (s == NULL) {
			jtd_value_describe(&v->list.items[i], shown,
			    sizeof(shown));
			jtd_probs_add(pr, "%s: item %zu: expected a string "
			    "without NUL bytes, got %s", name, i + 1, shown);
			jtd_strv_free(out);
			return -1;
		}
		if (jtd_strv_push(out, s, strlen(s)) < 0) {
			pr->oom = true;
			return -1;
		}
	}
	return 0;
}

static void
check_paths(struct jtd_probs *pr, struct jtd_strv *paths)
{
	char shown[80];
	size_t i;

	for (i = 0; i < paths->n; i++) {
		const char *s = paths->v[i];

		if (s[0] == '/' && jtd_path_within(s, "/"))
			continue;
		jtd_quote(s, strlen(s), shown, sizeof(shown));
		jtd_probs_add(pr, "allowed_paths: %s must be an absolute path "
		    "without \"..\" components", shown);
	}
}

/* Every accepted task parameter name, comma-separated (malloc'd). */
static char *
param_names(void)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < jtd_nparams; i++)
		len += strlen(jtd_params[i].name) + 2;
	s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < jtd_nparams; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, jtd_params[i].name);
	}
	return s;
}

static void
unknown_param(struct jtd_probs *pr, const char *s)
{
	char shown[80], *names;
	size_t i;

	jtd_quote(s, strlen(s), shown, sizeof(shown));
	for (i = 0; i < jtd_nparams; i++) {
		if (jtd_name_folds_to(s, strlen(s), jtd_params[i].name)) {
			jtd_probs_add(pr, "denied_parameters: %s is not a task "
			    "parameter, did you mean \"%s\"?", shown,
			    jtd_params[i].name);
			return;
		}
	}
	names = param_names();
	if (names == NULL) {
		pr->oom = true;
		return;
	}
	jtd_probs_add(pr, "denied_parameters: %s is not a task parameter, "
	    "the parameters are %s", shown, names);
	free(names);
}

/* Validate and canonicalise (aliases become the real name). */
static void
check_denied(struct jtd_probs *pr, struct jtd_strv *names)
{
	size_t i;

	for (i = 0; i < names->n; i++) {
		const struct jtd_param *p = jtd_param_find(names->v[i]);
		char *canon;

		if (p == NULL) {
			unknown_param(pr, names->v[i]);
			continue;
		}
		canon = strdup(p->name);
		if (canon == NULL) {
			pr->oom = true;
			return;
		}
		free(names->v[i]);
		names->v[i] = canon;
	}
}

static void
decode_option(struct jtd_probs *pr, const struct jtd_member *m,
    struct jtd_plugincfg *pc)
{
	const char *k = m->key;
	const struct jtd_value *v = &m->value;

	if (jtd_value_is_null(v))
		return;
	if (strcmp(k, "enabled") == 0) {
		decode_bool(pr, k, v, &pc->enabled);
	} else if (strcmp(k, "allow_host_hooks") == 0) {
		decode_bool(pr, k, v, &pc->allow_host_hooks);
	} else if (strcmp(k, "allow_host_mounts") == 0) {
		decode_bool(pr, k, v, &pc->allow_host_mounts);
	} else if (strcmp(k, "allowed_paths") == 0) {
		if (decode_list(pr, k, v, &pc->allowed_paths) == 0)
			check_paths(pr, &pc->allowed_paths);
	} else if (strcmp(k, "denied_parameters") == 0) {
		if (decode_list(pr, k, v, &pc->denied_parameters) == 0)
			check_denied(pr, &pc->denied_parameters);
	} else if (strcmp(k, "state_dir") == 0) {
		decode_state_dir(pr, v, pc);
	}
}

static void
check_unknown(struct jtd_probs *pr, const struct jtd_member *m)
{
	char shown[80];
	size_t i;

	for (i = 0; i < jtd_nplugin_opts; i++) {
		if (strlen(jtd_plugin_opts[i].name) == m->key_len &&
		    memcmp(jtd_plugin_opts[i].name, m->key, m->key_len) == 0)
			return;
	}
	jtd_quote(m->key, m->key_len, shown, sizeof(shown));
	for (i = 0; i < jtd_nplugin_opts; i++) {
		if (jtd_name_folds_to(m->key, m->key_len,
		    jtd_plugin_opts[i].name)) {
			jtd_probs_add(pr, "unknown plugin option %s, did you "
			    "mean \"%s\"?", shown, jtd_plugin_opts[i].name);
			return;
		}
	}
	jtd_probs_add(pr, "unknown plugin option %s, accepted: enabled, "
	    "allow_host_hooks, allow_host_mounts, allowed_paths, "
	    "denied_parameters, state_dir", shown);
}

static struct jtd_plugincfg *
new_config(struct jtd_err **err)
{
	struct jtd_plugincfg *pc = malloc(sizeof(*pc));

	if (pc == NULL) {
		jtd_err_set(err, JTD_EXHAUSTED,
		    "out of memory while decoding the plugin config");
		return NULL;
	}
	set_defaults(pc);
	return pc;
}

struct jtd_plugincfg *
jtd_plugincfg_decode_value(const struct jtd_value *root,
    struct jtd_err **err)
{
	struct jtd_strv problems = { 0 };
	struct jtd_probs pr = { .list = &problems };
	struct jtd_plugincfg *pc = new_config(err);
	size_t i;

	if (pc == NULL)
		return NULL;
	if (root == NULL || root->type != JTD_V_MAP) {
		jtd_probs_add(&pr, "the plugin config must be an object");
	} else {
		for (i = 0; i < root->map.n; i++) {
			check_unknown(&pr, &root->map.items[i]);
			decode_option(&pr, &root->map.items[i], pc);
		}
	}

	if (jtd_probs_finish(&pr, JTD_INVALID, err) < 0) {
		jtd_plugincfg_free(pc);
		pc = NULL;
	}
	jtd_strv_free(&problems);
	return pc;
}

static struct jtd_plugincfg *
parse_failed(struct jtd_err **perr, struct jtd_err **err)
{
	jtd_err_set(err, (*perr)->code == JTD_EXHAUSTED ? JTD_EXHAUSTED :
	    JTD_INVALID, "%s", (*perr)->msg);
	jtd_err_clear(perr);
	return NULL;
}

struct jtd_plugincfg *
jtd_plugincfg_decode_msgpack(const uint8_t *buf, size_t len,
    struct jtd_err **err)
{
	struct jtd_err *perr = NULL;
	struct jtd_plugincfg *pc;
	struct jtd_vdoc *doc;

	if (len == 0)
		return new_config(err);
	doc = jtd_vdoc_from_msgpack(buf, len, &perr);
	if (doc == NULL)
		return parse_failed(&perr, err);
	pc = jtd_plugincfg_decode_value(jtd_vdoc_root(doc), err);
	jtd_vdoc_free(doc);
	return pc;
}

struct jtd_plugincfg *
jtd_plugincfg_decode_json(const char *text, size_t len,
    struct jtd_err **err)
{
	struct jtd_err *perr = NULL;
	struct jtd_plugincfg *pc;
	struct jtd_vdoc *doc;

	if (len == 0)
		return new_config(err);
	doc = jtd_vdoc_from_json(text, len, &perr);
	if (doc == NULL)
		return parse_failed(&perr, err);
	pc = jtd_plugincfg_decode_value(jtd_vdoc_root(doc), err);
	jtd_vdoc_free(doc);
	return pc;
}

/*
 * Next path component of *p (skipping slashes and "."): sets *len and
 * returns its start, or NULL at the end.
 */
static const char *
next_component(const char **p, size_t *len)
{
	const char *s = *p;

	for (;;) {
		while (*s == '/')
			s++;
		if (*s == '\0') {
			*p = s;
			return NULL;
		}
		*len = strcspn(s, "/");
		*p = s + *len;
		if (!(*len == 1 && s[0] == '.'))
			return s;
		s += 1;
	}
}

static bool
has_dotdot(const char *path)
{
	const char *c;
	size_t len;

	while ((c = next_component(&path, &len)) != NULL) {
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return true;
	}
	return false;
}

bool
jtd_path_within(const char *path, const char *dir)
{
	const char *pc, *dc;
	size_t plen, dlen;

	if (path[0] != '/' || dir[0] != '/' || has_dotdot(path) ||
	    has_dotdot(dir))
		return false;
	for (;;) {
		dc = next_component(&dir, &dlen);
		if (dc == NULL)
			return true;
		pc = next_component(&path, &plen);
		if (pc == NULL || plen != dlen || memcmp(pc, dc, dlen) != 0)
			return false;
	}
}

static bool
path_allowed(const struct jtd_plugincfg *pc, const char *path,
    const char *alloc_dir)
{
	size_t i;

	if (alloc_dir != NULL && jtd_path_within(path, alloc_dir))
		return true;
	for (i = 0; i < pc->allowed_paths.n; i++) {
		if (jtd_path_within(path, pc->allowed_paths.v[i]))
			return true;
	}
	return false;
}

static void
check_path(struct jtd_probs *pr, const struct jtd_plugincfg *pc,
    const char *name, const char *path, const char *alloc_dir)
{
	char shown[80];

	if (path == NULL || path_allowed(pc, path, alloc_dir))
		return;
	jtd_quote(path, strlen(path), shown, sizeof(shown));
	jtd_probs_add(pr, "%s: %s is outside the allocation directory and "
	    "every directory of the plugin option allowed_paths%s", name,
	    shown, pc->allowed_paths.n == 0 ? " (which is empty)" : "");
}

static void
check_param(struct jtd_probs *pr, const struct jtd_plugincfg *pc,
    const struct jtd_taskcfg *tc, const struct jtd_param *p)
{
	size_t i;

	if (!jtd_taskcfg_is_set(tc, p))
		return;
	for (i = 0; i < pc->denied_parameters.n; i++) {
		if (strcmp(pc->denied_parameters.v[i], p->name) == 0) {
			jtd_probs_add(pr, "%s: not allowed by the plugin "
			    "option denied_parameters", p->name);
			return;
		}
	}
	if ((p->flags & JTD_PF_HOST_HOOK) && !pc->allow_host_hooks)
		jtd_probs_add(pr, "%s: runs commands on the host as root, "
		    "which the plugin option allow_host_hooks (false) "
		    "forbids", p->name);
	if ((p->flags & JTD_PF_HOST_MOUNT) && !pc->allow_host_mounts)
		jtd_probs_add(pr, "%s: mounts file systems on the host, which "
		    "the plugin option allow_host_mounts (false) forbids",
		    p->name);
}

int
jtd_policy_check_alloc(const struct jtd_plugincfg *pc,
    const struct jtd_taskcfg *tc, const char *alloc_dir,
    struct jtd_err **err)
{
	struct jtd_strv msgs = { 0 };
	struct jtd_probs pr = { .list = &msgs };
	size_t i;
	int r;

	if (pc == NULL)
		pc = &defaults;
	if (!pc->enabled)
		jtd_probs_add(&pr, "the driver is disabled by the plugin "
		    "option enabled = false");
	for (i = 0; i < jtd_nparams; i++)
		check_param(&pr, pc, tc, &jtd_params[i]);
	check_path(&pr, pc, "Path", tc->path, alloc_dir);
	check_path(&pr, pc, "Exec_consolelog", tc->exec_consolelog,
	    alloc_dir);

	r = jtd_probs_finish(&pr, JTD_DENIED, err);
	jtd_strv_free(&msgs);
	return r;
}

int
jtd_policy_check(const struct jtd_plugincfg *pc,
    const struct jtd_taskcfg *tc, struct jtd_err **err)
{
	return jtd_policy_check_alloc(pc, tc, NULL, err);
}
