/*
 * Shared by the unit tests (tests/unit): the one mkdtemp() directory a test
 * binary keeps its files in, paths in it, files written there with exact
 * bytes and mode, main()'s run of the suite, which removes that directory
 * at the end, and a seeded pseudo-random sequence.
 *
 * unit.c is linked into every test binary and into the benchmark, which
 * does not link libcheck: what calls Check is static inline here, so only
 * the unit tests that use it pull Check in. Nothing runs unless called.
 */
#ifndef APITOKEN_UNIT_H
#define APITOKEN_UNIT_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Where scratch directories go: files the module and the helper read must
 * sit under directories only root (or the user running the test) can
 * write (lib/file.c), which /tmp is not. $APITOKEN_TEST_DIR, else /run for
 * root, else $XDG_RUNTIME_DIR, else $HOME.
 */
const char *unit_scratch_base(void);

/*
 * The temp dir, BASE/TAG.XXXXXX under unit_scratch_base(). Make it with the first
 * call, from main() before unit_run(): Check runs each test in a child
 * process, and a directory first made there would outlive the run. Later
 * calls return the same directory and may pass NULL. Exits the program if
 * it cannot be made, or when called with NULL before it was.
 */
const char *unit_tmpdir(const char *tag);

/* Removes the temp dir and all in it, if one was made (unit_run() does this). */
void unit_tmpdir_remove(void);

/*
 * For main(), before unit_run(): creates an empty file called name in the
 * temp dir with this mode, its path in out (len bytes). On failure reports
 * it, removes the temp dir and exits with EXIT_FAILURE.
 */
void unit_empty_file(char *out, size_t len, const char *name, mode_t mode);

/*
 * xorshift64*: the same sequence for the same seed on every libc, so a
 * failure replays exactly. unit_rng_below(n) is in [0, n), and 0 for n = 0.
 */
void unit_rng_seed(uint64_t seed);
uint64_t unit_rng(void);
size_t unit_rng_below(size_t n);

struct buf;

/*
 * Appends the bytes of the file PATH to OUT and NUL-terminates it. 0, or -1
 * when the file cannot be opened (errno says why) or OUT failed. No Check:
 * main() may call it.
 */
int unit_read_file(const char *path, struct buf *out);

/*
 * Runs ARGV (no shell; ARGV[0] looked up in PATH), stdin inherited. What it
 * writes to stdout, and to stderr too when WITH_STDERR, is appended to OUT
 * and NUL-terminated (OUT NULL: read and dropped). VAR, when not NULL, is a
 * "NAME=value" set in the child's environment only. Returns its exit status,
 * or -1 when it could not be run, did not exit normally, or OUT failed. No
 * Check: main() may call it.
 */
int unit_command(const char *const argv[], const char *var, bool with_stderr, struct buf *out);

/* Reads fd to its end into buf (len bytes, NUL-terminated); what does not fit is dropped. */
void unit_read_fd(int fd, char *buf, size_t len);

/*
 * Runs argv[0] (a path, no PATH lookup) with exactly env, stdin /dev/null;
 * what it writes to stdout and stderr, NUL-terminated and cut to fit, in
 * out and err. stderr goes through a file in the test's temp dir, read after
 * the end, so a chatty child cannot block on a full pipe. Returns its exit
 * status, or -1 when it could not be run or did not exit normally.
 */
int unit_spawn(char *const argv[], char *const env[], char *out, size_t outlen, char *err,
	       size_t errlen);

/* unit_read_file, failing the test when it cannot. */
static inline void unit_slurp(const char *path, struct buf *out)
{
	ck_assert_msg(unit_read_file(path, out) == 0, "%s: %s", path, strerror(errno));
}

/* dir/name in out (len bytes); fails the test if it does not fit. */
static inline void unit_join(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	ck_assert(n > 0 && (size_t)n < len);
}

/* name in the temp dir. */
static inline void unit_path(char *out, size_t len, const char *name)
{
	unit_join(out, len, unit_tmpdir(NULL), name);
}

/* Creates path with exactly these bytes and then this mode, replacing any file there. */
static inline void unit_write_path(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* Writes name in the temp dir (as unit_write_path); its path in path_out (PATH_MAX bytes). */
static inline void unit_write(char *path_out, const char *name, const void *data, size_t len,
			      mode_t mode)
{
	unit_path(path_out, PATH_MAX, name);
	unit_write_path(path_out, data, len, mode);
}

/*
 * main()'s whole run: every test of s (CK_NORMAL output), then the temp
 * dir removed if one was made. Returns EXIT_SUCCESS when none failed.
 */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unit_tmpdir_remove();
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
