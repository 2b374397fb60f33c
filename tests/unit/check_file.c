/*
 * Unit tests for lib/file.c: file_read_checked() for FILE_SECRET (no group or
 * other access at all) and FILE_CONFIG (not writable by group or others),
 * the size limit, and what is refused whatever the kind: symbolic links,
 * FIFOs, directories, files of another owner, NUL bytes, missing files;
 * and the walk from / down (file_open_checked): a directory on the way that
 * others can write or that someone else owns, links on the way, "." and
 * "..", FILE_PROGRAM, FILE_PUBLIC and file_resolve_public(). Then the
 * calls every file-handling caller shares: file_trust(), the bounded
 * file_read_fd(), file_write_all() through signals and partial writes,
 * file_replace_with() (exclusive, changed-meanwhile, group) and
 * file_lock_at() timing out against a lock another process holds.
 * Files live in a mkdtemp() directory removed at the end.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "unit.h"

/* Reads path and expects success with exactly want (len bytes). */
static void expect_read(const char *path, enum file_kind kind, size_t max, const char *want,
			size_t wantlen)
{
	char err[512] = "", *out = NULL;
	size_t len = 12345;
	enum apt_rc rc = file_read_checked(path, kind, max, &out, &len, err, sizeof(err));

	ck_assert_msg(rc == APT_OK, "%s: rc %d: %s", path, rc, err);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(len, wantlen);
	ck_assert_int_eq(memcmp(out, want, wantlen), 0);
	ck_assert_int_eq(out[len], '\0');
	free_secret(out);
}

/* Expects APT_SERVICE, no data, and an error naming path and holding frag. */
static void expect_refused(const char *path, enum file_kind kind, size_t max, const char *frag)
{
	char err[512] = "", *out = (char *)"junk";
	size_t len = 12345;
	enum apt_rc rc = file_read_checked(path, kind, max, &out, &len, err, sizeof(err));

	ck_assert_msg(rc == APT_SERVICE, "%s: rc %d, want APT_SERVICE (%s)", path, rc, frag);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(strstr(err, frag) != NULL, "error \"%s\" lacks \"%s\"", err, frag);
	ck_assert_msg(strstr(err, path) != NULL, "error \"%s\" does not name the file", err);
}

START_TEST(test_secret_modes)
{
	char p[PATH_MAX];

	unit_write(p, "secret600", "s3cr3t\n", 7, 0600);
	expect_read(p, FILE_SECRET, 4096, "s3cr3t\n", 7);
	unit_write(p, "secret400", "s3cr3t", 6, 0400);
	expect_read(p, FILE_SECRET, 4096, "s3cr3t", 6);

	unit_write(p, "secret640", "s3cr3t", 6, 0640);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	unit_write(p, "secret604", "s3cr3t", 6, 0604);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	unit_write(p, "secret610", "s3cr3t", 6, 0610);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	unit_write(p, "secret601", "s3cr3t", 6, 0601);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	unit_write(p, "secret644", "s3cr3t", 6, 0644);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	unit_write(p, "secret620", "s3cr3t", 6, 0620);
	expect_refused(p, FILE_SECRET, 4096, "writable by group or others");
}
END_TEST

START_TEST(test_secret_not_in_error)
{
	char p[PATH_MAX], err[512] = "", *out;
	size_t len;

	unit_write(p, "leaky", "TOPSECRETVALUE", 14, 0644);
	ck_assert_int_eq(file_read_checked(p, FILE_SECRET, 4096, &out, &len, err, sizeof(err)),
			 APT_SERVICE);
	ck_assert_ptr_null(strstr(err, "TOPSECRET"));
}
END_TEST

START_TEST(test_config_modes)
{
	char p[PATH_MAX];

	unit_write(p, "conf644", "a = b\n", 6, 0644);
	expect_read(p, FILE_CONFIG, 4096, "a = b\n", 6);
	unit_write(p, "conf600", "a = b\n", 6, 0600);
	expect_read(p, FILE_CONFIG, 4096, "a = b\n", 6);
	unit_write(p, "conf444", "a = b\n", 6, 0444);
	expect_read(p, FILE_CONFIG, 4096, "a = b\n", 6);

	unit_write(p, "conf664", "a = b\n", 6, 0664);
	expect_refused(p, FILE_CONFIG, 4096, "writable by group or others");
	unit_write(p, "conf646", "a = b\n", 6, 0646);
	expect_refused(p, FILE_CONFIG, 4096, "writable by group or others");
	unit_write(p, "conf666", "a = b\n", 6, 0666);
	expect_refused(p, FILE_CONFIG, 4096, "writable by group or others");
}
END_TEST

