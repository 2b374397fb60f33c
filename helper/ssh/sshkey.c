/*
 * Ed25519 keys in OpenSSH's formats, the SHA256 fingerprint, public key
 * lines (see sshkey.h). Written from OpenSSH's PROTOCOL.key, RFC 4253 §6.6
 * and RFC 8709; every read goes through the bounds-checked sshbuf.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "errmsg.h"
#include "sha256.h"
#include "sshbuf.h"
#include "sshkey.h"

#define AUTH_MAGIC     "openssh-key-v1"	    /* followed by its NUL in the file */
#define AUTH_MAGIC_LEN (sizeof(AUTH_MAGIC)) /* with the NUL */
#define PEM_BEGIN      "-----BEGIN OPENSSH PRIVATE KEY-----"
#define PEM_END	       "-----END OPENSSH PRIVATE KEY-----"
#define PEM_COLUMNS    70 /* what ssh-keygen writes */
/* Cipher "none" pads the private section to 8 bytes (PROTOCOL.key). */
#define NONE_BLOCK 8

void sshkey_clear(struct sshkey_ed25519 *k)
{
	explicit_bzero(k, sizeof(*k));
}

int sshkey_from_seed(struct sshkey_ed25519 *k, const unsigned char seed[SSHKEY_ED25519_LEN])
{
	EVP_PKEY *pkey;
	size_t n = sizeof(k->pk);
	int rc = -1;

	/* RFC 8032 §5.1.5: the public key is a function of the seed alone. */
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SSHKEY_ED25519_LEN);
	if (pkey == NULL)
		return -1;
	if (EVP_PKEY_get_raw_public_key(pkey, k->pk, &n) == 1 && n == sizeof(k->pk)) {
		if (k->seed != seed)
			memcpy(k->seed, seed, sizeof(k->seed));
		rc = 0;
	}
	EVP_PKEY_free(pkey);
	return rc;
}

int sshkey_generate(struct sshkey_ed25519 *k)
{
	unsigned char seed[SSHKEY_ED25519_LEN];
	int rc = -1;

	/* The private DRBG: this output is a secret key, never sent anywhere. */
	if (RAND_priv_bytes(seed, sizeof(seed)) == 1)
		rc = sshkey_from_seed(k, seed);
	explicit_bzero(seed, sizeof(seed));
	if (rc < 0)
		sshkey_clear(k);
	return rc;
}

void sshkey_put_public(struct buf *out, const struct sshkey_ed25519 *k)
{
	sshbuf_put_cstring(out, SSHKEY_ED25519);
	sshbuf_put_string(out, k->pk, sizeof(k->pk));
}

void sshkey_put_private_fields(struct buf *out, const struct sshkey_ed25519 *k)
{
	unsigned char sk[2 * SSHKEY_ED25519_LEN];

	sshbuf_put_string(out, k->pk, sizeof(k->pk));
	memcpy(sk, k->seed, SSHKEY_ED25519_LEN);
	memcpy(sk + SSHKEY_ED25519_LEN, k->pk, SSHKEY_ED25519_LEN);
	sshbuf_put_string(out, sk, sizeof(sk));
	explicit_bzero(sk, sizeof(sk));
}

/* A comment goes on one line of a .pub file: no control characters. */
static int comment_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int sshkey_public_line(struct buf *out, const struct sshkey_ed25519 *k, const char *comment)
{
	struct buf blob = BUF_INIT;
	int rc = -1;

	if (comment != NULL && !comment_ok(comment))
		return -1;
	sshkey_put_public(&blob, k);
	if (blob.failed)
		goto out;
	buf_append(out, SSHKEY_ED25519 " ", sizeof(SSHKEY_ED25519));
	if (base64_encode(out, blob.p, blob.len) < 0)
		goto out;
	if (comment != NULL && *comment != '\0')
		buf_appendf(out, " %s", comment);
	rc = buf_terminate(out);
out:
	buf_free(&blob);
	return rc;
}

