/*
 * apitoken: the helper binary. Dispatches to one file per subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
	fputs("usage: apitoken COMMAND [ARGS]\n"
	      "\n"
	      "  introspect     verify a token for pam_apitoken (reads its request on stdin)\n"
	      "  cache stats|list|flush|forget FINGERPRINT [--json] [--config PATH]\n"
	      "                 inspect or clear the module's token cache (admin)\n"
	      "  --help         this text\n"
	      "  --version      the version\n"
	      "\n"
	      "See apitoken(1) and pam_apitoken(8).\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "introspect") == 0)
		return cmd_introspect(argc - 1, argv + 1);
	if (strcmp(argv[1], "cache") == 0)
		return cmd_cache(argc - 1, argv + 1);
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
	return 2;
}
