/*
 * apitoken: the helper binary. Dispatches to one file per subcommand. Run
 * under the name apitoken-askpass (a link installed beside it), it is the
 * SSH_ASKPASS program: ssh calls that with the prompt as the only argument.
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

static void usage(FILE *f)
{
	fputs("usage: apitoken COMMAND [ARGS]\n"
	      "\n"
	      "  ssh-cert load [--new] [--refresh-only] [--agent] [--write-ssh-config] [-q]\n"
	      "                [--no-interaction]\n"
	      "                 get a short-lived SSH certificate for the token\n"
	      "  ssh-cert info [--json] [--check] | ssh-cert clear [-q]\n"
	      "  token check    say whether the token is valid\n"
	      "  exec [--password] -- CMD [ARG...]\n"
	      "                 run CMD (ssh, git, rsync, scp) answering the API token prompt\n"
	      "  askpass [PROMPT]\n"
	      "                 print the token if PROMPT is the API token prompt (SSH_ASKPASS)\n"
	      "  cache stats|list|flush|forget FINGERPRINT [--json] [--config PATH]\n"
	      "                 inspect or clear the module's token cache (admin)\n"
	      "  check [--config FILE] [--user USER [--rhost ADDR]] [--no-cache]\n"
	      "                 say what is wrong with the module's configuration; with --user,\n"
	      "                 decide a login as the module would and say why (admin)\n"
	      "  introspect     verify a token for pam_apitoken (reads its request on stdin)\n"
	      "  shell          sshd ForceCommand: read/write/shell per command by scope\n"
	      "  --help         this text\n"
	      "  --version      the version\n"
	      "\n"
	      "The token comes from APITOKEN_TOKEN or token_file in ~/.config/apitoken/config,\n"
	      "never from the command line. See apitoken(1) and pam_apitoken(8).\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *name = argv[0] ? strrchr(argv[0], '/') : NULL;

	if (protect_memory() < 0)
		return 126; /* as for a failed drop: the module says "could not set up" */
	name = name ? name + 1 : argv[0];
	if (name != NULL && strcmp(name, "apitoken-askpass") == 0)
		return cmd_askpass(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
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
