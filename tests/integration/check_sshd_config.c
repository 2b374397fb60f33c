/*
 * What the shipped sshd_config snippet, and the copies of it in README.md
 * and pam_apitoken(8), do to sshd's effective configuration, as the real
 * /usr/sbin/sshd computes it: `sshd -T -f CFG -C user=U,host=H,addr=A`.
 *
 * Each snippet is Included at the top of a base config, as Debian's
 * sshd_config includes sshd_config.d (*.conf) (and where, for sshd, the first
 * value obtained for a keyword wins). A member of the group apitoken must get
 * keyboard-interactive and no other method; everybody else must keep every
 * setting the base config gives them (UsePAM aside, which the snippet sets
 * for all on purpose). Two bases: Debian's stock file (which turns
 * KbdInteractiveAuthentication off) and an empty one (OpenSSH's defaults).
 *
 * The README's copy is the fenced block after the line
 * "<!-- sshd_config snippet: ... -->"; the man page's is the .EX block after
 * the roff comment ".\" sshd_config snippet: ...". Both are extracted here,
 * so a doc copy that turns a method on for everyone fails this test.
 *
 * -C resolves the user's groups from the user database: the users are those
 * of tests/support/sshd.c (a member of apitoken and an outsider). Needs root.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sshd.h"
#include "testenv.h"
#include "unit.h"

#define SSHD_BIN "/usr/sbin/sshd"
#define MARKER	 "sshd_config snippet:"

/* The keywords a Match block of ours may change; compared for outsiders. */
static const char *const methods[] = {
    "kbdinteractiveauthentication", "authenticationmethods",	       "passwordauthentication",
    "pubkeyauthentication",	    "challengeresponseauthentication",
};

static char cwd[PATH_MAX];

static void up(void)
{
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		ck_abort_msg("getcwd");
	testenv_setup();
	sshd_users_create();
}

static void down(void)
{
	sshd_users_remove();
	testenv_teardown();
}

/* Writes T.root/name; returns its path (malloc). */
static char *put(const char *name, const char *text)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s", write_file(name, 0644, text)), 0);
	return path;
}

/*
 * The base config: Debian's stock sshd_config (the lines that are not
 * comments) or nothing, with the snippet Included at the top when given,
 * and what -T needs to run at all (a host key).
 */
static char *base_config(const char *name, bool debian, const char *snippet)
{
	static const char stock[] = "KbdInteractiveAuthentication no\n"
				    "UsePAM yes\n"
				    "X11Forwarding yes\n"
				    "PrintMotd no\n"
				    "AcceptEnv LANG LC_*\n"
				    "Subsystem sftp /usr/lib/openssh/sftp-server\n";
	char text[4096], key[600], cmd[800];

	snprintf(key, sizeof(key), "%s/sshd-config-hostkey", T.root);
	if (access(key, F_OK) != 0) {
		snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t ed25519 -N '' -C '' -f '%s'", key);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(text, sizeof(text), "%s%s%sHostKey %s\nPidFile none\n%s",
		 snippet ? "Include " : "", snippet ? snippet : "", snippet ? "\n" : "", key,
		 debian ? stock : "");
	return put(name, text);
}

/* `sshd -T` for USER connecting from 127.0.0.1: the effective config (malloc). */
static char *effective(const char *config, const char *user)
{
	char cmd[2000], *out;
	int st;

	snprintf(cmd, sizeof(cmd),
		 SSHD_BIN " -T -f '%s' -C user=%s,host=ci.example.com,addr=127.0.0.1 2>&1", config,
		 user);
	out = shell_output(cmd, &st);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s:\n%s", cmd, out);
	return out;
}

/* The value of one keyword in sshd -T output ("" when it is not listed); static. */
static const char *value(const char *out, const char *keyword)
{
	static char v[512];
	size_t k = strlen(keyword);
	const char *l = out;

	v[0] = '\0';
	while (l != NULL && *l != '\0') {
		if (strncmp(l, keyword, k) == 0 && l[k] == ' ') {
			snprintf(v, sizeof(v), "%.*s", (int)strcspn(l + k + 1, "\n"), l + k + 1);
			break;
		}
		l = strchr(l, '\n');
		if (l != NULL)
			l++;
	}
	return v;
}

/* sshd -T output without the usepam line: the one global setting the snippet makes. */
static char *without_usepam(char *out)
{
	char *l = strstr(out, "usepam ");

	if (l != NULL && (l == out || l[-1] == '\n')) {
		char *nl = strchr(l, '\n');
		memmove(l, nl ? nl + 1 : l + strlen(l), strlen(nl ? nl + 1 : l + strlen(l)) + 1);
	}
	return out;
}

