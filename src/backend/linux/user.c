/*
 * Users and environment of processes in a jail.  The user is looked up
 * in the jail's own /etc/passwd and /etc/group (or the host's for
 * Exec_system_jail_user), parsed here rather than through NSS: the
 * jail's files are untrusted input and the host's NSS modules have no
 * business reading them.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"

#define LINE_MAX_LEN 4096

/* Reads a file line by line through a fixed buffer. */
struct lines {
	int fd;
	char buf[LINE_MAX_LEN];
	size_t len;
	bool eof;
};

static int
lines_open(struct lines *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	JTD_RETRY(l->fd, open(path, O_RDONLY | O_CLOEXEC));
	return l->fd < 0 ? -1 : 0;
}

/* The next line (NUL-terminated, no newline), or NULL at the end.
 * Longer lines than the buffer are skipped. */
static char *
lines_next(struct lines *l, char *out, size_t size)
{
	for (;;) {
		char *nl = memchr(l->buf, '\n', l->len);
		ssize_t n;

		if (nl != NULL || (l->eof && l->len > 0)) {
			size_t ll = nl != NULL ? (size_t)(nl - l->buf) : l->len;
			size_t used = nl != NULL ? ll + 1 : ll;

			if (ll >= size)
				ll = size - 1;
			memcpy(out, l->buf, ll);
			out[ll] = '\0';
			memmove(l->buf, l->buf + used, l->len - used);
			l->len -= used;
			return out;
		}
		if (l->eof)
			return NULL;
		if (l->len == sizeof(l->buf))
			l->len = 0;	/* an overlong line: drop it */
		n = jtd_read(l->fd, l->buf + l->len, sizeof(l->buf) - l->len);
		if (n <= 0)
			l->eof = true;
		else
			l->len += (size_t)n;
	}
}

static void
lines_close(struct lines *l)
{
	jtd_close(l->fd);
}

/* Split s on ':' into at most max fields; returns the count. */
static int
split_colon(char *s, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = s;
		s = strchr(s, ':');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	return n;
}

static bool
parse_id(const char *s, unsigned long *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *v < 0xffffffffUL;
}

void
lx_user_root(struct lx_user *u)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "root");
	snprintf(u->home, sizeof(u->home), "/root");
	snprintf(u->shell, sizeof(u->shell), "/bin/sh");
	u->ngroups = 1;
}

static int
find_passwd(const char *user, struct lx_user *u, bool *found)
{
	char line[LINE_MAX_LEN], *f[7];
	unsigned long want = 0, uid, gid;
	bool numeric = parse_id(user, &want);
	struct lines l;

	*found = false;
	if (lines_open(&l, "/etc/passwd") != 0)
		return errno == ENOENT ? 0 : -1;
	while (lines_next(&l, line, sizeof(line)) != NULL) {
		if (line[0] == '#' || split_colon(line, f, 7) != 7 ||
		    !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
			continue;
		if (numeric ? uid != want : strcmp(f[0], user) != 0)
			continue;
		u->uid = (uid_t)uid;
		u->gid = (gid_t)gid;
		snprintf(u->name, sizeof(u->name), "%.*s",
		    (int)sizeof(u->name) - 1, f[0]);
		snprintf(u->home, sizeof(u->home), "%s", f[5][0] != '\0' ?
		    f[5] : "/");
		snprintf(u->shell, sizeof(u->shell), "%s", f[6][0] != '\0' ?
		    f[6] : "/bin/sh");
		*found = true;
		break;
	}
	lines_close(&l);
	return 0;
}

static bool
member_of(char *members, const char *name)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(members, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, name) == 0)
			return true;
	}
	return false;
}

