/*
 * Unit tests for lib/file.c: file_read_checked() for FILE_SECRET (no group or
 * other access at all) and FILE_CONFIG (not writable by group or others),
 * the size limit, and what is refused whatever the kind: symbolic links,
 * FIFOs, directories, files of another owner, NUL bytes, missing files.
 * Files live in a mkdtemp() directory removed at the end.
 */
#include <check.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int main(void)
{
	unit_tmpdir("check_file");
	return unit_run(file_suite());
}