START_TEST(test_max_size)
{
	char p[PATH_MAX], data[101];

	memset(data, 'x', sizeof(data));
	unit_write(p, "size100", data, 100, 0600);
	expect_read(p, FILE_SECRET, 100, data, 100);
	expect_refused(p, FILE_SECRET, 99, "larger than 99 bytes");
	unit_write(p, "size101", data, 101, 0644);
	expect_refused(p, FILE_CONFIG, 100, "larger than 100 bytes");
	unit_write(p, "size0", "", 0, 0600);
	expect_read(p, FILE_SECRET, 100, "", 0);
	expect_read(p, FILE_SECRET, 0, "", 0);
}
END_TEST

START_TEST(test_symlink)
{
	char target[PATH_MAX], link[PATH_MAX];

	unit_write(target, "linktarget", "ok", 2, 0600);
	unit_path(link, sizeof(link), "link");
	unlink(link);
	ck_assert_int_eq(symlink(target, link), 0);
	expect_refused(link, FILE_SECRET, 4096, "symbolic link");
	expect_refused(link, FILE_CONFIG, 4096, "symbolic link");
	/* A dangling one too. */
	unit_path(link, sizeof(link), "dangling");
	unlink(link);
	ck_assert_int_eq(symlink("/nonexistent/xyz", link), 0);
	expect_refused(link, FILE_CONFIG, 4096, "symbolic link");
	expect_read(target, FILE_SECRET, 4096, "ok", 2);
}
END_TEST

START_TEST(test_not_regular)
{
	char p[PATH_MAX];

	/* A FIFO nobody writes to must not hang the login. */
	unit_path(p, sizeof(p), "fifo");
	unlink(p);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	expect_refused(p, FILE_CONFIG, 4096, "not a regular file");
	unit_path(p, sizeof(p), "subdir");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	expect_refused(p, FILE_CONFIG, 4096, "not a regular file");
	expect_refused("/dev/null", FILE_CONFIG, 4096, "not a regular file");
}
END_TEST

START_TEST(test_missing)
{
	char p[PATH_MAX];

	unit_path(p, sizeof(p), "does-not-exist");
	expect_refused(p, FILE_CONFIG, 4096, "No such file or directory");
}
END_TEST

START_TEST(test_nul_byte)
{
	char p[PATH_MAX];

	unit_write(p, "nul", "key = a\0b\n", 10, 0644);
	expect_refused(p, FILE_CONFIG, 4096, "holds a NUL byte");
	unit_write(p, "nulsecret", "\0", 1, 0600);
	expect_refused(p, FILE_SECRET, 4096, "holds a NUL byte");
}
END_TEST

START_TEST(test_owner)
{
	char p[PATH_MAX], frag[64];
	struct passwd *pw;

	if (geteuid() != 0)
		return; /* only root can give a file away */
	pw = getpwnam("nobody");
	ck_assert_ptr_nonnull(pw);
	unit_write(p, "owned", "a = b\n", 6, 0600);
	ck_assert_int_eq(chown(p, pw->pw_uid, (gid_t)-1), 0);
	snprintf(frag, sizeof(frag), "owned by uid %u", (unsigned)pw->pw_uid);
	expect_refused(p, FILE_CONFIG, 4096, frag);
	expect_refused(p, FILE_SECRET, 4096, frag);
}
END_TEST

/* --- the walk from / down ------------------------------------------------- */

/* file_open_checked(path, kind) refused, with frag in the message. */
static void expect_open_refused(const char *path, enum file_kind kind, const char *frag)
{
	char err[1024] = "";
	int fd = file_open_checked(path, kind, err, sizeof(err));

	if (fd >= 0)
		close(fd);
	ck_assert_msg(fd < 0, "%s: opened, want refusal with \"%s\"", path, frag);
	ck_assert_msg(strstr(err, frag) != NULL, "error \"%s\" lacks \"%s\"", err, frag);
}

