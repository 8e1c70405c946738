/*
 * `jail-task-driver run FILE`: one task without Nomad, through the same
 * start/stop/wait/destroy code the plugin uses.  The runner plays the
 * Nomad client: it lays out an allocation directory with the task's
 * local/, secrets/ and shared alloc/, makes the stdout/stderr FIFOs and
 * copies what arrives on them to the terminal.  Ctrl-C stops the task
 * with the stop semantics (SIGINT, Nomad's default kill_signal, or
 * --signal; then SIGKILL after the kill timeout, 5 s or --kill-timeout);
 * the task's exit status becomes the runner's (128 + signal when killed
 * by one), and 125 means the task could not be started.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cli/cli.h"
#include "config/plugincfg.h"
#include "config/taskcfg.h"
#include "core/io.h"
#include "core/log.h"
#include "driver/tasks.h"

#define EXIT_NOT_STARTED 125

struct fifo_reader {
	uv_pipe_t pipe;
	int out_fd;
	bool open;
	struct runner *r;
};

struct runner {
	uv_loop_t *loop;
	struct jtd_tasks *tasks;
	struct jtd_task *task;
	struct fifo_reader out, err;
	uv_signal_t sigint, sigterm;
	char alloc_dir[256];
	char name[64];
	int stop_sig;
	uint64_t kill_timeout_ms;
	int status;
	bool destroyed;
	bool stop_requested;	/* Ctrl-C before the task had started */
};

