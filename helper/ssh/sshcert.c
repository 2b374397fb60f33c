/*
 * OpenSSH certificates: the strict parser, the checks that make one usable
 * as our user certificate, and CA signature verification (see sshcert.h).
 * Written from OpenSSH's PROTOCOL.certkeys, RFC 4251 §5 (string, mpint),
 * RFC 5656 §3.1 (ECDSA), RFC 8332 (RSA with SHA-2) and RFC 8709 (Ed25519).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "errmsg.h"
#include "sshbuf.h"
#include "sshcert.h"
#include "sshkey.h"
#include "timefmt.h"

enum key_kind { K_ED25519, K_ECDSA, K_RSA, K_DSA, K_SK_ECDSA, K_SK_ED25519 };

struct key_type {
	const char *name; /* plain key type */
	const char *cert; /* its certificate type */
	enum key_kind kind;
	const char *curve; /* ECDSA: the curve identifier in the key (RFC 5656 §6.1) */
	const char *group; /* ECDSA: libcrypto's name for that curve */
	size_t point_len;  /* ECDSA: an uncompressed point, 0x04 || x || y */
};

/* The sk- names do not follow "name + SSHCERT_SUFFIX", hence the table. */
static const struct key_type key_types[] = {
    {"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", K_ED25519, NULL, NULL, 0},
    {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com", K_ECDSA, "nistp256",
     "P-256", 65},
    {"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com", K_ECDSA, "nistp384",
     "P-384", 97},
    {"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com", K_ECDSA, "nistp521",
     "P-521", 133},
    {"ssh-rsa", "ssh-rsa-cert-v01@openssh.com", K_RSA, NULL, NULL, 0},
    {"ssh-dss", "ssh-dss-cert-v01@openssh.com", K_DSA, NULL, NULL, 0},
    {"sk-ecdsa-sha2-nistp256@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
     K_SK_ECDSA, "nistp256", "P-256", 65},
    {"sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com", K_SK_ED25519, NULL, NULL,
     0},
};

#define NKEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

/* 16384-bit RSA (OpenSSH's largest), in bytes: an mpint past it is refused. */
#define MPINT_MAX_BYTES 2048
/* OpenSSH refuses smaller RSA keys. */
#define RSA_MIN_BITS 1024

/* The fields of a plain key, for verification. */
struct key_fields {
	const unsigned char *a, *b; /* RSA e, n; ECDSA Q; Ed25519 pk */
	size_t alen, blen;
};

static const struct key_type *type_by_name(const char *name)
{
	for (size_t i = 0; i < NKEY_TYPES; i++)
		if (strcmp(key_types[i].name, name) == 0)
			return &key_types[i];
	return NULL;
}

static const struct key_type *type_by_cert(const char *name)
{
	for (size_t i = 0; i < NKEY_TYPES; i++)
		if (strcmp(key_types[i].cert, name) == 0)
			return &key_types[i];
	return NULL;
}

static int eq(const unsigned char *p, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(p, s, len) == 0;
}

/*
 * An mpint (RFC 4251 §5) that a key may hold: positive, in its shortest
 * form, at most MPINT_MAX_BYTES. *p, *len: its magnitude, without the 0x00
 * that keeps the top bit clear.
 */
static int get_mpint(struct sshbuf *b, const unsigned char **p, size_t *len)
{
	const unsigned char *q;
	size_t n, at = b->off;

	if (sshbuf_get_string(b, &q, &n) < 0)
		return -1;
	if (n > 0 && (q[0] & 0x80) != 0)
		goto bad; /* negative */
	if (n > 0 && q[0] == 0 && (n == 1 || (q[1] & 0x80) == 0))
		goto bad; /* a needless leading zero */
	if (n > 0 && q[0] == 0) {
		q++;
		n--;
	}
	if (n > MPINT_MAX_BYTES)
		goto bad;
	*p = q;
	*len = n;
	return 0;
bad:
	b->off = at;
	return -1;
}

