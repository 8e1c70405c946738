/*
 * The Rctl parameter: one rule per RCTL resource, written either as a bare
 * amount (the seed's form) or as { Amount, Action, Per } (the original
 * driver's later form), inside `Rctl = { }` or an `Rctl { }` block.
 * Blocks reach us as one-element lists; both shapes are accepted at both
 * levels.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/taskcfg_int.h"

#define D	JTD_RCTL_F_DENY
#define T	JTD_RCTL_F_THROTTLE
#define P	JTD_RCTL_F_PROCESS
#define M	JTD_RCTL_F_MILLIONS

/* Flags per rctl(8) and the kernel's RACCT table. */
const struct jtd_rctl_info jtd_rctl_info[JTD_RCTL__COUNT] = {
	[JTD_RCTL_CPUTIME] = { "Cputime", "cputime", P | M,
	    "seconds of CPU time" },
	[JTD_RCTL_DATASIZE] = { "Datasize", "datasize", D | P, "bytes" },
	[JTD_RCTL_STACKSIZE] = { "Stacksize", "stacksize", D | P, "bytes" },
	[JTD_RCTL_COREDUMPSIZE] = { "Coredumpsize", "coredumpsize", D | P,
	    "bytes" },
	[JTD_RCTL_MEMORYUSE] = { "Memoryuse", "memoryuse", D | P, "bytes" },
	[JTD_RCTL_MEMORYLOCKED] = { "Memorylocked", "memorylocked", D | P,
	    "bytes" },
	[JTD_RCTL_MAXPROC] = { "Maxproc", "maxproc", D | P, "processes" },
	[JTD_RCTL_OPENFILES] = { "Openfiles", "openfiles", D | P,
	    "file descriptors" },
	[JTD_RCTL_VMEMORYUSE] = { "Vmemoryuse", "vmemoryuse", D | P,
	    "bytes" },
	[JTD_RCTL_PSEUDOTERMINALS] = { "Pseudoterminals", "pseudoterminals",
	    D, "pseudo-terminals" },
	[JTD_RCTL_SWAPUSE] = { "Swapuse", "swapuse", D, "bytes" },
	[JTD_RCTL_NTHR] = { "Nthr", "nthr", D | P, "threads" },
	[JTD_RCTL_MSGQQUEUED] = { "Msgqqueued", "msgqqueued", D,
	    "SysV messages" },
	[JTD_RCTL_MSGQSIZE] = { "Msgqsize", "msgqsize", D, "bytes" },
	[JTD_RCTL_NMSGQ] = { "Nmsgq", "nmsgq", D, "SysV message queues" },
	[JTD_RCTL_NSEM] = { "Nsem", "nsem", D, "SysV semaphores" },
	[JTD_RCTL_NSEMOP] = { "Nsemop", "nsemop", D | P,
	    "semaphores per semop(2)" },
	[JTD_RCTL_NSHM] = { "Nshm", "nshm", D, "SysV shared memory segments" },
	[JTD_RCTL_SHMSIZE] = { "Shmsize", "shmsize", D, "bytes" },
	[JTD_RCTL_WALLCLOCK] = { "Wallclock", "wallclock", P | M,
	    "seconds" },
	[JTD_RCTL_PCPU] = { "Pcpu", "pcpu", D | P,
	    "percent of one CPU" },
	[JTD_RCTL_READBPS] = { "Readbps", "readbps", T | P,
	    "bytes per second" },
	[JTD_RCTL_WRITEBPS] = { "Writebps", "writebps", T | P,
	    "bytes per second" },
	[JTD_RCTL_READIOPS] = { "Readiops", "readiops", T | P,
	    "operations per second" },
	[JTD_RCTL_WRITEIOPS] = { "Writeiops", "writeiops", T | P,
	    "operations per second" },
};

/* 1000 CPUs' worth: anything above is a typo, not a limit. */
#define PCPU_MAX	100000

static const char *const signals[] = {
	"sighup", "sigint", "sigquit", "sigill", "sigtrap", "sigabrt",
	"sigemt", "sigfpe", "sigkill", "sigbus", "sigsegv", "sigsys",
	"sigpipe", "sigalrm", "sigterm", "sigurg", "sigstop", "sigtstp",
	"sigchld", "sigttin", "sigttou", "sigio", "sigxcpu", "sigxfsz",
	"sigvtalrm", "sigprof", "sigwinch", "siginfo", "sigusr1", "sigusr2",
	"sigthr",
};

