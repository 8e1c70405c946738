/*
 * The task config decoder: value tree -> struct jtd_taskcfg, driven by the
 * parameter table (params.c), then the checks that involve several
 * parameters.  Every problem is collected; none stops the walk.
 */
#include "config/taskcfg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config/taskcfg_int.h"

struct tdec {
	struct jtd_probs pr;
	struct jtd_strv problems;
	struct jtd_taskcfg *tc;
};

static void *
field(struct jtd_taskcfg *tc, const struct jtd_param *p)
{
	return (char *)tc + p->offset;
}

int
jtd_jailsys_kernel(enum jtd_jailsys v)
{
	switch (v) {
	case JTD_JAILSYS_DISABLE: return 0;
	case JTD_JAILSYS_NEW: return 1;
	case JTD_JAILSYS_INHERIT: return 2;
	case JTD_JAILSYS_UNSET: break;
	}
	return -1;
}

const char *
jtd_jailsys_name(enum jtd_jailsys v)
{
	switch (v) {
	case JTD_JAILSYS_DISABLE: return "disable";
	case JTD_JAILSYS_NEW: return "new";
	case JTD_JAILSYS_INHERIT: return "inherit";
	case JTD_JAILSYS_UNSET: break;
	}
	return "unset";
}

/*
 * The text of a scalar as HCL would convert it to a string, into buf.
 * Returns the length, or -1 if v is not a scalar.
 */
static int
scalar_text(const struct jtd_value *v, char *buf, size_t size)
{
	int prec;

	switch (v->type) {
	case JTD_V_BOOL:
		return snprintf(buf, size, "%s", v->b ? "true" : "false");
	case JTD_V_INT:
		return snprintf(buf, size, "%lld", (long long)v->i);
	case JTD_V_UINT:
		return snprintf(buf, size, "%llu", (unsigned long long)v->u);
	case JTD_V_DOUBLE:
		if (!isfinite(v->d))
			return -1;
		/* The shortest text that reads back as the same number. */
		for (prec = 1; prec < 17; prec++) {
			snprintf(buf, size, "%.*g", prec, v->d);
			if (strtod(buf, NULL) == v->d)
				break;
		}
		return snprintf(buf, size, "%.*g", prec, v->d);
	default:
		return -1;
	}
}

/* Push s[0..len) trimmed of blanks, unless that leaves nothing. */
static int
push_trimmed(struct jtd_probs *pr, struct jtd_strv *out, const char *s,
    size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0;
	if (jtd_strv_push(out, s, len) < 0) {
		pr->oom = true;
		return -1;
	}
	return 0;
}

static int
push_piece(struct jtd_probs *pr, const char *name,
    const struct jtd_value *v, bool split, struct jtd_strv *out)
{
	const char *s, *comma;
	char text[64];
	size_t len;
	int n;

	if (v->type == JTD_V_STRING) {
		s = v->str.ptr;
		len = v->str.len;
		if (memchr(s, '\0', len) != NULL) {
			jtd_probs_add(pr, "%s: contains a NUL byte", name);
			return -1;
		}
	} else {
		n = scalar_text(v, text, sizeof(text));
		if (n < 0)
			return -2;
		s = text;
		len = (size_t)n;
	}

	if (!split) {
		if (len > 0 && jtd_strv_push(out, s, len) < 0) {
			pr->oom = true;
			return -1;
		}
		return 0;
	}
	while ((comma = memchr(s, ',', len)) != NULL) {
		if (push_trimmed(pr, out, s, (size_t)(comma - s)) < 0)
			return -1;
		len -= (size_t)(comma - s) + 1;
		s = comma + 1;
	}
	return push_trimmed(pr, out, s, len);
}

