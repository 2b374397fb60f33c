/*
 * Unit tests for helper/ssh/sshconfig.c: where the ssh config is, our
 * block put at its top and taken out again with every other byte kept
 * (compared byte for byte), idempotence, the refusals (symbolic links,
 * other owners, unclosed blocks), the include file and its patterns, and
 * that the real `ssh -G` resolves our key and certificate for the hosts
 * we name and only for them. Each test works in its own directory under
 * one mkdtemp() directory, removed at the end.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "knownhosts.h"
#include "sshconfig.h"
#include "unit.h"

#define INC_A "/state/apitoken/ssh/ssh_config"
#define INC_B "/other/place/ssh_config"

#define BLOCK(inc) SSHCONFIG_BEGIN "\nInclude " inc "\n" SSHCONFIG_END "\n"

static const char ORIGINAL[] = "# my own config\n"
			       "Host foo\n"
			       "\tUser bar\n"
			       "\n"
			       "Host *\n"
			       "\tServerAliveInterval 30\n";

/* A fresh directory for one test: tmpdir/name. */
static void test_dir(char *out, const char *name)
{
	unit_path(out, PATH_MAX, name);
	ck_assert_msg(mkdir(out, 0700) == 0, "%s: %s", out, strerror(errno));
}

/* path holds exactly these bytes. */
static void expect_bytes(const char *path, const char *want, size_t len)
{
	struct buf got = BUF_INIT;

	unit_slurp(path, &got);
	ck_assert_msg(got.len == len && memcmp(got.p, want, len) == 0,
		      "%s:\n--- got (%zu)\n%s\n--- want (%zu)\n%.*s", path, got.len, (char *)got.p,
		      len, (int)len, want);
	buf_free(&got);
}

static void expect_mode(const char *path, mode_t mode)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s: mode %o, want %o", path,
		      st.st_mode & 07777, mode);
}

/* No temp file of ours is left in dir. */
static void expect_no_temp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strstr(e->d_name, ".apitoken-") == NULL, "left behind: %s/%s", dir,
			      e->d_name);
	closedir(d);
}

static void insert_ok(const char *config, const char *inc, bool want_changed)
{
	char err[512] = "";
	bool changed = !want_changed;

	ck_assert_msg(sshconfig_insert(config, inc, &changed, err, sizeof(err)) == APT_OK, "%s",
		      err);
	ck_assert_int_eq(changed, want_changed);
}

static void remove_ok(const char *config, bool want_changed)
{
	char err[512] = "";
	bool changed = !want_changed;

	ck_assert_msg(sshconfig_remove(config, &changed, err, sizeof(err)) == APT_OK, "%s", err);
	ck_assert_int_eq(changed, want_changed);
}

/* ------------------------------------------------------------ path */

START_TEST(test_path)
{
	struct passwd *pw = getpwuid(getuid());
	char *p = NULL, err[512] = "", want[PATH_MAX];

	ck_assert_int_eq(setenv("APITOKEN_SSH_CONFIG", "/somewhere/config", 1), 0);
	ck_assert_int_eq(sshconfig_path(&p, err, sizeof(err)), APT_OK);
	ck_assert_str_eq(p, "/somewhere/config");
	free(p);

	/* Not $HOME: the user database, as ssh does. */
	ck_assert_int_eq(unsetenv("APITOKEN_SSH_CONFIG"), 0);
	ck_assert_int_eq(setenv("HOME", "/nonexistent/home", 1), 0);
	ck_assert_ptr_nonnull(pw);
	snprintf(want, sizeof(want), "%s/.ssh/config", strcmp(pw->pw_dir, "/") ? pw->pw_dir : "");
	ck_assert_int_eq(sshconfig_path(&p, err, sizeof(err)), APT_OK);
	ck_assert_str_eq(p, want);
	free(p);

	/* Empty is unset. */
	ck_assert_int_eq(setenv("APITOKEN_SSH_CONFIG", "", 1), 0);
	ck_assert_int_eq(sshconfig_path(&p, err, sizeof(err)), APT_OK);
	ck_assert_str_eq(p, want);
	free(p);
	unsetenv("APITOKEN_SSH_CONFIG");
}
END_TEST

/* ---------------------------------------------------------- insert */