static const struct {
	const char *name;
	enum jtd_rctl_action action;
} plain_actions[] = {
	{ "deny", JTD_RCTL_DENY },
	{ "log", JTD_RCTL_LOG },
	{ "devctl", JTD_RCTL_DEVCTL },
	{ "throttle", JTD_RCTL_THROTTLE },
};

static const char *const per_names[] = {
	[JTD_RCTL_PER_JAIL] = "jail",
	[JTD_RCTL_PER_PROCESS] = "process",
	[JTD_RCTL_PER_USER] = "user",
	[JTD_RCTL_PER_LOGINCLASS] = "loginclass",
};

static const char *const rule_keys[] = { "Amount", "Action", "Per" };

const char *
jtd_rctl_per_name(enum jtd_rctl_per per)
{
	return per_names[per];
}

static bool
word_is(const struct jtd_value *v, const char *word)
{
	size_t n = strlen(word);

	return v->str.len == n && strncasecmp(v->str.ptr, word, n) == 0;
}

static int parse_action(const struct jtd_value *v, struct jtd_rctl_rule *r);

int
jtd_rctl_action_lookup(const char *name, struct jtd_rctl_rule *r)
{
	struct jtd_value v = { .type = JTD_V_STRING };

	v.str.ptr = name;
	v.str.len = strlen(name);
	return parse_action(&v, r);
}

/* Action by name, any letter case; -1 if it is no rctl(8) action. */
static int
parse_action(const struct jtd_value *v, struct jtd_rctl_rule *r)
{
	size_t i;

	for (i = 0; i < sizeof(plain_actions) / sizeof(plain_actions[0]);
	    i++) {
		if (word_is(v, plain_actions[i].name)) {
			r->action = plain_actions[i].action;
			r->action_name = plain_actions[i].name;
			return 0;
		}
	}
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (word_is(v, signals[i])) {
			r->action = JTD_RCTL_SIGNAL;
			r->action_name = signals[i];
			return 0;
		}
	}
	return -1;
}

static const char *
actions_for(unsigned flags)
{
	if (flags & D)
		return "deny, log, devctl or a signal such as sigterm";
	if (flags & T)
		return "throttle, log, devctl or a signal such as sigterm";
	return "log, devctl or a signal such as sigkill";
}

/* The action a bare amount means: the one that enforces the limit. */
static void
default_action(enum jtd_rctl_res res, struct jtd_rctl_rule *r)
{
	unsigned flags = jtd_rctl_info[res].flags;

	if (flags & D) {
		r->action = JTD_RCTL_DENY;
		r->action_name = "deny";
	} else if (flags & T) {
		r->action = JTD_RCTL_THROTTLE;
		r->action_name = "throttle";
	} else {
		r->action = JTD_RCTL_SIGNAL;
		r->action_name = "sigkill";
	}
}

/* rctl(8)'s size suffixes (expand_number(3)): powers of 1024. */
static int
suffix_shift(char c)
{
	static const char letters[] = "kmgtpe";
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	p = c != '\0' ? strchr(letters, c) : NULL;
	return p != NULL ? 10 * (int)(p - letters + 1) : -1;
}

/* An amount, possibly "512m"-style text.  Returns enum jtd_num. */
static enum jtd_num
amount_value(const struct jtd_value *v, uint64_t *out)
{
	enum jtd_num r = jtd_value_to_u64(v, out);
	uint64_t mag;
	bool neg;
	int shift;

	if (r != JTD_NUM_NOT_NUMBER || v->type != JTD_V_STRING ||
	    v->str.len < 2)
		return r;
	shift = suffix_shift(v->str.ptr[v->str.len - 1]);
	if (shift < 0)
		return r;
	r = jtd_parse_decimal(v->str.ptr, v->str.len - 1, &neg, &mag);
	if (r != JTD_NUM_OK)
		return r;
	if (neg && mag != 0)
		return JTD_NUM_RANGE;
	if (mag > (UINT64_MAX >> shift))
		return JTD_NUM_RANGE;
	*out = mag << shift;
	return JTD_NUM_OK;
}