/* The primary group, then every group listing the user as a member. */
static void
find_groups(struct lx_user *u)
{
	char line[LINE_MAX_LEN], *f[4];
	unsigned long gid;
	struct lines l;
	int i;

	u->groups[0] = u->gid;
	u->ngroups = 1;
	if (lines_open(&l, "/etc/group") != 0)
		return;
	while (u->ngroups < LX_NGROUPS_MAX &&
	    lines_next(&l, line, sizeof(line)) != NULL) {
		bool dup = false;

		if (line[0] == '#' || split_colon(line, f, 4) != 4 ||
		    !parse_id(f[2], &gid) || !member_of(f[3], u->name))
			continue;
		for (i = 0; i < u->ngroups; i++)
			dup = dup || u->groups[i] == (gid_t)gid;
		if (!dup)
			u->groups[u->ngroups++] = (gid_t)gid;
	}
	lines_close(&l);
}

int
lx_user_lookup(const char *where, const char *user, struct lx_user *u,
    struct lx_fail *f)
{
	unsigned long id;
	bool found;

	memset(u, 0, sizeof(*u));
	if (find_passwd(user, u, &found) != 0)
		return lx_fail(f, errno, "user %s: read /etc/passwd", user);
	if (!found) {
		if (!parse_id(user, &id))
			return lx_fail(f, ENOENT, "user %s: not in %s "
			    "/etc/passwd", user, where);
		/* A bare number needs no entry, as in Docker and Nomad. */
		u->uid = (uid_t)id;
		u->gid = (gid_t)id;
		snprintf(u->name, sizeof(u->name), "%lu", id);
		snprintf(u->home, sizeof(u->home), "/");
		snprintf(u->shell, sizeof(u->shell), "/bin/sh");
	}
	find_groups(u);
	return 0;
}

/* ---- environment ---------------------------------------------------- */

struct envb {
	char **v;
	size_t n, cap;
	bool oom;
};

static void
env_set(struct envb *e, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t kl, i;
	char *copy;

	if (e->oom || eq == NULL || eq == kv)
		return;
	kl = (size_t)(eq - kv) + 1;
	copy = strdup(kv);
	if (copy == NULL) {
		e->oom = true;
		return;
	}
	for (i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], kv, kl) == 0) {
			free(e->v[i]);
			e->v[i] = copy;
			return;
		}
	}
	if (e->n + 2 > e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 32;
		char **nv = realloc(e->v, nc * sizeof(*nv));

		if (nv == NULL) {
			free(copy);
			e->oom = true;
			return;
		}
		e->v = nv;
		e->cap = nc;
	}
	e->v[e->n++] = copy;
	e->v[e->n] = NULL;
}

static void
env_set2(struct envb *e, const char *k, const char *v)
{
	char buf[600];

	snprintf(buf, sizeof(buf), "%s=%s", k, v);
	env_set(e, buf);
}

static bool
env_has(const struct envb *e, const char *k)
{
	size_t kl = strlen(k), i;

	for (i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], k, kl) == 0 && e->v[i][kl] == '=')
			return true;
	}
	return false;
}

void
lx_env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

char **
lx_env_build(const struct jtd_jail *j, char *const *base,
    char *const *extra, const struct lx_user *u)
{
	struct envb e = { 0 };
	const char *term = getenv("TERM");
	size_t i;

	e.cap = 32;
	e.v = calloc(e.cap, sizeof(*e.v));
	if (e.v == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (j->clean_env) {
		/* jail(8) exec.clean: an empty environment, PATH, TERM. */
		env_set(&e, "PATH=/bin:/usr/bin");
		if (term != NULL)
			env_set2(&e, "TERM", term);
	} else {
		for (i = 0; base != NULL && base[i] != NULL; i++)
			env_set(&e, base[i]);
	}
	if (j->clean_env || j->user != NULL) {
		env_set2(&e, "USER", u->name);
		env_set2(&e, "HOME", u->home);
		env_set2(&e, "SHELL", u->shell);
	}
	for (i = 0; i < j->env.n; i++)
		env_set(&e, j->env.v[i]);
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		env_set(&e, extra[i]);
	if (!env_has(&e, "PATH"))
		env_set(&e, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
		    "/usr/bin:/sbin:/bin");
	if (e.oom) {
		lx_env_free(e.v);
		errno = ENOMEM;
		return NULL;
	}
	return e.v;
}
