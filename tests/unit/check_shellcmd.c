/*
 * helper/shellcmd.c: SSH_ORIGINAL_COMMAND as real clients send it (git,
 * rsync 3.2, OpenSSH scp and the sftp subsystem), split into words and
 * sorted into DESIGN.md §8a's classes; the bad input of issue 14; and the
 * decision for each class under each grant.
 */
#include <time.h>

#include "audit.h"
#include "shellcmd.h"
#include "unit.h"

static struct shellcmd c;

static void classify(const char *cmd)
{
	memset(&c, 0x55, sizeof(c)); /* nothing left from the last one counts */
	shellcmd_classify(&c, cmd, cmd != NULL ? strlen(cmd) : 0, "/home/ci");
}

/* cmd is class CLS with reason WHY; for the exec'd classes, argv is the words in WANT. */
static void ck_class(const char *cmd, enum shellcmd_class cls, const char *why, const char *want)
{
	char got[2048] = "";
	size_t pos = 0;

	classify(cmd);
	ck_assert_msg(c.cls == cls, "%s: class %s, want %s (%s)", cmd, shellcmd_class_name(c.cls),
		      shellcmd_class_name(cls), c.reason);
	ck_assert_msg(strcmp(c.reason, why) == 0, "%s: reason %s, want %s", cmd, c.reason, why);
	if (want == NULL)
		return;
	ck_assert_ptr_null(c.argv[c.argc]);
	for (size_t i = 0; i < c.argc; i++)
		pos += (size_t)snprintf(got + pos, sizeof(got) - pos, "%s[%s]", i ? " " : "",
					c.argv[i]);
	ck_assert_msg(strcmp(got, want) == 0, "%s: argv %s, want %s", cmd, got, want);
}

START_TEST(test_git)
{
	ck_class("git-upload-pack '/srv/app.git'", SHELLCMD_READ, "git",
		 "[git-upload-pack] [/srv/app.git]");
	ck_class("git-upload-archive '/srv/app.git'", SHELLCMD_READ, "git",
		 "[git-upload-archive] [/srv/app.git]");
	ck_class("git-receive-pack '/srv/app.git'", SHELLCMD_WRITE, "git",
		 "[git-receive-pack] [/srv/app.git]");
	/* The form with a space, and git's quoting of a quote and of "!". */
	ck_class("git upload-pack '/srv/it'\\''s.git'", SHELLCMD_READ, "git",
		 "[git-upload-pack] [/srv/it's.git]");
	ck_class("git-receive-pack '/srv/a'\\!'b.git'", SHELLCMD_WRITE, "git",
		 "[git-receive-pack] [/srv/a!b.git]");
	ck_class("git-upload-pack '~/app.git'", SHELLCMD_READ, "git",
		 "[git-upload-pack] [~/app.git]");
	ck_class("git-upload-pack ~/app.git", SHELLCMD_READ, "git",
		 "[git-upload-pack] [/home/ci/app.git]");
	ck_class("git-upload-pack \"/srv/app.git\"", SHELLCMD_READ, "git",
		 "[git-upload-pack] [/srv/app.git]");
	/* Extra arguments, options, no path: not a git client's. */
	ck_class("git-upload-pack --strict '/srv/app.git'", SHELLCMD_REFUSE, "git_args", NULL);
	ck_class("git-upload-pack '/srv/app.git' extra", SHELLCMD_REFUSE, "git_args", NULL);
	ck_class("git-upload-pack", SHELLCMD_REFUSE, "git_args", NULL);
	ck_class("git-upload-pack ''", SHELLCMD_REFUSE, "git_args", NULL);
	ck_class("git-receive-pack '--upload-pack=touch /tmp/x'", SHELLCMD_REFUSE, "git_args",
		 NULL);
	ck_class("git-upload-pack '/srv/../etc/app.git'", SHELLCMD_REFUSE, "dotdot", NULL);
	ck_class("git-upload-pack '/srv/app.git/..'", SHELLCMD_REFUSE, "dotdot", NULL);
	ck_class("git-upload-pack '/srv/a\nb.git'", SHELLCMD_REFUSE, "newline", NULL);
	ck_class("git-upload-pack '/srv/a\tb.git'", SHELLCMD_REFUSE, "control", NULL);
	/* Not ours: other git commands are shell commands. */
	ck_class("git-shell -c ls", SHELLCMD_SHELL, "command", NULL);
	ck_class("git log", SHELLCMD_SHELL, "command", NULL);
	ck_class("/usr/bin/git-upload-pack /srv/app.git", SHELLCMD_SHELL, "command", NULL);
	/* ".." inside a name is a name. */
	ck_class("git-upload-pack '/srv/a..b.git'", SHELLCMD_READ, "git", NULL);
}
END_TEST