/* A key's fields after its type name (or, in a certificate, after the nonce). */
static int get_key_fields(struct sshbuf *b, const struct key_type *t, struct key_fields *f,
			  char *err, size_t errlen)
{
	const unsigned char *p, *unused;
	size_t len, unused_len;

	memset(f, 0, sizeof(*f));
	switch (t->kind) {
	case K_RSA:
		if (get_mpint(b, &f->a, &f->alen) < 0 || get_mpint(b, &f->b, &f->blen) < 0 ||
		    f->alen == 0 || f->blen == 0)
			return errf(err, errlen, "bad %s key", t->name);
		return 0;
	case K_DSA:
		for (int i = 0; i < 4; i++)
			if (get_mpint(b, &unused, &unused_len) < 0 || unused_len == 0)
				return errf(err, errlen, "bad %s key", t->name);
		return 0;
	case K_ECDSA:
	case K_SK_ECDSA:
		if (sshbuf_get_string(b, &p, &len) < 0 || !eq(p, len, t->curve))
			return errf(err, errlen, "bad curve in %s key", t->name);
		if (sshbuf_get_string(b, &f->a, &f->alen) < 0 || f->alen != t->point_len ||
		    f->a[0] != 0x04)
			return errf(err, errlen, "bad %s point", t->name);
		break;
	case K_ED25519:
	case K_SK_ED25519:
		if (sshbuf_get_string(b, &f->a, &f->alen) < 0 || f->alen != SSHKEY_ED25519_LEN)
			return errf(err, errlen, "bad %s key", t->name);
		break;
	}
	if (t->kind == K_SK_ECDSA || t->kind == K_SK_ED25519) {
		/* The FIDO application, "ssh:" usually. */
		if (sshbuf_get_string(b, &p, &len) < 0 || !ssh_text_ok(p, len))
			return errf(err, errlen, "bad application in %s key", t->name);
	}
	return 0;
}

/* A whole plain public key blob (the CA key): type, fields, nothing after. */
static int parse_plain_key(const unsigned char *blob, size_t len, const struct key_type **t,
			   struct key_fields *f, char *err, size_t errlen)
{
	char name[SSHKEY_TYPE_MAX];
	struct sshbuf b;

	sshbuf_init(&b, blob, len);
	if (sshbuf_get_cstring(&b, name, sizeof(name)) < 0)
		return errf(err, errlen, "bad key type");
	*t = type_by_name(name);
	if (*t == NULL) {
		if (type_by_cert(name) != NULL)
			return errf(err, errlen,
				    "a certificate as CA key (chains are not allowed)");
		if (!ssh_text_ok((const unsigned char *)name, strlen(name)))
			return errf(err, errlen, "unknown key type");
		return errf(err, errlen, "unknown key type %s", name);
	}
	if (get_key_fields(&b, *t, f, err, errlen) < 0)
		return -1;
	if (sshbuf_left(&b) != 0)
		return errf(err, errlen, "trailing bytes after the %s key", name);
	return 0;
}

