/*
 * jail-task-shim: the supervisor of one task.  Usage:
 *
 *	jail-task-shim STATE_DIR	(fd 3: the start-up pipe)
 *
 * It starts the jail described by STATE_DIR/spec through the backend,
 * reports the start on fd 3, then supervises: commands from the `ctl`
 * FIFO, the jail's end (written to `exit`), the Wallclock timer, and,
 * with Exec_consolelog, copying the task's output to both Nomad's FIFOs
 * and the log.  It holds `wait` open for writing as long as it lives,
 * so a plugin sees the task's end as EOF there.  jail/state.h has the
 * protocol.  The plugin starts it in a session of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/io.h"
#include "core/log.h"
#include "jail/jail.h"
#include "jail/state.h"

#define DRAIN_MS 5000
#define STREAM_BUF 16384

/* One output stream copied to Nomad's FIFO and the console log. */
struct stream {
	int in;			/* read end of the task's pipe, or -1 */
	int out;		/* Nomad's FIFO, or -1 */
	char *buf;		/* STREAM_BUF bytes, with Exec_consolelog */
	size_t len, off;	/* bytes waiting for the FIFO */
};

struct shim {
	const char *dir;
	struct jtd_jail *j;
	int sync_fd;
	int wait_fd;
	int ctl_fd;
	int sig_fd[2];		/* self-pipe for signals */
	int out_fd, err_fd;	/* what the task writes to */
	int log_fd;		/* Exec_consolelog, or -1 */
	struct stream st[2];
	char ctl_buf[256];
	size_t ctl_len;
	struct jtd_spawned sp;
	bool spawned;
	int64_t deadline_ms;	/* Wallclock, or 0 */
	bool timed_out;
	bool reported;		/* the failure went out in the handshake */
};

static int sig_wfd = -1;

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t n;

	/* One try, no retry: a full pipe already wakes the loop. */
	n = write(sig_wfd, &b, 1);
	(void)n;
	errno = saved;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
path_in(const struct shim *s, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", s->dir, name);
}

static int
setup_signals(struct shim *s, struct jtd_err **err)
{
	static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	if (jtd_pipe_cloexec(s->sig_fd, O_NONBLOCK) != 0)
		return jtd_err_sys(err, errno, "pipe");
	sig_wfd = s->sig_fd[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	/* A gone FIFO reader must not end the supervisor. */
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return jtd_err_sys(err, errno, "sigaction");
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		if (sigaction(forwarded[i], &sa, NULL) != 0)
			return jtd_err_sys(err, errno, "sigaction");
	}
	return 0;
}

static int
open_fifo(struct shim *s, const char *name, int flags, struct jtd_err **err)
{
	char path[1100];
	int fd;

	path_in(s, name, path, sizeof(path));
	if (mkfifo(path, 0600) != 0 && errno != EEXIST)
		return jtd_err_sys(err, errno, "mkfifo %s", path);
	/* Read-write: never blocks, and the FIFO lives while we do. */
	JTD_RETRY(fd, open(path, O_RDWR | O_CLOEXEC | flags));
	if (fd < 0)
		return jtd_err_sys(err, errno, "open %s", path);
	return fd;
}

/*
 * Nomad's FIFO (or a file).  A FIFO nobody reads yet cannot be opened
 * without blocking: then wait for the reader, as Nomad's drivers do.
 */
static int
open_output(const char *path, struct jtd_err **err)
{
	int fd, fl, r;

	if (path == NULL)
		return -1;
	JTD_RETRY(fd, open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
	    O_CLOEXEC, 0600));
	if (fd < 0 && errno == ENXIO)
		JTD_RETRY(fd, open(path, O_WRONLY | O_CLOEXEC));
	if (fd < 0) {
		jtd_err_sys(err, errno, "open %s", path);
		return -2;
	}
	JTD_RETRY(fl, fcntl(fd, F_GETFL));
	if (fl >= 0)
		JTD_RETRY(r, fcntl(fd, F_SETFL, fl & ~O_NONBLOCK));
	return fd;
}