static void expect_open(const char *path, enum file_kind kind)
{
	char err[1024] = "";
	int fd = file_open_checked(path, kind, err, sizeof(err));

	ck_assert_msg(fd >= 0, "%s: %s", path, err);
	close(fd);
}

START_TEST(test_writable_directory_on_the_way)
{
	char d[PATH_MAX], sub[PATH_MAX], p[PATH_MAX], frag[PATH_MAX + 64];

	unit_path(d, sizeof(d), "open");
	ck_assert_int_eq(mkdir(d, 0755), 0);
	unit_join(sub, sizeof(sub), d, "sub");
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	unit_join(p, sizeof(p), sub, "conf");
	unit_write_path(p, "a = b\n", 6, 0644);
	expect_read(p, FILE_CONFIG, 4096, "a = b\n", 6);

	/* Sticky and world-writable, as /tmp: whoever can write it can swap "sub". */
	ck_assert_int_eq(chmod(d, 01777), 0);
	snprintf(frag, sizeof(frag), "directory %s is writable by group or others", d);
	expect_refused(p, FILE_CONFIG, 4096, frag);
	expect_open_refused(p, FILE_SECRET, frag);
	ck_assert_int_eq(chmod(d, 0775), 0);
	expect_refused(p, FILE_CONFIG, 4096, frag);
	ck_assert_int_eq(chmod(d, 0755), 0);
	ck_assert_int_eq(chmod(sub, 0757), 0);
	snprintf(frag, sizeof(frag), "directory %s is writable by group or others", sub);
	expect_refused(p, FILE_CONFIG, 4096, frag);
	ck_assert_int_eq(chmod(sub, 0755), 0);
	expect_read(p, FILE_CONFIG, 4096, "a = b\n", 6);
}
END_TEST

START_TEST(test_directory_of_another_owner)
{
	char d[PATH_MAX], p[PATH_MAX], frag[PATH_MAX + 64];
	struct passwd *pw;

	if (geteuid() != 0)
		return; /* only root can give a directory away */
	pw = getpwnam("nobody");
	ck_assert_ptr_nonnull(pw);
	unit_path(d, sizeof(d), "theirs");
	ck_assert_int_eq(mkdir(d, 0755), 0);
	unit_join(p, sizeof(p), d, "conf");
	unit_write_path(p, "x", 1, 0644);
	ck_assert_int_eq(chown(d, pw->pw_uid, (gid_t)-1), 0);
	snprintf(frag, sizeof(frag), "directory %s is owned by uid %u", d, (unsigned)pw->pw_uid);
	expect_refused(p, FILE_CONFIG, 4096, frag);
}
END_TEST

