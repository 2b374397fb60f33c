/*
 * The helper's command line as a person meets it (helper/main.c and each
 * helper/cmd_*.c): `--help`, `-h`, `apitoken help [SUB]` and `SUB --help`
 * print that command's options on stdout and exit 0 with nothing on
 * stderr; `help SUB` is exactly `SUB --help`; a usage error prints on
 * stderr only and exits 2. askpass's help never carries the token, and
 * exec's --help after "--" is the command's own. Each run gets a clean
 * environment of the test's choosing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testenv.h"
#include "unit.h"

#define HELPER	TEST_BUILD "/apitoken"
#define ASKPASS TEST_BUILD "/apitoken-askpass"
#define TOKEN	"ucat_cliHelpTestToken0123456789"
#define MAXARGS 12

struct result {
	int status;
	char out[16384];
	char err[8192];
};

/*
 * Runs prog with the arguments args (NULL-terminated) and exactly env;
 * stdin /dev/null, stdout and stderr collected.
 */
static struct result *run_env(const char *prog, const char *const *args, char *const env[])
{
	static struct result r;
	char *argv[MAXARGS + 2];
	int n = 0;

	argv[n++] = (char *)prog;
	for (; args != NULL && *args != NULL && n <= MAXARGS; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	r.status = unit_spawn(argv, env, r.out, sizeof(r.out), r.err, sizeof(r.err));
	return &r;
}

static char envxdg[PATH_MAX + 32];

/* No token anywhere, and settings that do not exist: help must need none. */
static struct result *run(const char *const *args)
{
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", NULL};

