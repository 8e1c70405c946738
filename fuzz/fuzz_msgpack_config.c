/*
 * libFuzzer target: cty msgpack task and plugin configs.  The same bytes
 * go to both decoders (as TaskConfig.msgpack_driver_config and as
 * SetConfigRequest.msgpack_config); whatever decodes is then run through
 * the policy check.  Invariants: a failure always carries a code and at
 * least one problem, and only the codes a decoder may return.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/plugincfg.h"
#include "config/taskcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_failure(struct jtd_err **err)
{
	const char *cur, *p;
	size_t len, n = 0;

	if (*err == NULL)
		abort();
	if ((*err)->code != JTD_INVALID && (*err)->code != JTD_EXHAUSTED)
		abort();
	cur = (*err)->msg;
	while ((p = jtd_problem_next(&cur, &len)) != NULL)
		n++;
	if (n == 0)
		abort();
	jtd_err_clear(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *tc;
	struct jtd_plugincfg *pc;

	tc = jtd_taskcfg_decode_msgpack(data, size, &err);
	if (tc == NULL)
		check_failure(&err);
	pc = jtd_plugincfg_decode_msgpack(data, size, &err);
	if (pc == NULL)
		check_failure(&err);

	if (tc != NULL) {
		if (jtd_policy_check_alloc(pc, tc, "/var/nomad/alloc/x",
		    &err) != 0 && (err == NULL || err->code != JTD_DENIED))
			abort();
		jtd_err_clear(&err);
	}
	jtd_taskcfg_free(tc);
	jtd_plugincfg_free(pc);
	return 0;
}
