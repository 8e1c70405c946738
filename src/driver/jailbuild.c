#include "driver/jailbuild.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jail/state.h"

#define NAME_TASK_MAX 40

static void
sanitize(char *dst, size_t size, const char *src, size_t max)
{
	size_t o = 0;

	for (; *src != '\0' && o + 1 < size && o < max; src++) {
		char c = *src;

		dst[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ? c : '_';
	}
	dst[o] = '\0';
}

/*
 * "jtd-<alloc 8>-<task>-<start 8>": unique per start attempt (Nomad
 * gives each attempt a new id), readable in ps, cgroup and jls listings,
 * and free of '.', which FreeBSD reads as jail hierarchy.
 */
char *
jtd_jail_name_for(const char *task_id, const char *task_name)
{
	char alloc[9], task[NAME_TASK_MAX + 1], tail[9], *out;
	const char *slash1 = strchr(task_id, '/');
	const char *last = strrchr(task_id, '/');
	size_t n;

	sanitize(alloc, sizeof(alloc), task_id, 8);
	sanitize(task, sizeof(task), task_name, NAME_TASK_MAX);
	if (slash1 != NULL && last != NULL && last != slash1)
		sanitize(tail, sizeof(tail), last + 1, 8);
	else {
		/* Not Nomad's shape: a short hash keeps it unique. */
		unsigned long h = 5381;

		for (n = 0; task_id[n] != '\0'; n++)
			h = h * 33 + (unsigned char)task_id[n];
		snprintf(tail, sizeof(tail), "%08lx", h & 0xffffffffUL);
	}
	n = strlen(alloc) + strlen(task) + strlen(tail) + 8;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "jtd-%s-%s-%s", alloc, task, tail);
	return out;
}

struct builder {
	struct jtd_jail *j;
	struct jtd_err **err;
	bool oom;
};

static char *
bdup(struct builder *b, const char *s)
{
	char *d;

	if (s == NULL || s[0] == '\0')
		return NULL;
	d = strdup(s);
	if (d == NULL)
		b->oom = true;
	return d;
}

static void
list_push(struct builder *b, struct jtd_list *l, const char *s)
{
	char **nv;

	if (b->oom)
		return;
	nv = realloc(l->v, (l->n + 2) * sizeof(*nv));
	if (nv == NULL) {
		b->oom = true;
		return;
	}
	l->v = nv;
	l->v[l->n] = strdup(s);
	if (l->v[l->n] == NULL) {
		b->oom = true;
		return;
	}
	l->n++;
	l->v[l->n] = NULL;
}

