#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int
jtd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n;

		JTD_RETRY(n, write(fd, p, len));

		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t
jtd_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	JTD_RETRY(n, read(fd, buf, len));
	return n;
}

void
jtd_close(int fd)
{
	int saved = errno;

	/*
	 * On Linux and FreeBSD the descriptor is released even when close
	 * reports EINTR, so retrying would risk closing a reused number.
	 */
	if (fd >= 0)
		(void)close(fd);
	errno = saved;
}

int
jtd_set_nonblock(int fd)
{
	int fl, r;

	JTD_RETRY(fl, fcntl(fd, F_GETFL));
	if (fl < 0)
		return -1;
	JTD_RETRY(r, fcntl(fd, F_SETFL, fl | O_NONBLOCK));
	return r < 0 ? -1 : 0;
}

int
jtd_set_cloexec(int fd)
{
	int fl, r;

	JTD_RETRY(fl, fcntl(fd, F_GETFD));
	if (fl < 0)
		return -1;
	JTD_RETRY(r, fcntl(fd, F_SETFD, fl | FD_CLOEXEC));
	return r < 0 ? -1 : 0;
}