START_TEST(test_rsync)
{
	ck_class("rsync --server --sender -vlogDtpre.iLsfxCIvu . /srv/tree/", SHELLCMD_READ,
		 "rsync_sender",
		 "[rsync] [--server] [--sender] [-vlogDtpre.iLsfxCIvu] [.] [/srv/tree/]");
	ck_class("rsync --server -vlogDtpre.iLsfxCIvu . /srv/tree/", SHELLCMD_WRITE,
		 "rsync_receiver", NULL);
	ck_class("rsync --server -vlogDtpre.iLsfxCIvu --delete . /srv/tree/", SHELLCMD_WRITE,
		 "rsync_receiver", NULL);
	/* rsync 3.2.4+ escapes with backslashes. */
	ck_class("rsync --server --sender -vlogDtpre.iLsfxCIvu . /srv/with\\ space", SHELLCMD_READ,
		 "rsync_sender",
		 "[rsync] [--server] [--sender] [-vlogDtpre.iLsfxCIvu] [.] [/srv/with space]");
	ck_class("rsync --server --sender -vlogDtpre.iLsfxCIvu --timeout=30 --bwlimit=100 . a b",
		 SHELLCMD_READ, "rsync_sender", NULL);
	ck_class("rsync --server --sender -vlogDtpre.iLsfxCIvu . ~/tree/", SHELLCMD_READ,
		 "rsync_sender",
		 "[rsync] [--server] [--sender] [-vlogDtpre.iLsfxCIvu] [.] [/home/ci/tree/]");
	/* A sender that would write here is the write class. */
	ck_class("rsync --server --sender -vlogDtpre.iLsfxCIvu --remove-source-files . /srv/tree/",
		 SHELLCMD_WRITE, "rsync_sender_option", NULL);
	ck_class("rsync --server --sender -vlogDtpre.iLsfxCIvu --remove-sent-files . /srv/tree/",
		 SHELLCMD_WRITE, "rsync_sender_option", NULL);
	ck_class("rsync --server --sender -vlogDtpre.iLsfxCIvu --delete . /srv/tree/",
		 SHELLCMD_WRITE, "rsync_sender_option", NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu --log-file=/srv/x . /srv/tree/",
		 SHELLCMD_WRITE, "rsync_sender_option", NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu --write-batch=/srv/x . /srv/tree/",
		 SHELLCMD_WRITE, "rsync_sender_option", NULL);
	ck_class("rsync --server --sender -vbre.iLsfxCIvu . /srv/tree/", SHELLCMD_WRITE,
		 "rsync_sender_option", NULL);
	ck_class("rsync --server --sender --no-such-option -vre.iLsfxCIvu . /srv/tree/",
		 SHELLCMD_WRITE, "rsync_sender_option", NULL);
	/* rsync takes options after the operands too, until "--". */
	ck_class("rsync --server --sender -vre.iLsfxCIvu . /srv/tree/ --remove-source-files",
		 SHELLCMD_WRITE, "rsync_sender_option", NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu . /srv/tree/ --daemon", SHELLCMD_SHELL,
		 "rsync_daemon", NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu -- . --remove-source-files", SHELLCMD_READ,
		 "rsync_sender", NULL);
	/* A daemon runs what its config says. */
	ck_class("rsync --server --daemon .", SHELLCMD_SHELL, "rsync_daemon", NULL);
	ck_class("rsync --server --config=/x --daemon .", SHELLCMD_SHELL, "rsync_daemon", NULL);
	ck_class("rsync -av /a /b", SHELLCMD_SHELL, "command", NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu", SHELLCMD_REFUSE, "rsync_args", NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu . ", SHELLCMD_REFUSE, "rsync_args", NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu x /srv", SHELLCMD_REFUSE, "rsync_args",
		 NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu . /srv/../etc", SHELLCMD_REFUSE, "dotdot",
		 NULL);
	ck_class("rsync --server -vre.iLsfxCIvu . '/srv/a\nb'", SHELLCMD_REFUSE, "newline", NULL);
	/* Globs need the shell that would expand them. */
	ck_class("rsync --server --sender -vre.iLsfxCIvu . /srv/*.txt", SHELLCMD_SHELL,
		 "shell_syntax", NULL);
}
END_TEST