static char *dup_text(const unsigned char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* The valid principals: a list of strings, each printable. */
static int parse_principals(struct sshcert *c, struct sshbuf *list, char *err, size_t errlen)
{
	struct sshbuf scan = *list;
	const unsigned char *p;
	size_t len, n = 0;

	while (sshbuf_left(&scan) > 0) {
		if (sshbuf_get_string(&scan, &p, &len) < 0)
			return errf(err, errlen, "truncated principal list");
		if (!ssh_text_ok(p, len))
			return errf(err, errlen, "principal %zu is not printable", n + 1);
		n++;
	}
	if (n == 0)
		return 0;
	c->principals = calloc(n, sizeof(*c->principals));
	if (c->principals == NULL)
		return errf(err, errlen, "out of memory");
	c->nprincipals = n; /* all NULL until filled: sshcert_free() copes */
	for (size_t i = 0; i < n; i++) {
		if (sshbuf_get_string(list, &p, &len) < 0)
			return errf(err, errlen, "truncated principal list");
		if ((c->principals[i] = dup_text(p, len)) == NULL)
			return errf(err, errlen, "out of memory");
	}
	return 0;
}

static int name_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/*
 * Critical options or extensions: (string name, string data) pairs, sorted
 * by name with no name twice (PROTOCOL.certkeys). The data is empty, or a
 * string holding the value (force-command, source-address): nothing else.
 */
static int parse_options(struct sshbuf *list, const char *what, struct sshcert_option **out,
			 size_t *nout, char *err, size_t errlen)
{
	struct sshbuf scan = *list, data;
	const unsigned char *name, *prev = NULL, *value;
	size_t name_len, prev_len = 0, value_len, n = 0;

	while (sshbuf_left(&scan) > 0) {
		if (sshbuf_get_string(&scan, &name, &name_len) < 0 ||
		    sshbuf_get_sub(&scan, &data) < 0)
			return errf(err, errlen, "truncated %s", what);
		if (name_len == 0 || !ssh_text_ok(name, name_len))
			return errf(err, errlen, "%s %zu: bad name", what, n + 1);
		if (prev != NULL && name_cmp(prev, prev_len, name, name_len) >= 0)
			return errf(err, errlen, "%s %.*s: not sorted or repeated", what,
				    (int)name_len, (const char *)name);
		if (sshbuf_left(&data) > 0 &&
		    (sshbuf_get_string(&data, &value, &value_len) < 0 || sshbuf_left(&data) != 0 ||
		     !ssh_text_ok(value, value_len)))
			return errf(err, errlen, "%s %.*s: bad value", what, (int)name_len,
				    (const char *)name);
		prev = name;
		prev_len = name_len;
		n++;
	}
	if (n == 0)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (*out == NULL)
		return errf(err, errlen, "out of memory");
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		struct sshcert_option *o = &(*out)[i];

		/* Checked above: these reads succeed. */
		if (sshbuf_get_string(list, &name, &name_len) < 0 ||
		    sshbuf_get_sub(list, &data) < 0)
			return errf(err, errlen, "truncated %s", what);
		value = (const unsigned char *)"";
		value_len = 0;
		o->has_value = sshbuf_left(&data) > 0;
		if (o->has_value && sshbuf_get_string(&data, &value, &value_len) < 0)
			return errf(err, errlen, "%s: bad value", what);
		o->name = dup_text(name, name_len);
		o->value = dup_text(value, value_len);
		if (o->name == NULL || o->value == NULL)
			return errf(err, errlen, "out of memory");
	}
	return 0;
}

/* The signature field: string format, string blob, nothing after. */
static int parse_signature(struct sshcert *c, struct sshbuf *b, char *err, size_t errlen)
{
	struct sshbuf sig;

	if (sshbuf_get_sub(b, &sig) < 0)
		return errf(err, errlen, "truncated at the signature");
	if (sshbuf_get_cstring(&sig, c->sig_type, sizeof(c->sig_type)) < 0 ||
	    !ssh_text_ok((const unsigned char *)c->sig_type, strlen(c->sig_type))) {
		c->sig_type[0] = '\0';
		return errf(err, errlen, "bad signature type");
	}
	if (sshbuf_get_string(&sig, &c->sig, &c->sig_len) < 0 || sshbuf_left(&sig) != 0)
		return errf(err, errlen, "bad signature");
	return 0;
}

