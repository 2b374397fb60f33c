/*
 * Unit tests for lib/file.c: file_read_checked() for FILE_SECRET (no group or
 * other access at all) and FILE_CONFIG (not writable by group or others),
 * the size limit, and what is refused whatever the kind: symbolic links,
 * FIFOs, directories, files of another owner, NUL bytes, missing files;
 * and the walk from / down (file_open_checked): a directory on the way that
 * others can write or that someone else owns, links on the way, "." and
 * "..", FILE_PROGRAM, FILE_PUBLIC and file_resolve_public().
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

	return s;
}

int main(void)
{
	unit_tmpdir("check_file");
	return unit_run(file_suite());
}