	return run_env(HELPER, args, env);
}

static void setup(void)
{
	snprintf(envxdg, sizeof(envxdg), "XDG_CONFIG_HOME=%s", unit_tmpdir("check_helper_cli"));
}

/* The words, joined by blanks, for messages. */
static const char *shown(const char *const *args)
{
	static char s[512];
	size_t n = 0;

	s[0] = '\0';
	for (; *args != NULL; args++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s", n ? " " : "", *args);
	return s;
}

/* One help request and what its stdout must hold (options of that command). */
struct help_case {
	const char *args[6];
	const char *want[5];
};

static const struct help_case helps[] = {
    {{"--help"}, {"usage: apitoken COMMAND", "ssh-cert", "cache", "askpass", "help [COMMAND"}},
    {{"-h"}, {"usage: apitoken COMMAND", "introspect", "exec", "token", "--version"}},
    {{"help"}, {"usage: apitoken COMMAND", "introspect", "exec", "token", "--version"}},
    {{"help", "--help"}, {"usage: apitoken COMMAND", "help [COMMAND"}},
    {{"help", "help"}, {"usage: apitoken COMMAND", "help [COMMAND"}},
    {{"introspect", "--help"}, {"usage: apitoken introspect", "standard input", "--help"}},
    {{"introspect", "-h"}, {"usage: apitoken introspect"}},
    {{"cache", "--help"}, {"cache stats", "cache forget FINGERPRINT", "--config PATH", "--json"}},
    {{"cache", "-h"}, {"cache list", "--config PATH"}},
    {{"cache", "stats", "--help"}, {"cache stats", "--json", "--config PATH"}},
    {{"cache", "list", "--help"}, {"cache list", "SCOPE", "--json"}},
    {{"cache", "flush", "-h"}, {"cache flush", "backoff"}},
    {{"cache", "forget", "--help"}, {"forget FINGERPRINT", "3f2a9c1b", "exits 1"}},
    {{"askpass", "--help"}, {"usage: apitoken askpass [PROMPT]", "SSH_ASKPASS", "hosts"}},
    {{"askpass", "-h"}, {"usage: apitoken askpass [PROMPT]", "--help, -h"}},
    {{"exec", "--help"}, {"usage: apitoken exec [--password] -- COMMAND", "--password", "--"}},
    {{"exec", "-h"}, {"usage: apitoken exec", "--password"}},
    {{"exec", "--password", "--help"}, {"usage: apitoken exec", "--password"}},
    {{"ssh-cert", "--help"}, {"ssh-cert load", "--refresh-only", "--json", "--forget-ca"}},
    {{"ssh-cert", "-h"}, {"ssh-cert info", "--check"}},
    {{"ssh-cert", "load", "--help"},
     {"--new", "--refresh-only", "--agent", "--write-ssh-config", "--known-hosts-only"}},
    {{"ssh-cert", "load", "--agent", "-h"}, {"--refresh-only", "--agent"}},
    {{"ssh-cert", "info", "--help"}, {"ssh-cert info [--json] [--check]", "--json", "--check"}},
    {{"ssh-cert", "clear", "-h"}, {"ssh-cert clear", "--forget-ca", "--quiet"}},
    {{"token", "--help"}, {"usage: apitoken token check", "token_url", "Exit status"}},
    {{"token", "-h"}, {"usage: apitoken token check"}},
    {{"token", "check", "--help"}, {"usage: apitoken token check", "cert_url", "check_url"}},
};

START_TEST(every_help_is_on_stdout_and_exits_0)
{
	const struct help_case *c = &helps[_i];
	struct result *r = run(c->args);

	ck_assert_msg(r->status == 0, "%s: exit %d; stderr: %s", shown(c->args), r->status, r->err);
	ck_assert_msg(r->err[0] == '\0', "%s: stderr: %s", shown(c->args), r->err);
	for (int k = 0; k < 5 && c->want[k] != NULL; k++)
		ck_assert_msg(strstr(r->out, c->want[k]) != NULL, "%s: want \"%s\" in:\n%s",
			      shown(c->args), c->want[k], r->out);
}
END_TEST

/* `help SUB [SUBSUB]` against `SUB [SUBSUB] --help`: the same bytes. */
static const char *const sub_helps[][2] = {
    {"introspect", NULL}, {"cache", NULL},	 {"cache", "forget"}, {"cache", "list"},
    {"askpass", NULL},	  {"exec", NULL},	 {"ssh-cert", NULL},  {"ssh-cert", "load"},
    {"ssh-cert", "info"}, {"ssh-cert", "clear"}, {"token", NULL},     {"token", "check"},
};

static void assert_help_same(const char *sub, const char *subsub)
{
	const char *via_help[] = {"help", sub, subsub, NULL};
	const char *via_opt[] = {sub, subsub ? subsub : "--help", subsub ? "--help" : NULL, NULL};
	struct result *r = run(via_help);
	char *first = strdup(r->out);
	int first_status = r->status;

	ck_assert_ptr_nonnull(first);
	ck_assert_msg(first_status == 0 && r->err[0] == '\0', "help %s %s: exit %d, stderr %s", sub,
		      subsub ? subsub : "", first_status, r->err);
	r = run(via_opt);
	ck_assert_int_eq(r->status, 0);
	ck_assert_msg(first[0] != '\0' && strcmp(first, r->out) == 0,
		      "help %s %s differs from its --help:\n%s\n---\n%s", sub, subsub ? subsub : "",
		      first, r->out);
	free(first);
}

START_TEST(help_sub_is_sub_help)
{
	const char *top_help[] = {"help", NULL}, *top_opt[] = {"--help", NULL};
	char *top;

	for (size_t i = 0; i < sizeof(sub_helps) / sizeof(sub_helps[0]); i++)
		assert_help_same(sub_helps[i][0], sub_helps[i][1]);
	top = strdup(run(top_help)->out);
	ck_assert_ptr_nonnull(top);
	ck_assert_str_eq(top, run(top_opt)->out);
	/* A command the overview lists (check, when it is there) has its help by the same path. */
	if (strstr(top, "\n  check ") != NULL)
		assert_help_same("check", NULL);
	free(top);
}
END_TEST

/* A usage error: stderr only, exit 2. */
static const struct {
	const char *args[6];
	const char *want; /* in stderr */
} usage_errors[] = {
    {{NULL}, "usage: apitoken COMMAND"},
    {{"no-such-command"}, "usage: apitoken COMMAND"},
    {{"help", "a", "b", "c"}, "usage: apitoken help"},
    {{"help", "cache", "no-such-sub"}, "usage: apitoken cache"},
    {{"introspect", "extra"}, "usage: apitoken introspect"},
    {{"cache"}, "usage: apitoken cache"},
    {{"cache", "no-such-sub", "--help"}, "usage: apitoken cache"},
    {{"cache", "stats", "--bogus"}, "usage: apitoken cache"},
    {{"askpass", "one", "two"}, "usage: apitoken askpass"},
    {{"exec"}, "usage: apitoken exec"},
    {{"exec", "--"}, "usage: apitoken exec"},
    {{"exec", "--bogus", "--", "true"}, "usage: apitoken exec"},
    {{"exec", "ssh", "host"}, "usage: apitoken exec"},
    {{"ssh-cert"}, "usage: apitoken ssh-cert"},
    {{"ssh-cert", "no-such-sub"}, "usage: apitoken ssh-cert"},
    {{"ssh-cert", "no-such-sub", "--help"}, "usage: apitoken ssh-cert"},
    {{"ssh-cert", "load", "--bogus"}, "usage: apitoken ssh-cert"},
    {{"ssh-cert", "info", "-q"}, "usage: apitoken ssh-cert"},
    {{"token"}, "usage: apitoken token check"},
    {{"token", "no-such-sub"}, "usage: apitoken token check"},
    {{"token", "check", "extra"}, "usage: apitoken token check"},
    {{"token", "--help", "extra"}, "usage: apitoken token check"},
};

START_TEST(usage_errors_exit_2_on_stderr)
{
	struct result *r = run(usage_errors[_i].args);
	const char *what = usage_errors[_i].args[0] ? shown(usage_errors[_i].args) : "(none)";

	ck_assert_msg(r->status == 2, "%s: exit %d", what, r->status);
	ck_assert_msg(r->out[0] == '\0', "%s: stdout: %s", what, r->out);
	ck_assert_msg(strstr(r->err, usage_errors[_i].want) != NULL, "%s: want \"%s\" in:\n%s",
		      what, usage_errors[_i].want, r->err);
}
END_TEST

START_TEST(help_for_an_unknown_command_names_the_commands)
{
	static const char *const known[] = {"introspect", "cache",    "askpass",
					    "exec",	  "ssh-cert", "token"};
	const char *args[] = {"help", "nosuch-" TOKEN, NULL};
	struct result *r = run(args);

	ck_assert_int_eq(r->status, 2);
	ck_assert_str_eq(r->out, "");
	ck_assert_msg(strstr(r->err, "no such command") != NULL, "%s", r->err);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		ck_assert_msg(strstr(r->err, known[i]) != NULL, "want %s in: %s", known[i], r->err);
	/* What was typed may be a token pasted in the wrong place: not repeated. */
	ck_assert_ptr_null(strstr(r->err, TOKEN));
}
END_TEST

/*
 * A token in the environment and in token_file: askpass answers the
 * module's prompt with it (so it is there to leak), and its --help
 * carries none of it, under either name.
 */
START_TEST(askpass_help_never_prints_the_token)
{
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", "APITOKEN_TOKEN=" TOKEN, NULL};
	const char *prompt[] = {"askpass", "API token: ", NULL};
	const char *const asks[][3] = {
	    {"askpass", "--help", NULL}, {"askpass", "-h", NULL}, {"help", "askpass", NULL}};
	const char *bare[][2] = {{"--help", NULL}, {"-h", NULL}};
	struct result *r;

	r = run_env(HELPER, prompt, env);
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, TOKEN "\n");
	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		r = run_env(HELPER, asks[i], env);
		ck_assert_msg(r->status == 0, "%s: exit %d", shown(asks[i]), r->status);
		ck_assert_str_eq(r->err, "");
		ck_assert_ptr_nonnull(strstr(r->out, "usage: apitoken askpass"));
		ck_assert_ptr_null(strstr(r->out, TOKEN));
		ck_assert_ptr_null(strstr(r->out, "cliHelpTest"));
	}
	/* As ssh would call it: apitoken-askpass PROMPT. */
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		r = run_env(ASKPASS, bare[i], env);
		ck_assert_int_eq(r->status, 0);
		ck_assert_str_eq(r->err, "");
		ck_assert_ptr_nonnull(strstr(r->out, "usage: apitoken askpass"));
		ck_assert_ptr_null(strstr(r->out, TOKEN));
	}
	/* The prompt "--help" with something after it is a prompt: not ours, no answer. */
	{
		const char *near[] = {"askpass", "--help ", NULL};

		r = run_env(HELPER, near, env);
		ck_assert_int_eq(r->status, 1);
		ck_assert_str_eq(r->out, "");
	}
}
END_TEST