static int parse_blob(struct sshcert *c, char *err, size_t errlen)
{
	const struct key_type *t, *ca = NULL;
	struct key_fields f;
	struct sshbuf b, list;
	const unsigned char *p;
	size_t len, fields;

	sshbuf_init(&b, c->blob.p, c->blob.len);
	if (sshbuf_get_cstring(&b, c->type, sizeof(c->type)) < 0) {
		c->type[0] = '\0';
		return errf(err, errlen, "bad certificate type");
	}
	t = type_by_cert(c->type);
	if (t == NULL) {
		int shown = ssh_text_ok((const unsigned char *)c->type, strlen(c->type));

		if (shown && type_by_name(c->type) != NULL)
			return errf(err, errlen, "a plain %s key, not a certificate", c->type);
		return errf(err, errlen, "unknown certificate type%s%s", shown ? " " : "",
			    shown ? c->type : "");
	}
	snprintf(c->key_type, sizeof(c->key_type), "%s", t->name);
	if (sshbuf_get_string(&b, &c->nonce, &c->nonce_len) < 0)
		return errf(err, errlen, "truncated at the nonce");

	/* The key's fields, in the order of the plain key's: the plain blob is its name and them.
	 */
	fields = b.off;
	if (get_key_fields(&b, t, &f, err, errlen) < 0)
		return -1;
	sshbuf_put_cstring(&c->key, t->name);
	buf_append(&c->key, c->blob.p + fields, b.off - fields);
	if (c->key.failed)
		return errf(err, errlen, "out of memory");

	if (sshbuf_get_u64(&b, &c->serial) < 0)
		return errf(err, errlen, "truncated at the serial");
	if (sshbuf_get_u32(&b, &c->cert_type) < 0)
		return errf(err, errlen, "truncated at the certificate type");
	if (c->cert_type != SSHCERT_USER && c->cert_type != SSHCERT_HOST)
		return errf(err, errlen,
			    "certificate type %" PRIu32 " is neither user (1) nor host (2)",
			    c->cert_type);
	if (sshbuf_get_string(&b, &p, &len) < 0)
		return errf(err, errlen, "truncated at the key id");
	if (!ssh_text_ok(p, len))
		return errf(err, errlen, "the key id is not printable");
	if ((c->key_id = dup_text(p, len)) == NULL)
		return errf(err, errlen, "out of memory");
	if (sshbuf_get_sub(&b, &list) < 0)
		return errf(err, errlen, "truncated at the principals");
	if (parse_principals(c, &list, err, errlen) < 0)
		return -1;
	if (sshbuf_get_u64(&b, &c->valid_after) < 0 || sshbuf_get_u64(&b, &c->valid_before) < 0)
		return errf(err, errlen, "truncated at the validity");
	if (sshbuf_get_sub(&b, &list) < 0)
		return errf(err, errlen, "truncated at the critical options");
	if (parse_options(&list, "critical option", &c->options, &c->noptions, err, errlen) < 0)
		return -1;
	if (sshbuf_get_sub(&b, &list) < 0)
		return errf(err, errlen, "truncated at the extensions");
	if (parse_options(&list, "extension", &c->extensions, &c->nextensions, err, errlen) < 0)
		return -1;
	if (sshbuf_get_string(&b, &p, &c->reserved_len) < 0)
		return errf(err, errlen, "truncated at the reserved field");
	if (sshbuf_get_string(&b, &c->ca_key, &c->ca_key_len) < 0)
		return errf(err, errlen, "truncated at the signature key");
	/* ca is set whenever parse_plain_key succeeds; the test is for the analyzer. */
	if (parse_plain_key(c->ca_key, c->ca_key_len, &ca, &f, err, errlen) < 0 || ca == NULL)
		return -1;
	snprintf(c->ca_type, sizeof(c->ca_type), "%s", ca->name);
	/* Everything from the type to the signature key is signed. */
	c->signed_len = b.off;
	if (parse_signature(c, &b, err, errlen) < 0)
		return -1;
	if (sshbuf_left(&b) != 0)
		return errf(err, errlen, "%zu trailing bytes after the signature", sshbuf_left(&b));
	return 0;
}

