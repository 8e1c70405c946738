/*
 * The jail spec reader, fed arbitrary bytes.  The spec is written by the
 * plugin into a root-only directory, but a corrupt or truncated file (a
 * crash mid-write, a full disk) must be refused cleanly, never misread.
 * Whatever decodes must encode and decode again to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jail/jail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jtd_err *err = NULL;
	struct jtd_jail *j, *k;
	char *a, *b;
	size_t alen, blen;

	j = jtd_jail_decode((const char *)data, size, &err);
	jtd_err_clear(&err);
	if (j == NULL)
		return 0;
	a = jtd_jail_encode(j, &alen, &err);
	if (a != NULL) {
		k = jtd_jail_decode(a, alen, &err);
		if (k == NULL)
			abort();
		b = jtd_jail_encode(k, &blen, &err);
		if (b == NULL || blen != alen || memcmp(a, b, alen) != 0)
			abort();
		free(b);
		jtd_jail_free(k);
	}
	jtd_err_clear(&err);
	free(a);
	jtd_jail_free(j);
	return 0;
}
