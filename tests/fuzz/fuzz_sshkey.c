/*
 * libFuzzer harness for helper/ssh/sshkey.c's readers: the private key
 * file (tried as the text given, and with the input as the binary inside
 * the PEM armour, which reaches the openssh-key-v1 parser far more often)
 * and the public key line. A key that parses must write back and read
 * again to the same key and comment; anything else aborts, so the fuzzer
 * reports it like a crash. Built by `make fuzz` (see the Makefile).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sshbuf.h"
#include "sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_private(const void *p, size_t len)
{
	struct sshkey_ed25519 k, k2;
	char comment[256], comment2[256], err[256];
	struct buf out = BUF_INIT;

	if (sshkey_parse_private(&k, comment, sizeof(comment), p, len, err, sizeof(err)) < 0)
		return;
	/* The writer refuses comments with control characters: those need no round trip. */
	if (sshkey_private_file(&out, &k, comment) == 0) {
		if (sshkey_parse_private(&k2, comment2, sizeof(comment2), out.p, out.len, err,
					 sizeof(err)) < 0 ||
		    memcmp(&k, &k2, sizeof(k)) != 0 || strcmp(comment, comment2) != 0)
			abort();
	}
	buf_free(&out);
	sshkey_clear(&k);
	sshkey_clear(&k2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf pem = BUF_INIT, b64 = BUF_INIT, blob = BUF_INIT;
	char type[SSHKEY_TYPE_MAX], fp[SSHKEY_FP_LEN], err[256];

	parse_private(data, size);

	buf_append(&pem, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36);
	if (base64_encode(&b64, data, size) == 0) {
		for (size_t i = 0; i < b64.len; i += 70) {
			buf_append(&pem, b64.p + i, b64.len - i < 70 ? b64.len - i : 70);
			buf_append(&pem, "\n", 1);
		}
	}
	buf_append(&pem, "-----END OPENSSH PRIVATE KEY-----\n", 34);
	if (!pem.failed)
		parse_private(pem.p, pem.len);

	if (sshkey_parse_line(type, &blob, (const char *)data, size, err, sizeof(err)) == 0)
		sshkey_fingerprint(blob.p, blob.len, fp);

	buf_free(&pem);
	buf_free(&b64);
	buf_free(&blob);
	return 0;
}
