/*
 * Unit tests for lib/file.c: file_read_checked() for FILE_SECRET (no group or
 * other access at all) and FILE_CONFIG (not writable by group or others),
 * the size limit, and what is refused whatever the kind: symbolic links,
 * FIFOs, directories, files of another owner, NUL bytes, missing files.
 * Files live in a mkdtemp() directory removed at the end.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"

static char tmpdir[256]; /* short, so paths built on it fit in PATH_MAX */

static void tpath(char *out, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);

	ck_assert(n > 0 && n < PATH_MAX);
}

/* Creates name in the temp dir with exactly these bytes and this mode. */
static void write_file(char *path, const char *name, const void *data, size_t len, mode_t mode)
{
	int fd;

	tpath(path, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

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

	write_file(p, "secret600", "s3cr3t\n", 7, 0600);
	expect_read(p, FILE_SECRET, 4096, "s3cr3t\n", 7);
	write_file(p, "secret400", "s3cr3t", 6, 0400);
	expect_read(p, FILE_SECRET, 4096, "s3cr3t", 6);

	write_file(p, "secret640", "s3cr3t", 6, 0640);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	write_file(p, "secret604", "s3cr3t", 6, 0604);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	write_file(p, "secret610", "s3cr3t", 6, 0610);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	write_file(p, "secret601", "s3cr3t", 6, 0601);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	write_file(p, "secret644", "s3cr3t", 6, 0644);
	expect_refused(p, FILE_SECRET, 4096, "accessible by group or others");
	write_file(p, "secret620", "s3cr3t", 6, 0620);
	expect_refused(p, FILE_SECRET, 4096, "writable by group or others");
}
END_TEST

START_TEST(test_secret_not_in_error)
{
	char p[PATH_MAX], err[512] = "", *out;
	size_t len;

	write_file(p, "leaky", "TOPSECRETVALUE", 14, 0644);
	ck_assert_int_eq(file_read_checked(p, FILE_SECRET, 4096, &out, &len, err, sizeof(err)),
			 APT_SERVICE);
	ck_assert_ptr_null(strstr(err, "TOPSECRET"));
}
END_TEST

START_TEST(test_config_modes)
{
	char p[PATH_MAX];

	write_file(p, "conf644", "a = b\n", 6, 0644);
	expect_read(p, FILE_CONFIG, 4096, "a = b\n", 6);
	write_file(p, "conf600", "a = b\n", 6, 0600);
	expect_read(p, FILE_CONFIG, 4096, "a = b\n", 6);
	write_file(p, "conf444", "a = b\n", 6, 0444);
	expect_read(p, FILE_CONFIG, 4096, "a = b\n", 6);

	write_file(p, "conf664", "a = b\n", 6, 0664);
	expect_refused(p, FILE_CONFIG, 4096, "writable by group or others");
	write_file(p, "conf646", "a = b\n", 6, 0646);
	expect_refused(p, FILE_CONFIG, 4096, "writable by group or others");
	write_file(p, "conf666", "a = b\n", 6, 0666);
	expect_refused(p, FILE_CONFIG, 4096, "writable by group or others");
}
END_TEST

START_TEST(test_max_size)
{
	char p[PATH_MAX], data[101];

	memset(data, 'x', sizeof(data));
	write_file(p, "size100", data, 100, 0600);
	expect_read(p, FILE_SECRET, 100, data, 100);
	expect_refused(p, FILE_SECRET, 99, "larger than 99 bytes");
	write_file(p, "size101", data, 101, 0644);
	expect_refused(p, FILE_CONFIG, 100, "larger than 100 bytes");
	write_file(p, "size0", "", 0, 0600);
	expect_read(p, FILE_SECRET, 100, "", 0);
	expect_read(p, FILE_SECRET, 0, "", 0);
}
END_TEST

START_TEST(test_symlink)
{
	char target[PATH_MAX], link[PATH_MAX];

	write_file(target, "linktarget", "ok", 2, 0600);
	tpath(link, "link");
	unlink(link);
	ck_assert_int_eq(symlink(target, link), 0);
	expect_refused(link, FILE_SECRET, 4096, "symbolic link");
	expect_refused(link, FILE_CONFIG, 4096, "symbolic link");
	/* A dangling one too. */
	tpath(link, "dangling");
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
	tpath(p, "fifo");
	unlink(p);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	expect_refused(p, FILE_CONFIG, 4096, "not a regular file");
	tpath(p, "subdir");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	expect_refused(p, FILE_CONFIG, 4096, "not a regular file");
	expect_refused("/dev/null", FILE_CONFIG, 4096, "not a regular file");
}
END_TEST

START_TEST(test_missing)
{
	char p[PATH_MAX];

	tpath(p, "does-not-exist");
	expect_refused(p, FILE_CONFIG, 4096, "No such file or directory");
}
END_TEST

START_TEST(test_nul_byte)
{
	char p[PATH_MAX];

	write_file(p, "nul", "key = a\0b\n", 10, 0644);
	expect_refused(p, FILE_CONFIG, 4096, "holds a NUL byte");
	write_file(p, "nulsecret", "\0", 1, 0600);
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
	write_file(p, "owned", "a = b\n", 6, 0600);
	ck_assert_int_eq(chown(p, pw->pw_uid, (gid_t)-1), 0);
	snprintf(frag, sizeof(frag), "owned by uid %u", (unsigned)pw->pw_uid);
	expect_refused(p, FILE_CONFIG, 4096, frag);
	expect_refused(p, FILE_SECRET, 4096, frag);
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

	return s;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	SRunner *sr;
	int failed;

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_file.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	sr = srunner_create(file_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