int
jtd_collect_strings(struct jtd_probs *pr, const char *name,
    const struct jtd_value *v, bool split_comma, struct jtd_strv *out)
{
	char shown[80];
	size_t i;
	int r;

	if (v->type != JTD_V_LIST) {
		r = push_piece(pr, name, v, split_comma, out);
		if (r == -2) {
			jtd_value_describe(v, shown, sizeof(shown));
			jtd_probs_add(pr, "%s: expected a string or a list of "
			    "strings, got %s", name, shown);
		}
		goto out;
	}

	for (i = 0, r = 0; i < v->list.n && r == 0; i++) {
		const struct jtd_value *it = &v->list.items[i];

		r = push_piece(pr, name, it, split_comma, out);
		if (r == -2) {
			jtd_value_describe(it, shown, sizeof(shown));
			jtd_probs_add(pr, "%s: item %zu: expected a string, "
			    "got %s", name, i + 1, shown);
		}
	}
out:
	if (r < 0)
		jtd_strv_free(out);
	return r < 0 ? -1 : 0;
}

/* A scalar as an owned C string; "" stays unset.  0 or -1 (problem). */
static int
decode_cstr(struct tdec *d, const char *name, const struct jtd_value *v,
    char **out)
{
	struct jtd_strv one = { 0 };
	char shown[80];

	if (v->type == JTD_V_LIST || v->type == JTD_V_MAP) {
		jtd_value_describe(v, shown, sizeof(shown));
		jtd_probs_add(&d->pr, "%s: expected a string, got %s", name,
		    shown);
		return -1;
	}
	if (jtd_collect_strings(&d->pr, name, v, false, &one) < 0)
		return -1;
	if (one.n == 1) {
		*out = one.v[0];
		one.v[0] = NULL;
	}
	jtd_strv_free(&one);
	return 0;
}

/* Absolute, and no ".." component (so prefix checks mean something). */
static bool
path_ok(const char *s)
{
	const char *p;

	if (s[0] != '/')
		return false;
	for (p = s; (p = strstr(p, "..")) != NULL; p += 2) {
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return false;
	}
	return true;
}

static void
check_length(struct tdec *d, const char *name, char **s, int64_t max)
{
	if (*s == NULL || max <= 0 || strlen(*s) <= (size_t)max)
		return;
	jtd_probs_add(&d->pr, "%s: longer than %lld bytes", name,
	    (long long)max);
	free(*s);
	*s = NULL;
}

static void
decode_string(struct tdec *d, const struct jtd_param *p, const char *name,
    const struct jtd_value *v)
{
	char **out = field(d->tc, p);
	char shown[80];

	if (decode_cstr(d, name, v, out) < 0)
		return;
	check_length(d, name, out, p->max);
	if (p->type != JTD_PT_PATH || *out == NULL || path_ok(*out))
		return;

	jtd_quote(*out, strlen(*out), shown, sizeof(shown));
	jtd_probs_add(&d->pr, "%s: must be an absolute path without \"..\" "
	    "components, got %s", name, shown);
	free(*out);
	*out = NULL;
}

static void
decode_bool(struct tdec *d, const char *name, const struct jtd_value *v,
    struct jtd_obool *out)
{
	char shown[80];

	if (jtd_value_to_bool(v, &out->val) == 0) {
		out->set = true;
		return;
	}
	jtd_value_describe(v, shown, sizeof(shown));
	jtd_probs_add(&d->pr, "%s: expected true or false, got %s", name,
	    shown);
}

static void
decode_int(struct tdec *d, const struct jtd_param *p, const char *name,
    const struct jtd_value *v)
{
	struct jtd_oint *out = field(d->tc, p);
	char shown[80];
	int64_t x = 0;

	jtd_value_describe(v, shown, sizeof(shown));
	switch (jtd_value_to_i64(v, &x)) {
	case JTD_NUM_OK:
		if (x >= p->min && x <= p->max) {
			out->set = true;
			out->val = x;
			return;
		}
		/* FALLTHROUGH */
	case JTD_NUM_RANGE:
		jtd_probs_add(&d->pr, "%s: %s is out of range, use a whole "
		    "number from %lld to %lld", name, shown,
		    (long long)p->min, (long long)p->max);
		return;
	case JTD_NUM_NOT_WHOLE:
		jtd_probs_add(&d->pr, "%s: must be a whole number, got %s",
		    name, shown);
		return;
	case JTD_NUM_NOT_NUMBER:
		break;
	}
	jtd_probs_add(&d->pr, "%s: expected a whole number, got %s", name,
	    shown);
}

