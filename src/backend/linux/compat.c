/* Linux spellings of the portable helpers declared in core/io.h. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "core/io.h"

int
jtd_pipe_cloexec(int fds[2], int flags)
{
	return pipe2(fds, O_CLOEXEC | flags);
}
