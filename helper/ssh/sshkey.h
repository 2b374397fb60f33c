/*
 * The helper's own SSH key: Ed25519 (RFC 8709), made with libcrypto and
 * kept as OpenSSH keeps it — the public blob, the "ssh-ed25519 BASE64
 * COMMENT" line, and the unencrypted openssh-key-v1 private key file
 * (OpenSSH PROTOCOL.key) — so that ssh, ssh-add and ssh-keygen read what we
 * write and no ssh-keygen runs at run time. Also what any key needs: the
 * SHA256 fingerprint as ssh-keygen prints it, and the parsing of a public
 * key line of any type (a certificate line, a pinned CA key).
 */
#ifndef APITOKEN_SSHKEY_H
#define APITOKEN_SSHKEY_H

#include <stddef.h>

#include "buf.h"

#define SSHKEY_ED25519	   "ssh-ed25519"
#define SSHKEY_ED25519_LEN 32 /* public key, and seed */

/* "SHA256:" and 43 base64 characters, and NUL. */
#define SSHKEY_FP_LEN 51

/* Longest key type name we handle ("sk-ecdsa-sha2-nistp256-cert-v01@openssh.com" is 43). */
#define SSHKEY_TYPE_MAX 64

/* Longest private key file or key line we read: a key is a few hundred bytes. */
#define SSHKEY_FILE_MAX 65536

/*
 * An Ed25519 key pair. The seed is the private key (RFC 8032 §5.1.5);
 * OpenSSH stores seed || pk as its 64-byte "private key". Wipe it with
 * sshkey_clear().
 */
struct sshkey_ed25519 {
	unsigned char pk[SSHKEY_ED25519_LEN];
	unsigned char seed[SSHKEY_ED25519_LEN];
};

void sshkey_clear(struct sshkey_ed25519 *k);

/* A new key from the system's random source. 0, or -1 (libcrypto failed). */
int sshkey_generate(struct sshkey_ed25519 *k);

/* k->pk from seed (which is copied into k->seed). 0, or -1. */
int sshkey_from_seed(struct sshkey_ed25519 *k, const unsigned char seed[SSHKEY_ED25519_LEN]);

/* Appends the public key blob: string "ssh-ed25519", string pk. */
void sshkey_put_public(struct buf *out, const struct sshkey_ed25519 *k);

/*
 * Appends the key's fields as the private section of a key file and the
 * agent's add-identity message hold them after the key type (or after the
 * certificate): string pk, string seed || pk.
 */
void sshkey_put_private_fields(struct buf *out, const struct sshkey_ed25519 *k);

/*
 * Appends "ssh-ed25519 BASE64 COMMENT" (no comment and no space before it
 * when comment is NULL or empty), with no line break, so that it goes into
 * a JSON string or a file as it is; out stays NUL-terminated. -1 if out
 * failed or the comment holds a line break or other control character.
 */
int sshkey_public_line(struct buf *out, const struct sshkey_ed25519 *k, const char *comment);

/*
 * Appends the private key file: openssh-key-v1, cipher and kdf "none", one
 * key, random equal check integers, padding 1, 2, 3… to 8 bytes, in PEM
 * armour with 70-column base64 lines. Everything it builds passes through
 * buffers that are zeroed when freed. 0, or -1 (out failed, bad comment, no
 * randomness).
 */
int sshkey_private_file(struct buf *out, const struct sshkey_ed25519 *k, const char *comment);

/*
 * Reads a private key file as sshkey_private_file() writes it, or as
 * `ssh-keygen -t ed25519 -N ''` does, and nothing else: one unencrypted
 * ssh-ed25519 key, equal check integers, the same public key in both
 * sections and derived from the seed, correct padding, no trailing bytes.
 * The comment is copied into comment (commentlen bytes, may be 0 with
 * comment NULL). 0, or -1 with a message in err; k is cleared on failure.
 */
int sshkey_parse_private(struct sshkey_ed25519 *k, char *comment, size_t commentlen,
			 const void *data, size_t len, char *err, size_t errlen);

/*
 * "SHA256:" + unpadded base64 of SHA-256(blob), as `ssh-keygen -l` shows
 * it. 0, or -1 (out of memory) with out empty.
 */
int sshkey_fingerprint(const void *blob, size_t len, char out[SSHKEY_FP_LEN]);

/*
 * A public key or certificate line, "TYPE BASE64 [COMMENT]", with optional
 * white space around it and one final line break: the key type into type
 * (SSHKEY_TYPE_MAX bytes) and the decoded blob appended to blob, whose first
 * field must be the same type. Only the framing is checked here, not the key
 * fields. 0, or -1 with a message in err.
 */
int sshkey_parse_line(char type[SSHKEY_TYPE_MAX], struct buf *blob, const char *line, size_t len,
		      char *err, size_t errlen);

/*
 * Whether s (len bytes) may be shown on a terminal: printable ASCII or
 * well-formed UTF-8 above U+009F, no control characters. What comes from an
 * issuer and is printed (key ids, principals, options) must pass this.
 */
int ssh_text_ok(const unsigned char *s, size_t len);

#endif
