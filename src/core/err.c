#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The fallback when even the error cannot be allocated: callers still get
 * an error with a code, and jtd_err_clear() knows not to free it.
 */
static struct jtd_err oom_err = {
	.code = JTD_EXHAUSTED, .sys_errno = ENOMEM, .msg = "out of memory",
};

static char *vformat(const char *fmt, va_list ap) JTD_PRINTF(1, 0);

static char *
vformat(const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *s;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s != NULL)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static int
set_common(struct jtd_err **err, enum jtd_code code, int errnum, char *msg)
{
	struct jtd_err *e;

	if (err == NULL || *err != NULL) {
		free(msg);
		return -1;
	}
	e = malloc(sizeof(*e));
	if (e == NULL || msg == NULL) {
		free(e);
		free(msg);
		*err = &oom_err;
		return -1;
	}
	e->code = code;
	e->sys_errno = errnum;
	e->msg = msg;
	*err = e;
	return -1;
}

int
jtd_err_set(struct jtd_err **err, enum jtd_code code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	return set_common(err, code, 0, msg);
}

int
jtd_err_sys(struct jtd_err **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *head, *msg = NULL;
	enum jtd_code code;
	size_t n;

	va_start(ap, fmt);
	head = vformat(fmt, ap);
	va_end(ap);
	if (head != NULL) {
		const char *tail = strerror(errnum);

		n = strlen(head) + strlen(tail) + 3;
		msg = malloc(n);
		if (msg != NULL)
			snprintf(msg, n, "%s: %s", head, tail);
		free(head);
	}

	switch (errnum) {
	case ENOENT:
		code = JTD_NOT_FOUND;
		break;
	case EPERM:
	case EACCES:
		code = JTD_DENIED;
		break;
	case EEXIST:
		code = JTD_EXISTS;
		break;
	case EINVAL:
		code = JTD_INVALID;
		break;
	case ENOMEM:
	case ENOSPC:
	case EMFILE:
	case ENFILE:
	case EAGAIN:
		code = JTD_EXHAUSTED;
		break;
	default:
		code = JTD_INTERNAL;
		break;
	}
	return set_common(err, code, errnum, msg);
}

int
jtd_err_wrap(struct jtd_err **err, const char *fmt, ...)
{
	va_list ap;
	char *ctx, *msg;
	size_t n;

	if (err == NULL || *err == NULL || *err == &oom_err)
		return -1;
	va_start(ap, fmt);
	ctx = vformat(fmt, ap);
	va_end(ap);
	if (ctx == NULL)
		return -1;
	n = strlen(ctx) + strlen((*err)->msg) + 3;
	msg = malloc(n);
	if (msg != NULL) {
		snprintf(msg, n, "%s: %s", ctx, (*err)->msg);
		free((*err)->msg);
		(*err)->msg = msg;
	}
	free(ctx);
	return -1;
}

void
jtd_err_clear(struct jtd_err **err)
{
	if (err == NULL || *err == NULL)
		return;
	if (*err != &oom_err) {
		free((*err)->msg);
		free(*err);
	}
	*err = NULL;
}

const char *
jtd_code_name(enum jtd_code code)
{
	switch (code) {
	case JTD_OK: return "ok";
	case JTD_CANCELLED: return "cancelled";
	case JTD_UNKNOWN: return "unknown";
	case JTD_INVALID: return "invalid argument";
	case JTD_NOT_FOUND: return "not found";
	case JTD_EXISTS: return "already exists";
	case JTD_DENIED: return "permission denied";
	case JTD_EXHAUSTED: return "resource exhausted";
	case JTD_PRECONDITION: return "failed precondition";
	case JTD_ABORTED: return "aborted";
	case JTD_OUT_OF_RANGE: return "out of range";
	case JTD_UNIMPLEMENTED: return "unimplemented";
	case JTD_INTERNAL: return "internal";
	case JTD_UNAVAILABLE: return "unavailable";
	}
	return "unknown";
}
