/*
 * Small I/O helpers.  EINTR is retried here and nowhere else: every
 * read/write/waitpid/close in the project goes through these.
 */
#ifndef JTD_CORE_IO_H
#define JTD_CORE_IO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Assign `expr` (a system call returning -1 on failure) to `var`, again
 * while it fails with EINTR.  Plain C11: no statement expressions.
 */
#define JTD_RETRY(var, expr)                                            \
	do {                                                            \
		(var) = (expr);                                         \
	} while ((var) == -1 && errno == EINTR)

/* write(2) until done; returns 0, or -1 with errno set. */
int jtd_write_all(int fd, const void *buf, size_t len);

/* read(2) with EINTR retried. */
ssize_t jtd_read(int fd, void *buf, size_t len);

/* close(2), ignoring EINTR (the descriptor is gone either way). */
void jtd_close(int fd);

/* Make fd non-blocking / close-on-exec; returns 0 or -1 with errno. */
int jtd_set_nonblock(int fd);
int jtd_set_cloexec(int fd);

/*
 * A pipe whose both ends are close-on-exec from birth (pipe2 with
 * O_CLOEXEC, plus `flags` such as O_NONBLOCK).  Its spelling differs per
 * libc, so each backend directory provides it (compat.c).
 */
int jtd_pipe_cloexec(int fds[2], int flags);

#endif