static int
setup_output(struct shim *s, struct jtd_err **err)
{
	int fifo[2], i, p[2];

	fifo[0] = open_output(s->j->stdout_path, err);
	if (fifo[0] == -2)
		return -1;
	fifo[1] = open_output(s->j->stderr_path, err);
	if (fifo[1] == -2) {
		jtd_close(fifo[0]);
		return -1;
	}
	if (s->j->consolelog == NULL) {
		s->out_fd = fifo[0];
		s->err_fd = fifo[1];
		return 0;
	}

	/* Exec_consolelog: the task writes to pipes we copy from. */
	JTD_RETRY(s->log_fd, open(s->j->consolelog, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0600));
	if (s->log_fd < 0) {
		jtd_err_sys(err, errno, "open %s", s->j->consolelog);
		jtd_close(fifo[0]);
		jtd_close(fifo[1]);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		s->st[i].out = fifo[i];
		if (fifo[i] >= 0)
			(void)jtd_set_nonblock(fifo[i]);
		s->st[i].buf = malloc(STREAM_BUF);
		if (s->st[i].buf == NULL)
			return jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
		if (jtd_pipe_cloexec(p, 0) != 0)
			return jtd_err_sys(err, errno, "pipe");
		s->st[i].in = p[0];
		(void)jtd_set_nonblock(p[0]);
		if (i == 0)
			s->out_fd = p[1];
		else
			s->err_fd = p[1];
	}
	return 0;
}

static void
handshake(struct shim *s, const struct jtd_err *e)
{
	char line[1200];
	int n;

	if (s->sync_fd < 0)
		return;
	if (e == NULL)
		n = snprintf(line, sizeof(line), "ok %ld %ld\n",
		    (long)s->sp.init_pid, (long)s->sp.main_pid);
	else {
		char *esc = jtd_pct_escape(e->msg);

		n = snprintf(line, sizeof(line), "error %d %s\n", e->sys_errno,
		    esc != NULL ? esc : "out%20of%20memory");
		free(esc);
	}
	if (n > 0 && (size_t)n < sizeof(line) &&
	    jtd_write_all(s->sync_fd, line, (size_t)n) == 0 && e != NULL)
		s->reported = true;
	jtd_close(s->sync_fd);
	s->sync_fd = -1;
}

static int
write_pids(struct shim *s, struct jtd_err **err)
{
	char path[1100], buf[128];
	int n;

	path_in(s, JTD_STATE_PIDS, path, sizeof(path));
	n = snprintf(buf, sizeof(buf), "shim %ld\ninit %ld\nmain %ld\n",
	    (long)getpid(), (long)s->sp.init_pid, (long)s->sp.main_pid);
	return jtd_write_file_atomic(path, buf, (size_t)n, err);
}

static int
start(struct shim *s, struct jtd_err **err)
{
	struct jtd_stdio io;
	struct jtd_err *kerr = NULL;
	char path[1100];

	path_in(s, JTD_STATE_SPEC, path, sizeof(path));
	s->j = jtd_jail_load(path, err);
	if (s->j == NULL)
		return -1;
	s->wait_fd = open_fifo(s, JTD_STATE_WAIT, 0, err);
	if (s->wait_fd < 0)
		return -1;
	s->ctl_fd = open_fifo(s, JTD_STATE_CTL, O_NONBLOCK, err);
	if (s->ctl_fd < 0 || setup_output(s, err) != 0)
		return -1;

	io.stdout_fd = s->out_fd;
	io.stderr_fd = s->err_fd;
	if (jtd_backend_spawn(s->j, &io, &s->sp, err) != 0)
		return -1;
	s->spawned = true;
	/* The task holds its ends of the copy pipes now, not we. */
	if (s->log_fd >= 0) {
		jtd_close(s->out_fd);
		jtd_close(s->err_fd);
		s->out_fd = s->err_fd = -1;
	}
	if (s->sp.timeout_s > 0)
		s->deadline_ms = now_ms() + (int64_t)s->sp.timeout_s * 1000;
	if (write_pids(s, err) == 0)
		return 0;

	/* Nobody could find this jail: it must not run. */
	if (jtd_backend_kill_all(s->j, &kerr) != 0 ||
	    jtd_backend_cleanup(s->j, &kerr) != 0) {
		jtd_error("%s", kerr->msg);
		jtd_err_clear(&kerr);
	}
	return -1;
}

/* ---- supervision ---------------------------------------------------- */

static void
deliver(struct shim *s, int sig, bool all)
{
	struct jtd_err *err = NULL;

	if (jtd_backend_deliver(&s->sp, sig, all, &err) != 0) {
		jtd_warn("%s", err->msg);
		jtd_err_clear(&err);
	}
}

static void
ctl_line(struct shim *s, const char *line)
{
	char *end;
	long sig;

	if (strcmp(line, "kill") == 0) {
		deliver(s, SIGKILL, true);
		return;
	}
	if (strncmp(line, "signal ", 7) == 0 ||
	    strncmp(line, "stop ", 5) == 0) {
		bool all = line[1] == 't';

		sig = strtol(line + (all ? 5 : 7), &end, 10);
		if (*end == '\0' && sig > 0 && sig < 65) {
			deliver(s, (int)sig, all);
			return;
		}
	}
	jtd_warn("ctl: ignoring \"%.40s\"", line);
}