static char *
slurp(const char *path, size_t *len)
{
	struct jtd_err *err = NULL;
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	(void)err;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > 1 << 20 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		errno = EFBIG;
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

static struct jtd_taskcfg *
load_config(const char *path)
{
	struct jtd_err *err = NULL;
	struct jtd_taskcfg *cfg;
	size_t len = 0;
	char *text = slurp(path, &len);

	if (text == NULL) {
		fprintf(stderr, "jail-task-driver: %s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	cfg = jtd_taskcfg_decode_json(text, len, &err);
	free(text);
	if (cfg == NULL) {
		jtd_taskcfg_print_problems(stderr, path, err);
		jtd_err_clear(&err);
	}
	return cfg;
}

int
jtd_cli_validate(int argc, char **argv)
{
	struct jtd_taskcfg *cfg;

	if (argc != 2) {
		fprintf(stderr, "usage: jail-task-driver validate FILE\n");
		return 2;
	}
	cfg = load_config(argv[1]);
	if (cfg == NULL)
		return 1;
	jtd_taskcfg_free(cfg);
	printf("%s: valid\n", argv[1]);
	return 0;
}

/* ---- the allocation directory --------------------------------------- */

static int
mkdirs(const char *base, const char *const *subs)
{
	char path[512];

	for (; *subs != NULL; subs++) {
		snprintf(path, sizeof(path), "%s/%s", base, *subs);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

static int
make_alloc_dir(struct runner *r)
{
	const char *tmp = getenv("TMPDIR");
	char task[320], fifo[512];
	const char *const top[] = { "alloc", "alloc/logs", "alloc/data",
	    "alloc/tmp", NULL };
	const char *const sub[] = { "local", "secrets", "private", NULL };

	snprintf(r->alloc_dir, sizeof(r->alloc_dir), "%s/jtd-run-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(r->alloc_dir) == NULL || chmod(r->alloc_dir, 0755) != 0)
		return -1;
	snprintf(task, sizeof(task), "%s/%s", r->alloc_dir, r->name);
	if (mkdirs(r->alloc_dir, top) != 0 || mkdir(task, 0755) != 0 ||
	    mkdirs(task, sub) != 0)
		return -1;
	snprintf(fifo, sizeof(fifo), "%s/alloc/logs/.%s.stdout.fifo",
	    r->alloc_dir, r->name);
	if (mkfifo(fifo, 0600) != 0)
		return -1;
	snprintf(fifo, sizeof(fifo), "%s/alloc/logs/.%s.stderr.fifo",
	    r->alloc_dir, r->name);
	return mkfifo(fifo, 0600);
}

static void
remove_tree(const char *path)
{
	/* Only what make_alloc_dir made, plus whatever the task wrote. */
	char *argv[] = { "rm", "-rf", "--one-file-system", (char *)path,
	    NULL };
	uv_process_options_t o;
	uv_process_t p;
	uv_loop_t loop;

	/* A short private loop: the runner's own is already finished. */
	if (uv_loop_init(&loop) != 0)
		return;
	memset(&o, 0, sizeof(o));
	o.file = "rm";
	o.args = argv;
	if (uv_spawn(&loop, &p, &o) == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_close((uv_handle_t *)&p, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	uv_loop_close(&loop);
}

/* ---- output ---------------------------------------------------------- */

static void
fifo_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char chunk[65536];

	buf->base = chunk;
	buf->len = sizeof(chunk);
}

static void maybe_finish(struct runner *r);

static void
fifo_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct fifo_reader *f = s->data;

	if (n > 0) {
		(void)jtd_write_all(f->out_fd, buf->base, (size_t)n);
		return;
	}
	if (n == 0)
		return;
	/* End of file: every writer (the task, its children) is gone. */
	uv_read_stop(s);
	uv_close((uv_handle_t *)s, NULL);
	f->open = false;
	maybe_finish(f->r);
}

static int
open_fifo(struct runner *r, struct fifo_reader *f, const char *which,
    int out_fd)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/alloc/logs/.%s.%s.fifo",
	    r->alloc_dir, r->name, which);
	/* Like Nomad's logmon: the reader is there before the task. */
	JTD_RETRY(fd, open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	if (fd < 0)
		return -1;
	f->r = r;
	f->out_fd = out_fd;
	uv_pipe_init(r->loop, &f->pipe, 0);
	f->pipe.data = f;
	if (uv_pipe_open(&f->pipe, fd) != 0 ||
	    uv_read_start((uv_stream_t *)&f->pipe, fifo_alloc,
	    fifo_read) != 0) {
		uv_close((uv_handle_t *)&f->pipe, NULL);
		return -1;
	}
	f->open = true;
	return 0;
}

static void
close_fifos(struct runner *r)
{
	struct fifo_reader *fs[2] = { &r->out, &r->err };
	size_t i;

	for (i = 0; i < 2; i++) {
		if (!fs[i]->open)
			continue;
		uv_read_stop((uv_stream_t *)&fs[i]->pipe);
		uv_close((uv_handle_t *)&fs[i]->pipe, NULL);
		fs[i]->open = false;
	}
}

/* ---- lifecycle ------------------------------------------------------- */

static void
maybe_finish(struct runner *r)
{
	/* Done when the task is destroyed and its output drained. */
	if (!r->destroyed || r->out.open || r->err.open)
		return;
	uv_close((uv_handle_t *)&r->sigint, NULL);
	uv_close((uv_handle_t *)&r->sigterm, NULL);
	jtd_tasks_free(r->tasks, NULL, NULL);
	r->tasks = NULL;
}

static void
destroyed(void *arg, struct jtd_err *err)
{
	struct runner *r = arg;

	if (err != NULL) {
		fprintf(stderr, "jail-task-driver: %s\n", err->msg);
		jtd_err_clear(&err);
	}
	r->destroyed = true;
	r->task = NULL;
	/*
	 * The task's writers are gone; a FIFO whose writer never opened it
	 * (a task that died at once) would never report end-of-file.
	 */
	close_fifos(r);
	maybe_finish(r);
}

static void
exited(void *arg, const struct jtd_exit *e)
{
	struct runner *r = arg;

	if (e->err[0] != '\0')
		fprintf(stderr, "jail-task-driver: %s\n", e->err);
	r->status = e->signal != 0 ? 128 + e->signal :
	    e->exit_code >= 0 && e->exit_code < 256 ? e->exit_code : 1;
	jtd_task_destroy(r->task, true, destroyed, r);
}

static void stopped(void *arg, struct jtd_err *err);

static void
started(void *arg, struct jtd_task *t, struct jtd_err *err,
    bool recoverable)
{
	struct runner *r = arg;

	if (err != NULL) {
		fprintf(stderr, "jail-task-driver: %s\n", err->msg);
		jtd_err_clear(&err);
		r->status = EXIT_NOT_STARTED;
		r->destroyed = true;
		close_fifos(r);
		maybe_finish(r);
		return;
	}
	r->task = t;
	jtd_task_wait(t, exited, r);
	if (r->stop_requested && r->task != NULL)
		jtd_task_stop(r->task, r->stop_sig, r->kill_timeout_ms, stopped,
		    r);
}

static void
stopped(void *arg, struct jtd_err *err)
{
	if (err != NULL) {
		fprintf(stderr, "jail-task-driver: stop: %s\n", err->msg);
		jtd_err_clear(&err);
	}
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct runner *r = s->data;

	if (r->task == NULL) {
		/* Still starting: stop as soon as it runs. */
		r->stop_requested = true;
		return;
	}
	jtd_task_stop(r->task, r->stop_sig, r->kill_timeout_ms, stopped, r);
}

static void
random_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t i;
	int fd;

	JTD_RETRY(fd, open("/dev/urandom", O_RDONLY | O_CLOEXEC));
	if (fd < 0 || jtd_read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		unsigned long x = (unsigned long)time(NULL) ^ (unsigned long)getpid();

		for (i = 0; i < sizeof(raw); i++, x = x * 6364136223846793005UL + 1)
			raw[i] = (unsigned char)(x >> 33);
	}
	jtd_close(fd);
	for (i = 0; i + 1 < n; i++)
		buf[i] = hex[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	buf[n - 1] = '\0';
}

static void
task_name_from(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t i, o = 0;

	base = base != NULL ? base + 1 : path;
	for (i = 0; base[i] != '\0' && base[i] != '.' && o + 1 < size; i++) {
		char c = base[i];

		out[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ? c : '_';
	}
	if (o == 0)
		out[o++] = 't';
	out[o] = '\0';
}

static int
usage(void)
{
	fprintf(stderr, "usage: jail-task-driver run [--state-dir DIR] "
	    "[--signal SIG] [--kill-timeout SECONDS] FILE\n");
	return 2;
}

int
jtd_cli_run(int argc, char **argv)
{
	struct runner r;
	struct jtd_plugincfg pc;
	struct jtd_taskcfg *cfg;
	struct jtd_err *err = NULL;
	DRV(TaskConfig) tc = DRV_C(TASK_CONFIG__INIT);
	DRV(TaskConfig__EnvEntry) env[5], *envp[5];
	char alloc_id[37], rnd[9], id[160], vals[5][320];
	const char *keys[5] = { "NOMAD_TASK_DIR", "NOMAD_ALLOC_DIR",
	    "NOMAD_SECRETS_DIR", "NOMAD_TASK_NAME", "NOMAD_ALLOC_ID" };
	char out_path[512], err_path[512];
	const char *state_dir = NULL, *file = NULL;
	int i;

	memset(&r, 0, sizeof(r));
	r.stop_sig = SIGINT;
	r.kill_timeout_ms = 5000;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc)
			state_dir = argv[++i];
		else if (strcmp(argv[i], "--signal") == 0 && i + 1 < argc) {
			r.stop_sig = jtd_signal_number(argv[++i]);
			if (r.stop_sig < 0) {
				fprintf(stderr, "jail-task-driver: --signal: "
				    "unknown signal %s\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--kill-timeout") == 0 &&
		    i + 1 < argc)
			r.kill_timeout_ms = strtoull(argv[++i], NULL, 10) * 1000;
		else if (argv[i][0] == '-' || file != NULL)
			return usage();
		else
			file = argv[i];
	}
	if (file == NULL)
		return usage();
	cfg = load_config(file);
	if (cfg == NULL)
		return 1;

	/* Whoever runs this by hand is the operator: no job policy. */
	memset(&pc, 0, sizeof(pc));
	pc.enabled = true;
	pc.allow_host_hooks = true;
	pc.allow_host_mounts = true;
	pc.state_dir = (char *)state_dir;

	task_name_from(file, r.name, sizeof(r.name));
	r.loop = uv_default_loop();
	if (make_alloc_dir(&r) != 0) {
		fprintf(stderr, "jail-task-driver: allocation dir %s: %s\n",
		    r.alloc_dir, strerror(errno));
		jtd_taskcfg_free(cfg);
		return EXIT_NOT_STARTED;
	}
	random_hex(alloc_id, 9);
	random_hex(rnd, sizeof(rnd));
	snprintf(id, sizeof(id), "%s-run/%s/%s", alloc_id, r.name, rnd);
	snprintf(vals[0], sizeof(vals[0]), "/local");
	snprintf(vals[1], sizeof(vals[1]), "/alloc");
	snprintf(vals[2], sizeof(vals[2]), "/secrets");
	snprintf(vals[3], sizeof(vals[3]), "%s", r.name);
	snprintf(vals[4], sizeof(vals[4]), "%s-run", alloc_id);
	for (i = 0; i < 5; i++) {
		DRV(TaskConfig__EnvEntry) e = DRV_C(TASK_CONFIG__ENV_ENTRY__INIT);

		env[i] = e;
		env[i].key = (char *)keys[i];
		env[i].value = vals[i];
		envp[i] = &env[i];
	}
	snprintf(out_path, sizeof(out_path), "%s/alloc/logs/.%s.stdout.fifo",
	    r.alloc_dir, r.name);
	snprintf(err_path, sizeof(err_path), "%s/alloc/logs/.%s.stderr.fifo",
	    r.alloc_dir, r.name);
	tc.id = id;
	tc.name = r.name;
	tc.alloc_id = vals[4];
	tc.alloc_dir = r.alloc_dir;
	tc.job_name = r.name;
	tc.task_group_name = r.name;
	tc.stdout_path = out_path;
	tc.stderr_path = err_path;
	tc.n_env = 5;
	tc.env = envp;

	r.status = EXIT_NOT_STARTED;
	r.tasks = jtd_tasks_new(r.loop, &err);
	if (r.tasks == NULL ||
	    jtd_tasks_configure(r.tasks, &pc, false, &err) != 0 ||
	    open_fifo(&r, &r.out, "stdout", STDOUT_FILENO) != 0 ||
	    open_fifo(&r, &r.err, "stderr", STDERR_FILENO) != 0) {
		fprintf(stderr, "jail-task-driver: %s\n",
		    err != NULL ? err->msg : strerror(errno));
		jtd_err_clear(&err);
		jtd_taskcfg_free(cfg);
		if (r.tasks != NULL) {
			close_fifos(&r);
			jtd_tasks_free(r.tasks, NULL, NULL);
		}
		goto out;
	}
	uv_signal_init(r.loop, &r.sigint);
	r.sigint.data = &r;
	uv_signal_start(&r.sigint, on_signal, SIGINT);
	uv_signal_init(r.loop, &r.sigterm);
	r.sigterm.data = &r;
	uv_signal_start(&r.sigterm, on_signal, SIGTERM);

	if (jtd_task_start(r.tasks, &tc, cfg, started, &r, &err) != 0) {
		fprintf(stderr, "jail-task-driver: %s\n", err->msg);
		jtd_err_clear(&err);
		r.destroyed = true;
		close_fifos(&r);
		maybe_finish(&r);
	}
out:
	uv_run(r.loop, UV_RUN_DEFAULT);
	uv_loop_close(r.loop);
	remove_tree(r.alloc_dir);
	return r.status;
}
