#include "backend/probe.h"

#include <stdio.h>
#include <string.h>

static struct jtd_attr *
add(struct jtd_probe *p, const char *key, enum jtd_attr_kind kind)
{
	struct jtd_attr *a;

	if (p->n_attrs >= JTD_PROBE_MAX_ATTRS)
		return NULL;
	a = &p->attrs[p->n_attrs++];
	memset(a, 0, sizeof(*a));
	snprintf(a->key, sizeof(a->key), "%s", key);
	a->kind = kind;
	return a;
}

void
jtd_probe_str(struct jtd_probe *p, const char *key, const char *val)
{
	struct jtd_attr *a = add(p, key, JTD_ATTR_STRING);

	if (a != NULL)
		snprintf(a->str, sizeof(a->str), "%s", val);
}

void
jtd_probe_bool(struct jtd_probe *p, const char *key, bool val)
{
	struct jtd_attr *a = add(p, key, JTD_ATTR_BOOL);

	if (a != NULL)
		a->b = val;
}

void
jtd_probe_int(struct jtd_probe *p, const char *key, int64_t val)
{
	struct jtd_attr *a = add(p, key, JTD_ATTR_INT);

	if (a != NULL)
		a->i = val;
}

void
jtd_probe_fail(struct jtd_probe *p, enum jtd_health h, const char *reason)
{
	size_t n;

	if (p->health == JTD_HEALTH_HEALTHY) {
		p->health = h;
		snprintf(p->reason, sizeof(p->reason), "%s", reason);
		return;
	}
	/* The worse state wins; keep every reason. */
	if (h < p->health)
		p->health = h;
	n = strlen(p->reason);
	snprintf(p->reason + n, sizeof(p->reason) - n, "; %s", reason);
}

bool
jtd_probe_equal(const struct jtd_probe *a, const struct jtd_probe *b)
{
	size_t i;

	if (a->health != b->health || a->n_attrs != b->n_attrs ||
	    strcmp(a->reason, b->reason) != 0)
		return false;
	for (i = 0; i < a->n_attrs; i++) {
		const struct jtd_attr *x = &a->attrs[i], *y = &b->attrs[i];

		if (strcmp(x->key, y->key) != 0 || x->kind != y->kind ||
		    strcmp(x->str, y->str) != 0 || x->b != y->b ||
		    x->i != y->i)
			return false;
	}
	return true;
}