static bool
word_is(const struct jtd_value *v, const char *word)
{
	size_t n = strlen(word);

	return v->type == JTD_V_STRING && v->str.len == n &&
	    strncasecmp(v->str.ptr, word, n) == 0;
}

static void
decode_jailsys(struct tdec *d, const struct jtd_param *p, const char *name,
    const struct jtd_value *v)
{
	enum jtd_jailsys *out = field(d->tc, p);
	bool nodis = (p->flags & JTD_PF_NO_DISABLE) != 0;
	char shown[80];

	if (v->type == JTD_V_STRING && v->str.len == 0)
		return;
	if (word_is(v, "inherit"))
		*out = JTD_JAILSYS_INHERIT;
	else if (word_is(v, "new"))
		*out = JTD_JAILSYS_NEW;
	else if (!nodis && word_is(v, "disable"))
		*out = JTD_JAILSYS_DISABLE;
	if (*out != JTD_JAILSYS_UNSET)
		return;

	jtd_value_describe(v, shown, sizeof(shown));
	jtd_probs_add(&d->pr, "%s: %s is not accepted, use %s", name, shown,
	    nodis ? "\"inherit\" or \"new\"" :
	    "\"inherit\", \"new\" or \"disable\"");
}

/* Vnet: true/"new" make a virtual network stack, false/"inherit" not. */
static void
decode_vnet(struct tdec *d, const struct jtd_param *p, const char *name,
    const struct jtd_value *v)
{
	enum jtd_jailsys *out = field(d->tc, p);
	char shown[80];
	bool b;

	if (v->type == JTD_V_STRING && v->str.len == 0)
		return;
	if (word_is(v, "new"))
		*out = JTD_JAILSYS_NEW;
	else if (word_is(v, "inherit"))
		*out = JTD_JAILSYS_INHERIT;
	else if (jtd_value_to_bool(v, &b) == 0)
		*out = b ? JTD_JAILSYS_NEW : JTD_JAILSYS_INHERIT;
	if (*out != JTD_JAILSYS_UNSET)
		return;

	jtd_value_describe(v, shown, sizeof(shown));
	jtd_probs_add(&d->pr, "%s: %s is not accepted, use true, false, "
	    "\"new\" or \"inherit\"", name, shown);
}

/*
 * An fstab(5) line: device, mount point, type, options and optionally
 * dump and pass numbers, separated by blanks; the mount point absolute.
 */
static bool
fstab_line_ok(const char *s)
{
	const char *blanks = " \t";
	size_t nfields = 0, n;

	while (*s != '\0') {
		s += strspn(s, blanks);
		if (*s == '\0')
			break;
		n = strcspn(s, blanks);
		if (nfields == 1 && s[0] != '/')
			return false;
		nfields++;
		s += n;
	}
	return nfields >= 4 && nfields <= 6;
}

static void
decode_strlist(struct tdec *d, const struct jtd_param *p, const char *name,
    const struct jtd_value *v)
{
	struct jtd_strv *out = field(d->tc, p);
	char shown[80];
	size_t i;

	if (jtd_collect_strings(&d->pr, name, v,
	    (p->flags & JTD_PF_SPLIT_COMMA) != 0, out) < 0)
		return;

	for (i = 0; i < out->n; i++) {
		const char *s = out->v[i];

		jtd_quote(s, strlen(s), shown, sizeof(shown));
		if (p->max > 0 && strlen(s) > (size_t)p->max) {
			jtd_probs_add(&d->pr, "%s: %s is longer than %lld "
			    "bytes", name, shown, (long long)p->max);
			break;
		}
		if ((p->flags & JTD_PF_FSTAB) && !fstab_line_ok(s)) {
			jtd_probs_add(&d->pr, "%s: %s is not an fstab(5) line "
			    "(device, absolute mount point, type, options, "
			    "optional dump and pass)", name, shown);
			break;
		}
		if (p->type == JTD_PT_PATHLIST && !path_ok(s)) {
			jtd_probs_add(&d->pr, "%s: %s must be an absolute path "
			    "without \"..\" components", name, shown);
			break;
		}
	}
	if (i < out->n)
		jtd_strv_free(out);
}

