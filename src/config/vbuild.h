/*
 * Internal to src/config: what the front ends use to build a value tree
 * in a document's arena.
 */
#ifndef JTD_CONFIG_VBUILD_H
#define JTD_CONFIG_VBUILD_H

#include <stddef.h>

#include "config/value.h"

/* An empty document (root unset); NULL when out of memory. */
struct jtd_vdoc *jtd_vdoc_new(void);

/* Zeroed, suitably aligned arena memory; NULL when out of memory. */
void *jtd_vdoc_alloc(struct jtd_vdoc *doc, size_t nmemb, size_t size);

/* Copy len bytes into the arena and NUL-terminate; NULL when out of memory. */
const char *jtd_vdoc_strdup(struct jtd_vdoc *doc, const char *s, size_t len);

void jtd_vdoc_set_root(struct jtd_vdoc *doc, const struct jtd_value *root);

/*
 * Make the keys of a map unique, keeping the later value of a repeated
 * key.  Members keep their relative order.  Returns 0, or -1 when out of
 * memory.
 */
int jtd_vmap_dedupe(struct jtd_member *items, size_t *n);

#endif
