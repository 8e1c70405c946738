/*
 * The one error type of the project.
 *
 * Contract: a fallible function returns an int (-1 on failure, >= 0 on
 * success) or a pointer (NULL on failure) and takes `struct jtd_err **err`
 * as its last argument.  On failure it sets *err with jtd_err_set() (which
 * returns -1, so `return jtd_err_set(...)` is the usual last line).  On
 * success *err is left alone.  Callers add context with jtd_err_wrap() as
 * the error travels up, and the error is reported exactly once, at the top
 * (a gRPC status, a CLI message), then freed with jtd_err_free().  A
 * function either logs a problem or returns it, never both.
 */
#ifndef JTD_CORE_ERR_H
#define JTD_CORE_ERR_H

#include <stdarg.h>

/*
 * Codes are numerically gRPC status codes, so the wire layer can report
 * an error without a translation table.
 */
enum jtd_code {
	JTD_OK = 0,
	JTD_CANCELLED = 1,
	JTD_UNKNOWN = 2,
	JTD_INVALID = 3,		/* INVALID_ARGUMENT: bad input */
	JTD_NOT_FOUND = 5,
	JTD_EXISTS = 6,
	JTD_DENIED = 7,			/* PERMISSION_DENIED: operator policy */
	JTD_EXHAUSTED = 8,
	JTD_PRECONDITION = 9,		/* FAILED_PRECONDITION */
	JTD_ABORTED = 10,
	JTD_OUT_OF_RANGE = 11,
	JTD_UNIMPLEMENTED = 12,
	JTD_INTERNAL = 13,
	JTD_UNAVAILABLE = 14,
};

struct jtd_err {
	enum jtd_code code;
	int sys_errno;		/* errno behind the failure, or 0 */
	char *msg;		/* never NULL once set */
};

#if defined(__GNUC__) || defined(__clang__)
#define JTD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define JTD_PRINTF(f, a)
#endif

/* Set *err (if err is not NULL and *err is NULL); always returns -1. */
int jtd_err_set(struct jtd_err **err, enum jtd_code code, const char *fmt,
    ...) JTD_PRINTF(3, 4);

/* Like jtd_err_set, and appends ": strerror(errnum)". */
int jtd_err_sys(struct jtd_err **err, int errnum, const char *fmt, ...)
    JTD_PRINTF(3, 4);

/* Prefix the message with "context: "; returns -1. */
int jtd_err_wrap(struct jtd_err **err, const char *fmt, ...) JTD_PRINTF(2, 3);

/* Release an error (NULL is fine) and reset the pointer. */
void jtd_err_clear(struct jtd_err **err);

const char *jtd_code_name(enum jtd_code code);

#endif