START_TEST(test_scp)
{
	ck_class("scp -f /srv/a.txt", SHELLCMD_READ, "scp_source", "[scp] [-f] [/srv/a.txt]");
	ck_class("scp -f -- /srv/a.txt /srv/b.txt", SHELLCMD_READ, "scp_source", NULL);
	ck_class("scp -r -p -f -- /srv/tree", SHELLCMD_READ, "scp_source", NULL);
	ck_class("scp -v -d -t -- /srv/", SHELLCMD_WRITE, "scp_sink", NULL);
	ck_class("scp -t /srv/x", SHELLCMD_WRITE, "scp_sink", NULL);
	ck_class("scp -pt /srv/x", SHELLCMD_WRITE, "scp_sink", NULL);
	ck_class("scp -f -t /srv/x", SHELLCMD_REFUSE, "scp_args", NULL);
	ck_class("scp /srv/x", SHELLCMD_REFUSE, "scp_args", NULL);
	ck_class("scp -t /a /b", SHELLCMD_REFUSE, "scp_args", NULL);
	ck_class("scp -f", SHELLCMD_REFUSE, "scp_args", NULL);
	ck_class("scp -S /bin/sh -f /x", SHELLCMD_REFUSE, "scp_option", NULL);
	ck_class("scp -f /srv/../etc/shadow", SHELLCMD_REFUSE, "dotdot", NULL);
	/* getopt would take a later -t as an option: refused, but not after "--". */
	ck_class("scp -f /srv/a -t", SHELLCMD_REFUSE, "scp_args", NULL);
	ck_class("scp -f -- /srv/a -t", SHELLCMD_READ, "scp_source", NULL);
	ck_class("scp -t '/srv/a\nb'", SHELLCMD_REFUSE, "newline", NULL);
}
END_TEST

START_TEST(test_sftp)
{
	/* What sshd puts in SSH_ORIGINAL_COMMAND for the subsystem: the Subsystem line. */
	ck_class("internal-sftp", SHELLCMD_SFTP, "sftp", "[internal-sftp]");
	ck_class("/usr/lib/openssh/sftp-server", SHELLCMD_SFTP, "sftp", NULL);
	ck_class("/usr/lib/openssh/sftp-server -l INFO -f AUTH -e", SHELLCMD_SFTP, "sftp",
		 "[/usr/lib/openssh/sftp-server] [-l] [INFO] [-f] [AUTH] [-e]");
	/* Options that are not the admin's to pass on are a shell command's. */
	ck_class("internal-sftp -d /", SHELLCMD_SHELL, "sftp_option", NULL);
	ck_class("/usr/lib/openssh/sftp-server -p open,read,write", SHELLCMD_SHELL, "sftp_option",
		 NULL);
	ck_class("/usr/lib/openssh/sftp-server -l", SHELLCMD_SHELL, "sftp_option", NULL);
	ck_class("sftp-server", SHELLCMD_SHELL, "command", NULL);
}
END_TEST

