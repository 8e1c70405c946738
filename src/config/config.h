/*
 * Task and plugin configuration: the schemas Nomad is given, and the
 * decoding of what it sends back into typed, validated C structures.
 *
 * Two front ends feed one typed decoder: cty msgpack (what Nomad sends in
 * TaskConfig.msgpack_driver_config and SetConfigRequest.msgpack_config)
 * and JSON (the standalone runner's task files, the shape of a task's
 * Config in Nomad's JSON jobs).  Both are decoded into a small generic
 * value tree (value.h) by length- and type-checked readers, then the
 * typed decoder walks the tree.
 *
 * Every problem is reported with the parameter's name as the user wrote
 * it and what is accepted.  Decoding collects all problems: on failure
 * *err is JTD_INVALID and its message lists each problem, separated by
 * "; ".  jtd_taskcfg_problems() gives them one by one for `validate`.
 */
#ifndef JTD_CONFIG_CONFIG_H
#define JTD_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "hclspec.pb-c.h"

struct jtd_taskcfg;	/* defined in taskcfg.h */
struct jtd_plugincfg;	/* defined in plugincfg.h */

/*
 * The hclspec trees returned to Nomad by TaskConfigSchema and
 * ConfigSchema.  Built in static storage by the first call (make that
 * call from one thread, e.g. at start-up; later calls from any thread
 * only read); never freed by callers.
 *
 * The typed structures and their decoders are in config/taskcfg.h and
 * config/plugincfg.h; the generic value tree in config/value.h.
 */
const Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec *
    jtd_taskcfg_spec(void);
const Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec *
    jtd_plugincfg_spec(void);

#endif
