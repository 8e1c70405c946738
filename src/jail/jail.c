/*
 * The jail model's storage: release, and the private line format the
 * driver uses to hand a jail to its supervisor.  Each line is a key and
 * its fields, separated by single spaces; every string field is
 * percent-escaped (jtd_pct_escape), so fields never contain spaces; an
 * absent string is "-" (a present "-" is escaped as %2D) and an empty one
 * is a lone "%", which escaping never produces.
 */
#include "jail/jail.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "jail/state.h"

#define SPEC_MAX (1024 * 1024)

const char *const jtd_allow_names[JTD_ALLOW__COUNT] = {
	[JTD_ALLOW_SET_HOSTNAME] = "Allow_set_hostname",
	[JTD_ALLOW_SYSVIPC] = "Allow_sysvipc",
	[JTD_ALLOW_RAW_SOCKETS] = "Allow_raw_sockets",
	[JTD_ALLOW_CHFLAGS] = "Allow_chflags",
	[JTD_ALLOW_MOUNT] = "Allow_mount",
	[JTD_ALLOW_MOUNT_DEVFS] = "Allow_mount_devfs",
	[JTD_ALLOW_MOUNT_FDESCFS] = "Allow_mount_fdescfs",
	[JTD_ALLOW_MOUNT_FUSEFS] = "Allow_mount_fusefs",
	[JTD_ALLOW_MOUNT_LINPROCFS] = "Allow_mount_linprocfs",
	[JTD_ALLOW_MOUNT_LINSYSFS] = "Allow_mount_linsysfs",
	[JTD_ALLOW_MOUNT_NULLFS] = "Allow_mount_nullfs",
	[JTD_ALLOW_MOUNT_PROCFS] = "Allow_mount_procfs",
	[JTD_ALLOW_MOUNT_TMPFS] = "Allow_mount_tmpfs",
	[JTD_ALLOW_MOUNT_ZFS] = "Allow_mount_zfs",
	[JTD_ALLOW_QUOTAS] = "Allow_quotas",
	[JTD_ALLOW_READ_MSGBUF] = "Allow_read_msgbuf",
	[JTD_ALLOW_SOCKET_AF] = "Allow_socket_af",
	[JTD_ALLOW_RESERVED_PORTS] = "Allow_reserved_ports",
	[JTD_ALLOW_MLOCK] = "Allow_mlock",
	[JTD_ALLOW_VMM] = "Allow_vmm",
	[JTD_ALLOW_SUSER] = "Allow_suser",
	[JTD_ALLOW_UNPRIVILEGED_PROC_DEBUG] = "Allow_unprivileged_proc_debug",
	[JTD_ALLOW_NFSD] = "Allow_nfsd",
	[JTD_ALLOW_EXTATTR] = "Allow_extattr",
	[JTD_ALLOW_ADJTIME] = "Allow_adjtime",
	[JTD_ALLOW_SETTIME] = "Allow_settime",
};

int
jtd_jail_allow(const struct jtd_jail *j, enum jtd_allow a)
{
	if (!(j->allow_set & (UINT64_C(1) << a)))
		return -1;
	return (j->allow_val & (UINT64_C(1) << a)) ? 1 : 0;
}

static void
list_free(struct jtd_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
iplist_free(struct jtd_iplist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].iface);
		free(l->v[i].text);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
jtd_jail_free(struct jtd_jail *j)
{
	size_t i;

	if (j == NULL)
		return;
	free(j->name);
	free(j->task_id);
	free(j->root);
	free(j->hostname);
	free(j->domainname);
	for (i = 0; i < j->n_mounts; i++) {
		free(j->mounts[i].source);
		free(j->mounts[i].target);
		free(j->mounts[i].fstype);
		free(j->mounts[i].options);
	}
	free(j->mounts);
	free(j->netns_path);
	iplist_free(&j->ip4);
	iplist_free(&j->ip6);
	list_free(&j->vnet_nics);
	list_free(&j->argv);
	list_free(&j->env);
	free(j->user);
	free(j->cwd);
	free(j->stdout_path);
	free(j->stderr_path);
	free(j->consolelog);
	free(j->cpuset_cpus);
	list_free(&j->exec_stop);
	free(j);
}