/* args: a list of strings; empty strings are real arguments. */
static void
decode_argv(struct tdec *d, const struct jtd_param *p, const char *name,
    const struct jtd_value *v)
{
	struct jtd_strv *out = field(d->tc, p);
	char shown[80], text[64];
	size_t i;
	int n;

	if (v->type != JTD_V_LIST) {
		jtd_value_describe(v, shown, sizeof(shown));
		jtd_probs_add(&d->pr, "%s: expected a list of strings such as "
		    "[\"-c\", \"echo hi\"], got %s", name, shown);
		return;
	}
	for (i = 0; i < v->list.n; i++) {
		const struct jtd_value *it = &v->list.items[i];
		const char *s = text;
		size_t len;

		if (it->type == JTD_V_STRING) {
			s = it->str.ptr;
			len = it->str.len;
			n = memchr(s, '\0', len) != NULL ? -1 : (int)0;
		} else {
			n = scalar_text(it, text, sizeof(text));
			len = n > 0 ? (size_t)n : 0;
		}
		if (n < 0) {
			jtd_value_describe(it, shown, sizeof(shown));
			jtd_probs_add(&d->pr, "%s: item %zu: expected a string "
			    "without NUL bytes, got %s", name, i + 1, shown);
			jtd_strv_free(out);
			return;
		}
		if (jtd_strv_push(out, s, len) < 0) {
			d->pr.oom = true;
			return;
		}
	}
}

static void
decode_param(struct tdec *d, const struct jtd_param *p, const char *name,
    const struct jtd_value *v)
{
	switch (p->type) {
	case JTD_PT_STRING:
	case JTD_PT_PATH:
		decode_string(d, p, name, v);
		break;
	case JTD_PT_BOOL:
		decode_bool(d, name, v, field(d->tc, p));
		break;
	case JTD_PT_INT:
		decode_int(d, p, name, v);
		break;
	case JTD_PT_JAILSYS:
		decode_jailsys(d, p, name, v);
		break;
	case JTD_PT_VNET:
		decode_vnet(d, p, name, v);
		break;
	case JTD_PT_STRLIST:
	case JTD_PT_PATHLIST:
		decode_strlist(d, p, name, v);
		break;
	case JTD_PT_ARGV:
		decode_argv(d, p, name, v);
		break;
	case JTD_PT_IP4LIST:
	case JTD_PT_IP6LIST:
		jtd_iplist_decode(&d->pr, name,
		    p->type == JTD_PT_IP4LIST ? AF_INET : AF_INET6, v,
		    field(d->tc, p));
		break;
	case JTD_PT_RCTL:
		jtd_rctl_decode(&d->pr, name, v, d->tc);
		break;
	case JTD_PT_READONLY:
		jtd_probs_add(&d->pr, "%s: is read-only in jail(8) (the kernel "
		    "reports it), remove it", name);
		break;
	}
}

static bool
is_known(const struct jtd_member *m)
{
	size_t i;

	for (i = 0; i < jtd_nparams; i++) {
		if (strlen(jtd_params[i].name) == m->key_len &&
		    memcmp(jtd_params[i].name, m->key, m->key_len) == 0)
			return true;
	}
	for (i = 0; i < jtd_nparam_aliases; i++) {
		if (strlen(jtd_param_aliases[i].name) == m->key_len &&
		    memcmp(jtd_param_aliases[i].name, m->key,
		    m->key_len) == 0)
			return true;
	}
	return false;
}

static void
check_unknown(struct tdec *d, const struct jtd_value *root)
{
	char shown[80];
	size_t i, k;

	for (i = 0; i < root->map.n; i++) {
		const struct jtd_member *m = &root->map.items[i];
		const char *hint = NULL;

		if (is_known(m))
			continue;
		for (k = 0; k < jtd_nparams && hint == NULL; k++) {
			if (jtd_name_folds_to(m->key, m->key_len,
			    jtd_params[k].name))
				hint = jtd_params[k].name;
		}
		jtd_quote(m->key, m->key_len, shown, sizeof(shown));
		if (hint != NULL)
			jtd_probs_add(&d->pr, "unknown parameter %s, did you "
			    "mean \"%s\"?", shown, hint);
		else
			jtd_probs_add(&d->pr, "unknown parameter %s", shown);
	}
}