int sshkey_private_file(struct buf *out, const struct sshkey_ed25519 *k, const char *comment)
{
	struct buf pub = BUF_INIT, priv = BUF_INIT, bin = BUF_INIT, b64 = BUF_INIT;
	uint32_t check;
	uint8_t pad;
	int rc = -1;

	if (comment == NULL)
		comment = "";
	if (!comment_ok(comment))
		return -1;
	/* Random check integers, as ssh-keygen makes: with a cipher they
	 * would tell a wrong passphrase; here they are only a sanity check. */
	if (RAND_bytes((unsigned char *)&check, sizeof(check)) != 1)
		return -1;

	sshkey_put_public(&pub, k);

	sshbuf_put_u32(&priv, check);
	sshbuf_put_u32(&priv, check);
	sshbuf_put_cstring(&priv, SSHKEY_ED25519);
	sshkey_put_private_fields(&priv, k);
	sshbuf_put_cstring(&priv, comment);
	for (pad = 1; priv.len % NONE_BLOCK != 0; pad++)
		sshbuf_put_u8(&priv, pad);

	buf_append(&bin, AUTH_MAGIC, AUTH_MAGIC_LEN);
	sshbuf_put_cstring(&bin, "none"); /* cipher */
	sshbuf_put_cstring(&bin, "none"); /* kdf */
	sshbuf_put_string(&bin, "", 0);	  /* kdf options */
	sshbuf_put_u32(&bin, 1);	  /* number of keys */
	sshbuf_put_string(&bin, pub.p, pub.len);
	sshbuf_put_string(&bin, priv.p, priv.len);
	if (pub.failed || priv.failed || bin.failed || base64_encode(&b64, bin.p, bin.len) < 0)
		goto out;

	buf_append(out, PEM_BEGIN "\n", sizeof(PEM_BEGIN));
	for (size_t i = 0; i < b64.len; i += PEM_COLUMNS) {
		size_t n = b64.len - i < PEM_COLUMNS ? b64.len - i : PEM_COLUMNS;

		buf_append(out, b64.p + i, n);
		buf_append(out, "\n", 1);
	}
	buf_append(out, PEM_END "\n", sizeof(PEM_END));
	rc = out->failed ? -1 : 0;
out:
	explicit_bzero(&check, sizeof(check));
	buf_free(&pub);
	buf_free(&priv);
	buf_free(&bin);
	buf_free(&b64);
	return rc;
}

/* Whether the string at b is exactly s; the cursor moves past it when so. */
static int get_string_is(struct sshbuf *b, const char *s)
{
	const unsigned char *p;
	size_t len, at = b->off;

	if (sshbuf_get_string(b, &p, &len) < 0)
		return 0;
	if (len == strlen(s) && memcmp(p, s, len) == 0)
		return 1;
	b->off = at;
	return 0;
}

/* The public key blob of the file's first section: ssh-ed25519 and its 32 bytes. */
static int parse_public_section(struct sshbuf *b, unsigned char pk[SSHKEY_ED25519_LEN], char *err,
				size_t errlen)
{
	struct sshbuf pub;
	char type[SSHKEY_TYPE_MAX];
	const unsigned char *p;
	size_t len;

	if (sshbuf_get_sub(b, &pub) < 0)
		return errf(err, errlen, "truncated public key");
	if (sshbuf_get_cstring(&pub, type, sizeof(type)) < 0)
		return errf(err, errlen, "bad public key type");
	if (strcmp(type, SSHKEY_ED25519) != 0) {
		if (!ssh_text_ok((const unsigned char *)type, strlen(type)))
			return errf(err, errlen, "unknown key type");
		return errf(err, errlen, "key type %s, not %s", type, SSHKEY_ED25519);
	}
	if (sshbuf_get_string(&pub, &p, &len) < 0 || len != SSHKEY_ED25519_LEN ||
	    sshbuf_left(&pub) != 0)
		return errf(err, errlen, "bad public key");
	memcpy(pk, p, SSHKEY_ED25519_LEN);
	return 0;
}