/*
 * The assertions for one snippet (a file path), named what in messages:
 * outsiders keep the base's settings, members get keyboard-interactive only.
 */
static void check_snippet(const char *what, const char *snippet)
{
	for (int debian = 0; debian <= 1; debian++) {
		char *plain = base_config("sshd_config.plain", debian, NULL);
		char *with = base_config("sshd_config.with", debian, snippet);
		char *before = effective(plain, SU.outsider), *after = effective(with, SU.outsider);
		char *member = effective(with, SU.member);
		const char *base = debian ? "Debian's sshd_config" : "an empty sshd_config";

		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
			char want[512];

			snprintf(want, sizeof(want), "%s", value(before, methods[i]));
			ck_assert_msg(strcmp(value(after, methods[i]), want) == 0,
				      "%s on %s: a user outside the group gets %s %s instead of %s",
				      what, base, methods[i], value(after, methods[i]), want);
		}
		ck_assert_msg(strcmp(without_usepam(before), without_usepam(after)) == 0,
			      "%s on %s: the snippet changes more than UsePAM for outsiders", what,
			      base);
		ck_assert_msg(strcmp(value(member, "kbdinteractiveauthentication"), "yes") == 0,
			      "%s on %s: member gets kbdinteractiveauthentication %s", what, base,
			      value(member, "kbdinteractiveauthentication"));
		ck_assert_msg(
		    strcmp(value(member, "authenticationmethods"), "keyboard-interactive") == 0,
		    "%s on %s: member gets authenticationmethods %s", what, base,
		    value(member, "authenticationmethods"));
		ck_assert_msg(strcmp(value(member, "usepam"), "yes") == 0, "%s on %s: usepam %s",
			      what, base, value(member, "usepam"));
		free(plain);
		free(with);
		free(before);
		free(after);
		free(member);
	}
}

/*
 * The block after the marker line of a document: the lines between the next
 * line starting with OPEN and the next starting with CLOSE (both trimmed of
 * leading blanks), with roff's \- and \e undone when roff is set.
 */
static char *extract(const char *doc, const char *open, const char *close, bool roff)
{
	char *text = file_text(doc, 0), *out = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int state = 0; /* 0: before the marker, 1: before OPEN, 2: inside, 3: done */

	ck_assert_msg(text != NULL, "%s: cannot open", doc);

	ck_assert_ptr_nonnull(m);
	for (line = strtok_r(text, "\n", &save); line != NULL && state < 3;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *l = line + strspn(line, " \t");

		if (state == 0 && strstr(l, MARKER) != NULL)
			state = 1;
		else if (state == 1 && strncmp(l, open, strlen(open)) == 0)
			state = 2;
		else if (state == 2 && strncmp(l, close, strlen(close)) == 0)
			state = 3;
		else if (state == 2 && roff) {
			for (const char *p = l; *p; p++) {
				if (p[0] == '\\' && (p[1] == '-' || p[1] == 'e')) {
					fputc(p[1] == '-' ? '-' : '\\', m);
					p++;
				} else {
					fputc(*p, m);
				}
			}
			fputc('\n', m);
		} else if (state == 2) {
			fprintf(m, "%s\n", l);
		}
	}
	fclose(m);
	ck_assert_msg(state == 3, "%s: no \"%s\" marker followed by a %s ... %s block", doc, MARKER,
		      open, close);
	free(text);
	return out;
}

START_TEST(shipped_snippet_only_for_the_group)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/conf/sshd_config.d/apitoken.conf", cwd);
	check_snippet("conf/sshd_config.d/apitoken.conf", path);
}
END_TEST

START_TEST(readme_snippet_only_for_the_group)
{
	char *text = extract("README.md", "```", "```", false);
	char *path = put("readme-sshd.conf", text);

	check_snippet("README.md's sshd snippet", path);
	free(path);
	free(text);
}
END_TEST

START_TEST(man_snippet_only_for_the_group)
{
	char *text = extract("man/pam_apitoken.8", ".EX", ".EE", true);
	char *path = put("man-sshd.conf", text);

	check_snippet("pam_apitoken(8)'s sshd snippet", path);
	free(path);
	free(text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sshd_config");
	TCase *tc = tcase_create("sshd -T");

	tcase_add_unchecked_fixture(tc, up, down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, shipped_snippet_only_for_the_group);
	tcase_add_test(tc, readme_snippet_only_for_the_group);
	tcase_add_test(tc, man_snippet_only_for_the_group);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
