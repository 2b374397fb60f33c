/*
 * Support for the unit tests (see unit.h): the temp dir itself, made and
 * removed here, and the pseudo-random sequence. Nothing here calls Check.
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "unit.h"

static char unit_dir[256]; /* short, so paths built on it fit in PATH_MAX */

const char *unit_scratch_base(void)
{
	static char home[200];
	const char *v = getenv("APITOKEN_TEST_DIR"), *h;

	if (v != NULL && v[0] == '/')
		return v;
	if (geteuid() == 0)
		return "/run";
	v = getenv("XDG_RUNTIME_DIR");
	if (v != NULL && v[0] == '/')
		return v;
	h = getenv("HOME");
	if (h != NULL && h[0] == '/' && snprintf(home, sizeof(home), "%s", h) < (int)sizeof(home))
		return home;
	return "/tmp";
}

const char *unit_tmpdir(const char *tag)
{
	const char *base = unit_scratch_base();
	int n;

	if (unit_dir[0] != '\0')
		return unit_dir;
	if (tag == NULL) {
		fprintf(stderr, "unit_tmpdir: no temp dir; make it in main() first\n");
		exit(EXIT_FAILURE);
	}
	n = snprintf(unit_dir, sizeof(unit_dir), "%s/%s.XXXXXX", base, tag);
	if (n < 0 || (size_t)n >= sizeof(unit_dir)) {
		fprintf(stderr, "unit_tmpdir: %s is too long\n", base);
		exit(EXIT_FAILURE);
	}
	if (mkdtemp(unit_dir) == NULL) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
	return unit_dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void unit_tmpdir_remove(void)
{
	if (unit_dir[0] == '\0')
		return;
	nftw(unit_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	unit_dir[0] = '\0';
}

void unit_empty_file(char *out, size_t len, const char *name, mode_t mode)
{
	int n = snprintf(out, len, "%s/%s", unit_tmpdir(NULL), name);
	int fd = -1;

	if (n > 0 && (size_t)n < len)
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	else
		errno = ENAMETOOLONG;
	if (fd < 0 || fchmod(fd, mode) != 0 || close(fd) != 0) {
		perror(out);
		unit_tmpdir_remove();
		exit(EXIT_FAILURE);
	}
}

static uint64_t unit_rng_state;

void unit_rng_seed(uint64_t seed)
{
	unit_rng_state = seed;
}

uint64_t unit_rng(void)
{
	unit_rng_state ^= unit_rng_state >> 12;
	unit_rng_state ^= unit_rng_state << 25;
	unit_rng_state ^= unit_rng_state >> 27;
	return unit_rng_state * 0x2545F4914F6CDD1DULL;
}

size_t unit_rng_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(unit_rng() % n);
}

int unit_read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rbe");
	unsigned char chunk[4096];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	return out->failed || buf_terminate(out) < 0 ? -1 : 0;
}

int unit_command(const char *const argv[], const char *var, bool with_stderr, struct buf *out)
{
	unsigned char chunk[4096];
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		if (with_stderr)
			dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		if (var != NULL && putenv((char *)var) != 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out != NULL)
			buf_append(out, chunk, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (out != NULL && (out->failed || buf_terminate(out) < 0))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void unit_read_fd(int fd, char *buf, size_t len)
{
	unsigned char drop[4096];
	size_t have = 0;
	ssize_t n;

	while (have < len - 1 && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	while (read(fd, drop, sizeof(drop)) > 0)
		;
}

int unit_spawn(char *const argv[], char *const env[], char *out, size_t outlen, char *err,
	       size_t errlen)
{
	char errpath[PATH_MAX];
	int p[2], errfd, status;
	pid_t pid;

	out[0] = err[0] = '\0';
	if (snprintf(errpath, sizeof(errpath), "%s/stderr", unit_tmpdir(NULL)) >=
	    (int)sizeof(errpath))
		return -1;
	unlink(errpath);
	errfd = open(errpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (errfd < 0)
		return -1;
	if (pipe(p) != 0) {
		close(errfd);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		close(errfd);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(p[1], 1);
		dup2(errfd, 2);
		close(p[0]);
		execve(argv[0], argv, env);
		_exit(127);
	}
	close(p[1]);
	unit_read_fd(p[0], out, outlen);
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	lseek(errfd, 0, SEEK_SET);
	unit_read_fd(errfd, err, errlen);
	close(errfd);
	return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