START_TEST(test_links_on_the_way)
{
	char real[PATH_MAX], link[PATH_MAX], p[PATH_MAX], open_dir[PATH_MAX], err[512];
	char resolved[PATH_MAX], want[PATH_MAX];

	unit_path(real, sizeof(real), "real");
	ck_assert_int_eq(mkdir(real, 0755), 0);
	unit_join(p, sizeof(p), real, "file");
	unit_write_path(p, "ok", 2, 0644);

	/* A relative link to a directory, in a directory that passed: followed. */
	unit_path(link, sizeof(link), "via");
	ck_assert_int_eq(symlink("real", link), 0);
	unit_join(p, sizeof(p), link, "file");
	expect_read(p, FILE_CONFIG, 4096, "ok", 2);

	/* An absolute one, and one through ".." and ".": the same file. */
	unit_path(link, sizeof(link), "abs");
	ck_assert_int_eq(symlink(real, link), 0);
	unit_join(p, sizeof(p), link, "file");
	expect_read(p, FILE_CONFIG, 4096, "ok", 2);
	unit_path(link, sizeof(link), "dotdot");
	ck_assert_int_eq(symlink("./real/../real", link), 0);
	unit_join(p, sizeof(p), link, "file");
	expect_read(p, FILE_CONFIG, 4096, "ok", 2);

	/* The last name a link: only FILE_PUBLIC follows it, and resolves it. */
	unit_path(link, sizeof(link), "filelink");
	ck_assert_int_eq(symlink("real/file", link), 0);
	expect_open_refused(link, FILE_CONFIG, "is a symbolic link");
	expect_open_refused(link, FILE_PROGRAM, "is a symbolic link");
	expect_open(link, FILE_PUBLIC);
	ck_assert_int_eq(file_resolve_public(link, resolved, sizeof(resolved), err, sizeof(err)),
			 APT_OK);
	ck_assert_ptr_nonnull(realpath(link, want));
	ck_assert_str_eq(resolved, want);

	/* Where a link leads is checked like the rest. */
	unit_path(open_dir, sizeof(open_dir), "open2");
	ck_assert_int_eq(mkdir(open_dir, 0755), 0);
	unit_join(p, sizeof(p), open_dir, "file");
	unit_write_path(p, "no", 2, 0644);
	ck_assert_int_eq(chmod(open_dir, 0777), 0);
	unit_path(link, sizeof(link), "to-open");
	ck_assert_int_eq(symlink("open2/file", link), 0);
	expect_open_refused(link, FILE_PUBLIC, "open2 is writable by group or others");
	ck_assert_int_eq(file_resolve_public(link, resolved, sizeof(resolved), err, sizeof(err)),
			 APT_SERVICE);

	/* A loop ends. */
	unit_path(link, sizeof(link), "loop");
	ck_assert_int_eq(symlink("loop", link), 0);
	unit_join(p, sizeof(p), link, "file");
	expect_open_refused(p, FILE_CONFIG, "too many levels of symbolic links");
}
END_TEST

START_TEST(test_program_and_paths)
{
	char p[PATH_MAX], d[PATH_MAX];

	unit_write(p, "prog", "#!/bin/sh\n", 10, 0755);
	expect_open(p, FILE_PROGRAM);
	unit_write(p, "noexec", "x", 1, 0644);
	expect_open_refused(p, FILE_PROGRAM, "not executable");
	unit_write(p, "gwprog", "x", 1, 0775);
	expect_open_refused(p, FILE_PROGRAM, "writable by group or others");
	expect_open_refused("relative/path", FILE_CONFIG, "not an absolute path");
	unit_path(d, sizeof(d), "");
	expect_open_refused(d, FILE_CONFIG, "not a regular file");
	expect_open_refused("/", FILE_CONFIG, "names a directory");
	unit_path(d, sizeof(d), "real/..");
	expect_open_refused(d, FILE_CONFIG, "names a directory");
	unit_path(d, sizeof(d), "prog/x");
	expect_open_refused(d, FILE_CONFIG, "Not a directory");
}
END_TEST

START_TEST(test_read_at)
{
	char d[PATH_MAX], p[PATH_MAX], err[512], *out = NULL;
	size_t len = 0;
	int dir;

	unit_path(d, sizeof(d), "at");
	ck_assert_int_eq(mkdir(d, 0700), 0);
	unit_join(p, sizeof(p), d, "key");
	unit_write_path(p, "k1", 2, 0600);
	dir = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir, 0);
	ck_assert_int_eq(
	    file_read_checked_at(dir, "key", FILE_SECRET, 64, &out, &len, err, sizeof(err)),
	    APT_OK);
	ck_assert_str_eq(out, "k1");
	free_secret(out);
	unit_join(p, sizeof(p), d, "link");
	ck_assert_int_eq(symlink("key", p), 0);
	ck_assert_int_eq(
	    file_read_checked_at(dir, "link", FILE_CONFIG, 64, &out, &len, err, sizeof(err)),
	    APT_SERVICE);
	ck_assert_ptr_nonnull(strstr(err, "link: is a symbolic link"));
	ck_assert_int_eq(
	    file_read_checked_at(dir, "../at/key", FILE_CONFIG, 64, &out, &len, err, sizeof(err)),
	    APT_SERVICE);
	ck_assert_ptr_nonnull(strstr(err, "not a file name"));
	unit_join(p, sizeof(p), d, "open");
	unit_write_path(p, "x", 1, 0644);
	ck_assert_int_eq(
	    file_read_checked_at(dir, "open", FILE_SECRET, 64, &out, &len, err, sizeof(err)),
	    APT_SERVICE);
	ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
	close(dir);
}
END_TEST

