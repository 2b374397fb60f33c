/*
 * `apitoken token check`: says whether the API token is good, without ever
 * printing it. With check_url, by the platform's own Bearer check of its
 * tokens; with token_url, by the api_token exchange; otherwise by what the
 * token is for: asking the certificate endpoint to sign a throwaway key,
 * and checking what comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "certissue.h"
#include "commands.h"
#include "settings.h"
#include "sshcert.h"
#include "sshkey.h"
#include "errmsg.h"

/* A certificate for a key made only for this check, and forgotten after it. */
static enum cert_rc check_by_issuance(const struct settings *s, const char *tok, size_t len,
				      char *err, size_t errlen)
{
	struct sshkey_ed25519 k;
	struct buf line = BUF_INIT, blob = BUF_INIT;
	struct sshcert c;
	char *cert = NULL;
	enum cert_rc rc;

	if (sshkey_generate(&k) < 0 || sshkey_public_line(&line, &k, "apitoken-check") < 0) {
		errf(err, errlen, "could not make a key");
		rc = CERT_LOCAL;
		goto out;
	}
	rc = cert_issue(s, tok, len, (char *)line.p, &cert, err, errlen);
	if (rc != CERT_OK)
		goto out;
	sshkey_put_public(&blob, &k);
	if (sshcert_parse_line(&c, cert, strlen(cert), err, errlen) < 0) {
		rc = CERT_BAD;
		goto out;
	}
	if (sshcert_check(&c, blob.p, blob.len, (uint64_t)time(NULL), err, errlen) < 0 ||
	    sshcert_verify(&c, err, errlen) < 0)
		rc = CERT_BAD;
	else
		rc = cert_ca_pinned(s, &c, err, errlen);
	sshcert_free(&c);
out:
	sshkey_clear(&k);
	free(cert);
	buf_free(&line);
	buf_free(&blob);
	return rc;
}

/* Nothing to ask: which settings would let token check ask, plainly. */
static enum cert_rc no_check_setting(char *err, size_t errlen)
{
	errf(err, errlen,
	     "nothing to check it with: set check_url (APITOKEN_CHECK_URL: a URL that answers "
	     "a GET with the token as the bearer, such as the platform's /userinfo or "
	     "https://api.upcloud.com/1.3/account), token_url, or cert_url");
	return CERT_LOCAL;
}

/*
 * The check itself: the same path load takes (the exchange is part of the
 * apitoken protocol). src says where the token was found, if it was.
 */
static enum cert_rc token_check(struct token_source *src, char *err, size_t errlen)
{
	struct settings s;
	char *tok = NULL;
	size_t len;
	enum cert_rc rc = CERT_LOCAL;

	memset(src, 0, sizeof(*src));
	if (settings_load(&s, err, errlen) == APT_OK &&
	    settings_token_from(&s, &tok, &len, src, err, errlen) == APT_OK)
		rc = s.check_url != NULL ? token_bearer_check(&s, tok, len, err, errlen)
		     : s.token_url != NULL && s.cert_protocol != CERT_PROTOCOL_VAULT
			 ? token_exchange_check(&s, tok, len, err, errlen)
		     : s.cert_url != NULL ? check_by_issuance(&s, tok, len, err, errlen)
					  : no_check_setting(err, errlen);
	free_secret(tok);
	settings_free(&s);
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: apitoken token check\n"
	      "\n"
	      "Says whether the API token is valid, without printing any of it: with check_url\n"
	      "by the platform's own check (a GET with the token as the bearer), with token_url\n"
	      "by the token exchange, otherwise by asking cert_url to sign a throwaway key.\n"
	      "\n"
	      "  --help, -h   this text\n"
	      "\n"
	      "The token comes from APITOKEN_TOKEN or token_file in ~/.config/apitoken/config.\n"
	      "Exit status: 0 valid, 2 usage, 3 settings or no token, 4 refused by the issuer,\n"
	      "5 issuer unavailable, 6 a certificate failing our checks. See apitoken(1).\n",
	      f);
}

int cmd_token(int argc, char **argv)
{
	struct token_source src;
	char err[512];
	enum cert_rc rc;

	/* `token --help` and `token check --help` alike. */
	if ((argc == 2 && help_option(argv[1])) ||
	    (argc == 3 && strcmp(argv[1], "check") == 0 && help_option(argv[2]))) {
		usage(stdout);
		return 0;
	}
	if (argc != 2 || strcmp(argv[1], "check") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = token_check(&src, err, sizeof(err));
	/* Where it came from, never what it is: a CI log shows which variable to fix. */
	char from[sizeof(src.name) + 32] = "";

	if (src.name[0] != '\0')
		snprintf(from, sizeof(from), " from %s%s", src.file ? "token_file " : "", src.name);
	if (src.trimmed_eol)
		fprintf(stderr, "apitoken: note: removed the trailing newline from %s\n", src.name);
	if (rc == CERT_OK)
		printf("The API token%s is valid.\n", from);
	else if (rc == CERT_REJECTED)
		fprintf(stderr, "The API token%s is not valid: %s\n", from, err);
	else
		fprintf(stderr, "Could not check the API token%s: %s\n", from, err);
	return cert_exit_status(rc);
}
