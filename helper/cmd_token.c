/*
 * `apitoken token check`: says whether the API token is good, without ever
 * printing it. With token_url, by the api_token exchange; otherwise by what
 * the token is for: asking the certificate endpoint to sign a throwaway key,
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

/* The check itself: the same path load takes (the exchange is part of the apitoken protocol). */
static enum cert_rc token_check(char *err, size_t errlen)
{
	struct settings s;
	char *tok = NULL;
	size_t len;
	enum cert_rc rc = CERT_LOCAL;

	if (settings_load(&s, err, errlen) == APT_OK &&
	    settings_token(&s, &tok, &len, err, errlen) == APT_OK)
		rc = s.token_url != NULL && s.cert_protocol != CERT_PROTOCOL_VAULT
			 ? token_exchange_check(&s, tok, len, err, errlen)
			 : check_by_issuance(&s, tok, len, err, errlen);
	free_secret(tok);
	settings_free(&s);
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: apitoken token check\n"
	      "\n"
	      "Says whether the API token is valid, without printing any of it: with token_url\n"
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
	rc = token_check(err, sizeof(err));
	if (rc == CERT_OK)
		printf("The API token is valid.\n");
	else if (rc == CERT_REJECTED)
		fprintf(stderr, "The API token is not valid: %s\n", err);
	else
		fprintf(stderr, "Could not check the API token: %s\n", err);
	return cert_exit_status(rc);
}
