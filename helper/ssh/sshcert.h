/*
 * OpenSSH certificates (OpenSSH PROTOCOL.certkeys), as an issuer returns
 * them: parsed strictly from the blob or from the "TYPE BASE64 [COMMENT]"
 * line, checked for use as our user certificate, and their CA signature
 * verified with libcrypto. Everything read comes from the network, so every
 * length is checked, what may be printed must be printable, and anything the
 * format does not allow (unsorted or repeated options, trailing bytes) is
 * refused.
 */
#ifndef APITOKEN_SSHCERT_H
#define APITOKEN_SSHCERT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sshkey.h"

#define SSHCERT_SUFFIX "-cert-v01@openssh.com"

enum sshcert_type {
	SSHCERT_USER = 1,
	SSHCERT_HOST = 2,
};

/* valid_after == 0 means since always; valid_before == UINT64_MAX, until forever. */
#define SSHCERT_FOREVER UINT64_MAX

/* A critical option or an extension. */
struct sshcert_option {
	char *name;
	/* The string inside the data field; "" when the data field is empty. */
	char *value;
	int has_value; /* the data field was not empty */
};

/*
 * A parsed certificate. The text fields are NUL-terminated copies that
 * passed ssh_text_ok(); the byte fields point into blob. Read the lists
 * directly (principals[0..nprincipals), options[0..noptions),
 * extensions[0..nextensions)), in certificate order, which for options and
 * extensions is sorted by name.
 */
struct sshcert {
	struct buf blob;		/* the certificate, copied */
	char type[SSHKEY_TYPE_MAX];	/* ssh-ed25519-cert-v01@openssh.com */
	char key_type[SSHKEY_TYPE_MAX]; /* ssh-ed25519 */
	struct buf key;			/* the certified key as a plain public key blob */
	const unsigned char *nonce;
	size_t nonce_len;
	uint64_t serial;
	uint32_t cert_type; /* enum sshcert_type */
	char *key_id;
	char **principals;
	size_t nprincipals;
	uint64_t valid_after, valid_before;
	struct sshcert_option *options;
	size_t noptions;
	struct sshcert_option *extensions;
	size_t nextensions;
	size_t reserved_len;	     /* ignored, as the spec says */
	const unsigned char *ca_key; /* the signature key: a plain public key blob */
	size_t ca_key_len;
	char ca_type[SSHKEY_TYPE_MAX];	/* ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, … */
	char sig_type[SSHKEY_TYPE_MAX]; /* ssh-ed25519, rsa-sha2-512, ecdsa-sha2-nistp256, … */
	const unsigned char *sig;	/* the signature blob inside the signature */
	size_t sig_len;
	size_t signed_len; /* bytes of blob the signature covers */
};

/* Longest certificate we read. */
#define SSHCERT_MAX_BLOB SSHKEY_FILE_MAX

/*
 * Parses a certificate blob into c (whatever c held is overwritten, not
 * freed). Types: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa,
 * ssh-dss and the sk- ones, each with "-cert-v01@openssh.com". 0, or -1 with
 * a message in err and c left empty. Free a parsed c with sshcert_free().
 */
int sshcert_parse(struct sshcert *c, const void *blob, size_t len, char *err, size_t errlen);

/* The same from a line "TYPE BASE64 [COMMENT]"; TYPE must be the blob's. */
int sshcert_parse_line(struct sshcert *c, const char *line, size_t len, char *err, size_t errlen);

void sshcert_free(struct sshcert *c);

/*
 * Whether c can serve as our certificate at time now: a user certificate,
 * for the key whose public blob is key (len bytes), naming at least one
 * principal, with valid_after <= now < valid_before. 0, or -1 with the
 * reason in err. Does not verify the signature (sshcert_verify()).
 */
int sshcert_check(const struct sshcert *c, const void *key, size_t len, uint64_t now, char *err,
		  size_t errlen);

/* Whether the certified key is the one whose public blob is key. */
int sshcert_key_is(const struct sshcert *c, const void *key, size_t len);

/* Whether the CA key is the one whose public blob is key (a pinned CA). */
int sshcert_ca_is(const struct sshcert *c, const void *key, size_t len);

/*
 * Seconds from now until valid_before (UINT64_MAX when forever); 0 when
 * expired or not yet valid.
 */
uint64_t sshcert_seconds_left(const struct sshcert *c, uint64_t now);

/* SHA256:… of the CA key, as ssh-keygen -L shows it. 0, or -1. */
int sshcert_ca_fingerprint(const struct sshcert *c, char out[SSHKEY_FP_LEN]);

/*
 * Verifies the CA's signature over the certificate with libcrypto: CA keys
 * ssh-ed25519; ssh-rsa with rsa-sha2-256 or rsa-sha2-512 (not SHA-1
 * "ssh-rsa", which OpenSSH no longer accepts; 1024 bits at least); and
 * ecdsa-sha2-nistp256/384/521. 0 when the signature is good, or -1 with the
 * reason in err (bad signature, unsupported CA type, libcrypto failure).
 */
int sshcert_verify(const struct sshcert *c, char *err, size_t errlen);

/* "user" or "host". */
const char *sshcert_type_name(const struct sshcert *c);

/*
 * A validity bound for people: "always" (0), "forever" (UINT64_MAX), or
 * UTC "2024-05-01T12:00:00Z", or the number of seconds when past year 9999.
 */
#define SSHCERT_TIME_LEN 32
void sshcert_format_time(uint64_t t, char out[SSHCERT_TIME_LEN]);

#endif
