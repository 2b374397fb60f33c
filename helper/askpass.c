/*
 * `apitoken askpass [PROMPT]`, the SSH_ASKPASS program (also run as
 * `apitoken-askpass PROMPT`, which is how ssh calls it). It prints the token
 * for the module's prompt and for nothing else: a host-key question, a key
 * passphrase or somebody's password prompt gets no answer, so the token is
 * never typed into the wrong place.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "settings.h"

/*
 * ssh shows a keyboard-interactive prompt as the server sent it, since
 * OpenSSH 8.4 prefixed with "(user@host) "; the password method asks
 * "user@host's password: ". The first is ours if the rest is our prompt; the
 * second only when `apitoken exec --password` said so.
 */
static bool is_our_prompt(const char *prompt, const char *ours)
{
	const char *close;

	if (strcmp(prompt, ours) == 0)
		return true;
	if (prompt[0] == '(' && (close = strchr(prompt, ')')) != NULL && close[1] == ' ' &&
	    strchr(prompt, '\n') == NULL)
		return strcmp(close + 2, ours) == 0;
	return false;
}

static bool is_password_prompt(const char *prompt)
{
	static const char tail[] = "'s password: ";
	size_t n = strlen(prompt), t = sizeof(tail) - 1, who = n - t;

	/* "user@host's password: " and nothing else: no passphrase, no sudo. */
	return n > t && strcmp(prompt + who, tail) == 0 && memchr(prompt, '@', who) != NULL &&
	       strcspn(prompt, " \t\n") >= who;
}

int cmd_askpass(int argc, char **argv)
{
	struct rlimit no_core = {0, 0};
	struct settings s;
	char err[512], *tok = NULL;
	const char *prompt = argc > 1 ? argv[1] : "";
	const char *pw = getenv("APITOKEN_ASKPASS_PASSWORD");
	size_t len;
	enum apt_rc rc;
	int r = 1;

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (argc > 2) {
		fprintf(stderr, "usage: apitoken askpass [PROMPT]\n");
		return EXIT_USAGE;
	}
	rc = settings_load(&s, err, sizeof(err));
	if (rc != APT_OK) {
		fprintf(stderr, "apitoken askpass: %s\n", rc == APT_NOMEM ? "out of memory" : err);
		goto out;
	}
	if (!is_our_prompt(prompt, s.prompt) &&
	    !(pw != NULL && strcmp(pw, "1") == 0 && is_password_prompt(prompt))) {
		/* Say so on stderr (ssh shows it), but never answer. */
		fprintf(stderr, "apitoken askpass: not the API token prompt; not answering\n");
		goto out;
	}
	rc = settings_token(&s, &tok, &len, err, sizeof(err));
	if (rc != APT_OK) {
		fprintf(stderr, "apitoken askpass: %s\n", rc == APT_NOMEM ? "out of memory" : err);
		goto out;
	}
	if (fwrite(tok, 1, len, stdout) == len && fputc('\n', stdout) != EOF && fflush(stdout) == 0)
		r = 0;
out:
	free_secret(tok);
	settings_free(&s);
	return r;
}
