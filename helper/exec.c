/*
 * `apitoken exec [--password] -- CMD [ARG...]`: runs CMD so that every ssh
 * it starts (directly, or through git, rsync, scp) answers the module's
 * prompt with the token through `apitoken-askpass`, with no terminal and no
 * token in any argv.
 *
 * What CMD's environment gains, exactly:
 *   SSH_ASKPASS=<dir of this binary>/apitoken-askpass
 *   SSH_ASKPASS_REQUIRE=force
 *   APITOKEN_ASKPASS_PASSWORD=1     only with --password
 * The token itself is not added: askpass reads it where the user put it,
 * APITOKEN_TOKEN (already in the environment) or token_file.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "settings.h"

static int usage(void)
{
	fprintf(stderr, "usage: apitoken exec [--password] -- COMMAND [ARG...]\n");
	return EXIT_USAGE;
}

/* apitoken-askpass beside the running binary: ssh calls SSH_ASKPASS with the prompt only. */
static int askpass_path(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct stat st;
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (snprintf(out, len, "%s/apitoken-askpass", self) >= (int)len)
		return -1;
	return stat(out, &st) == 0 && (st.st_mode & S_IXUSR) ? 0 : -1;
}

int cmd_exec(int argc, char **argv)
{
	char askpass[PATH_MAX], err[512], *tok = NULL;
	bool password = false;
	struct settings s;
	enum apt_rc rc;
	size_t len;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--password") == 0)
			password = true;
		else
			return usage();
	}
	if (i + 1 >= argc)
		return usage();
	if (askpass_path(askpass, sizeof(askpass)) < 0) {
		fprintf(stderr,
			"apitoken exec: apitoken-askpass is not installed beside apitoken\n");
		return EXIT_CONFIG;
	}
	/* Fail now, clearly, rather than as a refused login after ssh's prompt. */
	rc = settings_load(&s, err, sizeof(err));
	if (rc == APT_OK)
		rc = settings_token(&s, &tok, &len, err, sizeof(err));
	free_secret(tok);
	settings_free(&s);
	if (rc != APT_OK) {
		fprintf(stderr, "apitoken exec: %s\n", rc == APT_NOMEM ? "out of memory" : err);
		return EXIT_CONFIG;
	}
	if (setenv("SSH_ASKPASS", askpass, 1) != 0 ||
	    setenv("SSH_ASKPASS_REQUIRE", "force", 1) != 0 ||
	    (password ? setenv("APITOKEN_ASKPASS_PASSWORD", "1", 1)
		      : unsetenv("APITOKEN_ASKPASS_PASSWORD")) != 0) {
		perror("apitoken exec: setenv");
		return EXIT_CONFIG;
	}
	execvp(argv[i + 1], argv + i + 1);
	fprintf(stderr, "apitoken exec: %s: %s\n", argv[i + 1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