/* --- the shared calls ------------------------------------------------------ */

#define NOBODY 65534 /* uid and gid of nobody/nogroup on Debian */

static int open_scratch(const char *name, char *d, size_t len)
{
	int dir;

	unit_path(d, len, name);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	dir = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir, 0);
	return dir;
}

static enum file_trust trust_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return file_trust(&st);
}

START_TEST(test_trust)
{
	char p[PATH_MAX];

	unit_write(p, "trust644", "x", 1, 0644);
	ck_assert_int_eq(trust_of(p), FILE_TRUSTED);
	ck_assert_int_eq(trust_of("/"), FILE_TRUSTED);
	/* Planted group- and other-writable files. */
	unit_write(p, "trust664", "x", 1, 0664);
	ck_assert_int_eq(trust_of(p), FILE_SHARED_WRITE);
	unit_write(p, "trust602", "x", 1, 0602);
	ck_assert_int_eq(trust_of(p), FILE_SHARED_WRITE);
	/* Readable by all is no threat; sticky /tmp is writable by all. */
	unit_write(p, "trust444", "x", 1, 0444);
	ck_assert_int_eq(trust_of(p), FILE_TRUSTED);
	ck_assert_int_eq(trust_of("/tmp"), FILE_SHARED_WRITE);
	if (geteuid() != 0)
		return; /* only root can give a file away */
	unit_write(p, "trust-nobody", "x", 1, 0644);
	ck_assert_int_eq(chown(p, NOBODY, (gid_t)-1), 0);
	ck_assert_int_eq(trust_of(p), FILE_OTHER_OWNER);
	/* Another owner is named first: changing the mode would not make it ours. */
	ck_assert_int_eq(chmod(p, 0666), 0);
	ck_assert_int_eq(trust_of(p), FILE_OTHER_OWNER);
}
END_TEST

/* file_read_fd of a pipe holding exactly data (the helper's stdin is one). */
static int read_pipe(const void *data, size_t len, size_t max, unsigned flags, struct buf *out,
		     char *err, size_t errlen)
{
	int pfd[2], r, e;

	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert(len < 65536); /* fits the pipe: no reader needed */
	ck_assert_int_eq(file_write_all(pfd[1], data, len), 0);
	close(pfd[1]);
	r = file_read_fd(pfd[0], max, flags, out, "pipe", err, errlen);
	e = errno;
	close(pfd[0]);
	errno = e;
	return r;
}