/* The decrypted (here: plain) private section. */
static int parse_private_section(struct sshbuf *b, const unsigned char pk[SSHKEY_ED25519_LEN],
				 struct sshkey_ed25519 *k, char *comment, size_t commentlen,
				 char *err, size_t errlen)
{
	uint32_t check1, check2;
	const unsigned char *p, *sk;
	size_t len, i;
	uint8_t pad;

	if (b->len == 0 || b->len % NONE_BLOCK != 0)
		return errf(err, errlen, "private section not a multiple of %d bytes", NONE_BLOCK);
	if (sshbuf_get_u32(b, &check1) < 0 || sshbuf_get_u32(b, &check2) < 0)
		return errf(err, errlen, "truncated private section");
	if (check1 != check2)
		return errf(err, errlen, "check integers differ: corrupt file");
	if (!get_string_is(b, SSHKEY_ED25519))
		return errf(err, errlen, "private key type is not %s", SSHKEY_ED25519);
	if (sshbuf_get_string(b, &p, &len) < 0 || len != SSHKEY_ED25519_LEN)
		return errf(err, errlen, "bad public key in the private section");
	if (memcmp(p, pk, SSHKEY_ED25519_LEN) != 0)
		return errf(err, errlen, "the two public keys in the file differ");
	if (sshbuf_get_string(b, &sk, &len) < 0 || len != 2 * SSHKEY_ED25519_LEN)
		return errf(err, errlen, "bad private key");
	if (memcmp(sk + SSHKEY_ED25519_LEN, pk, SSHKEY_ED25519_LEN) != 0)
		return errf(err, errlen, "the private key holds another public key");
	if (sshbuf_get_string(b, &p, &len) < 0)
		return errf(err, errlen, "truncated comment");
	if (memchr(p, '\0', len) != NULL)
		return errf(err, errlen, "bad comment");
	if (comment != NULL && commentlen > 0) {
		if (len >= commentlen)
			return errf(err, errlen, "comment too long");
		memcpy(comment, p, len);
		comment[len] = '\0';
	}
	/* Padding 1, 2, 3…, shorter than a block, to the end. */
	if (sshbuf_left(b) >= NONE_BLOCK)
		return errf(err, errlen, "trailing bytes in the private section");
	for (i = 1; sshbuf_left(b) > 0; i++)
		if (sshbuf_get_u8(b, &pad) < 0 || pad != i)
			return errf(err, errlen, "bad padding");

	if (sshkey_from_seed(k, sk) < 0)
		return errf(err, errlen, "libcrypto refused the key");
	if (CRYPTO_memcmp(k->pk, pk, SSHKEY_ED25519_LEN) != 0)
		return errf(err, errlen, "the public key does not match the private key");
	return 0;
}

static int parse_binary(struct sshkey_ed25519 *k, char *comment, size_t commentlen,
			const struct buf *bin, char *err, size_t errlen)
{
	unsigned char magic[AUTH_MAGIC_LEN], pk[SSHKEY_ED25519_LEN];
	struct sshbuf b, priv;
	char name[32];
	uint32_t nkeys;
	const unsigned char *p;
	size_t len;

	sshbuf_init(&b, bin->p, bin->len);
	if (sshbuf_get_bytes(&b, magic, sizeof(magic)) < 0 ||
	    memcmp(magic, AUTH_MAGIC, sizeof(magic)) != 0)
		return errf(err, errlen, "not an openssh-key-v1 key");
	if (!get_string_is(&b, "none")) {
		if (sshbuf_get_cstring(&b, name, sizeof(name)) == 0 &&
		    ssh_text_ok((const unsigned char *)name, strlen(name)))
			return errf(err, errlen, "protected by a passphrase (cipher %s)", name);
		return errf(err, errlen, "protected by a passphrase");
	}
	if (!get_string_is(&b, "none"))
		return errf(err, errlen, "protected by a passphrase (kdf)");
	if (sshbuf_get_string(&b, &p, &len) < 0 || len != 0)
		return errf(err, errlen, "kdf options with kdf none");
	if (sshbuf_get_u32(&b, &nkeys) < 0)
		return errf(err, errlen, "truncated header");
	if (nkeys != 1)
		return errf(err, errlen, "%lu keys in the file, not one", (unsigned long)nkeys);
	if (parse_public_section(&b, pk, err, errlen) < 0)
		return -1;
	if (sshbuf_get_sub(&b, &priv) < 0)
		return errf(err, errlen, "truncated private section");
	if (sshbuf_left(&b) != 0)
		return errf(err, errlen, "trailing bytes after the private section");
	return parse_private_section(&priv, pk, k, comment, commentlen, err, errlen);
}

/* The base64 body between the PEM lines, which must be the whole file but white space. */
static int pem_body(const char *s, size_t len, const char **body, size_t *bodylen)
{
	const char *end, *at;
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	if (len - i < sizeof(PEM_BEGIN) - 1 || memcmp(s + i, PEM_BEGIN, sizeof(PEM_BEGIN) - 1) != 0)
		return -1;
	i += sizeof(PEM_BEGIN) - 1;
	if (i < len && s[i] == '\r')
		i++;
	if (i >= len || s[i] != '\n')
		return -1;
	i++;
	end = memmem(s + i, len - i, PEM_END, sizeof(PEM_END) - 1);
	if (end == NULL)
		return -1;
	*body = s + i;
	*bodylen = (size_t)(end - (s + i));
	for (at = end + sizeof(PEM_END) - 1; at < s + len; at++)
		if (*at != ' ' && *at != '\t' && *at != '\r' && *at != '\n')
			return -1;
	return 0;
}

