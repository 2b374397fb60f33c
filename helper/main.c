/*
 * apitoken: the helper binary. Dispatches to one file per subcommand. Run
 * under the name apitoken-askpass (a link installed beside it), it is the
 * SSH_ASKPASS program: ssh calls that with the prompt as the only argument.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "commands.h"

/* The core limit we were started with, for the command `apitoken exec` runs. */
static struct rlimit caller_core = {0, 0};

const struct rlimit *main_caller_core(void)
{
	return &caller_core;
}

/*
 * Every command holds a token, a private key or the cache's key at some
 * point: no core file, and no ptrace or /proc/PID/mem for other processes
 * of the user, from before anything is read. A uid change resets the
 * dumpable flag, so cmd_introspect sets it again after its drop.
 *
 * A crash dumps core up to the soft limit: that one goes to 0. The hard
 * limit stays, because raising it again takes CAP_SYS_RESOURCE, and exec
 * must be able to give CMD the caller's limit back.
 */
static int protect_memory(void)
{
	struct rlimit no_core = {0, 0};

	if (getrlimit(RLIMIT_CORE, &caller_core) != 0)
		caller_core = no_core;
	no_core.rlim_max = caller_core.rlim_max;
	if (setrlimit(RLIMIT_CORE, &no_core) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "apitoken: cannot keep memory out of core files: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

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
	      "  introspect     verify a token for pam_apitoken (reads its request on stdin)\n"
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
	if (strcmp(argv[1], "introspect") == 0)
		return cmd_introspect(argc - 1, argv + 1);
	if (strcmp(argv[1], "cache") == 0)
		return cmd_cache(argc - 1, argv + 1);
	if (strcmp(argv[1], "askpass") == 0)
		return cmd_askpass(argc - 1, argv + 1);
	if (strcmp(argv[1], "exec") == 0)
		return cmd_exec(argc - 1, argv + 1);
	if (strcmp(argv[1], "ssh-cert") == 0)
		return cmd_ssh_cert(argc - 1, argv + 1);
	if (strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
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