static void
add_mount(struct builder *b, enum jtd_mount_kind kind, const char *source,
    const char *target, const char *fstype, const char *options,
    bool readonly)
{
	struct jtd_mount *nm, *m;
	struct jtd_jail *j = b->j;

	if (b->oom)
		return;
	nm = realloc(j->mounts, (j->n_mounts + 1) * sizeof(*nm));
	if (nm == NULL) {
		b->oom = true;
		return;
	}
	j->mounts = nm;
	m = &j->mounts[j->n_mounts++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->source = bdup(b, source);
	m->target = bdup(b, target);
	m->fstype = bdup(b, fstype);
	m->options = bdup(b, options);
	m->readonly = readonly;
	m->create = true;
}

static void
path_join(char *buf, size_t size, const char *a, const char *b)
{
	snprintf(buf, size, "%s/%s", a, b);
}

/*
 * The Nomad task directories, as Nomad's image-isolation drivers show
 * them: the shared alloc/ and this task's local/ and secrets/.
 */
static void
task_dirs(struct builder *b, const DRV(TaskConfig) *tc)
{
	char src[1100];

	path_join(src, sizeof(src), tc->alloc_dir, "alloc");
	add_mount(b, JTD_MOUNT_BIND, src, "/alloc", NULL, NULL, false);
	snprintf(src, sizeof(src), "%s/%s/local", tc->alloc_dir, tc->name);
	add_mount(b, JTD_MOUNT_BIND, src, "/local", NULL, NULL, false);
	snprintf(src, sizeof(src), "%s/%s/secrets", tc->alloc_dir, tc->name);
	add_mount(b, JTD_MOUNT_BIND, src, "/secrets", NULL, NULL, false);
}

/* Nomad's volume_mount and friends: host paths bound into the jail. */
static int
nomad_mounts(struct builder *b, const DRV(TaskConfig) *tc)
{
	size_t i;

	for (i = 0; i < tc->n_mounts; i++) {
		const DRV(Mount) *m = tc->mounts[i];

		if (m->task_path[0] != '/' || m->host_path[0] != '/')
			return jtd_err_set(b->err, JTD_INVALID,
			    "volume mount %s -> %s: both paths must be "
			    "absolute", m->host_path, m->task_path);
		add_mount(b, JTD_MOUNT_BIND, m->host_path, m->task_path, NULL,
		    NULL, m->readonly);
	}
	return 0;
}

/*
 * One fstab(5) line of Mount or Mount_fstab.  Like jail(8) the mount
 * point is a host path; it must lie inside the jail root, and the model
 * keeps it relative to the root.
 */
static int
fstab_line(struct builder *b, const char *param, const char *line)
{
	char copy[1024], *f[6], *save = NULL, *tok;
	const char *root = b->j->root, *inside;
	size_t n = 0, rl = strlen(root);
	bool ro;

	snprintf(copy, sizeof(copy), "%s", line);
	for (tok = strtok_r(copy, " \t", &save); tok != NULL && n < 6;
	    tok = strtok_r(NULL, " \t", &save))
		f[n++] = tok;
	if (n == 0 || f[0][0] == '#')
		return 0;
	if (n < 3)
		return jtd_err_set(b->err, JTD_INVALID,
		    "%s: \"%s\" is not an fstab line (source mountpoint "
		    "fstype [options [dump [pass]]])", param, line);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (strncmp(f[1], root, rl) != 0 ||
	    (f[1][rl] != '/' && f[1][rl] != '\0'))
		return jtd_err_set(b->err, JTD_INVALID,
		    "%s: mount point %s is not inside the jail root %s",
		    param, f[1], root);
	inside = f[1][rl] == '\0' ? "/" : f[1] + rl;
	ro = n >= 4 && (strcmp(f[3], "ro") == 0 ||
	    strncmp(f[3], "ro,", 3) == 0 || strstr(f[3], ",ro,") != NULL ||
	    (strlen(f[3]) > 3 && strcmp(f[3] + strlen(f[3]) - 3, ",ro") == 0));
	/* nullfs is FreeBSD's bind mount; the model says so plainly. */
	if (strcmp(f[2], "nullfs") == 0)
		add_mount(b, JTD_MOUNT_BIND, f[0], inside, NULL, NULL, ro);
	else
		add_mount(b, JTD_MOUNT_FS, f[0], inside, f[2],
		    n >= 4 ? f[3] : NULL, ro);
	return 0;
}

static int
fstab_mounts(struct builder *b, const struct jtd_taskcfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->mount.n; i++)
		if (fstab_line(b, "Mount", cfg->mount.v[i]) != 0)
			return -1;
	for (i = 0; i < cfg->mount_fstab.n; i++) {
		struct jtd_err *rerr = NULL;
		char *text, *line, *save = NULL;

		text = jtd_read_file(cfg->mount_fstab.v[i], 65536, NULL, &rerr);
		if (text == NULL) {
			jtd_err_set(b->err, JTD_INVALID, "Mount_fstab: %s",
			    rerr->msg);
			jtd_err_clear(&rerr);
			return -1;
		}
		for (line = strtok_r(text, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (fstab_line(b, "Mount_fstab", line) != 0) {
				free(text);
				return -1;
			}
		}
		free(text);
	}
	return 0;
}

static int
env_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
environment(struct builder *b, const DRV(TaskConfig) *tc)
{
	struct jtd_list *env = &b->j->env;
	size_t i;

	for (i = 0; i < tc->n_env; i++) {
		const char *k = tc->env[i]->key, *v = tc->env[i]->value;
		size_t n = strlen(k) + strlen(v) + 2;
		char *kv;

		if (k[0] == '\0' || strchr(k, '=') != NULL)
			continue;
		kv = malloc(n);
		if (kv == NULL) {
			b->oom = true;
			return;
		}
		snprintf(kv, n, "%s=%s", k, v);
		list_push(b, env, kv);
		free(kv);
	}
	/* Nomad's map has no order; the jail's environment does. */
	if (env->n > 1)
		qsort(env->v, env->n, sizeof(*env->v), env_cmp);
}

static void
program(struct builder *b, const struct jtd_taskcfg *cfg)
{
	struct jtd_list *argv = &b->j->argv;
	size_t i, n = 0;
	char *script;

	if (cfg->command != NULL) {
		/* command/args: exec'd as given, no shell. */
		list_push(b, argv, cfg->command);
		for (i = 0; i < cfg->args.n; i++)
			list_push(b, argv, cfg->args.v[i]);
		return;
	}
	/*
	 * Exec_start: each command line through sh -c, as jail(8) runs
	 * exec.start; several run in order, stopping at the first failure.
	 */
	list_push(b, argv, "/bin/sh");
	list_push(b, argv, "-c");
	if (cfg->exec_start.n == 1) {
		list_push(b, argv, cfg->exec_start.v[0]);
		return;
	}
	for (i = 0; i < cfg->exec_start.n; i++)
		n += strlen(cfg->exec_start.v[i]) + 1;
	script = malloc(n + 8);
	if (script == NULL) {
		b->oom = true;
		return;
	}
	strcpy(script, "set -e\n");
	for (i = 0; i < cfg->exec_start.n; i++) {
		strcat(script, cfg->exec_start.v[i]);
		strcat(script, "\n");
	}
	list_push(b, argv, script);
	free(script);
}

static void
network(struct builder *b, const DRV(TaskConfig) *tc,
    const struct jtd_taskcfg *cfg)
{
	struct jtd_jail *j = b->j;
	const DRV(NetworkIsolationSpec) *ns = tc->network_isolation_spec;
	size_t i;

	/*
	 * Nomad's default network mode is the host's, so an unset Ip4
	 * shares the host stack (jail(8) alone would leave the jail with
	 * no IPv4 at all).
	 */
	j->net = JTD_NET_INHERIT;
	if (cfg->ip4 == JTD_JAILSYS_NEW || cfg->ip4_addr.n > 0 ||
	    cfg->ip6_addr.n > 0)
		j->net = JTD_NET_NEW;
	else if (cfg->ip4 == JTD_JAILSYS_DISABLE)
		j->net = JTD_NET_DISABLE;
	if (cfg->vnet == JTD_JAILSYS_NEW)
		j->net = JTD_NET_VNET;
	if (ns != NULL && ns->path[0] != '\0' && j->net == JTD_NET_INHERIT &&
	    ns->mode == DRV_C(NETWORK_ISOLATION_SPEC__NETWORK_ISOLATION_MODE__GROUP)) {
		j->net = JTD_NET_JOIN;
		j->netns_path = bdup(b, ns->path);
	}
	for (i = 0; i < cfg->vnet_nic.n; i++)
		list_push(b, &j->vnet_nics, cfg->vnet_nic.v[i]);
	for (i = 0; i < 2; i++) {
		const struct jtd_iplist *src = i == 0 ? &cfg->ip4_addr :
		    &cfg->ip6_addr;
		struct jtd_iplist *dst = i == 0 ? &j->ip4 : &j->ip6;
		size_t k;

		if (src->n == 0)
			continue;
		dst->v = calloc(src->n, sizeof(*dst->v));
		if (dst->v == NULL) {
			b->oom = true;
			return;
		}
		for (k = 0; k < src->n; k++) {
			dst->v[k] = src->v[k];
			dst->v[k].iface = bdup(b, src->v[k].iface);
			dst->v[k].text = bdup(b, src->v[k].text);
			dst->n++;
		}
	}
}

static void
permissions(struct builder *b, const struct jtd_taskcfg *cfg)
{
	size_t i;

	for (i = 0; i < JTD_ALLOW__COUNT; i++) {
		const struct jtd_param *p = jtd_param_find(jtd_allow_names[i]);
		const struct jtd_obool *v;

		if (p == NULL)
			continue;
		v = (const struct jtd_obool *)((const char *)cfg + p->offset);
		if (!v->set)
			continue;
		b->j->allow_set |= UINT64_C(1) << i;
		if (v->val)
			b->j->allow_val |= UINT64_C(1) << i;
	}
	b->j->securelevel = cfg->securelevel.set ? (int)cfg->securelevel.val :
	    -2;
	b->j->enforce_statfs = cfg->enforce_statfs.set ?
	    (int)cfg->enforce_statfs.val : -1;
	b->j->children_max = cfg->children_max.set ?
	    (int)cfg->children_max.val : -1;
}

static void
resources(struct builder *b, const DRV(TaskConfig) *tc)
{
	const DRV(Resources) *r = tc->resources;

	if (r == NULL)
		return;
	if (r->allocated_resources != NULL) {
		const DRV(AllocatedTaskResources) *a = r->allocated_resources;

		if (a->memory != NULL) {
			b->j->memory_mb = a->memory->memory_mb;
			b->j->memory_max_mb = a->memory->memory_max_mb;
		}
		if (a->cpu != NULL)
			b->j->cpu_shares = a->cpu->cpu_shares;
	}
	if (r->linux_resources != NULL)
		b->j->cpuset_cpus = bdup(b, r->linux_resources->cpuset_cpus);
}

struct jtd_jail *
jtd_jail_build(const DRV(TaskConfig) *tc, const struct jtd_taskcfg *cfg,
    struct jtd_err **err)
{
	struct builder b = { .err = err };
	struct jtd_jail *j;
	char taskdir[1100];
	size_t i;

	if (tc->id[0] == '\0' || tc->name[0] == '\0' ||
	    tc->alloc_dir[0] != '/') {
		jtd_err_set(err, JTD_INVALID, "TaskConfig needs an id, a name "
		    "and an absolute alloc_dir");
		return NULL;
	}
	j = b.j = calloc(1, sizeof(*j));
	if (j == NULL)
		goto oom;
	j->devfs_ruleset = -1;
	j->stop_timeout = -1;
	j->name = jtd_jail_name_for(tc->id, tc->name);
	j->task_id = bdup(&b, tc->id);
	snprintf(taskdir, sizeof(taskdir), "%s/%s", tc->alloc_dir, tc->name);
	j->root = bdup(&b, cfg->path != NULL ? cfg->path : taskdir);
	j->hostname = bdup(&b, cfg->host_hostname != NULL ?
	    cfg->host_hostname : tc->name);
	if (j->hostname != NULL && strlen(j->hostname) > 63)
		j->hostname[63] = '\0';
	j->domainname = bdup(&b, cfg->host_domainname);
	if (b.oom || j->name == NULL)
		goto oom;

	task_dirs(&b, tc);
	if (nomad_mounts(&b, tc) != 0 || fstab_mounts(&b, cfg) != 0)
		goto fail;
	/*
	 * A jail root built for Nomad is rarely usable without /dev/null:
	 * devfs is on unless the job turns it off.
	 */
	j->mount_devfs = !cfg->mount_devfs.set || cfg->mount_devfs.val;
	j->mount_fdescfs = cfg->mount_fdescfs.set && cfg->mount_fdescfs.val;
	j->mount_procfs = cfg->mount_procfs.set && cfg->mount_procfs.val;
	j->devfs_ruleset = cfg->devfs_ruleset.set ?
	    (int)cfg->devfs_ruleset.val : -1;

	network(&b, tc, cfg);
	program(&b, cfg);
	environment(&b, tc);
	j->clean_env = cfg->exec_clean.set && cfg->exec_clean.val;
	j->user = bdup(&b, cfg->exec_jail_user != NULL ? cfg->exec_jail_user :
	    tc->user);
	j->user_from_host = cfg->exec_system_jail_user.set &&
	    cfg->exec_system_jail_user.val;
	j->persist = cfg->persist.set && cfg->persist.val;

	j->stdout_path = bdup(&b, tc->stdout_path);
	j->stderr_path = bdup(&b, tc->stderr_path);
	j->consolelog = bdup(&b, cfg->exec_consolelog);

	for (i = 0; i < JTD_RCTL__COUNT; i++)
		j->rctl[i] = cfg->rctl[i];
	resources(&b, tc);
	permissions(&b, cfg);
	for (i = 0; i < cfg->exec_stop.n; i++)
		list_push(&b, &j->exec_stop, cfg->exec_stop.v[i]);
	j->exec_timeout = cfg->exec_timeout.set ? (int)cfg->exec_timeout.val :
	    0;
	j->stop_timeout = cfg->stop_timeout.set ? (int)cfg->stop_timeout.val :
	    -1;
	if (b.oom)
		goto oom;
	return j;
oom:
	jtd_err_set(err, JTD_EXHAUSTED, "out of memory building the jail");
fail:
	jtd_jail_free(j);
	return NULL;
}
