/*
 * `apitoken askpass [PROMPT]`, the SSH_ASKPASS program (also run as
 * `apitoken-askpass PROMPT`, which is how ssh calls it). It prints the token
 * for the module's prompt and for nothing else: a host-key question, a key
 * passphrase or somebody's password prompt gets no answer, so the token is
 * never typed into the wrong place; with `hosts` set, neither does a prompt
 * from a host outside it.
 */
#include <ctype.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "settings.h"
#include "sshconfig.h"
#include "tokensock.h"

/*
 * The host part of a prompt, as ssh put it there from the command line (or
 * HostKeyAlias): a host name or address. Anything else is refused rather
 * than matched, so no server text can pass for a host.
 */
static bool host_ok(const char *host, size_t n)
{
	if (n == 0 || n >= NI_MAXHOST)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)host[i]) && strchr(".-_:%", host[i]) == NULL)
			return false;
	return true;
}

/*
 * user@host in who[0..n): the host after the last '@', copied to host
 * (NI_MAXHOST bytes). A user with blanks, control bytes or parentheses is
 * refused: it could hold a second "user@host" for the last '@' to find.
 */
static bool split_host(const char *who, size_t n, char *host)
{
	const char *at = memrchr(who, '@', n);
	size_t len;

	if (at == NULL || at == who)
		return false;
	for (const char *u = who; u < at; u++)
		if ((unsigned char)*u <= ' ' || *u == 0x7f || *u == '(' || *u == ')')
			return false;
	len = n - (size_t)(at + 1 - who);
	if (!host_ok(at + 1, len))
		return false;
	memcpy(host, at + 1, len);
	host[len] = '\0';
	return true;
}

/*
 * ssh shows a keyboard-interactive prompt as the server sent it, since
 * OpenSSH 8.4 prefixed with "(user@host) "; the password method asks
 * "user@host's password: ". The first is ours if the rest is our prompt; the
 * second only when `apitoken exec --password` said so. The prefix ends at
 * the first ')': what follows is the server's, what precedes it ours (the
 * user and host from ssh's command line). host gets the host, or "" for a
 * bare prompt.
 */
static bool is_our_prompt(const char *prompt, const char *ours, char *host)
{
	const char *close;

	host[0] = '\0';
	if (strcmp(prompt, ours) == 0)
		return true;
	if (prompt[0] == '(' && (close = strchr(prompt, ')')) != NULL && close[1] == ' ' &&
	    strchr(prompt, '\n') == NULL &&
	    memchr(prompt + 1, '(', (size_t)(close - prompt - 1)) == NULL)
		return strcmp(close + 2, ours) == 0 &&
		       split_host(prompt + 1, (size_t)(close - prompt - 1), host);
	return false;
}

static bool is_password_prompt(const char *prompt, char *host)
{
	static const char tail[] = "'s password: ";
	size_t n = strlen(prompt), t = sizeof(tail) - 1, who = n - t;

	/* "user@host's password: " and nothing else: no passphrase, no sudo. */
	return n > t && strcmp(prompt + who, tail) == 0 && memchr(prompt, '@', who) != NULL &&
	       strcspn(prompt, " \t\n") >= who && split_host(prompt, who, host);
}

/*
 * The refused prompt as it can be shown on a terminal or in a CI log: the
 * server chose (part of) it, so control bytes and anything outside
 * printable ASCII become '?', and it is cut at a line's length.
 */
