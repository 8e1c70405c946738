/*
 * Logging.  In plugin mode every record is one hclog JSON object on one
 * stderr line (go-plugin forwards it into the Nomad agent's log); in the
 * CLI it is a plain "LEVEL message key=value" line.  Records below the
 * configured level are dropped before any formatting.  Logging never
 * changes errno.
 */
#ifndef JTD_CORE_LOG_H
#define JTD_CORE_LOG_H

#include <stddef.h>

#include "core/err.h"

enum jtd_log_level {
	JTD_LOG_TRACE,
	JTD_LOG_DEBUG,
	JTD_LOG_INFO,
	JTD_LOG_WARN,
	JTD_LOG_ERROR,
};

enum jtd_log_format {
	JTD_LOG_PLAIN,
	JTD_LOG_HCLOG,
};

void jtd_log_init(enum jtd_log_format format, enum jtd_log_level level);
int jtd_log_enabled(enum jtd_log_level level);

/*
 * Log a message with optional key/value pairs: `kv` is NULL or an array
 * of strings alternating key and value, ended by a NULL key.  Values
 * that are NULL are skipped.
 */
void jtd_logkv(enum jtd_log_level level, const char *const *kv,
    const char *fmt, ...) JTD_PRINTF(3, 4);

#define jtd_log(level, ...) jtd_logkv((level), NULL, __VA_ARGS__)

/* Convenience wrappers. */
#define jtd_trace(...) jtd_log(JTD_LOG_TRACE, __VA_ARGS__)
#define jtd_debug(...) jtd_log(JTD_LOG_DEBUG, __VA_ARGS__)
#define jtd_info(...) jtd_log(JTD_LOG_INFO, __VA_ARGS__)
#define jtd_warn(...) jtd_log(JTD_LOG_WARN, __VA_ARGS__)
#define jtd_error(...) jtd_log(JTD_LOG_ERROR, __VA_ARGS__)

/*
 * Escape `s` as the inside of a JSON string into buf (always
 * NUL-terminated, truncated to fit).  Exposed for tests.
 */
void jtd_json_escape(char *buf, size_t size, const char *s);

#endif