static void
decode_aliases(struct tdec *d, const struct jtd_value *root)
{
	size_t i;

	for (i = 0; i < jtd_nparam_aliases; i++) {
		const struct jtd_param_alias *a = &jtd_param_aliases[i];
		const struct jtd_value *v = jtd_value_get(root, a->name);
		const struct jtd_param *p = jtd_param_find(a->canonical);

		if (jtd_value_is_null(v) || p == NULL)
			continue;
		if (!jtd_value_is_null(jtd_value_get(root, a->canonical))) {
			jtd_probs_add(&d->pr, "%s: is the old misspelling of "
			    "%s, which is also set, keep only %s", a->name,
			    a->canonical, a->canonical);
			continue;
		}
		decode_param(d, p, a->name, v);
	}
}

/* The job wrote the parameter (an empty string counts as not). */
static bool
given(const struct jtd_value *root, const char *name)
{
	const struct jtd_value *v = jtd_value_get(root, name);

	if (jtd_value_is_null(v))
		return false;
	return v->type != JTD_V_STRING || v->str.len > 0;
}

static void
check_network(struct tdec *d)
{
	const struct jtd_taskcfg *tc = d->tc;

	if (tc->vnet == JTD_JAILSYS_NEW && tc->ip4_addr.n > 0)
		jtd_probs_add(&d->pr, "Ip4_addr: a Vnet jail cannot have IP "
		    "address restrictions, drop Ip4_addr or Vnet");
	if (tc->vnet == JTD_JAILSYS_NEW && tc->ip6_addr.n > 0)
		jtd_probs_add(&d->pr, "Ip6_addr: a Vnet jail cannot have IP "
		    "address restrictions, drop Ip6_addr or Vnet");
	if (tc->vnet == JTD_JAILSYS_NEW && tc->nic != NULL)
		jtd_probs_add(&d->pr, "Nic: adds addresses to a host "
		    "interface, which a Vnet jail does not use, use Vnet_nic "
		    "instead");
	if (tc->vnet_nic.n > 0 && tc->vnet != JTD_JAILSYS_NEW)
		jtd_probs_add(&d->pr, "Vnet_nic: needs Vnet = true (or "
		    "\"new\")");

	if (tc->ip4_addr.n > 0 && tc->ip4 != JTD_JAILSYS_UNSET &&
	    tc->ip4 != JTD_JAILSYS_NEW)
		jtd_probs_add(&d->pr, "Ip4_addr: needs Ip4 = \"new\" (or no "
		    "Ip4), Ip4 is \"%s\"", jtd_jailsys_name(tc->ip4));
	if (tc->ip6_addr.n > 0 && tc->ip6 != JTD_JAILSYS_UNSET &&
	    tc->ip6 != JTD_JAILSYS_NEW)
		jtd_probs_add(&d->pr, "Ip6_addr: needs Ip6 = \"new\" (or no "
		    "Ip6), Ip6 is \"%s\"", jtd_jailsys_name(tc->ip6));
}

static void
check_host(struct tdec *d)
{
	const struct jtd_taskcfg *tc = d->tc;
	const char *which = NULL;

	if (tc->host != JTD_JAILSYS_INHERIT)
		return;
	if (tc->host_hostname != NULL)
		which = "Host_hostname";
	else if (tc->host_domainname != NULL)
		which = "Host_domainname";
	else if (tc->host_hostuuid != NULL)
		which = "Host_hostuuid";
	else if (tc->host_hostid.set)
		which = "Host_hostid";
	if (which != NULL)
		jtd_probs_add(&d->pr, "%s: needs Host = \"new\" (or no Host), "
		    "Host is \"inherit\"", which);
}

static void
check_run(struct tdec *d, const struct jtd_value *root)
{
	const struct jtd_taskcfg *tc = d->tc;

	if (tc->command != NULL && tc->exec_start.n > 0)
		jtd_probs_add(&d->pr, "command: cannot be used together with "
		    "Exec_start, use command (with args) or Exec_start");
	if (given(root, "args") && !given(root, "command"))
		jtd_probs_add(&d->pr, "args: needs command (Exec_start takes "
		    "a whole command line instead)");
	if (!given(root, "command") && !given(root, "Exec_start"))
		jtd_probs_add(&d->pr, "nothing to run: set command (with "
		    "optional args) or Exec_start");
}