/* ---- encoding ---------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void
out_raw(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap * 2 + n + 256;
		char *nb = realloc(o->buf, cap);

		if (nb == NULL) {
			o->oom = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
out_fmt(struct out *o, const char *fmt, ...) JTD_PRINTF(2, 3);

static void
out_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		o->oom = true;
		return;
	}
	out_raw(o, tmp, (size_t)n);
}

/* One string field, with its leading space. */
static void
out_str(struct out *o, const char *s)
{
	char *esc;

	if (s == NULL) {
		out_raw(o, " -", 2);
		return;
	}
	if (strcmp(s, "-") == 0) {
		out_raw(o, " %2D", 4);
		return;
	}
	if (s[0] == '\0') {
		out_raw(o, " %", 2);
		return;
	}
	esc = jtd_pct_escape(s);
	if (esc == NULL) {
		o->oom = true;
		return;
	}
	out_raw(o, " ", 1);
	out_raw(o, esc, strlen(esc));
	free(esc);
}

static void
out_kv(struct out *o, const char *key, const char *s)
{
	if (s == NULL)
		return;
	out_raw(o, key, strlen(key));
	out_str(o, s);
	out_raw(o, "\n", 1);
}

static void
out_list(struct out *o, const char *key, const struct jtd_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		out_kv(o, key, l->v[i]);
}

static void
out_ips(struct out *o, const char *key, const struct jtd_iplist *l)
{
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct jtd_ipaddr *a = &l->v[i];

		if (inet_ntop(a->family, &a->addr, addr, sizeof(addr)) == NULL) {
			o->oom = true;
			return;
		}
		out_fmt(o, "%s %d", key, a->family == AF_INET6 ? 6 : 4);
		out_str(o, a->iface);
		out_str(o, addr);
		out_fmt(o, " %d", a->prefix);
		out_str(o, a->text);
		out_raw(o, "\n", 1);
	}
}

char *
jtd_jail_encode(const struct jtd_jail *j, size_t *len, struct jtd_err **err)
{
	struct out o = { 0 };
	size_t i;

	out_kv(&o, "name", j->name);
	out_kv(&o, "task_id", j->task_id);
	out_kv(&o, "root", j->root);
	out_kv(&o, "hostname", j->hostname);
	out_kv(&o, "domainname", j->domainname);
	for (i = 0; i < j->n_mounts; i++) {
		const struct jtd_mount *m = &j->mounts[i];

		out_fmt(&o, "mount %d", (int)m->kind);
		out_str(&o, m->source);
		out_str(&o, m->target);
		out_str(&o, m->fstype);
		out_str(&o, m->options);
		out_fmt(&o, " %d %d\n", m->readonly, m->create);
	}
	out_fmt(&o, "fs %d %d %d %d\n", j->mount_devfs, j->mount_fdescfs,
	    j->mount_procfs, j->devfs_ruleset);
	out_fmt(&o, "net %d\n", (int)j->net);
	out_kv(&o, "netns_path", j->netns_path);
	out_ips(&o, "ip", &j->ip4);
	out_ips(&o, "ip", &j->ip6);
	out_list(&o, "vnet_nic", &j->vnet_nics);
	out_list(&o, "argv", &j->argv);
	out_list(&o, "env", &j->env);
	out_fmt(&o, "proc %d %d %d\n", j->clean_env, j->user_from_host,
	    j->persist);
	out_kv(&o, "user", j->user);
	out_kv(&o, "cwd", j->cwd);
	out_kv(&o, "stdout", j->stdout_path);
	out_kv(&o, "stderr", j->stderr_path);
	out_kv(&o, "consolelog", j->consolelog);
	for (i = 0; i < JTD_RCTL__COUNT; i++) {
		const struct jtd_rctl_rule *r = &j->rctl[i];

		if (!r->set)
			continue;
		out_fmt(&o, "rctl %s %" PRIu64, jtd_rctl_info[i].rctl_name,
		    r->amount);
		out_str(&o, r->action_name);
		out_str(&o, jtd_rctl_per_name(r->per));
		out_raw(&o, "\n", 1);
	}
	out_fmt(&o, "resources %" PRId64 " %" PRId64 " %" PRId64 "\n",
	    j->memory_mb, j->memory_max_mb, j->cpu_shares);
	out_kv(&o, "cpuset", j->cpuset_cpus);
	out_fmt(&o, "security %" PRIu64 " %" PRIu64 " %d %d %d\n",
	    j->allow_set, j->allow_val, j->securelevel, j->enforce_statfs,
	    j->children_max);
	out_list(&o, "exec_stop", &j->exec_stop);
	out_fmt(&o, "timeouts %d %d\n", j->exec_timeout, j->stop_timeout);
	out_raw(&o, "end\n", 4);

	if (o.oom) {
		free(o.buf);
		jtd_err_set(err, JTD_EXHAUSTED, "out of memory encoding jail");
		return NULL;
	}
	*len = o.len;
	return o.buf;
}