int sshcert_parse(struct sshcert *c, const void *blob, size_t len, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (len > SSHCERT_MAX_BLOB)
		return errf(err, errlen, "certificate larger than %d bytes", SSHCERT_MAX_BLOB);
	if (buf_append(&c->blob, blob, len) < 0)
		return errf(err, errlen, "out of memory");
	if (parse_blob(c, err, errlen) < 0) {
		sshcert_free(c);
		return -1;
	}
	return 0;
}

int sshcert_parse_line(struct sshcert *c, const char *line, size_t len, char *err, size_t errlen)
{
	struct buf blob = BUF_INIT;
	char type[SSHKEY_TYPE_MAX];
	int rc;

	memset(c, 0, sizeof(*c));
	if (sshkey_parse_line(type, &blob, line, len, err, errlen) < 0) {
		buf_free(&blob);
		return -1;
	}
	rc = sshcert_parse(c, blob.p, blob.len, err, errlen);
	buf_free(&blob);
	return rc;
}

static void free_options(struct sshcert_option *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].name);
		free(o[i].value);
	}
	free(o);
}

void sshcert_free(struct sshcert *c)
{
	buf_free(&c->blob);
	buf_free(&c->key);
	free(c->key_id);
	for (size_t i = 0; i < c->nprincipals; i++)
		free(c->principals[i]);
	free(c->principals);
	free_options(c->options, c->noptions);
	free_options(c->extensions, c->nextensions);
	memset(c, 0, sizeof(*c));
}

int sshcert_key_is(const struct sshcert *c, const void *key, size_t len)
{
	return c->key.len == len && len > 0 && memcmp(c->key.p, key, len) == 0;
}

int sshcert_ca_is(const struct sshcert *c, const void *key, size_t len)
{
	return c->ca_key_len == len && len > 0 && memcmp(c->ca_key, key, len) == 0;
}

const char *sshcert_type_name(const struct sshcert *c)
{
	return c->cert_type == SSHCERT_USER ? "user" : c->cert_type == SSHCERT_HOST ? "host" : "?";
}

_Static_assert(SSHCERT_TIME_LEN >= TIMEFMT_ISO_LEN, "a time fits");

void sshcert_format_time(uint64_t t, char out[SSHCERT_TIME_LEN])
{
	/* 9999-12-31T23:59:59Z: past it, the number is as readable as a date. */
	const uint64_t last = UINT64_C(253402300799);

	if (t == 0) {
		snprintf(out, SSHCERT_TIME_LEN, "always");
		return;
	}
	if (t == SSHCERT_FOREVER) {
		snprintf(out, SSHCERT_TIME_LEN, "forever");
		return;
	}
	if (t <= last) {
		timefmt_iso((time_t)t, out);
		return;
	}
	snprintf(out, SSHCERT_TIME_LEN, "%" PRIu64, t);
}

uint64_t sshcert_seconds_left(const struct sshcert *c, uint64_t now)
{
	if (now < c->valid_after || now >= c->valid_before)
		return 0;
	if (c->valid_before == SSHCERT_FOREVER)
		return UINT64_MAX;
	return c->valid_before - now;
}

int sshcert_check(const struct sshcert *c, const void *key, size_t len, uint64_t now, char *err,
		  size_t errlen)
{
	char when[SSHCERT_TIME_LEN], theirs[SSHKEY_FP_LEN], ours[SSHKEY_FP_LEN];

	if (c->cert_type != SSHCERT_USER)
		return errf(err, errlen, "a %s certificate, not a user certificate",
			    sshcert_type_name(c));
	if (!sshcert_key_is(c, key, len)) {
		if (sshkey_fingerprint(c->key.p, c->key.len, theirs) < 0 ||
		    sshkey_fingerprint(key, len, ours) < 0)
			return errf(err, errlen, "the certificate is for another key");
		return errf(err, errlen, "the certificate is for another key (%s %s, ours is %s)",
			    c->key_type, theirs, ours);
	}
	if (c->nprincipals == 0)
		return errf(err, errlen, "the certificate names no principal");
	if (c->valid_after >= c->valid_before)
		return errf(err, errlen, "the certificate's validity period is empty");
	if (now < c->valid_after) {
		sshcert_format_time(c->valid_after, when);
		return errf(err, errlen, "the certificate is not valid before %s", when);
	}
	if (now >= c->valid_before) {
		sshcert_format_time(c->valid_before, when);
		return errf(err, errlen, "the certificate expired at %s", when);
	}
	return 0;
}

