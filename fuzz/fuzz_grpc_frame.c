/*
 * libFuzzer target: gRPC message framing.  Arbitrary bytes are fed to
 * the deframer once whole and once cut into pseudo-random chunks; both
 * runs must yield the same messages and the same verdict.
 *
 * Input: byte 0 picks the size limit, bytes 1-4 seed the chunking, the
 * rest is the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/grpc.h"

#define MAX_SEEN 512

struct run {
	struct grpc_deframer *d;
	size_t n;
	size_t len[MAX_SEEN];
	uint32_t hash[MAX_SEEN];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static int
on_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct run *r = arg;
	uint8_t *own;
	int stop;

	if (len > r->d->max_len)
		abort();
	if (r->n < MAX_SEEN) {
		r->len[r->n] = len;
		r->hash[r->n] = fnv(msg, len);
	}
	r->n++;
	stop = len == 3 && memcmp(msg, "END", 3) == 0;
	/* Exercise taking the buffer; content decides, so both runs agree. */
	if (len > 0 && msg[0] == 'T') {
		own = grpc_deframer_take(r->d, msg);
		free(own);
	}
	return stop;
}

static int
run_once(struct run *r, size_t max_len, const uint8_t *data, size_t size,
    uint32_t seed)
{
	struct grpc_deframer d;
	struct jtd_err *err = NULL;
	size_t off = 0, n;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	grpc_deframer_init(&d, max_len);
	r->d = &d;
	while (off < size) {
		if (seed == 0) {
			n = size - off;
		} else {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			n = 1 + seed % 64;
			if (n > size - off)
				n = size - off;
		}
		rc = grpc_deframer_feed(&d, data + off, n, on_msg, r, &err);
		if (rc != 0)
			break;
		off += n;
	}
	if (rc != 0) {
		if (err == NULL)
			abort();
		rc = (int)err->code;
		jtd_err_clear(&err);
	} else if (d.hdr_len != 0)
		rc = -1;	/* ended inside a message */
	grpc_deframer_free(&d);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, cut;
	size_t max_len, i;
	uint32_t seed;
	int a, b;

	if (size < 5)
		return 0;
	max_len = data[0] < 0xf0 ? (size_t)data[0] * 64 : GRPC_MAX_MESSAGE;
	seed = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
	    (uint32_t)data[3] << 8 | data[4];
	seed |= 1;

	a = run_once(&whole, max_len, data + 5, size - 5, 0);
	b = run_once(&cut, max_len, data + 5, size - 5, seed);
	/* Chunking must not change what is decoded or where it stops. */
	if (a != b || whole.n != cut.n)
		abort();
	for (i = 0; i < whole.n && i < MAX_SEEN; i++)
		if (whole.len[i] != cut.len[i] || whole.hash[i] != cut.hash[i])
			abort();
	return 0;
}