START_TEST(test_shell)
{
	ck_class(NULL, SHELLCMD_SHELL, "interactive", NULL);
	ck_class("", SHELLCMD_SHELL, "command", NULL);
	ck_class("id -un", SHELLCMD_SHELL, "command", NULL);
	/* What only a shell makes sense of, even after a command of ours. */
	static const char *const syntax[] = {
	    "git-upload-pack /srv/app.git; id",
	    "git-upload-pack /srv/app.git && id",
	    "git-upload-pack /srv/app.git | id",
	    "git-upload-pack $HOME/app.git",
	    "git-upload-pack `id`",
	    "git-upload-pack \"$(id)\"",
	    "git-upload-pack /srv/app.git > /x",
	    "git-upload-pack /srv/app.git\nid",
	    "FOO=bar git-upload-pack /srv/a.git",
	    "git-upload-pack ~root/a.git",
	    "scp -f /srv/[ab]",
	    "(git-upload-pack /srv/a.git)",
	    "git-upload-pack /srv/a.git #c",
	    "git-upload-pack /srv/{a,b}.git",
	};
	for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
		ck_class(syntax[i], SHELLCMD_SHELL, "shell_syntax", NULL);
	/* Inside quotes they are bytes; "=" after the first word and "#" inside one too. */
	ck_class("git-upload-pack '/srv/$a;b|c`d`.git'", SHELLCMD_READ, "git", NULL);
	ck_class("rsync --server --sender -vre.iLsfxCIvu --timeout=5 . /srv/a#b", SHELLCMD_READ,
		 "rsync_sender", NULL);
	/* A line continuation is no newline. */
	ck_class("git-upload-pack \\\n'/srv/app.git'", SHELLCMD_READ, "git",
		 "[git-upload-pack] [/srv/app.git]");
}
END_TEST

START_TEST(test_bad_input)
{
	static char big[SHELLCMD_MAX + 2];
	char words[SHELLCMD_WORDS_MAX * 2 + 40];
	size_t n = 0;

	ck_class("git-upload-pack '/srv/app.git", SHELLCMD_REFUSE, "unterminated_quote", NULL);
	ck_class("git-upload-pack \"/srv/app.git", SHELLCMD_REFUSE, "unterminated_quote", NULL);
	ck_class("id '", SHELLCMD_REFUSE, "unterminated_quote", NULL);
	ck_class("git-upload-pack /srv/app.git\\", SHELLCMD_REFUSE, "trailing_backslash", NULL);
	/* A NUL cannot come through the environment, but the classifier takes bytes. */
	shellcmd_classify(&c, "git-upload-pack '/srv\0/x'", 25, NULL);
	ck_assert_int_eq(c.cls, SHELLCMD_REFUSE);
	ck_assert_str_eq(c.reason, "nul");
	/* Over-long: one byte past the limit, whatever it holds. */
	memset(big, 'a', sizeof(big) - 1);
	ck_class(big, SHELLCMD_REFUSE, "too_long", NULL);
	big[SHELLCMD_MAX] = '\0';
	ck_class(big, SHELLCMD_SHELL, "command", NULL);
	/* Too many words. */
	n += (size_t)snprintf(words, sizeof(words), "scp -f");
	for (int i = 0; i < SHELLCMD_WORDS_MAX; i++)
		n += (size_t)snprintf(words + n, sizeof(words) - n, " a");
	ck_class(words, SHELLCMD_REFUSE, "too_many_words", NULL);
	/* ~ with no home to expand it to: only a shell knows. */
	shellcmd_classify(&c, "git-upload-pack ~/a.git", 23, NULL);
	ck_assert_int_eq(c.cls, SHELLCMD_SHELL);
}
END_TEST