int sshcert_ca_fingerprint(const struct sshcert *c, char out[SSHKEY_FP_LEN])
{
	return sshkey_fingerprint(c->ca_key, c->ca_key_len, out);
}

/* A public key from OSSL_PARAMs: how OpenSSL 3 builds RSA and EC keys from their numbers. */
static EVP_PKEY *pkey_from_params(const char *alg, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *pkey = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static EVP_PKEY *pkey_rsa(const struct key_fields *f)
{
	BIGNUM *e = BN_bin2bn(f->a, (int)f->alen, NULL);
	BIGNUM *n = BN_bin2bn(f->b, (int)f->blen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;

	if (e != NULL && n != NULL && bld != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
		pkey = pkey_from_params("RSA", params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	return pkey;
}

static EVP_PKEY *pkey_ec(const struct key_type *t, const struct key_fields *f)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)t->group, 0),
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)f->a, f->alen),
	    OSSL_PARAM_construct_end(),
	};

	/* libcrypto refuses a point that is not on the curve. */
	return pkey_from_params("EC", params);
}

static int digest_verify(EVP_PKEY *pkey, const EVP_MD *md, const unsigned char *sig, size_t siglen,
			 const unsigned char *data, size_t len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = m != NULL && EVP_DigestVerifyInit(m, NULL, md, NULL, pkey) == 1 &&
		 EVP_DigestVerify(m, sig, siglen, data, len) == 1;

	EVP_MD_CTX_free(m);
	return ok;
}

/* RFC 8332: the signature is as long as the modulus; OpenSSH accepts it shorter, zero-padded. */
static int verify_rsa(const struct sshcert *c, const struct key_fields *f, char *err, size_t errlen)
{
	const EVP_MD *md;
	EVP_PKEY *pkey;
	unsigned char *sig = NULL;
	int ok = 0;

	if (strcmp(c->sig_type, "rsa-sha2-256") == 0)
		md = EVP_sha256();
	else if (strcmp(c->sig_type, "rsa-sha2-512") == 0)
		md = EVP_sha512();
	else if (strcmp(c->sig_type, "ssh-rsa") == 0)
		return errf(err, errlen,
			    "the CA signed with SHA-1 (ssh-rsa), which is not accepted");
	else
		return errf(err, errlen, "signature type %s does not fit an ssh-rsa CA",
			    c->sig_type);
	if (f->blen * 8 < RSA_MIN_BITS)
		return errf(err, errlen, "the RSA CA key is shorter than %d bits", RSA_MIN_BITS);
	if (c->sig_len > f->blen)
		return errf(err, errlen, "bad signature: longer than the CA's modulus");
	pkey = pkey_rsa(f);
	if (pkey == NULL)
		return errf(err, errlen, "libcrypto refused the CA key");
	if (EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS) {
		EVP_PKEY_free(pkey);
		return errf(err, errlen, "the RSA CA key is shorter than %d bits", RSA_MIN_BITS);
	}
	sig = calloc(1, f->blen);
	if (sig != NULL) {
		memcpy(sig + (f->blen - c->sig_len), c->sig, c->sig_len);
		ok = digest_verify(pkey, md, sig, f->blen, c->blob.p, c->signed_len);
	}
	free(sig);
	EVP_PKEY_free(pkey);
	if (sig == NULL)
		return errf(err, errlen, "out of memory");
	return ok ? 0 : errf(err, errlen, "bad signature");
}

