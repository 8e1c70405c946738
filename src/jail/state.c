#include "jail/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io.h"

static bool
needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%';
}

char *
jtd_pct_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0, i;
	char *out, *o;

	for (i = 0; s[i] != '\0'; i++)
		n += needs_escape((unsigned char)s[i]) ? 3 : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (o = out, i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (needs_escape(c)) {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
jtd_pct_unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				goto bad;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			/* A NUL would silently cut the value short. */
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '\0') {
			goto bad;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	errno = EINVAL;
	return NULL;
}

int
jtd_exit_format(const struct jtd_exit *e, char *buf, size_t size)
{
	char *esc = jtd_pct_escape(e->err[0] != '\0' ? e->err : "-");
	int n;

	if (esc == NULL)
		return -1;
	n = snprintf(buf, size, "%d %d %d %" PRId64 " %s\n", e->exit_code,
	    e->signal, e->oom_killed ? 1 : 0, e->ended_ns, esc);
	free(esc);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
jtd_exit_parse(const char *buf, size_t len, struct jtd_exit *e,
    struct jtd_err **err)
{
	char line[512], errtext[400];
	int oom, n = 0;
	char *text;

	if (len == 0 || len >= sizeof(line))
		return jtd_err_set(err, JTD_INTERNAL,
		    "exit record has %zu bytes", len);
	memcpy(line, buf, len);
	line[len] = '\0';
	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%d %d %d %" SCNd64 " %399s%n", &e->exit_code,
	    &e->signal, &oom, &e->ended_ns, errtext, &n) != 5 ||
	    (line[n] != '\n' && line[n] != '\0') || (oom != 0 && oom != 1) ||
	    e->signal < 0 || e->signal > 128)
		return jtd_err_set(err, JTD_INTERNAL,
		    "malformed exit record \"%.*s\"", (int)len, buf);
	e->oom_killed = oom == 1;
	if (strcmp(errtext, "-") != 0) {
		text = jtd_pct_unescape(errtext, strlen(errtext));
		if (text == NULL)
			return jtd_err_set(err, JTD_INTERNAL,
			    "malformed exit record message");
		snprintf(e->err, sizeof(e->err), "%s", text);
		free(text);
	}
	return 0;
}

int
jtd_write_file_atomic(const char *path, const void *data, size_t len,
    struct jtd_err **err)
{
	char tmp[1100];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return jtd_err_set(err, JTD_INVALID, "path too long: %s", path);
	JTD_RETRY(fd, open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600));
	if (fd < 0)
		return jtd_err_sys(err, errno, "create %s", tmp);
	if (jtd_write_all(fd, data, len) != 0) {
		jtd_err_sys(err, errno, "write %s", tmp);
		goto fail;
	}
	jtd_close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		jtd_err_sys(err, errno, "rename %s", tmp);
		goto fail;
	}
	return 0;
fail:
	jtd_close(fd);
	unlink(tmp);
	return -1;
}

char *
jtd_read_file(const char *path, size_t max, size_t *len,
    struct jtd_err **err)
{
	char *buf;
	size_t n = 0;
	int fd;

	JTD_RETRY(fd, open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
	if (fd < 0) {
		jtd_err_sys(err, errno, "open %s", path);
		return NULL;
	}
	buf = malloc(max + 1);
	if (buf == NULL) {
		jtd_close(fd);
		jtd_err_set(err, JTD_EXHAUSTED, "out of memory reading %s",
		    path);
		return NULL;
	}
	for (;;) {
		ssize_t r = jtd_read(fd, buf + n, max + 1 - n);

		if (r < 0) {
			jtd_err_sys(err, errno, "read %s", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			jtd_err_set(err, JTD_EXHAUSTED,
			    "%s is larger than %zu bytes", path, max);
			goto fail;
		}
	}
	jtd_close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
fail:
	jtd_close(fd);
	free(buf);
	return NULL;
}
