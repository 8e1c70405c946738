/*
 * Internal to src/config: string lists and the problem collector shared
 * by the task and plugin config decoders.
 */
#ifndef JTD_CONFIG_CFGUTIL_H
#define JTD_CONFIG_CFGUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "config/taskcfg.h"

/* Append a copy of s (len bytes); returns 0 or -1 when out of memory. */
int jtd_strv_push(struct jtd_strv *sv, const char *s, size_t len);
void jtd_strv_free(struct jtd_strv *sv);

/* Problems beyond this many are counted, not kept. */
#define JTD_PROBS_MAX	64

struct jtd_probs {
	struct jtd_strv *list;	/* where the messages go */
	size_t dropped;		/* over JTD_PROBS_MAX */
	bool oom;
};

void jtd_probs_add(struct jtd_probs *pr, const char *fmt, ...)
    JTD_PRINTF(2, 3);

/*
 * Finish: 0 when there were no problems, else -1 with *err set to `code`
 * and every problem joined by "; " (JTD_EXHAUSTED when out of memory).
 */
int jtd_probs_finish(struct jtd_probs *pr, enum jtd_code code,
    struct jtd_err **err);

/*
 * Whether `key` is `name` up to letter case, with '.' and '-' read as
 * '_' (for "did you mean" hints: "exec.start" -> "Exec_start").
 */
bool jtd_name_folds_to(const char *key, size_t key_len, const char *name);

#endif