void
jtd_taskcfg_free(struct jtd_taskcfg *tc)
{
	size_t i;

	if (tc == NULL)
		return;
	for (i = 0; i < jtd_nparams; i++) {
		const struct jtd_param *p = &jtd_params[i];

		switch (p->type) {
		case JTD_PT_STRING:
		case JTD_PT_PATH:
			free(*(char **)field(tc, p));
			break;
		case JTD_PT_STRLIST:
		case JTD_PT_PATHLIST:
		case JTD_PT_ARGV:
			jtd_strv_free(field(tc, p));
			break;
		case JTD_PT_IP4LIST:
		case JTD_PT_IP6LIST:
			jtd_iplist_free(field(tc, p));
			break;
		default:
			break;
		}
	}
	free(tc);
}

static void
decode_root(struct tdec *d, const struct jtd_value *root)
{
	size_t i;

	for (i = 0; i < jtd_nparams; i++) {
		const struct jtd_param *p = &jtd_params[i];
		const struct jtd_value *v = jtd_value_get(root, p->name);

		if (!jtd_value_is_null(v))
			decode_param(d, p, p->name, v);
	}
	decode_aliases(d, root);
	check_unknown(d, root);

	check_run(d, root);
	check_network(d);
	check_host(d);
}

/* Start a decode; false when out of memory (*err set). */
static bool
start(struct tdec *d, struct jtd_err **err)
{
	memset(d, 0, sizeof(*d));
	d->pr.list = &d->problems;
	d->tc = calloc(1, sizeof(*d->tc));
	if (d->tc == NULL)
		jtd_err_set(err, JTD_EXHAUSTED,
		    "out of memory while decoding the task config");
	return d->tc != NULL;
}

static struct jtd_taskcfg *
finish(struct tdec *d, struct jtd_err **err)
{
	struct jtd_taskcfg *tc = d->tc;

	if (jtd_probs_finish(&d->pr, JTD_INVALID, err) < 0) {
		jtd_taskcfg_free(tc);
		tc = NULL;
	}
	jtd_strv_free(&d->problems);
	return tc;
}

struct jtd_taskcfg *
jtd_taskcfg_decode_value(const struct jtd_value *root, struct jtd_err **err)
{
	struct tdec d;

	if (!start(&d, err))
		return NULL;
	if (root == NULL || root->type != JTD_V_MAP)
		jtd_probs_add(&d.pr, "the config must be an object");
	else
		decode_root(&d, root);
	return finish(&d, err);
}

/* Input that did not parse: its error is the one problem. */
static struct jtd_taskcfg *
parse_failed(struct jtd_err **perr, struct jtd_err **err)
{
	if ((*perr)->code == JTD_EXHAUSTED)
		jtd_err_set(err, JTD_EXHAUSTED, "%s", (*perr)->msg);
	else
		jtd_err_set(err, JTD_INVALID, "%s", (*perr)->msg);
	jtd_err_clear(perr);
	return NULL;
}

struct jtd_taskcfg *
jtd_taskcfg_decode_msgpack(const uint8_t *buf, size_t len,
    struct jtd_err **err)
{
	struct jtd_err *perr = NULL;
	struct jtd_taskcfg *tc;
	struct jtd_vdoc *doc;

	doc = jtd_vdoc_from_msgpack(buf, len, &perr);
	if (doc == NULL)
		return parse_failed(&perr, err);
	tc = jtd_taskcfg_decode_value(jtd_vdoc_root(doc), err);
	jtd_vdoc_free(doc);
	return tc;
}

struct jtd_taskcfg *
jtd_taskcfg_decode_json(const char *text, size_t len, struct jtd_err **err)
{
	struct jtd_err *perr = NULL;
	struct jtd_taskcfg *tc;
	struct jtd_vdoc *doc;

	doc = jtd_vdoc_from_json(text, len, &perr);
	if (doc == NULL)
		return parse_failed(&perr, err);
	tc = jtd_taskcfg_decode_value(jtd_vdoc_root(doc), err);
	jtd_vdoc_free(doc);
	return tc;
}
