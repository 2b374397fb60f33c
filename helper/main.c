/*
 * apitoken: the helper binary. Dispatches to one file per subcommand. Run
 * under the name apitoken-askpass (a link installed beside it), it is the
 * SSH_ASKPASS program: ssh calls that with the prompt as the only argument.
 *
 * Each subcommand owns its option list and prints it for `SUB --help`;
 * `apitoken help SUB` is that call, so no second copy lives here.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
    {"introspect", cmd_introspect}, {"cache", cmd_cache},
    {"askpass", cmd_askpass},	    {"exec", cmd_exec},
    {"ssh-cert", cmd_ssh_cert},	    {"token", cmd_token},
    {"check", cmd_check},	    {"shell", cmd_shell},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/*
 * One line per command for the overview, in the order a user meets them.
 * Keyed by name so that a row added to commands[] alone still dispatches
 * and shows up (without a summary), and a summary without its command is
 * not shown.
 */
static const struct {
	const char *name, *summary;
} summaries[] = {
    {"ssh-cert", "get, show or remove a short-lived SSH certificate for the token"},
    {"token", "say whether the token is valid"},
    {"exec", "run a command (ssh, git, rsync, scp) answering the API token prompt"},
    {"askpass", "the SSH_ASKPASS program: print the token for the API token prompt only"},
    {"cache", "inspect or clear the module's token cache (admin)"},
    {"check", "check the module's configuration, or one login's decision (admin)"},
    {"shell", "sshd's ForceCommand: run a command only if the login's scopes allow it"},
    {"introspect", "verify a token for pam_apitoken (reads its request on stdin)"},
};

static int find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return (int)i;
	return -1;
}

static const char *summary_of(const char *name)
{
	for (size_t i = 0; i < sizeof(summaries) / sizeof(summaries[0]); i++)
		if (strcmp(name, summaries[i].name) == 0)
			return summaries[i].summary;
	return "";
}

static void usage(FILE *f)
{
	fputs("usage: apitoken COMMAND [ARGS]\n"
	      "       apitoken help [COMMAND [SUBCOMMAND]]\n"
	      "\n",
	      f);
	for (size_t i = 0; i < sizeof(summaries) / sizeof(summaries[0]); i++)
		if (find_command(summaries[i].name) >= 0)
			fprintf(f, "  %-12s %s\n", summaries[i].name, summaries[i].summary);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (summary_of(commands[i].name)[0] == '\0')
			fprintf(f, "  %s\n", commands[i].name);
	fputs("\n"
	      "  --help, -h   this text; `apitoken COMMAND --help` shows a command's options\n"
	      "  --version    the version\n"
	      "\n"
	      "The token comes from APITOKEN_TOKEN (or the variables of token_env) or token_file\n"
	      "in ~/.config/apitoken/config, never from the command line. See apitoken(1) and\n"
	      "pam_apitoken(8).\n",
	      f);
}

/*
 * `apitoken help [COMMAND [SUBCOMMAND]]`: the command's own --help, so that
 * what it prints is what `COMMAND [SUBCOMMAND] --help` prints.
 */
static int help(int argc, char **argv)
{
	char *sub[4];
	int c;

	if (argc == 1 || (argc == 2 && (strcmp(argv[1], "help") == 0 || help_option(argv[1])))) {
		usage(stdout);
		return 0;
	}
	if (argc > 3) {
		fputs("usage: apitoken help [COMMAND [SUBCOMMAND]]\n", stderr);
		return EXIT_USAGE;
	}
	c = find_command(argv[1]);
	if (c < 0) {
		/* Not echoed: a token pasted in the wrong place must not reach a log. */
		fputs("apitoken help: no such command; the commands are:", stderr);
		for (size_t i = 0; i < NCOMMANDS; i++)
			fprintf(stderr, " %s", commands[i].name);
		fputc('\n', stderr);
		return EXIT_USAGE;
	}
	sub[0] = argv[1];
	sub[1] = argc == 3 ? argv[2] : (char *)"--help";
	sub[2] = argc == 3 ? (char *)"--help" : NULL;
	sub[3] = NULL;
	return commands[c].run(argc, sub);
}

int main(int argc, char **argv)
{
	const char *name = argv[0] ? strrchr(argv[0], '/') : NULL;
	int c;

	if (protect_memory() < 0)
		return 126; /* as for a failed drop: the module says "could not set up" */
	name = name ? name + 1 : argv[0];
	if (name != NULL && strcmp(name, "apitoken-askpass") == 0)
		return cmd_askpass(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((c = find_command(argv[1])) >= 0)
		return commands[c].run(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0)
		return help(argc - 1, argv + 1);
	if (help_option(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("apitoken %s\n", APITOKEN_VERSION);
		return 0;
	}
	fprintf(stderr, "apitoken: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
