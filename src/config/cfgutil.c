#include "config/cfgutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
jtd_strv_push(struct jtd_strv *sv, const char *s, size_t len)
{
	char **nv, *copy;

	if (len == SIZE_MAX || sv->n > SIZE_MAX / sizeof(*nv) - 2)
		return -1;
	copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';

	nv = realloc(sv->v, (sv->n + 2) * sizeof(*nv));
	if (nv == NULL) {
		free(copy);
		return -1;
	}
	nv[sv->n++] = copy;
	nv[sv->n] = NULL;
	sv->v = nv;
	return 0;
}

void
jtd_strv_free(struct jtd_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

void
jtd_probs_add(struct jtd_probs *pr, const char *fmt, ...)
{
	va_list ap;
	char buf[4096];
	int n;

	if (pr->list->n >= JTD_PROBS_MAX) {
		pr->dropped++;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (jtd_strv_push(pr->list, buf, (size_t)n) < 0)
		pr->oom = true;
}

int
jtd_probs_finish(struct jtd_probs *pr, enum jtd_code code,
    struct jtd_err **err)
{
	size_t i, total = 1;
	char *msg, *p;

	if (pr->oom)
		return jtd_err_set(err, JTD_EXHAUSTED,
		    "out of memory while checking the config");
	if (pr->list->n == 0)
		return 0;
	if (pr->dropped > 0) {
		char more[64];
		int n = snprintf(more, sizeof(more), "and %zu more problem%s",
		    pr->dropped, pr->dropped == 1 ? "" : "s");

		if (jtd_strv_push(pr->list, more, (size_t)n) < 0)
			return jtd_err_set(err, JTD_EXHAUSTED,
			    "out of memory while checking the config");
		pr->dropped = 0;
	}

	for (i = 0; i < pr->list->n; i++)
		total += strlen(pr->list->v[i]) + 2;
	msg = malloc(total);
	if (msg == NULL)
		return jtd_err_set(err, JTD_EXHAUSTED,
		    "out of memory while checking the config");
	for (i = 0, p = msg; i < pr->list->n; i++) {
		size_t n = strlen(pr->list->v[i]);

		if (i > 0) {
			memcpy(p, "; ", 2);
			p += 2;
		}
		memcpy(p, pr->list->v[i], n);
		p += n;
	}
	*p = '\0';
	jtd_err_set(err, code, "%s", msg);
	free(msg);
	return -1;
}

static char
fold(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if (c == '.' || c == '-')
		return '_';
	return c;
}

bool
jtd_name_folds_to(const char *key, size_t key_len, const char *name)
{
	size_t i;

	if (strlen(name) != key_len)
		return false;
	for (i = 0; i < key_len; i++) {
		if (fold(key[i]) != fold(name[i]))
			return false;
	}
	return true;
}

const char *
jtd_problem_next(const char **cursor, size_t *len)
{
	const char *start = *cursor, *sep;

	if (start == NULL || *start == '\0')
		return NULL;
	sep = strstr(start, "; ");
	*len = sep != NULL ? (size_t)(sep - start) : strlen(start);
	*cursor = sep != NULL ? sep + 2 : start + *len;
	return start;
}

size_t
jtd_taskcfg_print_problems(FILE *f, const char *prefix,
    const struct jtd_err *err)
{
	const char *cur, *p;
	size_t len, n = 0;

	if (err == NULL)
		return 0;
	cur = err->msg;
	while ((p = jtd_problem_next(&cur, &len)) != NULL) {
		if (prefix != NULL)
			fprintf(f, "%s: %.*s\n", prefix, (int)len, p);
		else
			fprintf(f, "%.*s\n", (int)len, p);
		n++;
	}
	return n;
}