int sshkey_parse_private(struct sshkey_ed25519 *k, char *comment, size_t commentlen,
			 const void *data, size_t len, char *err, size_t errlen)
{
	struct buf bin = BUF_INIT;
	const char *body;
	size_t bodylen;
	int rc = -1;

	sshkey_clear(k);
	if (comment != NULL && commentlen > 0)
		comment[0] = '\0';
	if (len > SSHKEY_FILE_MAX)
		return errf(err, errlen, "larger than %d bytes", SSHKEY_FILE_MAX);
	if (pem_body(data, len, &body, &bodylen) < 0)
		return errf(err, errlen, "not an OpenSSH private key (no " PEM_BEGIN " armour)");
	if (base64_decode(&bin, body, bodylen) < 0) {
		rc = errf(err, errlen, bin.failed ? "out of memory" : "bad base64");
		goto out;
	}
	rc = parse_binary(k, comment, commentlen, &bin, err, errlen);
out:
	buf_free(&bin);
	if (rc < 0) {
		sshkey_clear(k);
		if (comment != NULL && commentlen > 0)
			explicit_bzero(comment, commentlen);
	}
	return rc;
}

int sshkey_fingerprint(const void *blob, size_t len, char out[SSHKEY_FP_LEN])
{
	unsigned char md[SHA256_DIGEST_LEN];
	struct buf b64 = BUF_INIT;
	int rc = -1;

	out[0] = '\0';
	sha256(blob, len, md);
	if (base64_encode(&b64, md, sizeof(md)) == 0) {
		/* ssh-keygen drops the padding: 43 characters for 32 bytes. */
		while (b64.len > 0 && b64.p[b64.len - 1] == '=')
			b64.len--;
		if (b64.len == SSHKEY_FP_LEN - 8) {
			memcpy(out, "SHA256:", 7);
			memcpy(out + 7, b64.p, b64.len);
			out[7 + b64.len] = '\0';
			rc = 0;
		}
	}
	buf_free(&b64);
	return rc;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int sshkey_parse_line(char type[SSHKEY_TYPE_MAX], struct buf *blob, const char *line, size_t len,
		      char *err, size_t errlen)
{
	size_t i = 0, end = len, t0, t1, b0, b1, start = blob->len;
	struct sshbuf b;
	const unsigned char *p;
	size_t plen;

	type[0] = '\0';
	if (len > SSHKEY_FILE_MAX)
		return errf(err, errlen, "key line longer than %d bytes", SSHKEY_FILE_MAX);
	/* One line: white space around it, one line break at the end at most. */
	while (i < end && (is_space(line[i]) || line[i] == '\r' || line[i] == '\n'))
		i++;
	while (end > i &&
	       (is_space(line[end - 1]) || line[end - 1] == '\r' || line[end - 1] == '\n'))
		end--;
	for (size_t j = i; j < end; j++)
		if (((unsigned char)line[j] < 0x20 && line[j] != '\t') || line[j] == 0x7f)
			return errf(err, errlen,
				    "key line holds a control character or line break");
	t0 = i;
	while (i < end && !is_space(line[i]))
		i++;
	t1 = i;
	while (i < end && is_space(line[i]))
		i++;
	b0 = i;
	while (i < end && !is_space(line[i]))
		i++;
	b1 = i;
	/* The rest, if any, is a comment, which nothing reads. */
	if (t1 == t0 || b1 == b0)
		return errf(err, errlen, "not a key line (TYPE BASE64 [COMMENT])");
	if (t1 - t0 >= SSHKEY_TYPE_MAX)
		return errf(err, errlen, "key type too long");
	memcpy(type, line + t0, t1 - t0);
	type[t1 - t0] = '\0';
	if (base64_decode(blob, line + b0, b1 - b0) < 0) {
		if (blob->failed)
			return errf(err, errlen, "out of memory");
		blob->len = start;
		return errf(err, errlen, "bad base64 in the key line");
	}
	sshbuf_init(&b, blob->p + start, blob->len - start);
	if (sshbuf_get_string(&b, &p, &plen) < 0 || plen != t1 - t0 || memcmp(p, type, plen) != 0) {
		blob->len = start;
		return errf(err, errlen, "the key line says %s but its key is of another type",
			    type);
	}
	return 0;
}

int ssh_text_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp, min;
		size_t n, j;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n > len - i - 1)
			return 0;
		for (j = 1; j <= n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		/* No overlong forms, surrogates, code points past Unicode, or C1 controls. */
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp <= 0x9f)
			return 0;
		i += n + 1;
	}
	return 1;
}
