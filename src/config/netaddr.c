/*
 * Ip4_addr / Ip6_addr: entries of the form [interface|]address[/prefix],
 * given as one comma-separated string (jail(8)'s form) or a list.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/taskcfg_int.h"

#define IFNAME_MAX	15	/* IFNAMSIZ - 1 */

static bool
ifname_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > IFNAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-'))
			return false;
	}
	return true;
}

/* Prefix length digits; -1 if not a number within 0..max. */
static int
parse_prefix(const char *s, int max)
{
	int v = 0;

	if (*s == '\0' || strlen(s) > 3)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? v : -1;
}

static void
bad_entry(struct jtd_probs *pr, const char *name, int family,
    const char *entry, const char *why)
{
	char shown[80];

	jtd_quote(entry, strlen(entry), shown, sizeof(shown));
	jtd_probs_add(pr, "%s: %s %s, write [interface|]address[/prefix], "
	    "e.g. %s", name, shown, why, family == AF_INET ?
	    "\"em0|192.0.2.10/24\"" : "\"em0|2001:db8::10/64\"");
}

/* Parse one entry into e; returns 0 or -1 after adding a problem. */
static int
parse_entry(struct jtd_probs *pr, const char *name, int family,
    const char *entry, struct jtd_ipaddr *e)
{
	const char *bar = strchr(entry, '|'), *addr = entry, *slash;
	int maxp = family == AF_INET ? 32 : 128;
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char probe[sizeof(struct in6_addr)];
	size_t alen;

	e->family = family;
	e->prefix = -1;
	if (bar != NULL) {
		if (!ifname_ok(entry, (size_t)(bar - entry))) {
			bad_entry(pr, name, family, entry,
			    "has a bad interface name");
			return -1;
		}
		addr = bar + 1;
	}

	slash = strchr(addr, '/');
	alen = slash != NULL ? (size_t)(slash - addr) : strlen(addr);
	if (slash != NULL && (e->prefix = parse_prefix(slash + 1, maxp)) < 0) {
		bad_entry(pr, name, family, entry, family == AF_INET ?
		    "has a bad prefix length (0 to 32)" :
		    "has a bad prefix length (0 to 128)");
		return -1;
	}
	if (alen == 0 || alen >= sizeof(buf)) {
		bad_entry(pr, name, family, entry, "has no valid address");
		return -1;
	}
	memcpy(buf, addr, alen);
	buf[alen] = '\0';

	if (inet_pton(family, buf, &e->addr) != 1) {
		int other = family == AF_INET ? AF_INET6 : AF_INET;

		if (inet_pton(other, buf, probe) == 1)
			bad_entry(pr, name, family, entry, family == AF_INET ?
			    "is an IPv6 address (put it in Ip6_addr)" :
			    "is an IPv4 address (put it in Ip4_addr)");
		else
			bad_entry(pr, name, family, entry, family == AF_INET ?
			    "is not an IPv4 address" :
			    "is not an IPv6 address");
		return -1;
	}

	e->text = strdup(entry);
	if (bar != NULL)
		e->iface = strndup(entry, (size_t)(bar - entry));
	if (e->text == NULL || (bar != NULL && e->iface == NULL)) {
		pr->oom = true;
		return -1;
	}
	return 0;
}

void
jtd_iplist_free(struct jtd_iplist *l)
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
jtd_iplist_decode(struct jtd_probs *pr, const char *name, int family,
    const struct jtd_value *v, struct jtd_iplist *out)
{
	struct jtd_strv entries = { 0 };
	bool bad = false;
	size_t i;

	if (jtd_collect_strings(pr, name, v, true, &entries) < 0 ||
	    entries.n == 0)
		goto done;

	out->v = calloc(entries.n, sizeof(*out->v));
	if (out->v == NULL) {
		pr->oom = true;
		goto done;
	}
	for (i = 0; i < entries.n; i++) {
		/* Count first, so free() sees a partial entry too. */
		out->n++;
		if (parse_entry(pr, name, family, entries.v[i],
		    &out->v[i]) < 0)
			bad = true;
	}
	if (bad)
		jtd_iplist_free(out);
done:
	jtd_strv_free(&entries);
}