/* No ~/.ssh, no config: both made, 0700 and 0600, holding just the block. */
START_TEST(test_insert_missing)
{
	char dir[PATH_MAX], ssh[PATH_MAX], config[PATH_MAX];
	struct stat a, b;

	test_dir(dir, "missing");
	unit_join(ssh, sizeof(ssh), dir, ".ssh");
	unit_join(config, sizeof(config), ssh, "config");
	insert_ok(config, INC_A, true);
	expect_mode(ssh, 0700);
	expect_mode(config, 0600);
	expect_bytes(config, BLOCK(INC_A), strlen(BLOCK(INC_A)));

	/* Again: not even rewritten. */
	ck_assert_int_eq(stat(config, &a), 0);
	insert_ok(config, INC_A, false);
	ck_assert_int_eq(stat(config, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	expect_bytes(config, BLOCK(INC_A), strlen(BLOCK(INC_A)));
	expect_no_temp(ssh);
}
END_TEST

/* A directory that exists, with a file missing: only the file is made. */
START_TEST(test_insert_missing_file)
{
	char dir[PATH_MAX], config[PATH_MAX];

	test_dir(dir, "missingfile");
	ck_assert_int_eq(chmod(dir, 0755), 0);
	unit_join(config, sizeof(config), dir, "config");
	insert_ok(config, INC_A, true);
	expect_mode(dir, 0755);
	expect_mode(config, 0600);

	/* The directory's parent must exist: only one level is made. */
	unit_join(config, sizeof(config), dir, "a/b/config");
	{
		char err[512] = "";

		ck_assert_int_eq(sshconfig_insert(config, INC_A, NULL, err, sizeof(err)),
				 APT_SERVICE);
		ck_assert_msg(strstr(err, "cannot create") != NULL, "%s", err);
	}
}
END_TEST

/*
 * A config with content: the block goes on top, the rest is kept byte for
 * byte and so is the mode; the same include again changes nothing; another
 * include is replaced; removing gives back the very bytes.
 */
START_TEST(test_insert_existing)
{
	char dir[PATH_MAX], config[PATH_MAX];
	struct buf want = BUF_INIT;
	struct stat a, b;

	test_dir(dir, "existing");
	unit_join(config, sizeof(config), dir, "config");
	unit_write_path(config, ORIGINAL, strlen(ORIGINAL), 0640);

	insert_ok(config, INC_A, true);
	buf_appendf(&want, "%s%s", BLOCK(INC_A), ORIGINAL);
	expect_bytes(config, (char *)want.p, want.len);
	expect_mode(config, 0640);

	ck_assert_int_eq(stat(config, &a), 0);
	insert_ok(config, INC_A, false);
	ck_assert_int_eq(stat(config, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_int_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	expect_bytes(config, (char *)want.p, want.len);

	insert_ok(config, INC_B, true);
	want.len = 0;
	buf_appendf(&want, "%s%s", BLOCK(INC_B), ORIGINAL);
	expect_bytes(config, (char *)want.p, want.len);
	expect_mode(config, 0640);

	remove_ok(config, true);
	expect_bytes(config, ORIGINAL, strlen(ORIGINAL));
	expect_mode(config, 0640);
	remove_ok(config, false);
	expect_bytes(config, ORIGINAL, strlen(ORIGINAL));
	expect_no_temp(dir);
	buf_free(&want);
}
END_TEST

/* Odd content survives: no final newline, CRLF lines, bytes that are not UTF-8. */
START_TEST(test_odd_content)
{
	static const char odd[] = "Host x\r\n\tUser y\r\n# \xff\xfe\x01 not text\nPort 22";
	char dir[PATH_MAX], config[PATH_MAX];
	struct buf want = BUF_INIT;

	test_dir(dir, "odd");
	unit_join(config, sizeof(config), dir, "config");
	unit_write_path(config, odd, sizeof(odd) - 1, 0600);
	insert_ok(config, INC_A, true);
	buf_appendf(&want, "%s%s", BLOCK(INC_A), odd);
	expect_bytes(config, (char *)want.p, want.len);
	remove_ok(config, true);
	expect_bytes(config, odd, sizeof(odd) - 1);
	buf_free(&want);
}
END_TEST

/* A block the user moved down (or into a Host section) is replaced where it is. */
START_TEST(test_moved_block)
{
	static const char before[] = "Host a\n\tUser b\n", after[] = "Host c\n\tPort 2\n";
	char dir[PATH_MAX], config[PATH_MAX];
	struct buf text = BUF_INIT, want = BUF_INIT;

	test_dir(dir, "moved");
	unit_join(config, sizeof(config), dir, "config");
	buf_appendf(&text, "%s%s%s", before, BLOCK(INC_A), after);
	unit_write_path(config, text.p, text.len, 0600);
	insert_ok(config, INC_A, false);
	expect_bytes(config, (char *)text.p, text.len);
	insert_ok(config, INC_B, true);
	buf_appendf(&want, "%s%s%s", before, BLOCK(INC_B), after);
	expect_bytes(config, (char *)want.p, want.len);
	remove_ok(config, true);
	want.len = 0;
	buf_appendf(&want, "%s%s", before, after);
	expect_bytes(config, (char *)want.p, want.len);
	buf_free(&text);
	buf_free(&want);
}
END_TEST

/* Two blocks (a file merged by hand): one is kept, the first; remove takes both. */
START_TEST(test_duplicate_blocks)
{
	static const char mid[] = "Host m\n";
	char dir[PATH_MAX], config[PATH_MAX];
	struct buf text = BUF_INIT, want = BUF_INIT;

	test_dir(dir, "dup");
	unit_join(config, sizeof(config), dir, "config");
	buf_appendf(&text, "%s%s%s", BLOCK(INC_A), mid, BLOCK(INC_B));
	unit_write_path(config, text.p, text.len, 0600);
	insert_ok(config, INC_A, true);
	buf_appendf(&want, "%s%s", BLOCK(INC_A), mid);
	expect_bytes(config, (char *)want.p, want.len);

	unit_write_path(config, text.p, text.len, 0600);
	remove_ok(config, true);
	expect_bytes(config, mid, strlen(mid));
	buf_free(&text);
	buf_free(&want);
}
END_TEST

/* A block edited with CRLF endings or trailing blanks is still ours. */
START_TEST(test_crlf_block)
{
	static const char text[] =
	    SSHCONFIG_BEGIN "\r\nInclude /x\r\n" SSHCONFIG_END " \r\nHost z\n";
	char dir[PATH_MAX], config[PATH_MAX];

	test_dir(dir, "crlf");
	unit_join(config, sizeof(config), dir, "config");
	unit_write_path(config, text, strlen(text), 0600);
	remove_ok(config, true);
	expect_bytes(config, "Host z\n", 7);
}
END_TEST

/* A file that held only our block is left empty, not deleted. */
START_TEST(test_remove_to_empty)
{
	char dir[PATH_MAX], config[PATH_MAX];
	struct stat st;

	test_dir(dir, "empty");
	unit_join(config, sizeof(config), dir, "config");
	remove_ok(config, false); /* missing: nothing to do, nothing made */
	ck_assert_int_eq(lstat(config, &st), -1);
	insert_ok(config, INC_A, true);
	remove_ok(config, true);
	ck_assert_int_eq(lstat(config, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 0);
	expect_mode(config, 0600);
	remove_ok(config, false);
	expect_no_temp(dir);
}
END_TEST

/* ---------------------------------------------------------- refusals */

static void expect_refused(const char *config, const char *frag)
{
	char err[512] = "";
	bool changed = true;

	ck_assert_int_eq(sshconfig_insert(config, INC_A, &changed, err, sizeof(err)), APT_SERVICE);
	ck_assert_msg(strstr(err, frag) != NULL, "insert: \"%s\" lacks \"%s\"", err, frag);
	ck_assert(!changed);
	err[0] = '\0';
	changed = true;
	ck_assert_int_eq(sshconfig_remove(config, &changed, err, sizeof(err)), APT_SERVICE);
	ck_assert_msg(strstr(err, frag) != NULL, "remove: \"%s\" lacks \"%s\"", err, frag);
	ck_assert(!changed);
}

/* A symlinked config (dotfile managers) is neither followed nor replaced. */
START_TEST(test_symlink)
{
	char dir[PATH_MAX], config[PATH_MAX], target[PATH_MAX];
	struct buf text = BUF_INIT;
	struct stat st;

	test_dir(dir, "symlink");
	unit_join(config, sizeof(config), dir, "config");
	unit_join(target, sizeof(target), dir, "real-config");
	buf_appendf(&text, "%s%s", BLOCK(INC_B), ORIGINAL);
	unit_write_path(target, text.p, text.len, 0600);
	ck_assert_int_eq(symlink(target, config), 0);
	expect_refused(config, "is a symbolic link");
	ck_assert_int_eq(lstat(config, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	expect_bytes(target, (char *)text.p, text.len);

	/* Dangling: still a link, still refused (not created through). */
	ck_assert_int_eq(unlink(target), 0);
	expect_refused(config, "is a symbolic link");
	ck_assert_int_eq(lstat(target, &st), -1);
	expect_no_temp(dir);
	buf_free(&text);
}
END_TEST

START_TEST(test_not_owned)
{
	char dir[PATH_MAX], config[PATH_MAX];
	struct passwd *nobody = getpwnam("nobody");

	if (getuid() != 0 || nobody == NULL)
		return; /* only root can give a file away */
	test_dir(dir, "owner");
	unit_join(config, sizeof(config), dir, "config");
	unit_write_path(config, ORIGINAL, strlen(ORIGINAL), 0644);
	ck_assert_int_eq(chown(config, nobody->pw_uid, (gid_t)-1), 0);
	expect_refused(config, "not by you");
	expect_bytes(config, ORIGINAL, strlen(ORIGINAL));
}
END_TEST

/* Another hard link to the file: replacing it would leave that name with the old text. */
START_TEST(test_hard_link)
{
	char dir[PATH_MAX], config[PATH_MAX], other[PATH_MAX];

	test_dir(dir, "hardlink");
	unit_join(config, sizeof(config), dir, "config");
	unit_join(other, sizeof(other), dir, "dotfiles-config");
	unit_write_path(config, ORIGINAL, strlen(ORIGINAL), 0600);
	ck_assert_int_eq(link(config, other), 0);
	expect_refused(config, "hard links");
	expect_bytes(config, ORIGINAL, strlen(ORIGINAL));
}
END_TEST

START_TEST(test_not_regular)
{
	char dir[PATH_MAX], config[PATH_MAX];

	test_dir(dir, "notreg");
	unit_join(config, sizeof(config), dir, "config");
	ck_assert_int_eq(mkdir(config, 0700), 0);
	expect_refused(config, "not a regular file");
}
END_TEST

/* A BEGIN without its END: which lines are ours is unclear, so hands off. */
START_TEST(test_unclosed)
{
	static const char text[] = SSHCONFIG_BEGIN "\nInclude /x\nHost a\n";
	static const char twice[] = SSHCONFIG_BEGIN "\n" SSHCONFIG_BEGIN "\n" SSHCONFIG_END "\n";
	char dir[PATH_MAX], config[PATH_MAX];

	test_dir(dir, "unclosed");
	unit_join(config, sizeof(config), dir, "config");
	unit_write_path(config, text, strlen(text), 0600);
	expect_refused(config, "without its");
	expect_bytes(config, text, strlen(text));
	unit_write_path(config, twice, strlen(twice), 0600);
	expect_refused(config, "without its");
}
END_TEST

/* Include paths ssh would not take literally. */
START_TEST(test_bad_include)
{
	static const char *bad[] = {"relative/ssh_config", "/a/%h/config", "/a/${HOME}/c",
				    "/a/\"q\"/c",	   "/a/b\\c",	   "/a/*/c",
				    "/a/b\nHost *",	   "/a/?",	   ""};
	char dir[PATH_MAX], config[PATH_MAX];
	struct stat st;

	test_dir(dir, "badinc");
	unit_join(config, sizeof(config), dir, "config");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512] = "";

		ck_assert_int_eq(sshconfig_insert(config, bad[i], NULL, err, sizeof(err)),
				 APT_SERVICE);
		ck_assert_msg(err[0] != '\0', "%s", bad[i]);
		ck_assert_msg(strchr(err, '\n') == NULL, "newline in error: %s", err);
	}
	ck_assert_int_eq(lstat(config, &st), -1);
}
END_TEST

/* ------------------------------------------------------- include file */

START_TEST(test_render)
{
	static const char *bad[] = {
	    "a\nb", "a\"b", "a'b", "a#b", "a=b", "a\\b", "a\x01", "\xc3\xa9t\xc3\xa9", "x\rHost"};
	struct buf out = BUF_INIT;
	char err[512] = "";

	/* No hosts: no "Host *" block that would take every other remote's keys away. */
	for (size_t i = 0; i < 3; i++) {
		static const char *const blank[] = {NULL, "", " \t"};

		err[0] = '\0';
		ck_assert_int_eq(sshconfig_render(&out, blank[i], "/s/id_ed25519",
						  "/s/id_ed25519-cert.pub", NULL, err, sizeof(err)),
				 APT_SERVICE);
		ck_assert_msg(strstr(err, "no hosts") != NULL, "%s", err);
		ck_assert_uint_eq(out.len, 0);
		ck_assert_int_eq(sshconfig_hosts_check(blank[i], err, sizeof(err)), APT_SERVICE);
	}
	ck_assert_int_eq(sshconfig_render(&out, "git.example.com", "/s/id_ed25519",
					  "/s/id_ed25519-cert.pub", NULL, err, sizeof(err)),
			 APT_OK);
	ck_assert_str_eq((char *)out.p, "Host git.example.com\n\tIdentityFile /s/id_ed25519\n"
					"\tCertificateFile /s/id_ed25519-cert.pub\n"
					"\tIdentitiesOnly yes\n");
	/* The managed known_hosts, before the user's own; and without an identity. */
	out.len = 0;
	ck_assert_int_eq(
	    sshconfig_render(&out, "h", "/s/k", "/s/c", "/s/known hosts", err, sizeof(err)),
	    APT_OK);
	ck_assert_str_eq(
	    (char *)out.p,
	    "Host h\n\tIdentityFile /s/k\n\tCertificateFile /s/c\n\tIdentitiesOnly yes\n"
	    "\tUserKnownHostsFile \"/s/known hosts\" ~/.ssh/known_hosts\n");
	out.len = 0;
	ck_assert_int_eq(sshconfig_render(&out, "h *.h", NULL, NULL, "/s/kh", err, sizeof(err)),
			 APT_OK);
	ck_assert_str_eq((char *)out.p,
			 "Host h *.h\n\tUserKnownHostsFile /s/kh ~/.ssh/known_hosts\n");
	out.len = 0;
	ck_assert_int_eq(sshconfig_render(&out, "h", NULL, NULL, "/s/%d/kh", err, sizeof(err)),
			 APT_SERVICE);
	out.len = 0;
	ck_assert_int_eq(sshconfig_render(&out, "  *.example.com \t10.0.0.* !bad.example.com ",
					  "/home/a b/k", "/s/c#1", NULL, err, sizeof(err)),
			 APT_OK);
	ck_assert_str_eq((char *)out.p, "Host *.example.com 10.0.0.* !bad.example.com\n"
					"\tIdentityFile \"/home/a b/k\"\n"
					"\tCertificateFile \"/s/c#1\"\n"
					"\tIdentitiesOnly yes\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out.len = 0;
		err[0] = '\0';
		ck_assert_msg(sshconfig_render(&out, bad[i], "/s/k", "/s/c", NULL, err,
					       sizeof(err)) == APT_SERVICE,
			      "accepted pattern %zu", i);
		ck_assert_msg(strstr(err, "hosts pattern") != NULL, "%s", err);
		for (const char *p = err; *p != '\0'; p++)
			ck_assert_msg((unsigned char)*p >= 0x20, "control byte in error: %s", err);
	}
	out.len = 0;
	ck_assert_int_eq(sshconfig_render(&out, "*", "k", "/s/c", NULL, err, sizeof(err)),
			 APT_SERVICE);
	ck_assert_msg(strstr(err, "not absolute") != NULL, "%s", err);
	out.len = 0;
	ck_assert_int_eq(
	    sshconfig_render(&out, "*", "/s/k", "/s/%u-cert.pub", NULL, err, sizeof(err)),
	    APT_SERVICE);
	buf_free(&out);
}
END_TEST

START_TEST(test_write_include)
{
	static const char want[] = "Host h\n\tIdentityFile /k\n\tCertificateFile /c\n"
				   "\tIdentitiesOnly yes\n";
	char dir[PATH_MAX], inc[PATH_MAX], err[512] = "";

	test_dir(dir, "inc");
	unit_join(inc, sizeof(inc), dir, "ssh_config");
	ck_assert_msg(sshconfig_write_include(inc, "h", "/k", "/c", NULL, err, sizeof(err)) ==
			  APT_OK,
		      "%s", err);
	expect_bytes(inc, want, strlen(want));
	expect_mode(inc, 0600);
	/* Over an older file of another mode: replaced, 0600. */
	unit_write_path(inc, "old", 3, 0644);
	ck_assert_msg(sshconfig_write_include(inc, "h", "/k", "/c", NULL, err, sizeof(err)) ==
			  APT_OK,
		      "%s", err);
	expect_bytes(inc, want, strlen(want));
	expect_mode(inc, 0600);
	/* A bad pattern writes nothing. */
	ck_assert_int_eq(sshconfig_write_include(inc, "a\nIdentityFile /evil", "/k", "/c", NULL,
						 err, sizeof(err)),
			 APT_SERVICE);
	expect_bytes(inc, want, strlen(want));
	expect_no_temp(dir);
	/* Its directory must exist. */
	unit_join(inc, sizeof(inc), dir, "nodir/ssh_config");
	ck_assert_int_eq(sshconfig_write_include(inc, "h", "/k", "/c", NULL, err, sizeof(err)),
			 APT_SERVICE);
}
END_TEST

/* ------------------------------------------------------- known_hosts */

#define ED_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIBxKEyJtoi+mJ8mJ71CYg+I2ec4gN1mtBQwmwK8yHvS/"
#define EC_B64                                                                                     \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDKMWs4wnF/"                          \
	"IH1Q2faziZgjPSthUDf4WByzgeUM"                                                             \
	"sKKbDdez+HJQ9IJV1MCK1KJ/VXbZqg3Uu95qbOInj9rLUCeY="
/* A host certificate, framed as one: no CA key. */
#define CERT_LINE                                                                                  \
	"ssh-ed25519-cert-v01@openssh.com "                                                        \
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIPG+MJC+"                             \
	"I8BPqo8RRrh0WKk7LMHky6bkAcynD"                                                            \
	"9zt4VGJAAAAICdY6M0/Hnw74SEGH7QAFJOoRHe0xTuH/"                                             \
	"a8GHOgeBvsyAAAAAAAAAAAAAAACAAAAAXgAAAAFAAAAAWgA"                                          \
	"AAAAAAAAAP//////////"                                                                     \
	"AAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACAnWOjNPx58O+EhBh+0ABSTqER3"                 \
	"tMU7h/"                                                                                   \
	"2vBhzoHgb7MgAAAFMAAAALc3NoLWVkMjU1MTkAAABAJDEpuCMMz6ygRIfhyLWywONBid6ll68WmRAvXk5i+oCq"   \
	"VW+FeE3vrHqeDDXzQ+6LY/K/fcm8X84M4fGTJSjXBQ== c1"
#define KH_HEAD                                                                                    \
	"# The host CAs the issuer publishes, written by `apitoken ssh-cert load`;\n"              \
	"# `apitoken ssh-cert clear` removes this file.\n"

START_TEST(test_known_hosts_render)
{
	char *keys[] = {"ssh-ed25519 " ED_B64 " host-ca comment",
			" ecdsa-sha2-nistp256 " EC_B64 "\n"};
	char *bad[][2] = {
	    {keys[0], CERT_LINE},
	    {keys[0], "ssh-ed25519 AAAA!!!!"},
	    {keys[0], "ssh-ed25519 " ED_B64 "\n@cert-authority * ssh-ed25519 " ED_B64},
	    {keys[0], "ssh-rsa " ED_B64},
	    {keys[0], NULL},
	    {keys[0], "x"}};
	struct buf out = BUF_INIT;
	char err[512] = "";

	/* Each pattern also as "[pattern]:*" (another port), negations kept; no comment. */
	ck_assert_int_eq(knownhosts_render(&out, " git.example.com,*.corp !bad.corp [h]:2222", keys,
					   2, err, sizeof(err)),
			 APT_OK);
	ck_assert_str_eq((char *)out.p, KH_HEAD
			 "@cert-authority "
			 "git.example.com,[git.example.com]:*,*.corp,[*.corp]:*,!bad.corp,!["
			 "bad.corp]:*,[h]:2222 ssh-ed25519 " ED_B64 "\n"
			 "@cert-authority "
			 "git.example.com,[git.example.com]:*,*.corp,[*.corp]:*,!bad.corp,!["
			 "bad.corp]:*,[h]:2222 ecdsa-sha2-nistp256 " EC_B64 "\n");
	/* One bad line refuses them all: nothing appended, the line named. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out.len = 0;
		err[0] = '\0';
		ck_assert_msg(knownhosts_render(&out, "h", bad[i], 2, err, sizeof(err)) ==
				  APT_SERVICE,
			      "accepted bad line %zu", i);
		ck_assert_uint_eq(out.len, 0);
		ck_assert_msg(strstr(err, "host authority 2 ") != NULL, "%zu: %s", i, err);
		for (const char *p = err; *p != '\0'; p++)
			ck_assert_msg((unsigned char)*p >= 0x20, "control byte in error: %s", err);
	}
	/* No hosts, or a pattern that could reshape the line: refused too. */
	ck_assert_int_eq(knownhosts_render(&out, " ", keys, 1, err, sizeof(err)), APT_SERVICE);
	ck_assert_int_eq(knownhosts_render(&out, "a\n@revoked", keys, 1, err, sizeof(err)),
			 APT_SERVICE);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

/* ------------------------------------------------------- the real ssh */

/* `ssh -G -F config host`, its output in out. */
static void ssh_G(const char *config, const char *host, struct buf *out)
{
	const char *argv[] = {"ssh", "-G", "-F", config, host, NULL};
	int rc = unit_command(argv, NULL, true, out);

	ck_assert_msg(rc == 0, "ssh -G %s: %d: %s", host, rc,
		      out->p != NULL ? (const char *)out->p : "");
}

/* out has this line, exactly. */
static bool has_line(const struct buf *out, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = (const char *)out->p; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (n == len && memcmp(p, line, len) == 0)
			return true;
		p = nl != NULL ? nl + 1 : NULL;
	}
	return false;
}

/*
 * The chain as ssh reads it: our block at the top of the user's config,
 * the include naming key and certificate for the hosts patterns. The
 * user's own settings still apply to every host afterwards: the Host line
 * in the include does not leak into the rest of the file.
 */
static void check_ssh(const char *name, const char *statedir_name)
{
	static const char user[] = "Port 2222\nHost *\n\tUser bob\n";
	char dir[PATH_MAX], state[PATH_MAX], config[PATH_MAX], inc[PATH_MAX], key[PATH_MAX],
	    cert[PATH_MAX], line[PATH_MAX + 32], err[512] = "";
	static const char *inside[] = {"host.example.com", "a.b.example.com", "10.0.0.7"};
	static const char *outside[] = {"example.com", "other.org", "10.0.1.7"};

	test_dir(dir, name);
	unit_join(state, sizeof(state), dir, statedir_name);
	ck_assert_int_eq(mkdir(state, 0700), 0);
	unit_join(inc, sizeof(inc), state, "ssh_config");
	unit_join(key, sizeof(key), state, "id_ed25519");
	unit_join(cert, sizeof(cert), state, "id_ed25519-cert.pub");
	unit_join(config, sizeof(config), dir, ".ssh/config");
	ck_assert_int_eq(mkdir(strcat(strcpy(line, dir), "/.ssh"), 0700), 0);
	unit_write_path(config, user, strlen(user), 0600);

	ck_assert_msg(sshconfig_write_include(inc, "*.example.com 10.0.0.*", key, cert, NULL, err,
					      sizeof(err)) == APT_OK,
		      "%s", err);
	insert_ok(config, inc, true);

	for (size_t i = 0; i < 3; i++) {
		struct buf out = BUF_INIT;

		ssh_G(config, inside[i], &out);
		snprintf(line, sizeof(line), "identityfile %s", key);
		ck_assert_msg(has_line(&out, line), "%s: no \"%s\" in\n%s", inside[i], line,
			      (char *)out.p);
		snprintf(line, sizeof(line), "certificatefile %s", cert);
		ck_assert_msg(has_line(&out, line), "%s: no \"%s\" in\n%s", inside[i], line,
			      (char *)out.p);
		ck_assert_msg(has_line(&out, "identitiesonly yes"), "%s", (char *)out.p);
		ck_assert_msg(has_line(&out, "port 2222"), "%s", (char *)out.p);
		ck_assert_msg(has_line(&out, "user bob"), "%s", (char *)out.p);
		buf_free(&out);

		ssh_G(config, outside[i], &out);
		ck_assert_msg(strstr((char *)out.p, key) == NULL, "%s: our key in\n%s", outside[i],
			      (char *)out.p);
		ck_assert_msg(has_line(&out, "identitiesonly no"), "%s", (char *)out.p);
		ck_assert_msg(has_line(&out, "port 2222"), "%s", (char *)out.p);
		ck_assert_msg(has_line(&out, "user bob"), "%s", (char *)out.p);
		buf_free(&out);
	}

	/* Cleared: ssh no longer sees our files, for any host. */
	remove_ok(config, true);
	expect_bytes(config, user, strlen(user));
	{
		struct buf out = BUF_INIT;

		ssh_G(config, inside[0], &out);
		ck_assert_msg(strstr((char *)out.p, key) == NULL, "%s", (char *)out.p);
		buf_free(&out);
	}
}

START_TEST(test_ssh_resolves)
{
	check_ssh("ssh", "state");
}
END_TEST

/* Paths with a space (a home directory like "/home/Jane Doe") are quoted and still resolve. */
START_TEST(test_ssh_resolves_spaces)
{
	check_ssh("ssh spaces", "state dir #1");
}
END_TEST

/*
 * askpass decides with sshconfig_host_match() whether a prompt's host may get
 * the token: it must match exactly where ssh's own Host line would, so each
 * case without a comma (ssh's Host line splits on blanks only) is also put
 * to ssh -G.
 */
START_TEST(test_host_match)
{
	static const struct {
		const char *hosts, *host;
		bool match;
	} cases[] = {
	    {"*.corp.example", "git.corp.example", true},
	    {"*.corp.example", "a.b.corp.example", true},
	    {"*.corp.example", "git.Corp.Example", false},
	    {"git.corp.example", "GIT.corp.example", false},
	    {"*.corp.example", "evil.example.net", false},
	    {"*.corp.example", "corp.example", false},
	    {"*.corp.example", "git.corp.example.evil.net", false},
	    {"*.corp.example", "xcorp.example", false},
	    {"git?.corp.example", "git1.corp.example", true},
	    {"git?.corp.example", "git12.corp.example", false},
	    {"git?.corp.example", "git.corp.example", false},
	    {"*.corp.example !bad.corp.example", "bad.corp.example", false},
	    {"!bad.corp.example *.corp.example", "bad.corp.example", false},
	    {"*.corp.example !bad.corp.example", "good.corp.example", true},
	    {"!bad.corp.example", "good.corp.example", false},
	    {"10.0.0.* 127.0.0.1", "127.0.0.1", true},
	    {"10.0.0.* 127.0.0.1", "10.0.0.9", true},
	    {"10.0.0.* 127.0.0.1", "10.0.1.9", false},
	    {"*", "anything.example", true},
	    {"a*b*c", "aXXbYYc", true},
	    {"a*b*c", "aXXbYY", false},
	    {"**.corp.example", "x.corp.example", true},
	    {"\t git.corp.example \t", "git.corp.example", true},
	};
	static const struct {
		const char *hosts, *host;
		bool match;
	} commas[] = {
	    {"a.example,*.corp.example", "git.corp.example", true},
	    {"a.example, b.example", "b.example", true},
	    {"*.corp.example,!bad.corp.example", "bad.corp.example", false},
	    {",,", "x", false},
	    {"", "x", false},
	    {NULL, "x", false},
	    {"*", "", false},
	    {"*", NULL, false},
	};
	char dir[PATH_MAX], config[PATH_MAX], text[256];

	test_dir(dir, "host_match");
	unit_join(config, sizeof(config), dir, "config");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT;
		bool ssh_says;

		ck_assert_msg(sshconfig_host_match(cases[i].hosts, cases[i].host) == cases[i].match,
			      "\"%s\" vs %s: want %d", cases[i].hosts, cases[i].host,
			      cases[i].match);
		snprintf(text, sizeof(text), "Host %s\n\tUser matched\n", cases[i].hosts);
		unit_write_path(config, text, strlen(text), 0600);
		ssh_G(config, cases[i].host, &out);
		ssh_says = has_line(&out, "user matched");
		ck_assert_msg(ssh_says == cases[i].match, "ssh -G: \"%s\" vs %s: %d",
			      cases[i].hosts, cases[i].host, ssh_says);
		buf_free(&out);
	}
	for (size_t i = 0; i < sizeof(commas) / sizeof(commas[0]); i++)
		ck_assert_msg(sshconfig_host_match(commas[i].hosts, commas[i].host) ==
				  commas[i].match,
			      "\"%s\" vs %s", commas[i].hosts ? commas[i].hosts : "(null)",
			      commas[i].host ? commas[i].host : "(null)");
}
END_TEST

static Suite *sshconfig_suite(void)
{
	Suite *s = suite_create("sshconfig");
	TCase *tc;

	tc = tcase_create("path");
	tcase_add_test(tc, test_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("block");
	tcase_add_test(tc, test_insert_missing);
	tcase_add_test(tc, test_insert_missing_file);
	tcase_add_test(tc, test_insert_existing);
	tcase_add_test(tc, test_odd_content);
	tcase_add_test(tc, test_moved_block);
	tcase_add_test(tc, test_duplicate_blocks);
	tcase_add_test(tc, test_crlf_block);
	tcase_add_test(tc, test_remove_to_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_not_owned);
	tcase_add_test(tc, test_hard_link);
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_unclosed);
	tcase_add_test(tc, test_bad_include);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_write_include);
	tcase_add_test(tc, test_known_hosts_render);
	suite_add_tcase(s, tc);

	tc = tcase_create("ssh");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ssh_resolves);
	tcase_add_test(tc, test_ssh_resolves_spaces);
	tcase_add_test(tc, test_host_match);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	unit_tmpdir("check_sshconfig");
	return unit_run(sshconfig_suite());
}
