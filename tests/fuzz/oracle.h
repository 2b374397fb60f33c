/*
 * What the harnesses of tests/fuzz/ share: the oracle check (a broken
 * promise aborts, so libFuzzer reports it like a crash, with the input),
 * splitting one input into parts, and a private directory for harnesses
 * whose target reads or edits files.
 */
#ifndef APITOKEN_FUZZ_ORACLE_H
#define APITOKEN_FUZZ_ORACLE_H

#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "oracle failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * Cuts the next part off (*p, *left) at the first NUL byte (or the end) into a
 * fresh NUL-terminated string; NUL bytes separate the parts of an input.
 */
static inline char *next_part(const uint8_t **p, size_t *left)
{
	const uint8_t *nul = memchr(*p, '\0', *left);
	size_t n = nul != NULL ? (size_t)(nul - *p) : *left;
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (nul != NULL);
	*left -= n + (nul != NULL);
	return s;
}

static inline bool no_control_bytes(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

static char fuzz_dir_path[256];

static inline int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fuzz_dir_cleanup(void)
{
	if (fuzz_dir_path[0] != '\0')
		nftw(fuzz_dir_path, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A private directory (0700) made once per process and removed at exit.
 * lib/file.c refuses a file unless every directory from / down is owned by
 * root or the effective user and not group/other writable, so /tmp and
 * /dev/shm (sticky, world-writable) will not do for targets that read
 * through it (need_safe); $HOME or /run do. Others get /dev/shm first: it
 * is memory, and their targets fsync.
 */
static inline const char *fuzz_dir(bool need_safe)
{
	const char *home = getenv("HOME");
	const char *cand[] = {need_safe ? NULL : "/dev/shm", home, "/run", "/var/tmp"};

	if (fuzz_dir_path[0] != '\0')
		return fuzz_dir_path;
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (cand[i] == NULL || cand[i][0] != '/')
			continue;
		snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/.apitoken-fuzz.XXXXXX", cand[i]);
		if (mkdtemp(fuzz_dir_path) != NULL) {
			atexit(fuzz_dir_cleanup);
			return fuzz_dir_path;
		}
	}
	fprintf(stderr, "fuzz: no directory for temporary files\n");
	abort();
}

/*
 * A new file each time, not O_TRUNC: ext4 flushes a truncated-and-rewritten
 * file to disk on close (auto_da_alloc), which made each run wait ~6 ms.
 */
static inline void write_file(const char *path, const void *p, size_t len)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 || (len > 0 && write(fd, p, len) != (ssize_t)len) || close(fd) != 0) {
		perror(path);
		abort();
	}
}

#endif