static void
read_ctl(struct shim *s)
{
	for (;;) {
		char *nl;
		ssize_t n = jtd_read(s->ctl_fd, s->ctl_buf + s->ctl_len,
		    sizeof(s->ctl_buf) - 1 - s->ctl_len);

		if (n <= 0)
			return;
		s->ctl_len += (size_t)n;
		while ((nl = memchr(s->ctl_buf, '\n', s->ctl_len)) != NULL) {
			size_t used = (size_t)(nl - s->ctl_buf) + 1;

			*nl = '\0';
			ctl_line(s, s->ctl_buf);
			memmove(s->ctl_buf, s->ctl_buf + used,
			    s->ctl_len - used);
			s->ctl_len -= used;
		}
		if (s->ctl_len == sizeof(s->ctl_buf) - 1)
			s->ctl_len = 0;		/* no command is this long */
	}
}

static void
read_signals(struct shim *s)
{
	unsigned char b[16];
	ssize_t n, i;

	while ((n = jtd_read(s->sig_fd[0], b, sizeof(b))) > 0) {
		for (i = 0; i < n; i++)
			deliver(s, b[i], false);
	}
}

/* Copy what the task wrote: the log gets all, the FIFO what it takes. */
static void
stream_read(struct shim *s, struct stream *st)
{
	ssize_t n = jtd_read(st->in, st->buf, STREAM_BUF);

	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		jtd_close(st->in);
		st->in = -1;
		return;
	}
	if (n < 0)
		return;
	(void)jtd_write_all(s->log_fd, st->buf, (size_t)n);
	if (st->out >= 0) {
		st->len = (size_t)n;
		st->off = 0;
	}
}

static void
stream_write(struct stream *st)
{
	ssize_t n;

	JTD_RETRY(n, write(st->out, st->buf + st->off, st->len - st->off));
	if (n > 0)
		st->off += (size_t)n;
	/* No reader (EPIPE): drop it; a later reader gets later output. */
	if ((n < 0 && errno != EAGAIN) || st->off == st->len)
		st->len = st->off = 0;
}

enum { P_EVENT, P_CTL, P_SIG, P_IN0, P_IN1, P_OUT0, P_OUT1, P_COUNT };

