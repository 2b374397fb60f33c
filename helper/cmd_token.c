/*
 * `apitoken token check`: says whether the API token is good, without ever
 * printing it. With token_url, by the api_token exchange; otherwise by what
 * the token is for: asking the certificate endpoint to sign a throwaway key,
 * and checking what comes back.
 */
#include <stdbool.h>
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
static int check_by_issuance(const struct settings *s, const char *tok, size_t len, char *err,
			     size_t errlen)
{
	struct sshkey_ed25519 k;
	struct buf line = BUF_INIT, blob = BUF_INIT;
	struct sshcert c;
	char *cert = NULL;
	int rc;

	if (sshkey_generate(&k) < 0 || sshkey_public_line(&line, &k, "apitoken-check") < 0) {
		errf(err, errlen, "could not make a key");
		rc = EXIT_CONFIG;
		goto out;
	}
	line.p[line.len - 1] = '\0';
	rc = cert_issue(s, tok, len, (char *)line.p, &cert, err, errlen);
	if (rc != 0)
		goto out;
	sshkey_put_public(&blob, &k);
	if (sshcert_parse_line(&c, cert, strlen(cert), err, errlen) < 0) {
		rc = EXIT_BADCERT;
		goto out;
	}
	if (sshcert_check(&c, blob.p, blob.len, (uint64_t)time(NULL), err, errlen) < 0 ||
	    sshcert_verify(&c, err, errlen) < 0)
		rc = EXIT_BADCERT;
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

int cmd_token(int argc, char **argv)
{
	struct settings s;
	char err[512], *tok = NULL;
	size_t len;
	bool vault;
	int rc;

	if (argc != 2 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: apitoken token check\n");
		return EXIT_USAGE;
	}
	rc = settings_load(&s, err, sizeof(err)) == APT_OK ? 0 : EXIT_CONFIG;
	if (rc == 0)
		rc = settings_token(&s, &tok, &len, err, sizeof(err)) == APT_OK ? 0 : EXIT_CONFIG;
	/* The same path load takes: the exchange is part of the apitoken protocol only. */
	vault = s.cert_protocol != NULL && strcmp(s.cert_protocol, "vault") == 0;
	if (rc == 0)
		rc = s.token_url != NULL && !vault
			 ? token_exchange_check(&s, tok, len, err, sizeof(err))
			 : check_by_issuance(&s, tok, len, err, sizeof(err));
	switch (rc) {
	case 0:
		printf("The API token is valid.\n");
		break;
	case EXIT_REJECTED:
		fprintf(stderr, "The API token is not valid: %s\n", err);
		break;
	default:
		fprintf(stderr, "Could not check the API token: %s\n", err);
		break;
	}
	free_secret(tok);
	settings_free(&s);
	return rc;
}