/* Each class under each grant (DESIGN.md §8a's table). */
START_TEST(test_allowed)
{
	static const struct {
		const char *cmd;
		bool r, w, s, none; /* allowed with read only, write only, shell only, nothing */
	} cases[] = {
	    {"git-upload-pack /a.git", true, true, false, false},
	    {"git-receive-pack /a.git", false, true, false, false},
	    {"internal-sftp", true, true, false, false},
	    {"id", false, false, true, false},
	    {NULL, false, false, true, false},
	    {"id '", false, false, false, false},
	};
	const struct shellcmd_grant grants[] = {
	    {.read = true}, {.write = true}, {.shell = true}, {0}};
	const char *needs;
	bool ro;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const bool want[] = {cases[i].r, cases[i].w, cases[i].s, cases[i].none};

		classify(cases[i].cmd);
		for (size_t g = 0; g < 4; g++)
			ck_assert_msg(shellcmd_allowed(&c, grants[g], &ro, &needs) == want[g],
				      "%s, grant %zu", cases[i].cmd ? cases[i].cmd : "(none)", g);
	}
	classify("internal-sftp");
	ck_assert(shellcmd_allowed(&c, grants[0], &ro, &needs) && ro);
	ck_assert(shellcmd_allowed(&c, grants[1], &ro, &needs) && !ro);
	classify("git-receive-pack /a.git");
	ck_assert(!shellcmd_allowed(&c, grants[0], &ro, &needs));
	ck_assert_str_eq(needs, "write");
	classify("id '");
	ck_assert(!shellcmd_allowed(&c, (struct shellcmd_grant){true, true, true}, &ro, &needs));
	ck_assert_ptr_null(needs);
}
END_TEST

/* apitoken shell's audit line (lib/audit.c): command= after reason=, escaped and cut. */
START_TEST(test_audit_command)
{
	char line[1024], json[AUDIT_JSON_MAX], longcmd[400];
	struct audit_rec r = {.result = "deny",
			      .reason = "scope",
			      .command = "git-receive-pack /srv/a b\n.git",
			      .user = "ci",
			      .rhost = "127.0.0.1",
			      .token = "ucat_sha256:3f2a9c1b",
			      .source = "token"};

	audit_format(&r, line, sizeof(line));
	ck_assert_str_eq(
	    line, "result=deny reason=scope command=git-receive-pack%20%2Fsrv%2Fa%20b%0A.git "
		  "user=ci rhost=127.0.0.1 token=ucat_sha256:3f2a9c1b source=token ms=0");
	ck_assert_uint_ne(audit_format_json(&r, 0, json, sizeof(json)), (size_t)-1);
	ck_assert_msg(strstr(json, ",\"command\":\"git-receive-pack /srv/a b\\u000a.git\",") !=
			  NULL,
		      "%s", json);
	/* Cut after AUDIT_VALUE_MAX bytes, and the fields after it still there. */
	memset(longcmd, 'x', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = '\0';
	r.command = longcmd;
	audit_format(&r, line, sizeof(line));
	ck_assert_msg(strstr(line, "x... user=ci ") != NULL, "%s", line);
	/* The module's lines have no command field at all. */
	r.command = NULL;
	audit_format(&r, line, sizeof(line));
	ck_assert_ptr_null(strstr(line, "command"));
	ck_assert_uint_ne(audit_format_json(&r, 0, json, sizeof(json)), (size_t)-1);
	ck_assert_ptr_null(strstr(json, "command"));
}
END_TEST

static Suite *shellcmd_suite(void)
{
	Suite *s = suite_create("shellcmd");
	TCase *tc = tcase_create("shellcmd");

	tcase_add_test(tc, test_git);
	tcase_add_test(tc, test_rsync);
	tcase_add_test(tc, test_scp);
	tcase_add_test(tc, test_sftp);
	tcase_add_test(tc, test_shell);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_allowed);
	tcase_add_test(tc, test_audit_command);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(shellcmd_suite());
}