static int
poll_timeout(const struct shim *s, bool draining, int64_t drain_end)
{
	int64_t left;

	if (draining)
		left = drain_end - now_ms();
	else if (s->deadline_ms > 0 && !s->timed_out)
		left = s->deadline_ms - now_ms();
	else
		return -1;
	return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

static void
fill_poll(const struct shim *s, struct pollfd *pfd, bool draining)
{
	int i;

	for (i = 0; i < P_COUNT; i++) {
		pfd[i].fd = -1;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (!draining) {
		pfd[P_EVENT].fd = s->sp.event_fd;
		pfd[P_CTL].fd = s->ctl_fd;
		pfd[P_SIG].fd = s->sig_fd[0];
	}
	for (i = 0; i < 2; i++) {
		const struct stream *st = &s->st[i];

		if (st->len > 0) {
			pfd[P_OUT0 + i].fd = st->out;
			pfd[P_OUT0 + i].events = POLLOUT;
		} else
			pfd[P_IN0 + i].fd = st->in;
	}
}

static bool
streams_open(const struct shim *s)
{
	return s->st[0].in >= 0 || s->st[1].in >= 0 || s->st[0].len > 0 ||
	    s->st[1].len > 0;
}

/* Supervise until the jail ends; *e says how. */
static int
supervise(struct shim *s, struct jtd_exit *e, struct jtd_err **err)
{
	struct pollfd pfd[P_COUNT];
	bool ended = false;
	int64_t drain_end = 0;
	int i, r;

	while (!ended || streams_open(s)) {
		fill_poll(s, pfd, ended);
		JTD_RETRY(r, poll(pfd, P_COUNT, poll_timeout(s, ended,
		    drain_end)));
		if (r < 0)
			return jtd_err_sys(err, errno, "poll");
		if (ended && now_ms() >= drain_end)
			break;		/* a stuck FIFO reader loses the rest */
		if (!ended && s->deadline_ms > 0 && !s->timed_out &&
		    now_ms() >= s->deadline_ms) {
			s->timed_out = true;
			deliver(s, s->sp.timeout_sig, true);
		}
		if (pfd[P_SIG].revents)
			read_signals(s);
		if (pfd[P_CTL].revents)
			read_ctl(s);
		for (i = 0; i < 2; i++) {
			if (pfd[P_IN0 + i].revents)
				stream_read(s, &s->st[i]);
			if (pfd[P_OUT0 + i].revents)
				stream_write(&s->st[i]);
		}
		if (pfd[P_EVENT].revents) {
			r = jtd_backend_reap(&s->sp, s->j, e, err);
			if (r < 0)
				return -1;
			if (r == 1) {
				ended = true;
				drain_end = now_ms() + DRAIN_MS;
			}
		}
	}
	if (s->timed_out)
		snprintf(e->err, sizeof(e->err), "Rctl Wallclock limit of %d "
		    "seconds reached", s->sp.timeout_s);
	return 0;
}

static int
record_exit(struct shim *s, const struct jtd_exit *e, struct jtd_err **err)
{
	char path[1100], buf[600];
	int n;

	n = jtd_exit_format(e, buf, sizeof(buf));
	if (n < 0)
		return jtd_err_set(err, JTD_INTERNAL, "format the exit record");
	path_in(s, JTD_STATE_EXIT, path, sizeof(path));
	return jtd_write_file_atomic(path, buf, (size_t)n, err);
}

#if defined(__SANITIZE_ADDRESS__)
#define JTD_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JTD_LSAN 1
#endif
#endif

#ifdef JTD_LSAN
#include <sanitizer/lsan_interface.h>

static void
lsan_check_now(void)
{
	__lsan_do_leak_check();
}
#else
static void
lsan_check_now(void)
{
}
#endif

static void
release(struct shim *s)
{
	int i;

	if (s->spawned)
		jtd_backend_spawned_free(&s->sp);
	for (i = 0; i < 2; i++) {
		jtd_close(s->st[i].in);
		jtd_close(s->st[i].out);
		jtd_close(s->sig_fd[i]);
		free(s->st[i].buf);
	}
	jtd_close(s->out_fd);
	jtd_close(s->err_fd);
	jtd_close(s->log_fd);
	jtd_close(s->ctl_fd);
	jtd_jail_free(s->j);
	/*
	 * In sanitizer builds the leak check runs now, not at exit: it
	 * takes a while, and a plugin that saw `wait` close would find the
	 * supervisor still there.
	 */
	lsan_check_now();
	/* Last: the plugin sees EOF on `wait` once we are done. */
	jtd_close(s->wait_fd);
}

int
main(int argc, char **argv)
{
	struct shim s;
	struct jtd_exit e;
	struct jtd_err *err = NULL;
	int rc = 1;

	memset(&s, 0, sizeof(s));
	s.wait_fd = s.ctl_fd = s.out_fd = s.err_fd = s.log_fd = -1;
	s.sig_fd[0] = s.sig_fd[1] = -1;
	s.st[0].in = s.st[0].out = s.st[1].in = s.st[1].out = -1;
	s.sync_fd = fcntl(JTD_SHIM_SYNC_FD, F_GETFD) >= 0 ?
	    JTD_SHIM_SYNC_FD : -1;
	if (s.sync_fd >= 0)
		(void)jtd_set_cloexec(s.sync_fd);
	jtd_log_init(JTD_LOG_PLAIN, JTD_LOG_WARN);
	if (argc != 2 || argv[1][0] != '/') {
		fprintf(stderr, "usage: jail-task-shim STATE_DIR (absolute), "
		    "with the start-up pipe on fd 3\n");
		return 2;
	}
	s.dir = argv[1];
	/* Hold no directory of anyone's busy. */
	if (chdir("/") != 0 || setup_signals(&s, &err) != 0 ||
	    start(&s, &err) != 0) {
		handshake(&s, err);
		goto out;
	}
	handshake(&s, NULL);
	jtd_backend_trim();
	memset(&e, 0, sizeof(e));
	if (supervise(&s, &e, &err) != 0) {
		/* The jail's end is unknown; say so rather than guess. */
		memset(&e, 0, sizeof(e));
		e.exit_code = -1;
		snprintf(e.err, sizeof(e.err), "supervisor: %s", err->msg);
		jtd_err_clear(&err);
	}
	if (record_exit(&s, &e, &err) == 0)
		rc = 0;
out:
	/* A failed start went to the plugin in the handshake, if it can. */
	if (err != NULL && !s.reported)
		jtd_error("%s", err->msg);
	jtd_err_clear(&err);
	release(&s);
	return rc;
}
