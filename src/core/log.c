#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/io.h"

static enum jtd_log_format log_format = JTD_LOG_PLAIN;
static enum jtd_log_level log_level = JTD_LOG_INFO;

/* go-plugin reads stderr with a 64 KiB line scanner; stay well below. */
#define LOG_LINE_MAX 8192

static const char *const level_names[] = {
	"trace", "debug", "info", "warn", "error",
};

void
jtd_log_init(enum jtd_log_format format, enum jtd_log_level level)
{
	log_format = format;
	log_level = level;
}

int
jtd_log_enabled(enum jtd_log_level level)
{
	return level >= log_level;
}

void
jtd_json_escape(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		const char *rep = NULL;
		size_t n;

		switch (c) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				rep = tmp;
			}
			break;
		}
		if (rep != NULL) {
			n = strlen(rep);
			if (o + n >= size)
				break;
			memcpy(buf + o, rep, n);
			o += n;
		} else {
			if (o + 1 >= size)
				break;
			buf[o++] = (char)c;
		}
	}
	buf[o] = '\0';
}

static void append(char *line, size_t *off, const char *fmt, ...)
    JTD_PRINTF(3, 4);

/* Append to a fixed line buffer; silently truncates. */
static void
append(char *line, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= LOG_LINE_MAX - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + *off, LOG_LINE_MAX - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < LOG_LINE_MAX - *off ? (size_t)n :
		    LOG_LINE_MAX - 1 - *off;
}

static void
append_json_str(char *line, size_t *off, const char *s)
{
	char esc[LOG_LINE_MAX / 2];

	jtd_json_escape(esc, sizeof(esc), s);
	append(line, off, "\"%s\"", esc);
}

static void
format_timestamp(char *buf, size_t size)
{
	struct timeval tv;
	struct tm tm;
	char base[32], zone[8];

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	/* Go's layout wants "Z07:00": "+01:00", or "Z" for UTC. */
	strftime(zone, sizeof(zone), "%z", &tm);
	if (strcmp(zone, "+0000") == 0)
		snprintf(buf, size, "%s.%06ldZ", base, (long)tv.tv_usec);
	else
		snprintf(buf, size, "%s.%06ld%.3s:%.2s", base,
		    (long)tv.tv_usec, zone, zone + 3);
}

void
jtd_logkv(enum jtd_log_level level, const char *const *kv, const char *fmt,
    ...)
{
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX / 2], ts[48];
	size_t off = 0;
	int saved = errno;
	va_list ap;

	if (!jtd_log_enabled(level)) {
		errno = saved;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_format == JTD_LOG_HCLOG) {
		format_timestamp(ts, sizeof(ts));
		append(line, &off, "{\"@level\":\"%s\",\"@message\":",
		    level_names[level]);
		append_json_str(line, &off, msg);
		append(line, &off, ",\"@module\":\"jail-task-driver\","
		    "\"@timestamp\":\"%s\"", ts);
		for (; kv != NULL && kv[0] != NULL; kv += 2) {
			if (kv[1] == NULL)
				continue;
			append(line, &off, ",");
			append_json_str(line, &off, kv[0]);
			append(line, &off, ":");
			append_json_str(line, &off, kv[1]);
		}
		/* Leave room for the closing brace even when truncated. */
		if (off > LOG_LINE_MAX - 3)
			off = LOG_LINE_MAX - 3;
		line[off++] = '}';
	} else {
		append(line, &off, "%s: %s",
		    level == JTD_LOG_INFO ? "jail-task-driver" :
		    level_names[level], msg);
		for (; kv != NULL && kv[0] != NULL; kv += 2) {
			if (kv[1] != NULL)
				append(line, &off, " %s=%s", kv[0], kv[1]);
		}
		if (off > LOG_LINE_MAX - 2)
			off = LOG_LINE_MAX - 2;
	}
	line[off++] = '\n';
	/* One write per record keeps lines whole between processes. */
	jtd_write_all(STDERR_FILENO, line, off);
	errno = saved;
}
