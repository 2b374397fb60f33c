/*
 * Unit tests for helper/xdg.c: the config and state paths with the
 * variables set, unset, empty and relative (the spec ignores a relative
 * one), the home directory from $HOME or the user database, and
 * $XDG_RUNTIME_DIR used only when it is ours, 0700 and a real directory.
 */
#include <check.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "xdg.h"

/* xdg_path(b, sub) is want, and its first base_len bytes are want_base. */
static void path_is(enum xdg_base b, const char *sub, const char *want, const char *want_base)
{
	size_t n = 12345;
	char *p = xdg_path(b, sub, &n);

	ck_assert_msg(p != NULL, "no path, want %s", want);
	ck_assert_str_eq(p, want);
	ck_assert_uint_eq(n, strlen(want_base));
	ck_assert(strncmp(p, want_base, n) == 0);
	free(p);
}

START_TEST(test_config_from_variable)
{
	setenv("HOME", "/home/u", 1);
	setenv("XDG_CONFIG_HOME", "/etc/xdg-u", 1);
	path_is(XDG_CONFIG, "apitoken/config", "/etc/xdg-u/apitoken/config", "/etc/xdg-u");
}
END_TEST

START_TEST(test_config_from_home)
{
	static const char *const ignored[] = {NULL, "", "relative/dir", "./x", "~/x"};

	setenv("HOME", "/home/u", 1);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		if (ignored[i] == NULL)
			unsetenv("XDG_CONFIG_HOME");
		else
			setenv("XDG_CONFIG_HOME", ignored[i], 1);
		path_is(XDG_CONFIG, "apitoken/config", "/home/u/.config/apitoken/config",
			"/home/u");
	}
}
END_TEST

START_TEST(test_state)
{
	setenv("HOME", "/home/u", 1);
	setenv("XDG_STATE_HOME", "/var/lib/u", 1);
	path_is(XDG_STATE, "apitoken/ssh", "/var/lib/u/apitoken/ssh", "/var/lib/u");
	setenv("XDG_STATE_HOME", "state", 1);
	path_is(XDG_STATE, "apitoken/ssh", "/home/u/.local/state/apitoken/ssh", "/home/u");
	unsetenv("XDG_STATE_HOME");
	path_is(XDG_STATE, "apitoken/ssh", "/home/u/.local/state/apitoken/ssh", "/home/u");
	/* Each base reads its own variable only. */
	setenv("XDG_CONFIG_HOME", "/etc/xdg-u", 1);
	path_is(XDG_STATE, "apitoken/ssh", "/home/u/.local/state/apitoken/ssh", "/home/u");
}
END_TEST

/* A missing or relative $HOME: the user database's home directory. */
START_TEST(test_home_from_passwd)
{
	struct passwd *pw = getpwuid(getuid());
	char want[PATH_MAX];

	ck_assert(pw != NULL && pw->pw_dir != NULL);
	snprintf(want, sizeof(want), "%s/.config/apitoken/config", pw->pw_dir);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	path_is(XDG_CONFIG, "apitoken/config", want, pw->pw_dir);
	setenv("HOME", "home/u", 1);
	path_is(XDG_CONFIG, "apitoken/config", want, pw->pw_dir);
	setenv("HOME", "", 1);
	path_is(XDG_CONFIG, "apitoken/config", want, pw->pw_dir);
}
END_TEST

START_TEST(test_base_len_optional)
{
	char *p;

	setenv("XDG_CONFIG_HOME", "/c", 1);
	p = xdg_path(XDG_CONFIG, "apitoken/config", NULL);
	ck_assert_str_eq(p, "/c/apitoken/config");
	free(p);
}
END_TEST

/* ---- xdg_runtime_dir ---------------------------------------------------- */

static void runtime_refused(const char *value, const char *why)
{
	setenv("XDG_RUNTIME_DIR", value, 1);
	ck_assert_msg(xdg_runtime_dir() == NULL, "%s (%s) used", value, why);
}

START_TEST(test_runtime_dir)
{
	char dir[PATH_MAX], link[PATH_MAX], file[PATH_MAX];
	const char *got;

	unit_path(dir, sizeof(dir), "run");
	unit_path(link, sizeof(link), "run-link");
	unit_path(file, sizeof(file), "run-file");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chmod(dir, 0700), 0);
	ck_assert_int_eq(symlink(dir, link), 0);
	unit_write_path(file, "", 0, 0700);

	setenv("XDG_RUNTIME_DIR", dir, 1);
	got = xdg_runtime_dir();
	ck_assert_msg(got != NULL && strcmp(got, dir) == 0, "%s refused", dir);

	unsetenv("XDG_RUNTIME_DIR");
	ck_assert(xdg_runtime_dir() == NULL);
	runtime_refused("", "empty");
	runtime_refused("run", "relative");
	runtime_refused(link, "a link");
	runtime_refused(file, "not a directory");
	runtime_refused("/nonexistent/apitoken-xdg", "missing");
	ck_assert_int_eq(chmod(dir, 0750), 0);
	runtime_refused(dir, "group may read");
	ck_assert_int_eq(chmod(dir, 0701), 0);
	runtime_refused(dir, "others may enter");
	ck_assert_int_eq(chmod(dir, 0700), 0);
	if (getuid() == 0) {
		ck_assert_int_eq(chown(dir, 65534, 65534), 0);
		runtime_refused(dir, "another user's");
		ck_assert_int_eq(chown(dir, 0, 0), 0);
	}
	unlink(link);
	unlink(file);
	rmdir(dir);
}
END_TEST

static Suite *xdg_suite(void)
{
	Suite *s = suite_create("xdg");
	TCase *tc = tcase_create("xdg_path");

	tcase_add_test(tc, test_config_from_variable);
	tcase_add_test(tc, test_config_from_home);
	tcase_add_test(tc, test_state);
	tcase_add_test(tc, test_home_from_passwd);
	tcase_add_test(tc, test_base_len_optional);
	suite_add_tcase(s, tc);

	tc = tcase_create("xdg_runtime_dir");
	tcase_add_test(tc, test_runtime_dir);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	unit_tmpdir("check_xdg");
	return unit_run(xdg_suite());
}