static void
decode_amount(struct jtd_probs *pr, const char *path,
    const struct jtd_value *v, enum jtd_rctl_res res, struct jtd_rctl_rule *r)
{
	const struct jtd_rctl_info *ri = &jtd_rctl_info[res];
	uint64_t max = INT64_MAX, amount = 0;
	enum jtd_num st = amount_value(v, &amount);
	char shown[80];

	if (ri->flags & M)
		max = INT64_MAX / 1000000;
	if (res == JTD_RCTL_PCPU)
		max = PCPU_MAX;
	jtd_value_describe(v, shown, sizeof(shown));

	switch (st) {
	case JTD_NUM_OK:
		if (amount <= max) {
			r->amount = amount;
			r->set = true;
			return;
		}
		jtd_probs_add(pr, "%s: %s is too large, the limit is %llu (%s)",
		    path, shown, (unsigned long long)max, ri->unit);
		return;
	case JTD_NUM_NOT_WHOLE:
		jtd_probs_add(pr, "%s: must be a whole number of %s, got %s",
		    path, ri->unit, shown);
		return;
	case JTD_NUM_RANGE:
		jtd_probs_add(pr, "%s: %s is out of range, use a whole number "
		    "from 0 to %llu (%s)", path, shown,
		    (unsigned long long)max, ri->unit);
		return;
	case JTD_NUM_NOT_NUMBER:
		break;
	}
	jtd_probs_add(pr, "%s: expected an amount of %s (a whole number, "
	    "optionally with a k, m, g, t, p or e suffix), got %s", path,
	    ri->unit, shown);
}

static void
decode_action(struct jtd_probs *pr, const char *path,
    const struct jtd_value *v, enum jtd_rctl_res res, struct jtd_rctl_rule *r)
{
	const struct jtd_rctl_info *ri = &jtd_rctl_info[res];
	char shown[80];

	jtd_value_describe(v, shown, sizeof(shown));
	if (v->type != JTD_V_STRING || parse_action(v, r) < 0) {
		jtd_probs_add(pr, "%s: %s is not an rctl action, use %s", path,
		    shown, actions_for(ri->flags));
		return;
	}
	if ((r->action == JTD_RCTL_DENY && !(ri->flags & D)) ||
	    (r->action == JTD_RCTL_THROTTLE && !(ri->flags & T)))
		jtd_probs_add(pr, "%s: %s is not possible for %s, use %s", path,
		    r->action_name, ri->rctl_name, actions_for(ri->flags));
}

static void
decode_per(struct jtd_probs *pr, const char *path, const struct jtd_value *v,
    enum jtd_rctl_res res, struct jtd_rctl_rule *r)
{
	const struct jtd_rctl_info *ri = &jtd_rctl_info[res];
	char shown[80];
	size_t i;

	jtd_value_describe(v, shown, sizeof(shown));
	for (i = 0; v->type == JTD_V_STRING &&
	    i < sizeof(per_names) / sizeof(per_names[0]); i++) {
		if (word_is(v, per_names[i]))
			break;
	}
	if (v->type != JTD_V_STRING ||
	    i == sizeof(per_names) / sizeof(per_names[0])) {
		jtd_probs_add(pr, "%s: %s is not accepted, use \"jail\", "
		    "\"process\", \"user\" or \"loginclass\"", path, shown);
		return;
	}
	if (i == JTD_RCTL_PER_PROCESS && !(ri->flags & P)) {
		jtd_probs_add(pr, "%s: \"process\" is not possible for %s (it "
		    "is not accounted per process), use \"jail\", \"user\" or "
		    "\"loginclass\"", path, ri->rctl_name);
		return;
	}
	r->per = (enum jtd_rctl_per)i;
}

static void
unknown_key(struct jtd_probs *pr, const char *path,
    const struct jtd_member *m, const char *const *names, size_t n,
    const char *accepted)
{
	char shown[80];
	size_t i;

	jtd_quote(m->key, m->key_len, shown, sizeof(shown));
	for (i = 0; i < n; i++) {
		if (jtd_name_folds_to(m->key, m->key_len, names[i])) {
			jtd_probs_add(pr, "%s: unknown key %s, did you mean "
			    "\"%s\"?", path, shown, names[i]);
			return;
		}
	}
	jtd_probs_add(pr, "%s: unknown key %s, accepted: %s", path, shown,
	    accepted);
}

/* { Amount = N, Action = "deny", Per = "jail" } */
static void
decode_rule_object(struct jtd_probs *pr, const char *path,
    const struct jtd_value *obj, enum jtd_rctl_res res,
    struct jtd_rctl_rule *r)
{
	const struct jtd_value *amount, *action, *per;
	char sub[160];
	size_t i;

	for (i = 0; i < obj->map.n; i++) {
		const struct jtd_member *m = &obj->map.items[i];
		size_t k;

		for (k = 0; k < 3; k++) {
			if (strlen(rule_keys[k]) == m->key_len &&
			    memcmp(rule_keys[k], m->key, m->key_len) == 0)
				break;
		}
		if (k == 3)
			unknown_key(pr, path, m, rule_keys, 3,
			    "Amount, Action, Per");
	}