/* ---- decoding ---------------------------------------------------------- */

#define MAX_FIELDS 8

struct line {
	size_t n;
	char *f[MAX_FIELDS];	/* raw fields, NUL-terminated in place */
};

/* Split a line (NUL-terminated, no newline) on single spaces. */
static int
split(char *s, struct line *l)
{
	l->n = 0;
	for (;;) {
		char *sp;

		if (l->n == MAX_FIELDS)
			return -1;
		l->f[l->n++] = s;
		sp = strchr(s, ' ');
		if (sp == NULL)
			return 0;
		*sp = '\0';
		s = sp + 1;
	}
}

static int
get_str(const char *f, char **out)
{
	if (strcmp(f, "-") == 0) {
		*out = NULL;
		return 0;
	}
	if (f[0] == '\0')
		return -1;
	if (strcmp(f, "%") == 0) {
		*out = strdup("");
		return *out == NULL ? -1 : 0;
	}
	*out = jtd_pct_unescape(f, strlen(f));
	return *out == NULL ? -1 : 0;
}

/* Set a string field once; a repeated key is a corrupt spec. */
static int
set_str(const char *f, char **field)
{
	if (*field != NULL)
		return -1;
	return get_str(f, field);
}

static int
get_i64(const char *f, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(f, &end, 10);
	if (errno != 0 || end == f || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
get_int(const char *f, int lo, int hi, int *out)
{
	int64_t v;

	if (get_i64(f, lo, hi, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int
get_bool(const char *f, bool *out)
{
	int v;

	if (get_int(f, 0, 1, &v) != 0)
		return -1;
	*out = v == 1;
	return 0;
}

static int
get_u64(const char *f, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (f[0] == '-')
		return -1;
	errno = 0;
	v = strtoull(f, &end, 10);
	if (errno != 0 || end == f || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int
list_add(struct jtd_list *l, const char *f)
{
	char *s, **nv;

	if (get_str(f, &s) != 0 || s == NULL)
		return -1;
	nv = realloc(l->v, (l->n + 2) * sizeof(*nv));
	if (nv == NULL) {
		free(s);
		return -1;
	}
	l->v = nv;
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
	return 0;
}

static int
decode_mount(struct jtd_jail *j, const struct line *l)
{
	struct jtd_mount m = { 0 }, *nm;
	int kind;

	if (l->n != 8 || get_int(l->f[1], JTD_MOUNT_BIND, JTD_MOUNT_FS,
	    &kind) != 0)
		return -1;
	m.kind = (enum jtd_mount_kind)kind;
	if (get_str(l->f[2], &m.source) != 0 ||
	    get_str(l->f[3], &m.target) != 0 ||
	    get_str(l->f[4], &m.fstype) != 0 ||
	    get_str(l->f[5], &m.options) != 0 ||
	    get_bool(l->f[6], &m.readonly) != 0 ||
	    get_bool(l->f[7], &m.create) != 0 || m.target == NULL)
		goto fail;
	nm = realloc(j->mounts, (j->n_mounts + 1) * sizeof(*nm));
	if (nm == NULL)
		goto fail;
	j->mounts = nm;
	j->mounts[j->n_mounts++] = m;
	return 0;
fail:
	free(m.source);
	free(m.target);
	free(m.fstype);
	free(m.options);
	return -1;
}

static int
decode_ip(struct jtd_jail *j, const struct line *l)
{
	struct jtd_ipaddr a = { 0 }, *nv;
	struct jtd_iplist *list;
	char *addr = NULL;
	int fam;

	if (l->n != 6 || get_int(l->f[1], 4, 6, &fam) != 0 ||
	    (fam != 4 && fam != 6))
		return -1;
	a.family = fam == 4 ? AF_INET : AF_INET6;
	if (get_str(l->f[2], &a.iface) != 0 || get_str(l->f[3], &addr) != 0 ||
	    addr == NULL || inet_pton(a.family, addr, &a.addr) != 1 ||
	    get_int(l->f[4], -1, 128, &a.prefix) != 0 ||
	    get_str(l->f[5], &a.text) != 0)
		goto fail;
	free(addr);
	list = fam == 4 ? &j->ip4 : &j->ip6;
	nv = realloc(list->v, (list->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		addr = NULL;
		goto fail;
	}
	list->v = nv;
	list->v[list->n++] = a;
	return 0;
fail:
	free(addr);
	free(a.iface);
	free(a.text);
	return -1;
}

static int
decode_rctl(struct jtd_jail *j, const struct line *l)
{
	struct jtd_rctl_rule r = { .set = true };
	char *action = NULL, *per = NULL;
	size_t i, res = JTD_RCTL__COUNT;
	int rc = -1;

	if (l->n != 5)
		return -1;
	for (i = 0; i < JTD_RCTL__COUNT; i++)
		if (strcmp(l->f[1], jtd_rctl_info[i].rctl_name) == 0)
			res = i;
	if (res == JTD_RCTL__COUNT || j->rctl[res].set ||
	    get_u64(l->f[2], &r.amount) != 0 ||
	    get_str(l->f[3], &action) != 0 || action == NULL ||
	    jtd_rctl_action_lookup(action, &r) != 0 ||
	    get_str(l->f[4], &per) != 0 || per == NULL)
		goto out;
	for (i = JTD_RCTL_PER_JAIL; i <= JTD_RCTL_PER_LOGINCLASS; i++) {
		if (strcmp(per, jtd_rctl_per_name((enum jtd_rctl_per)i)) == 0) {
			r.per = (enum jtd_rctl_per)i;
			j->rctl[res] = r;
			rc = 0;
		}
	}
out:
	free(action);
	free(per);
	return rc;
}

/* One line; returns -1 when it is malformed.  Sets *end on "end". */
static int
decode_line(struct jtd_jail *j, char *s, bool *end)
{
	struct line l;
	const char *k;
	int net;

	if (split(s, &l) != 0)
		return -1;
	k = l.f[0];
	if (strcmp(k, "end") == 0 && l.n == 1) {
		*end = true;
		return 0;
	}
	if (strcmp(k, "mount") == 0)
		return decode_mount(j, &l);
	if (strcmp(k, "ip") == 0)
		return decode_ip(j, &l);
	if (strcmp(k, "rctl") == 0)
		return decode_rctl(j, &l);
	if (strcmp(k, "fs") == 0)
		return l.n == 5 && get_bool(l.f[1], &j->mount_devfs) == 0 &&
		    get_bool(l.f[2], &j->mount_fdescfs) == 0 &&
		    get_bool(l.f[3], &j->mount_procfs) == 0 &&
		    get_int(l.f[4], -1, 65535, &j->devfs_ruleset) == 0 ? 0 : -1;
	if (strcmp(k, "net") == 0) {
		if (l.n != 2 || get_int(l.f[1], JTD_NET_INHERIT, JTD_NET_JOIN,
		    &net) != 0)
			return -1;
		j->net = (enum jtd_net_mode)net;
		return 0;
	}
	if (strcmp(k, "proc") == 0)
		return l.n == 4 && get_bool(l.f[1], &j->clean_env) == 0 &&
		    get_bool(l.f[2], &j->user_from_host) == 0 &&
		    get_bool(l.f[3], &j->persist) == 0 ? 0 : -1;
	if (strcmp(k, "resources") == 0)
		return l.n == 4 &&
		    get_i64(l.f[1], 0, INT64_MAX, &j->memory_mb) == 0 &&
		    get_i64(l.f[2], 0, INT64_MAX, &j->memory_max_mb) == 0 &&
		    get_i64(l.f[3], 0, INT64_MAX, &j->cpu_shares) == 0 ? 0 : -1;
	if (strcmp(k, "security") == 0)
		return l.n == 6 && get_u64(l.f[1], &j->allow_set) == 0 &&
		    get_u64(l.f[2], &j->allow_val) == 0 &&
		    get_int(l.f[3], -2, 3, &j->securelevel) == 0 &&
		    get_int(l.f[4], -1, 2, &j->enforce_statfs) == 0 &&
		    get_int(l.f[5], -1, 1 << 30, &j->children_max) == 0 ? 0 : -1;
	if (strcmp(k, "timeouts") == 0)
		return l.n == 3 &&
		    get_int(l.f[1], 0, 1 << 30, &j->exec_timeout) == 0 &&
		    get_int(l.f[2], -1, 1 << 30, &j->stop_timeout) == 0 ? 0 : -1;
	if (l.n != 2)
		return -1;
	if (strcmp(k, "vnet_nic") == 0)
		return list_add(&j->vnet_nics, l.f[1]);
	if (strcmp(k, "argv") == 0)
		return list_add(&j->argv, l.f[1]);
	if (strcmp(k, "env") == 0)
		return list_add(&j->env, l.f[1]);
	if (strcmp(k, "exec_stop") == 0)
		return list_add(&j->exec_stop, l.f[1]);
	if (strcmp(k, "name") == 0)
		return set_str(l.f[1], &j->name);
	if (strcmp(k, "task_id") == 0)
		return set_str(l.f[1], &j->task_id);
	if (strcmp(k, "root") == 0)
		return set_str(l.f[1], &j->root);
	if (strcmp(k, "hostname") == 0)
		return set_str(l.f[1], &j->hostname);
	if (strcmp(k, "domainname") == 0)
		return set_str(l.f[1], &j->domainname);
	if (strcmp(k, "netns_path") == 0)
		return set_str(l.f[1], &j->netns_path);
	if (strcmp(k, "user") == 0)
		return set_str(l.f[1], &j->user);
	if (strcmp(k, "cwd") == 0)
		return set_str(l.f[1], &j->cwd);
	if (strcmp(k, "stdout") == 0)
		return set_str(l.f[1], &j->stdout_path);
	if (strcmp(k, "stderr") == 0)
		return set_str(l.f[1], &j->stderr_path);
	if (strcmp(k, "consolelog") == 0)
		return set_str(l.f[1], &j->consolelog);
	if (strcmp(k, "cpuset") == 0)
		return set_str(l.f[1], &j->cpuset_cpus);
	return -1;
}

struct jtd_jail *
jtd_jail_decode(const char *buf, size_t len, struct jtd_err **err)
{
	struct jtd_jail *j = calloc(1, sizeof(*j));
	char *copy = NULL, *line, *nl;
	size_t lineno = 0;
	bool end = false;

	if (j == NULL || (copy = malloc(len + 1)) == NULL) {
		free(j);
		jtd_err_set(err, JTD_EXHAUSTED, "out of memory decoding jail");
		return NULL;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	j->devfs_ruleset = -1;
	j->securelevel = -2;
	j->enforce_statfs = -1;
	j->children_max = -1;
	j->stop_timeout = -1;

	for (line = copy; !end && line < copy + len; line = nl + 1) {
		lineno++;
		nl = memchr(line, '\n', (size_t)(copy + len - line));
		if (nl == NULL || memchr(line, '\0', (size_t)(nl - line)))
			goto bad;
		*nl = '\0';
		if (decode_line(j, line, &end) != 0)
			goto bad;
	}
	/* "end" guards against a truncated file; nothing may follow it. */
	if (!end || line != copy + len || j->name == NULL ||
	    j->root == NULL || j->argv.n == 0)
		goto bad;
	free(copy);
	return j;
bad:
	jtd_err_set(err, JTD_INTERNAL, "corrupt jail spec at line %zu",
	    lineno);
	free(copy);
	jtd_jail_free(j);
	return NULL;
}

int
jtd_jail_save(const struct jtd_jail *j, const char *path,
    struct jtd_err **err)
{
	char *buf;
	size_t len;
	int rc;

	buf = jtd_jail_encode(j, &len, err);
	if (buf == NULL)
		return -1;
	rc = jtd_write_file_atomic(path, buf, len, err);
	free(buf);
	return rc;
}

struct jtd_jail *
jtd_jail_load(const char *path, struct jtd_err **err)
{
	struct jtd_jail *j;
	size_t len;
	char *buf = jtd_read_file(path, SPEC_MAX, &len, err);

	if (buf == NULL)
		return NULL;
	j = jtd_jail_decode(buf, len, err);
	free(buf);
	if (j == NULL)
		jtd_err_wrap(err, "%s", path);
	return j;
}
