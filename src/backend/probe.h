/*
 * What the host offers a jail backend, as the fingerprint reports it.
 * Each backend implements jtd_backend_probe(); it reports what it finds
 * and never guesses: anything it cannot determine is left out, and a
 * missing requirement makes the result unhealthy with the reason.
 */
#ifndef JTD_BACKEND_PROBE_H
#define JTD_BACKEND_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JTD_PROBE_MAX_ATTRS 24

enum jtd_attr_kind {
	JTD_ATTR_STRING,
	JTD_ATTR_BOOL,
	JTD_ATTR_INT,
};

struct jtd_attr {
	char key[48];		/* appended to "driver.jail-task-driver." */
	enum jtd_attr_kind kind;
	char str[256];
	bool b;
	int64_t i;
};

enum jtd_health {
	JTD_HEALTH_UNDETECTED,
	JTD_HEALTH_UNHEALTHY,
	JTD_HEALTH_HEALTHY,
};

struct jtd_probe {
	enum jtd_health health;
	char reason[256];	/* why not healthy; "Healthy" when healthy */
	struct jtd_attr attrs[JTD_PROBE_MAX_ATTRS];
	size_t n_attrs;
};

/* Fill `p` from the running host.  Never fails: problems become health. */
void jtd_backend_probe(struct jtd_probe *p);

/* Helpers for backends. */
void jtd_probe_str(struct jtd_probe *p, const char *key, const char *val);
void jtd_probe_bool(struct jtd_probe *p, const char *key, bool val);
void jtd_probe_int(struct jtd_probe *p, const char *key, int64_t val);
/* Mark unhealthy (the first reason wins; later ones are appended). */
void jtd_probe_fail(struct jtd_probe *p, enum jtd_health h,
    const char *reason);

/* True when two probes would produce the same fingerprint. */
bool jtd_probe_equal(const struct jtd_probe *a, const struct jtd_probe *b);

#endif
