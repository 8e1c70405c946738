/*
 * Shared fixture of the Linux backend tests: a busybox root file system
 * and Nomad-like task directories in a temporary directory, jails built
 * in memory, and a leak check (mount table, cgroups) around each test.
 * Needs root; main() skips everything (exit 77) without it.
 */
#ifndef JTD_TESTS_BACKEND_FIXTURE_H
#define JTD_TESTS_BACKEND_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "backend/backend.h"

struct fx {
	char tmp[128];		/* everything lives below */
	char root[192];		/* the busybox root */
	char alloc[192];	/* <tmp>/alloc: alloc/, task/local, ... */
	char local[192];
	char secrets[192];
	char state[192];	/* a task state directory */
};

extern struct fx fx;

/* Group setup/teardown: build and remove the whole tree. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Per test: snapshot, and compare after (fails the test on a leak). */
int fx_leak_before(void **state);
int fx_leak_after(void **state);

/* A jail with the task directories bound in, running argv. */
struct jtd_jail *fx_jail(const char *const *argv);
void fx_list_set(struct jtd_list *l, const char *const *v);

/* A running jail as the test (standing in for the shim) holds it. */
struct fx_run {
	struct jtd_spawned sp;
	int out;		/* read end of the task's stdout+stderr */
	char buf[16384];
	size_t len;
	bool eof;
};

/* Spawn; 0 or -1 with *err. */
int fx_start(const struct jtd_jail *j, struct fx_run *r,
    struct jtd_err **err);

/* Spawn or fail the test with the error. */
void fx_start_ok(const struct jtd_jail *j, struct fx_run *r);

/* Read output until `needle` shows up (or EOF / 10 s); true if found. */
bool fx_wait_output(struct fx_run *r, const char *needle);

/* Read output to EOF (10 s at most). */
void fx_drain(struct fx_run *r);

/*
 * Wait for the next event (10 s at most) and reap: 1 when the jail
 * ended (e filled), 0 when it goes on.
 */
int fx_next(struct fx_run *r, const struct jtd_jail *j,
    struct jtd_exit *e);

/* Wait until the jail has ended, then clean up its cgroups. */
void fx_finish(struct fx_run *r, const struct jtd_jail *j,
    struct jtd_exit *e);

/* Run argv to its end: output in r->buf, how it ended in *e. */
void fx_run_jail(struct jtd_jail *j, struct fx_run *r, struct jtd_exit *e);

/* A cgroup file of the jail ("memory", "memory.limit_in_bytes"), read
 * into buf; false if absent. */
bool fx_cgroup_read(const struct jtd_jail *j, const char *ctl,
    const char *file, char *buf, size_t size);

void fx_write(const char *path, const char *text);
bool fx_root(void);

#endif
