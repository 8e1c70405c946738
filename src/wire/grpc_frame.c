/*
 * gRPC length-prefixed message framing and the two header encodings
 * gRPC needs (percent-encoded grpc-message, unpadded base64 for -bin).
 */
#include "wire/grpc.h"

#include <stdlib.h>
#include <string.h>

/* Keep a reassembly buffer this big between messages; free larger. */
#define KEEP_BUF	(64 * 1024)
/* The most reserved for a message before its bytes arrive. */
#define FIRST_ALLOC	(1024 * 1024)

void
grpc_deframer_init(struct grpc_deframer *d, size_t max_len)
{
	memset(d, 0, sizeof(*d));
	d->max_len = max_len;
}

void
grpc_deframer_free(struct grpc_deframer *d)
{
	free(d->buf);
	d->buf = NULL;
	d->cap = 0;
	d->hdr_len = d->want = d->have = 0;
}

uint8_t *
grpc_deframer_take(struct grpc_deframer *d, const uint8_t *msg)
{
	uint8_t *b = d->buf;

	if (b == NULL || msg != b)
		return NULL;
	d->buf = NULL;
	d->cap = 0;
	return b;
}

/* Parse the 5-byte prefix just completed in d->hdr. */
static int
start_message(struct grpc_deframer *d, struct jtd_err **err)
{
	uint32_t n;

	if (d->hdr[0] != 0)
		return jtd_err_set(err, JTD_INTERNAL,
		    "grpc: message flag 0x%02x but no compression was "
		    "negotiated", d->hdr[0]);
	n = (uint32_t)d->hdr[1] << 24 | (uint32_t)d->hdr[2] << 16 |
	    (uint32_t)d->hdr[3] << 8 | (uint32_t)d->hdr[4];
	if (n > d->max_len)
		return jtd_err_set(err, JTD_EXHAUSTED,
		    "grpc: received message larger than max (%lu vs. %zu)",
		    (unsigned long)n, d->max_len);
	d->want = n;
	d->have = 0;
	return 0;
}

/*
 * Make room for `more` payload bytes.  Messages up to FIRST_ALLOC get
 * their whole size at once; a bigger one gets FIRST_ALLOC, then its
 * whole size once the bytes outgrow that: never more than one copying
 * realloc, and a length prefix alone cannot make us reserve 64 MiB.
 */
static int
reserve(struct grpc_deframer *d, size_t more, struct jtd_err **err)
{
	size_t need = d->have + more, cap;
	uint8_t *b;

	if (need <= d->cap)
		return 0;
	cap = d->want;
	if (cap > FIRST_ALLOC && need <= FIRST_ALLOC)
		cap = FIRST_ALLOC;
	if (d->have == 0) {
		/* Nothing to keep: spare realloc its copy. */
		free(d->buf);
		d->buf = NULL;
		d->cap = 0;
	}
	b = realloc(d->buf, cap);
	if (b == NULL)
		return jtd_err_set(err, JTD_EXHAUSTED,
		    "grpc: cannot buffer a %zu-byte message", d->want);
	d->buf = b;
	d->cap = cap;
	return 0;
}

static int
deliver(struct grpc_deframer *d, const uint8_t *msg, size_t len,
    int (*cb)(void *, const uint8_t *, size_t), void *arg,
    struct jtd_err **err)
{
	int rc;

	/* Reset first: the callback may take the buffer. */
	d->hdr_len = 0;
	d->want = d->have = 0;
	rc = cb(arg, msg, len);
	if (d->cap > KEEP_BUF) {
		free(d->buf);
		d->buf = NULL;
		d->cap = 0;
	}
	if (rc != 0)
		return jtd_err_set(err, JTD_ABORTED,
		    "grpc: message consumer stopped");
	return 0;
}

int
grpc_deframer_feed(struct grpc_deframer *d, const uint8_t *data,
    size_t len, int (*cb)(void *arg, const uint8_t *msg, size_t len),
    void *arg, struct jtd_err **err)
{
	static const uint8_t empty[1];
	size_t n;

	while (len > 0 || (d->hdr_len == 5 && d->want == 0)) {
		if (d->hdr_len < 5) {
			n = 5 - d->hdr_len;
			if (n > len)
				n = len;
			memcpy(d->hdr + d->hdr_len, data, n);
			d->hdr_len += n;
			data += n;
			len -= n;
			if (d->hdr_len < 5)
				break;
			if (start_message(d, err) == -1)
				return -1;
			continue;
		}
		if (d->want == 0) {
			if (deliver(d, empty, 0, cb, arg, err) == -1)
				return -1;
			continue;
		}
		if (d->have == 0 && len >= d->want) {
			/* Whole message in this chunk: no copy. */
			n = d->want;
			if (deliver(d, data, n, cb, arg, err) == -1)
				return -1;
			data += n;
			len -= n;
			continue;
		}
		n = d->want - d->have;
		if (n > len)
			n = len;
		if (reserve(d, n, err) == -1)
			return -1;
		memcpy(d->buf + d->have, data, n);
		d->have += n;
		data += n;
		len -= n;
		if (d->have == d->want &&
		    deliver(d, d->buf, d->want, cb, arg, err) == -1)
			return -1;
	}
	return 0;
}

char *
grpc_percent_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t n = 0;
	char *out, *o;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		n += (*p < 0x20 || *p > 0x7e || *p == '%') ? 3 : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '%') {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
		} else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

char *
grpc_base64_encode(const uint8_t *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, full = len / 3 * 3;
	uint32_t v;
	char *out, *o;

	out = malloc(len / 3 * 4 + 4);
	if (out == NULL)
		return NULL;
	o = out;
	for (i = 0; i < full; i += 3) {
		v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 |
		    data[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (len - full == 1) {
		v = (uint32_t)data[i] << 16;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
	} else if (len - full == 2) {
		v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
	}
	*o = '\0';
	return out;
}
