/*
 * libFuzzer harness for helper/ssh/sshcert.c, the parser of certificates
 * that come from the network: each input is tried as a certificate blob and
 * as a "TYPE BASE64 [COMMENT]" line. What parses is then used as the helper
 * uses it (check, fingerprint, signature verification, times) and must
 * hold what the parser promises, and sshcert_check must accept exactly a
 * user certificate for the given key, with a principal, valid now; a
 * broken promise aborts, so the fuzzer reports it like a crash. Built by `make fuzz` (see the
 * Makefile).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshbuf.h"
#include "sshcert.h"
#include "sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text(const char *s)
{
	if (s == NULL || !ssh_text_ok((const unsigned char *)s, strlen(s)))
		abort();
}

static void options(const struct sshcert_option *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		text(o[i].name);
		text(o[i].value);
		/* Sorted and unique, as the parser enforces. */
		if (i > 0 && strcmp(o[i - 1].name, o[i].name) >= 0)
			abort();
	}
}

static void use(struct sshcert *c, size_t size)
{
	char err[256], fp[SSHKEY_FP_LEN], when[SSHCERT_TIME_LEN];
	struct sshbuf b;
	const unsigned char *p;
	size_t len;

	/* The certified key is a plain key blob whose type is key_type. */
	sshbuf_init(&b, c->key.p, c->key.len);
	if (sshbuf_get_string(&b, &p, &len) < 0 || len != strlen(c->key_type) ||
	    memcmp(p, c->key_type, len) != 0)
		abort();
	if (c->signed_len == 0 || c->signed_len >= c->blob.len || (size && c->blob.len > size))
		abort();
	if (c->cert_type != SSHCERT_USER && c->cert_type != SSHCERT_HOST)
		abort();
	text(c->key_id);
	for (size_t i = 0; i < c->nprincipals; i++)
		text(c->principals[i]);
	options(c->options, c->noptions);
	options(c->extensions, c->nextensions);

	/* Accepted for use: a user certificate for this key, with a principal, valid now. */
	if (sshcert_check(c, c->key.p, c->key.len, 1700000000, err, sizeof(err)) == 0) {
		if (c->cert_type != SSHCERT_USER || c->nprincipals == 0 ||
		    c->valid_after > 1700000000 || c->valid_before <= 1700000000 ||
		    sshcert_seconds_left(c, 1700000000) == 0)
			abort();
	} else if (sshcert_seconds_left(c, 1700000000) > 0 && c->cert_type == SSHCERT_USER &&
		   c->nprincipals > 0) {
		abort(); /* valid now, ours, with a principal: only the key could differ, and it is
			    ours */
	}
	if (sshcert_check(c, "x", 1, 0, err, sizeof(err)) == 0)
		abort(); /* not this key */
	if (!sshcert_key_is(c, c->key.p, c->key.len) || !sshcert_ca_is(c, c->ca_key, c->ca_key_len))
		abort();
	if (sshcert_ca_fingerprint(c, fp) == 0 && strlen(fp) != SSHKEY_FP_LEN - 1)
		abort();
	sshcert_verify(c, err, sizeof(err));
	sshcert_format_time(c->valid_after, when);
	sshcert_format_time(c->valid_before, when);
	sshcert_seconds_left(c, 1700000000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshcert c;
	char err[256];

	if (sshcert_parse(&c, data, size, err, sizeof(err)) == 0) {
		use(&c, size);
		sshcert_free(&c);
	}
	if (sshcert_parse_line(&c, (const char *)data, size, err, sizeof(err)) == 0) {
		use(&c, 0);
		sshcert_free(&c);
	}
	return 0;
}
