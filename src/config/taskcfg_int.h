/*
 * Internal to src/config: pieces of the task config decoder that live in
 * separate files (Rctl, IP address lists).
 */
#ifndef JTD_CONFIG_TASKCFG_INT_H
#define JTD_CONFIG_TASKCFG_INT_H

#include <stdbool.h>

#include "config/cfgutil.h"
#include "config/taskcfg.h"
#include "config/value.h"

/*
 * Collect a string or a list of strings (numbers and bools are taken as
 * their text, as HCL converts them) into out, splitting each on commas
 * when asked, trimming blanks around pieces and skipping empty ones.
 * Returns 0, or -1 after adding a problem naming `name`.
 */
int jtd_collect_strings(struct jtd_probs *pr, const char *name,
    const struct jtd_value *v, bool split_comma, struct jtd_strv *out);

/* Decode the Rctl parameter (written by the user as `name`) into tc. */
void jtd_rctl_decode(struct jtd_probs *pr, const char *name,
    const struct jtd_value *v, struct jtd_taskcfg *tc);

/* Decode Ip4_addr (family AF_INET) or Ip6_addr (AF_INET6). */
void jtd_iplist_decode(struct jtd_probs *pr, const char *name, int family,
    const struct jtd_value *v, struct jtd_iplist *out);
void jtd_iplist_free(struct jtd_iplist *l);

#endif