	amount = jtd_value_get(obj, "Amount");
	action = jtd_value_get(obj, "Action");
	per = jtd_value_get(obj, "Per");
	default_action(res, r);

	if (!jtd_value_is_null(action)) {
		snprintf(sub, sizeof(sub), "%s.Action", path);
		decode_action(pr, sub, action, res, r);
	}
	if (!jtd_value_is_null(per)) {
		snprintf(sub, sizeof(sub), "%s.Per", path);
		decode_per(pr, sub, per, res, r);
	}
	if (jtd_value_is_null(amount)) {
		jtd_probs_add(pr, "%s: Amount is missing (a whole number of "
		    "%s)", path, jtd_rctl_info[res].unit);
		return;
	}
	snprintf(sub, sizeof(sub), "%s.Amount", path);
	decode_amount(pr, sub, amount, res, r);
}

/*
 * A block arrives as a list of objects; more than one is an error.
 * Returns the single element (possibly v itself), or NULL when there is
 * nothing (empty list) or too much (problem added).
 */
static const struct jtd_value *
unwrap_block(struct jtd_probs *pr, const char *path,
    const struct jtd_value *v)
{
	if (v->type != JTD_V_LIST)
		return v;
	if (v->list.n > 1) {
		jtd_probs_add(pr, "%s: given %zu times, give it once", path,
		    v->list.n);
		return NULL;
	}
	if (v->list.n == 0 || jtd_value_is_null(&v->list.items[0]))
		return NULL;
	return &v->list.items[0];
}

static void
decode_resource(struct jtd_probs *pr, const char *path,
    const struct jtd_value *v, enum jtd_rctl_res res,
    struct jtd_rctl_rule *r)
{
	char shown[80];

	v = unwrap_block(pr, path, v);
	if (v == NULL)
		return;
	if (v->type == JTD_V_MAP) {
		decode_rule_object(pr, path, v, res, r);
	} else if (v->type == JTD_V_LIST || v->type == JTD_V_BOOL) {
		jtd_value_describe(v, shown, sizeof(shown));
		jtd_probs_add(pr, "%s: expected an amount or { Amount, Action, "
		    "Per }, got %s", path, shown);
	} else {
		default_action(res, r);
		decode_amount(pr, path, v, res, r);
	}

	/* A rule with a problem is not half-applied. */
	if (!r->set)
		memset(r, 0, sizeof(*r));
}

static void
decode_rctl_object(struct jtd_probs *pr, const char *name,
    const struct jtd_value *obj, struct jtd_taskcfg *tc)
{
	const char *names[JTD_RCTL__COUNT];
	char path[96];
	size_t i, r;

	for (r = 0; r < JTD_RCTL__COUNT; r++)
		names[r] = jtd_rctl_info[r].name;

	for (i = 0; i < obj->map.n; i++) {
		const struct jtd_member *m = &obj->map.items[i];

		for (r = 0; r < JTD_RCTL__COUNT; r++) {
			if (strlen(names[r]) == m->key_len &&
			    memcmp(names[r], m->key, m->key_len) == 0)
				break;
		}
		if (r == JTD_RCTL__COUNT) {
			unknown_key(pr, name, m, names, JTD_RCTL__COUNT,
			    "the RCTL resources Cputime, Datasize, Stacksize, "
			    "Coredumpsize, Memoryuse, Memorylocked, Maxproc, "
			    "Openfiles, Vmemoryuse, Pseudoterminals, Swapuse, "
			    "Nthr, Msgqqueued, Msgqsize, Nmsgq, Nsem, Nsemop, "
			    "Nshm, Shmsize, Wallclock, Pcpu, Readbps, "
			    "Writebps, Readiops, Writeiops");
			continue;
		}
		if (jtd_value_is_null(&m->value))
			continue;
		snprintf(path, sizeof(path), "%s.%s", name, names[r]);
		decode_resource(pr, path, &m->value, (enum jtd_rctl_res)r,
		    &tc->rctl[r]);
	}
}

void
jtd_rctl_decode(struct jtd_probs *pr, const char *name,
    const struct jtd_value *v, struct jtd_taskcfg *tc)
{
	char shown[80];

	v = unwrap_block(pr, name, v);
	if (v == NULL)
		return;
	if (v->type != JTD_V_MAP) {
		jtd_value_describe(v, shown, sizeof(shown));
		jtd_probs_add(pr, "%s: expected an object of RCTL resources "
		    "such as { Vmemoryuse = 1200000 }, got %s", name, shown);
		return;
	}
	tc->rctl_set = true;
	decode_rctl_object(pr, name, v, tc);
}