static void prompt_shown(const char *prompt, char *out, size_t outlen)
{
	const char *p = prompt;
	size_t n = 0;

	/* Room for the longest step (2 bytes), "..." and the NUL. */
	for (; *p != '\0' && n + 6 <= outlen; p++) {
		if (*p == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = (char)(*p >= ' ' && *p < 0x7f ? *p : '?');
		}
	}
	if (*p != '\0') {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/*
 * Why a prompt is not ours, in words a CI log can act on. The common ones:
 * ssh asking to trust an unknown host key (a fresh runner), a key's
 * passphrase, a password prompt without exec --password.
 */
static const char *refusal_reason(const char *prompt)
{
	if (strstr(prompt, "continue connecting") != NULL || strstr(prompt, "fingerprint") != NULL)
		return "ssh is asking whether to trust the host's key, which it does not know yet: "
		       "the token is no answer to that. Give ssh the host's key from a trusted "
		       "source (known_hosts, or the issuer's host CA: see apitoken(1)); never "
		       "StrictHostKeyChecking no";
	if (strstr(prompt, "passphrase") != NULL)
		return "ssh is asking for a key's passphrase, not for the API token";
	if (strstr(prompt, "'s password: ") != NULL)
		return "the host asks for a password: with `apitoken exec --password` the token "
		       "answers it, if the host's pam_apitoken runs under sshd's password method";
	return "it is not the host's API token prompt (expected \"(user@host) \" and the prompt "
	       "setting; set prompt or APITOKEN_PROMPT if the host's administrator changed it)";
}

int askpass_exit_status(enum apt_rc rc)
{
	return rc == APT_OK ? 0 : EXIT_NO;
}

/*
 * Whether prompt is one to answer with the token (why not on stderr): ours
 * (or a password prompt, when exec said so), from a host in hosts.
 */
static enum apt_rc prompt_ours(const struct settings *s, const char *prompt)
{
	const char *pw = getenv("APITOKEN_ASKPASS_PASSWORD");
	char host[NI_MAXHOST];

	if (!is_our_prompt(prompt, s->prompt, host) &&
	    !(pw != NULL && strcmp(pw, "1") == 0 && is_password_prompt(prompt, host))) {
		char shown[128];

		/* Say what and why on stderr (ssh shows it), but never answer. */
		prompt_shown(prompt, shown, sizeof(shown));
		fprintf(stderr, "apitoken askpass: not answering \"%s\": %s\n", shown,
			refusal_reason(prompt));
		return APT_DENY;
	}
	/*
	 * The token is for the hosts the user named, not for whichever host a
	 * submodule URL, a ProxyJump or a second rsync target points ssh to. A
	 * prompt without "(user@host) " names no host: with hosts set, refused.
	 */
	if (s->hosts != NULL && s->hosts[strspn(s->hosts, " \t,")] != '\0' &&
	    !sshconfig_host_match(s->hosts, host)) {
		if (host[0] == '\0')
			fprintf(stderr,
				"apitoken askpass: the prompt names no host and hosts is set "
				"(hosts = %s); not answering\n",
				s->hosts);
		else
			fprintf(
			    stderr,
			    "apitoken askpass: %s is not in hosts (hosts = %s); not answering\n",
			    host, s->hosts);
		return APT_DENY;
	}
	return APT_OK;
}

/* The answer: the token and a line break on stdout. */
static enum apt_rc answer(const struct settings *s)
{
	const char *sock = getenv(TOKENSOCK_ENV);
	char err[512], *tok = NULL;
	size_t len;
	enum apt_rc rc;

	/* Under `apitoken exec` the token is not in the environment: exec serves it. */
	if (sock != NULL && sock[0] != '\0')
		rc = tokensock_fetch(sock, &tok, &len, err, sizeof(err));
	else
		rc = settings_token(s, &tok, &len, err, sizeof(err));
	if (rc != APT_OK)
		fprintf(stderr, "apitoken askpass: %s\n", rc == APT_NOMEM ? "out of memory" : err);
	else if (fwrite(tok, 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
		 fflush(stdout) != 0)
		rc = APT_UNAVAIL;
	free_secret(tok);
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: apitoken askpass [PROMPT]\n"
	      "       apitoken-askpass PROMPT\n"
	      "\n"
	      "The SSH_ASKPASS program: ssh runs it with its prompt as the only argument.\n"
	      "It prints the token and a newline when PROMPT is the API token prompt\n"
	      "(\"API token: \", or prompt / APITOKEN_PROMPT), alone or after ssh's\n"
	      "\"(user@host) \", from a host that matches hosts when hosts is set; under\n"
	      "`apitoken exec --password` also \"user@host's password: \". For any other\n"
	      "prompt it prints nothing and exits 1.\n"
	      "\n"
	      "  --help, -h   this text (ssh never asks that; the token is not printed)\n"
	      "\n"
	      "The token comes from the socket of `apitoken exec` (APITOKEN_ASKPASS_SOCKET),\n"
	      "else from APITOKEN_TOKEN or token_file in ~/.config/apitoken/config.\n"
	      "Exit status: 0 printed the token, 1 did not, 2 usage. See apitoken(1).\n",
	      f);
}

int cmd_askpass(int argc, char **argv)
{
	struct settings s;
	char err[512];
	enum apt_rc rc;

	if (argc > 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/*
	 * Before the settings and the token are even read: whatever the
	 * environment holds, this answer cannot carry the token.
	 */
	if (argc == 2 && help_option(argv[1])) {
		usage(stdout);
		return 0;
	}
	rc = settings_load(&s, err, sizeof(err));
	if (rc != APT_OK)
		fprintf(stderr, "apitoken askpass: %s\n", rc == APT_NOMEM ? "out of memory" : err);
	else if ((rc = prompt_ours(&s, argc > 1 ? argv[1] : "")) == APT_OK)
		rc = answer(&s);
	settings_free(&s);
	return askpass_exit_status(rc);
}