START_TEST(test_read_fd)
{
	static const char bin[] = "a\0b\0c";
	char big[10000], p[PATH_MAX], err[256];
	struct buf b = BUF_INIT;
	int fd;

	memset(big, 'y', sizeof(big));
	/* A stream: exactly max is fine, one more byte is not. */
	ck_assert_int_eq(read_pipe(big, sizeof(big), sizeof(big), 0, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(b.len, sizeof(big));
	ck_assert_int_eq(memcmp(b.p, big, sizeof(big)), 0);
	buf_free(&b);
	err[0] = '\0';
	ck_assert_int_eq(read_pipe(big, sizeof(big), sizeof(big) - 1, 0, &b, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(err, "pipe: larger than 9999 bytes");

	/* Binary unless FILE_READ_TEXT. */
	ck_assert_int_eq(read_pipe(bin, sizeof(bin), 64, 0, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(b.len, sizeof(bin));
	ck_assert_int_eq(memcmp(b.p, bin, sizeof(bin)), 0);
	buf_free(&b);
	ck_assert_int_eq(read_pipe(bin, sizeof(bin), 64, FILE_READ_TEXT, &b, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EILSEQ);
	ck_assert_str_eq(err, "pipe: holds a NUL byte");
	ck_assert_ptr_null(b.p);

	/* A regular file already too big is refused before reading; an empty one is "". */
	unit_write(p, "readfd", big, 100, 0600);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(file_read_fd(fd, 99, 0, &b, "readfd", NULL, 0), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 0);
	ck_assert_int_eq(file_read_fd(fd, 100, FILE_READ_TEXT, &b, "readfd", NULL, 0), 0);
	ck_assert_uint_eq(b.len, 100);
	buf_free(&b);
	close(fd);
	ck_assert_int_eq(read_pipe("", 0, 0, FILE_READ_TEXT, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A slow reader and a signal every millisecond without SA_RESTART: write()
 * comes back short or with EINTR many times; every byte still arrives, in
 * order.
 */
START_TEST(test_write_all)
{
	enum { TOTAL = 2 * 1024 * 1024 };
	struct itimerval every = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
	struct sigaction sa;
	unsigned char *data = malloc(TOTAL);
	int pfd[2], status;
	pid_t pid;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < TOTAL; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		unsigned char chunk[1000];
		size_t at = 0;
		ssize_t n;

		close(pfd[1]);
		while ((n = read(pfd[0], chunk, sizeof(chunk))) > 0) {
			if (at + (size_t)n > TOTAL || memcmp(chunk, data + at, (size_t)n) != 0)
				_exit(1);
			at += (size_t)n;
			if (at % 65536 < sizeof(chunk))
				usleep(200); /* let the writer fill the pipe and block */
		}
		_exit(n == 0 && at == TOTAL ? 0 : 2);
	}
	close(pfd[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: writes are interrupted */
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
	ck_assert_int_eq(file_write_all(pfd[1], data, TOTAL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
	close(pfd[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader status %d", status);
	/* Nothing to write is done at once; a closed descriptor is an error. */
	ck_assert_int_eq(file_write_all(pfd[1], data, 0), 0);
	ck_assert_int_eq(file_write_all(pfd[1], data, 1), -1);
	ck_assert_int_eq(errno, EBADF);
	free(data);
}
END_TEST

/* The bytes of name under dirfd are exactly want, and no temporary file is left. */
static void expect_file_at(int dirfd, const char *name, const char *want, mode_t mode)
{
	struct buf b = BUF_INIT;
	struct stat st;
	struct dirent *e;
	DIR *d;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, mode);
	ck_assert_int_eq(file_read_fd(fd, 4096, 0, &b, name, NULL, 0), 0);
	close(fd);
	ck_assert_uint_eq(b.len, strlen(want));
	ck_assert_int_eq(memcmp(b.p ? (const void *)b.p : "", want, b.len), 0);
	buf_free(&b);
	d = fdopendir(dup(dirfd));
	ck_assert_ptr_nonnull(d);
	rewinddir(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strstr(e->d_name, "tmp-") == NULL, "left behind: %s", e->d_name);
	closedir(d);
}

START_TEST(test_replace)
{
	struct file_replace how = {.mode = 0640, .tmp_prefix = ".x.tmp-"};
	char d[PATH_MAX];
	struct stat was, absent;
	int dir = open_scratch("replace", d, sizeof(d));
	mode_t old = umask(077);

	/* The mode asked for, whatever the umask. */
	ck_assert_int_eq(file_replace_at(dir, "f", "one\n", 4, 0644), 0);
	expect_file_at(dir, "f", "one\n", 0644);
	ck_assert_int_eq(file_replace_at(dir, "f", "", 0, 0600), 0);
	expect_file_at(dir, "f", "", 0600);

	/* Without the check, whatever is there is replaced. */
	ck_assert_int_eq(file_replace_with(dir, "f", "two\n", 4, &how), 0);
	expect_file_at(dir, "f", "two\n", 0640);

	/* With it: the file as it was read is replaced; one changed since is kept. */
	ck_assert_int_eq(fstatat(dir, "f", &was, AT_SYMLINK_NOFOLLOW), 0);
	how.was = &was;
	how.sync_dir = true;
	ck_assert_int_eq(file_replace_with(dir, "f", "three\n", 6, &how), 0);
	expect_file_at(dir, "f", "three\n", 0640);
	errno = 0;
	ck_assert_int_eq(file_replace_with(dir, "f", "four\n", 5, &how), -1);
	ck_assert_int_eq(errno, ESTALE);
	expect_file_at(dir, "f", "three\n", 0640);

	/* "Absent when read" (st_nlink 0): made if still absent, refused if it appeared. */
	memset(&absent, 0, sizeof(absent));
	how.was = &absent;
	ck_assert_int_eq(file_replace_with(dir, "g", "new\n", 4, &how), 0);
	expect_file_at(dir, "g", "new\n", 0640);
	ck_assert_int_eq(file_replace_with(dir, "g", "other\n", 6, &how), -1);
	ck_assert_int_eq(errno, ESTALE);
	expect_file_at(dir, "g", "new\n", 0640);

	/* Exclusive: made once; a second maker gets EEXIST and the first one's stays. */
	how = (struct file_replace){.mode = 0600, .exclusive = true};
	ck_assert_int_eq(file_replace_with(dir, "once", "first", 5, &how), 0);
	expect_file_at(dir, "once", "first", 0600);
	ck_assert_int_eq(file_replace_with(dir, "once", "second", 6, &how), -1);
	ck_assert_int_eq(errno, EEXIST);
	expect_file_at(dir, "once", "first", 0600);

	/* A symbolic link at the name is replaced, never written through. */
	ck_assert_int_eq(symlinkat("once", dir, "link"), 0);
	ck_assert_int_eq(file_replace_at(dir, "link", "mine", 4, 0600), 0);
	expect_file_at(dir, "link", "mine", 0600);
	expect_file_at(dir, "once", "first", 0600);

	if (geteuid() == 0) {
		struct stat st;

		how = (struct file_replace){.mode = 0640, .set_gid = true, .gid = NOBODY};
		ck_assert_int_eq(file_replace_with(dir, "grp", "g", 1, &how), 0);
		ck_assert_int_eq(fstatat(dir, "grp", &st, 0), 0);
		ck_assert_uint_eq(st.st_gid, NOBODY);
		expect_file_at(dir, "grp", "g", 0640);
	}
	umask(old);
	close(dir);
}
END_TEST

START_TEST(test_lock)
{
	char d[PATH_MAX], c;
	int dir = open_scratch("lock", d, sizeof(d));
	int ready[2], release[2], fd, status;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(release), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Holds the lock until the parent closes its end of release. */
		int held = file_lock_at(dir, "lk", 1000);

		close(release[1]);
		close(ready[0]);

		if (held < 0 || write(ready[1], "x", 1) != 1)
			_exit(1);
		(void)!read(release[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	errno = 0;
	ck_assert_int_eq(file_lock_at(dir, "lk", 50), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(file_lock_at(dir, "lk", 0), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	close(release[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Released by the holder's exit: ours now, and exclusive. */
	fd = file_lock_at(dir, "lk", 1000);
	ck_assert_int_ge(fd, 0);
	close(ready[0]);

	/* Never through a symbolic link, and not ETIMEDOUT for a lock that is not there to take. */
	ck_assert_int_eq(symlinkat("lk", dir, "via"), 0);
	ck_assert_int_eq(file_lock_at(dir, "via", 50), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(file_lock_at(dir, "no/such", 50), -1);
	ck_assert_int_eq(errno, ENOENT);
	close(fd);
	close(dir);
}
END_TEST

static Suite *file_suite(void)
{
	Suite *s = suite_create("file");
	TCase *tc;

	tc = tcase_create("modes");
	tcase_add_test(tc, test_secret_modes);
	tcase_add_test(tc, test_secret_not_in_error);
	tcase_add_test(tc, test_config_modes);
	tcase_add_test(tc, test_owner);
	suite_add_tcase(s, tc);

	tc = tcase_create("content");
	tcase_add_test(tc, test_max_size);
	tcase_add_test(tc, test_nul_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("kind");
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("walk");
	tcase_add_test(tc, test_writable_directory_on_the_way);
	tcase_add_test(tc, test_directory_of_another_owner);
	tcase_add_test(tc, test_links_on_the_way);
	tcase_add_test(tc, test_program_and_paths);
	tcase_add_test(tc, test_read_at);
	suite_add_tcase(s, tc);

	tc = tcase_create("shared");
	tcase_add_test(tc, test_trust);
	tcase_add_test(tc, test_read_fd);
	tcase_add_test(tc, test_write_all);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_lock);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	unit_tmpdir("check_file");
	return unit_run(file_suite());
}