/* RFC 5656 §3.1.2: the blob is mpint r, mpint s; libcrypto wants them as DER. */
static int verify_ecdsa(const struct sshcert *c, const struct key_type *t,
			const struct key_fields *f, char *err, size_t errlen)
{
	const unsigned char *r, *s;
	size_t rlen, slen;
	struct sshbuf b;
	ECDSA_SIG *sig = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *der = NULL;
	int derlen = 0, ok = 0;
	const EVP_MD *md;
	EVP_PKEY *pkey;

	if (strcmp(c->sig_type, t->name) != 0)
		return errf(err, errlen, "signature type %s does not fit an %s CA", c->sig_type,
			    t->name);
	md = t->point_len == 65 ? EVP_sha256() : t->point_len == 97 ? EVP_sha384() : EVP_sha512();
	sshbuf_init(&b, c->sig, c->sig_len);
	if (get_mpint(&b, &r, &rlen) < 0 || get_mpint(&b, &s, &slen) < 0 || sshbuf_left(&b) != 0 ||
	    rlen == 0 || slen == 0)
		return errf(err, errlen, "bad signature");
	pkey = pkey_ec(t, f);
	if (pkey == NULL)
		return errf(err, errlen, "libcrypto refused the CA key");
	sig = ECDSA_SIG_new();
	br = BN_bin2bn(r, (int)rlen, NULL);
	bs = BN_bin2bn(s, (int)slen, NULL);
	if (sig != NULL && br != NULL && bs != NULL && ECDSA_SIG_set0(sig, br, bs) == 1) {
		br = bs = NULL; /* sig owns them */
		derlen = i2d_ECDSA_SIG(sig, &der);
		if (derlen > 0)
			ok = digest_verify(pkey, md, der, (size_t)derlen, c->blob.p, c->signed_len);
	} else {
		derlen = -1;
	}
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	BN_free(br);
	BN_free(bs);
	EVP_PKEY_free(pkey);
	if (derlen <= 0)
		return errf(err, errlen, "libcrypto failed");
	return ok ? 0 : errf(err, errlen, "bad signature");
}

static int verify_ed25519(const struct sshcert *c, const struct key_fields *f, char *err,
			  size_t errlen)
{
	EVP_PKEY *pkey;
	int ok;

	if (strcmp(c->sig_type, SSHKEY_ED25519) != 0)
		return errf(err, errlen, "signature type %s does not fit an ssh-ed25519 CA",
			    c->sig_type);
	if (c->sig_len != 64)
		return errf(err, errlen, "bad signature: %zu bytes, not 64", c->sig_len);
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, f->a, f->alen);
	if (pkey == NULL)
		return errf(err, errlen, "libcrypto refused the CA key");
	/* Ed25519 hashes the message itself: no digest here. */
	ok = digest_verify(pkey, NULL, c->sig, c->sig_len, c->blob.p, c->signed_len);
	EVP_PKEY_free(pkey);
	return ok ? 0 : errf(err, errlen, "bad signature");
}

int sshcert_verify(const struct sshcert *c, char *err, size_t errlen)
{
	const struct key_type *t = NULL;
	struct key_fields f;
	int rc;

	if (c->blob.p == NULL || c->signed_len == 0)
		return errf(err, errlen, "no certificate");
	if (parse_plain_key(c->ca_key, c->ca_key_len, &t, &f, err, errlen) < 0 || t == NULL)
		return -1;
	switch (t->kind) {
	case K_ED25519:
		rc = verify_ed25519(c, &f, err, errlen);
		break;
	case K_RSA:
		rc = verify_rsa(c, &f, err, errlen);
		break;
	case K_ECDSA:
		rc = verify_ecdsa(c, t, &f, err, errlen);
		break;
	default:
		rc = errf(err, errlen, "cannot verify signatures of %s CA keys", t->name);
		break;
	}
	/* A refused signature leaves errors in libcrypto's queue: not for the next caller. */
	ERR_clear_error();
	return rc;
}