START_TEST(exec_help_after_dashdash_is_the_commands)
{
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", "APITOKEN_TOKEN=" TOKEN, NULL};
	const char *args[] = {"exec", "--",	"/bin/sh", "-c", "printf '[%s]' \"$@\"",
			      "sh",   "--help", NULL};
	const char *with_pw[] = {
	    "exec", "--password", "--", "/bin/sh", "-c", "printf '[%s]' \"$1\"", "sh", "-h", NULL};
	struct result *r = run_env(HELPER, args, env);

	ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
	ck_assert_str_eq(r->out, "[--help]");
	ck_assert_str_eq(r->err, "");
	r = run_env(HELPER, with_pw, env);
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "[-h]");
}
END_TEST

/* introspect --help is for a person: it prints help, and no protocol answer. */
START_TEST(introspect_help_is_not_a_request)
{
	const char *args[] = {"introspect", "--help", NULL};
	struct result *r = run(args);

	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_null(strstr(r->out, "apitoken-introspect-response"));
	ck_assert_msg(strncmp(r->out, "usage: apitoken introspect\n", 27) == 0, "%s", r->out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("helper_cli");
	TCase *tc = tcase_create("help");

	setup();
	tcase_add_loop_test(tc, every_help_is_on_stdout_and_exits_0, 0,
			    (int)(sizeof(helps) / sizeof(helps[0])));
	tcase_add_test(tc, help_sub_is_sub_help);
	tcase_add_loop_test(tc, usage_errors_exit_2_on_stderr, 0,
			    (int)(sizeof(usage_errors) / sizeof(usage_errors[0])));
	tcase_add_test(tc, help_for_an_unknown_command_names_the_commands);
	tcase_add_test(tc, askpass_help_never_prints_the_token);
	tcase_add_test(tc, exec_help_after_dashdash_is_the_commands);
	tcase_add_test(tc, introspect_help_is_not_a_request);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
