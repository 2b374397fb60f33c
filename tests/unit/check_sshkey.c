/*
 * Unit tests for helper/ssh/sshkey.c, against the real OpenSSH tools:
 * ssh-keygen must read the private key and public line we write (and sign
 * with our key), our reader must take what `ssh-keygen -t ed25519 -N ''`
 * writes, byte for byte the same format as ours, and refuse cleanly keys
 * with a passphrase, of other types, truncated or with any byte changed.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "sshbuf.h"
#include "sshcert.h"
#include "sshkey.h"
#include "unit.h"

#define MAX_ARGS 32

/* Runs a program (no shell) with its stdout appended to out (if not NULL); its exit status. */
static int run(struct buf *out, const char *arg0, ...) __attribute__((sentinel));

static int run(struct buf *out, const char *arg0, ...)
{
	const char *argv[MAX_ARGS + 1];
	va_list ap;
	int n = 0;

	argv[n++] = arg0;
	va_start(ap, arg0);
	while (n < MAX_ARGS && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return unit_command(argv, NULL, false, out);
}

/* A key file ssh-keygen made: path in path (PATH_MAX bytes). */
static void keygen(char *path, const char *name, const char *type, const char *passphrase,
		   const char *comment)
{
	unit_path(path, PATH_MAX, name);
	unlink(path);
	ck_assert_int_eq(run(NULL, "ssh-keygen", "-q", "-t", type, "-N", passphrase, "-C", comment,
			     "-f", path, NULL),
			 0);
}

static void write_key(char *path, const char *name, const struct sshkey_ed25519 *k,
		      const char *comment)
{
	struct buf file = BUF_INIT, line = BUF_INIT;
	char pub[PATH_MAX + 8];

	ck_assert_int_eq(sshkey_private_file(&file, k, comment), 0);
	ck_assert_int_eq(sshkey_public_line(&line, k, comment), 0);
	unit_write(path, name, file.p, file.len, 0600);
	snprintf(pub, sizeof(pub), "%s.pub", path);
	unit_write_path(pub, line.p, line.len, 0644);
	buf_free(&file);
	buf_free(&line);
}

static int parse(struct sshkey_ed25519 *k, char *comment, size_t commentlen, const void *p,
		 size_t len, char *err, size_t errlen)
{
	return sshkey_parse_private(k, comment, commentlen, p, len, err, errlen);
}

/* The first n space-separated fields of s, in out. */
static void fields(const char *s, int n, char *out, size_t outlen)
{
	size_t i = 0;

	while (s[i] != '\0' && s[i] != '\n') {
		if (s[i] == ' ' && --n == 0)
			break;
		i++;
	}
	ck_assert_uint_lt(i, outlen);
	memcpy(out, s, i);
	out[i] = '\0';
}

/* Decodes the PEM body of a private key file into bin. */
static void pem_decode(const struct buf *file, struct buf *bin)
{
	const char *begin = strchr((const char *)file->p, '\n'), *end;

	ck_assert_ptr_nonnull(begin);
	end = strstr(begin, "-----END OPENSSH PRIVATE KEY-----");
	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(base64_decode(bin, begin, (size_t)(end - begin)), 0);
}

/* bin armoured as a private key file, 70 columns, into file. */
static void pem_encode(const void *bin, size_t len, struct buf *file)
{
	struct buf b64 = BUF_INIT;

	ck_assert_int_eq(base64_encode(&b64, bin, len), 0);
	buf_appendf(file, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	for (size_t i = 0; i < b64.len; i += 70) {
		buf_append(file, b64.p + i, b64.len - i < 70 ? b64.len - i : 70);
		buf_append(file, "\n", 1);
	}
	buf_appendf(file, "-----END OPENSSH PRIVATE KEY-----\n");
	ck_assert(!file->failed);
	buf_free(&b64);
}

/* Where the two check integers sit in a one-key ssh-ed25519 file (PROTOCOL.key). */
#define CHECK_OFF (15 + 8 + 8 + 4 + 4 + 4 + 51 + 4)

START_TEST(test_roundtrip)
{
	struct sshkey_ed25519 k, k2;
	struct buf file = BUF_INIT, file2 = BUF_INIT, bin = BUF_INIT, bin2 = BUF_INIT;
	char comment[64], err[256];
	const char *line, *next;

	ck_assert_int_eq(sshkey_generate(&k), 0);
	ck_assert_int_eq(sshkey_private_file(&file, &k, "me@here"), 0);
	ck_assert_int_eq(parse(&k2, comment, sizeof(comment), file.p, file.len, err, sizeof(err)),
			 0);
	ck_assert_mem_eq(k.pk, k2.pk, 32);
	ck_assert_mem_eq(k.seed, k2.seed, 32);
	ck_assert_str_eq(comment, "me@here");

	/* PEM armour, 70-column lines, the last shorter or equal. */
	ck_assert(strncmp((char *)file.p, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36) == 0);
	ck_assert(strcmp((char *)file.p + file.len - 34, "-----END OPENSSH PRIVATE KEY-----\n") ==
		  0);
	for (line = (char *)file.p + 36; strncmp(line, "-----END", 8) != 0; line = next + 1) {
		next = strchr(line, '\n');
		ck_assert_ptr_nonnull(next);
		if (strncmp(next + 1, "-----END", 8) == 0)
			ck_assert_int_le(next - line, 70);
		else
			ck_assert_int_eq(next - line, 70);
	}

	/* Check integers: equal in a file, random across files. */
	pem_decode(&file, &bin);
	ck_assert_mem_eq(bin.p + CHECK_OFF, bin.p + CHECK_OFF + 4, 4);
	ck_assert_int_eq(sshkey_private_file(&file2, &k, "me@here"), 0);
	pem_decode(&file2, &bin2);
	ck_assert_uint_eq(bin.len, bin2.len);
	ck_assert(memcmp(bin.p + CHECK_OFF, bin2.p + CHECK_OFF, 4) != 0);
	/* The private section is padded 1, 2, 3… to 8 bytes. */
	ck_assert_uint_eq((bin.len - CHECK_OFF) % 8, 0);

	/* No comment. */
	buf_free(&file);
	ck_assert_int_eq(sshkey_private_file(&file, &k, NULL), 0);
	ck_assert_int_eq(parse(&k2, comment, sizeof(comment), file.p, file.len, err, sizeof(err)),
			 0);
	ck_assert_str_eq(comment, "");

	sshkey_clear(&k);
	for (size_t i = 0; i < sizeof(k); i++)
		ck_assert_int_eq(((unsigned char *)&k)[i], 0);
	buf_free(&file);
	buf_free(&file2);
	buf_free(&bin);
	buf_free(&bin2);
}
END_TEST

START_TEST(test_public_line)
{
	struct sshkey_ed25519 k;
	struct buf line = BUF_INIT, blob = BUF_INIT, parsed = BUF_INIT;
	char type[SSHKEY_TYPE_MAX], err[256];

	ck_assert_int_eq(sshkey_generate(&k), 0);
	sshkey_put_public(&blob, &k);
	ck_assert_uint_eq(blob.len, 51);
	ck_assert_int_eq(sshkey_public_line(&line, &k, "a comment"), 0);
	ck_assert(strncmp((char *)line.p, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37) == 0);
	ck_assert(strcmp((char *)line.p + line.len - 11, " a comment\n") == 0);
	ck_assert_int_eq(
	    sshkey_parse_line(type, &parsed, (char *)line.p, line.len, err, sizeof(err)), 0);
	ck_assert_str_eq(type, "ssh-ed25519");
	ck_assert_uint_eq(parsed.len, blob.len);
	ck_assert_mem_eq(parsed.p, blob.p, blob.len);

	buf_free(&line);
	ck_assert_int_eq(sshkey_public_line(&line, &k, NULL), 0);
	ck_assert_uint_eq(line.len, 12 + 68 + 1);
	ck_assert_int_eq(line.p[line.len - 1], '\n');
	ck_assert_int_eq(line.p[11], ' ');
	ck_assert_ptr_null(memchr(line.p + 12, ' ', line.len - 12));

	/* A comment cannot break the line, in the .pub or in the private file. */
	buf_free(&line);
	ck_assert_int_eq(sshkey_public_line(&line, &k, "two\nlines"), -1);
	ck_assert_int_eq(sshkey_private_file(&line, &k, "bell\a"), -1);
	buf_free(&line);
	buf_free(&blob);
	buf_free(&parsed);
}
END_TEST

/* ssh-keygen reads what we write: -y, -l, and signing a certificate with our key as CA. */
START_TEST(test_ssh_keygen_reads_ours)
{
	struct sshkey_ed25519 k;
	struct buf line = BUF_INIT, out = BUF_INIT, blob = BUF_INIT, cert = BUF_INIT;
	char path[PATH_MAX], pub[PATH_MAX + 8], certpath[PATH_MAX + 16], fp[SSHKEY_FP_LEN];
	char a[256], b[256], want[128], err[256];
	struct sshcert c;

	ck_assert_int_eq(sshkey_generate(&k), 0);
	write_key(path, "ours", &k, "ours@test");
	snprintf(pub, sizeof(pub), "%s.pub", path);
	ck_assert_int_eq(sshkey_public_line(&line, &k, "ours@test"), 0);

	ck_assert_int_eq(run(&out, "ssh-keygen", "-y", "-f", path, NULL), 0);
	fields((char *)out.p, 2, a, sizeof(a));
	fields((char *)line.p, 2, b, sizeof(b));
	ck_assert_str_eq(a, b);

	sshkey_put_public(&blob, &k);
	ck_assert_int_eq(sshkey_fingerprint(blob.p, blob.len, fp), 0);
	ck_assert_uint_eq(strlen(fp), 50);
	snprintf(want, sizeof(want), "256 %s ours@test (ED25519)\n", fp);
	buf_free(&out);
	ck_assert_int_eq(run(&out, "ssh-keygen", "-l", "-f", pub, NULL), 0);
	ck_assert_str_eq((char *)out.p, want);
	buf_free(&out);
	ck_assert_int_eq(run(&out, "ssh-keygen", "-l", "-f", path, NULL), 0);
	ck_assert_str_eq((char *)out.p, want);

	/* A signature made with our seed verifies against our public key. */
	ck_assert_int_eq(
	    run(NULL, "ssh-keygen", "-q", "-s", path, "-I", "self", "-n", "me", pub, NULL), 0);
	snprintf(certpath, sizeof(certpath), "%s-cert.pub", path);
	unit_slurp(certpath, &cert);
	ck_assert_int_eq(sshcert_parse_line(&c, (char *)cert.p, cert.len, err, sizeof(err)), 0);
	ck_assert_msg(sshcert_verify(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert(sshcert_ca_is(&c, blob.p, blob.len));
	ck_assert(sshcert_key_is(&c, blob.p, blob.len));
	sshcert_free(&c);

	buf_free(&line);
	buf_free(&out);
	buf_free(&blob);
	buf_free(&cert);
}
END_TEST

/* We read what ssh-keygen writes, and write the same bytes but the check integers. */
START_TEST(test_reads_ssh_keygen)
{
	char path[PATH_MAX], pub[PATH_MAX + 8], comment[64], type[SSHKEY_TYPE_MAX], err[256];
	char fp[SSHKEY_FP_LEN], want[128];
	struct buf file = BUF_INIT, line = BUF_INIT, blob = BUF_INIT, ours = BUF_INIT,
		   mine = BUF_INIT, bin = BUF_INIT, bin2 = BUF_INIT, out = BUF_INIT;
	struct sshkey_ed25519 k;

	for (int i = 0; i < 4; i++) {
		const char *cm = i % 2 ? "" : "user@host with spaces";

		keygen(path, "theirs", "ed25519", "", cm);
		snprintf(pub, sizeof(pub), "%s.pub", path);
		unit_slurp(path, &file);
		unit_slurp(pub, &line);
		ck_assert_msg(
		    parse(&k, comment, sizeof(comment), file.p, file.len, err, sizeof(err)) == 0,
		    "%s", err);
		ck_assert_str_eq(comment, cm);
		ck_assert_int_eq(
		    sshkey_parse_line(type, &blob, (char *)line.p, line.len, err, sizeof(err)), 0);
		ck_assert_str_eq(type, "ssh-ed25519");
		sshkey_put_public(&ours, &k);
		ck_assert_uint_eq(ours.len, blob.len);
		ck_assert_mem_eq(ours.p, blob.p, blob.len);

		ck_assert_int_eq(sshkey_fingerprint(blob.p, blob.len, fp), 0);
		snprintf(want, sizeof(want), "256 %s %s (ED25519)\n", fp, *cm ? cm : "no comment");
		ck_assert_int_eq(run(&out, "ssh-keygen", "-l", "-f", pub, NULL), 0);
		ck_assert_str_eq((char *)out.p, want);

		ck_assert_int_eq(sshkey_private_file(&mine, &k, cm), 0);
		pem_decode(&file, &bin);
		pem_decode(&mine, &bin2);
		ck_assert_uint_eq(bin.len, bin2.len);
		memset(bin.p + CHECK_OFF, 0, 8);
		memset(bin2.p + CHECK_OFF, 0, 8);
		ck_assert_mem_eq(bin.p, bin2.p, bin.len);

		buf_free(&file);
		buf_free(&line);
		buf_free(&blob);
		buf_free(&ours);
		buf_free(&mine);
		buf_free(&bin);
		buf_free(&bin2);
		buf_free(&out);
	}
}
END_TEST

static void expect_refused(const void *p, size_t len, const char *fragment)
{
	struct sshkey_ed25519 k;
	char comment[64], err[256] = "";

	memset(&k, 0xaa, sizeof(k));
	ck_assert_int_eq(parse(&k, comment, sizeof(comment), p, len, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, fragment) != NULL, "error \"%s\" lacks \"%s\"", err, fragment);
	for (size_t i = 0; i < sizeof(k); i++)
		ck_assert_int_eq(((unsigned char *)&k)[i], 0);
}

static void expect_refused_file(const char *path, const char *fragment)
{
	struct buf file = BUF_INIT;

	unit_slurp(path, &file);
	expect_refused(file.p, file.len, fragment);
	buf_free(&file);
}

START_TEST(test_other_keys_refused)
{
	char path[PATH_MAX];

	keygen(path, "pass", "ed25519", "a passphrase", "");
	expect_refused_file(path, "passphrase (cipher aes256-ctr)");
	keygen(path, "rsa", "rsa", "", "");
	expect_refused_file(path, "key type ssh-rsa, not ssh-ed25519");
	keygen(path, "ecdsa", "ecdsa", "", "");
	expect_refused_file(path, "key type ecdsa-sha2-nistp256, not ssh-ed25519");
	unit_path(path, sizeof(path), "pem");
	unlink(path);
	ck_assert_int_eq(
	    run(NULL, "ssh-keygen", "-q", "-t", "rsa", "-m", "PEM", "-N", "", "-f", path, NULL), 0);
	expect_refused_file(path, "not an OpenSSH private key");

	expect_refused("", 0, "not an OpenSSH private key");
	expect_refused("hello\n", 6, "not an OpenSSH private key");
	expect_refused("-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----\n",
		       70, "not an openssh-key-v1 key");
	expect_refused(
	    "-----BEGIN OPENSSH PRIVATE KEY-----\nAAA*\n-----END OPENSSH PRIVATE KEY-----\n", 75,
	    "bad base64");
}
END_TEST

/* A valid file's bytes, then variants of its binary built by the tests. */
static void our_file(struct sshkey_ed25519 *k, const char *comment, struct buf *file,
		     struct buf *bin)
{
	ck_assert_int_eq(sshkey_generate(k), 0);
	ck_assert_int_eq(sshkey_private_file(file, k, comment), 0);
	pem_decode(file, bin);
}

static void expect_bin_refused(const void *bin, size_t len, const char *fragment)
{
	struct buf file = BUF_INIT;

	pem_encode(bin, len, &file);
	expect_refused(file.p, file.len, fragment);
	buf_free(&file);
}

START_TEST(test_truncated)
{
	struct sshkey_ed25519 k, k2;
	struct buf file = BUF_INIT, bin = BUF_INIT;
	char comment[64], err[256];

	our_file(&k, "truncate me", &file, &bin);
	/* The text at every length: only the final line break may go. */
	for (size_t n = 0; n < file.len; n++) {
		int rc = parse(&k2, comment, sizeof(comment), file.p, n, err, sizeof(err));

		ck_assert_int_eq(rc, n == file.len - 1 ? 0 : -1);
	}
	/* The binary at every length, armoured properly. */
	for (size_t n = 0; n < bin.len; n++) {
		struct buf f = BUF_INIT;

		pem_encode(bin.p, n, &f);
		ck_assert_int_eq(parse(&k2, comment, sizeof(comment), f.p, f.len, err, sizeof(err)),
				 -1);
		buf_free(&f);
	}
	buf_free(&file);
	buf_free(&bin);
}
END_TEST

/*
 * Any byte changed: refused, or (in the comment, which nothing protects) the
 * same key with another comment.
 */
START_TEST(test_flipped)
{
	static const unsigned char masks[] = {0x01, 0x80, 0xff};
	struct sshkey_ed25519 k, k2;
	struct buf file = BUF_INIT, bin = BUF_INIT;
	char comment[64], err[256];
	size_t accepted = 0;

	our_file(&k, "flip", &file, &bin);
	for (size_t m = 0; m < sizeof(masks); m++) {
		for (size_t i = 0; i < bin.len; i++) {
			struct buf f = BUF_INIT;

			bin.p[i] ^= masks[m];
			pem_encode(bin.p, bin.len, &f);
			bin.p[i] ^= masks[m];
			if (parse(&k2, comment, sizeof(comment), f.p, f.len, err, sizeof(err)) ==
			    0) {
				ck_assert_mem_eq(k.pk, k2.pk, 32);
				ck_assert_mem_eq(k.seed, k2.seed, 32);
				ck_assert_str_ne(comment, "flip");
				/* The comment, its length, the padding after it: the last 4 + 4 + 7
				 * bytes at most. */
				ck_assert_uint_ge(i, bin.len - 15);
				accepted++;
			}
			buf_free(&f);
		}
	}
	/* The comment's 4 bytes, and a length of 5 taking the one padding byte 0x01 in. */
	ck_assert_uint_le(accepted, 4 * sizeof(masks) + 1);
	buf_free(&file);
	buf_free(&bin);
}
END_TEST

/* Files built wrong on purpose, each refused for its reason. */
START_TEST(test_malformed)
{
	struct sshkey_ed25519 k, k2;
	struct buf file = BUF_INIT, bin = BUF_INIT, b = BUF_INIT, pub = BUF_INIT, priv = BUF_INIT;
	char comment[8], err[256];
	size_t privlen_off = CHECK_OFF - 4;

	our_file(&k, "", &file, &bin);
	sshkey_put_public(&pub, &k);

	/* Two keys announced. */
	buf_append(&b, bin.p, bin.len);
	b.p[15 + 8 + 8 + 4 + 3] = 2;
	expect_bin_refused(b.p, b.len, "2 keys in the file, not one");
	buf_free(&b);

	/* Trailing bytes after the private section. */
	buf_append(&b, bin.p, bin.len);
	buf_append(&b, "\0", 1);
	expect_bin_refused(b.p, b.len, "trailing bytes after the private section");
	buf_free(&b);

	/* Text after the armour. */
	buf_append(&b, file.p, file.len);
	buf_appendf(&b, "junk\n");
	expect_refused(b.p, b.len, "not an OpenSSH private key");
	buf_free(&b);

	/* kdf options with kdf none. */
	buf_append(&b, bin.p, 15 + 8 + 8);
	sshbuf_put_string(&b, "x", 1);
	buf_append(&b, bin.p + 15 + 8 + 8 + 4, bin.len - (15 + 8 + 8 + 4));
	expect_bin_refused(b.p, b.len, "kdf options with kdf none");
	buf_free(&b);

	/* Private sections with a fault each, behind a correct header. */
	for (int fault = 0; fault < 6; fault++) {
		static const char *const why[] = {
		    "check integers differ",
		    "private key type is not ssh-ed25519",
		    "the public key does not match the private key",
		    "the private key holds another public key",
		    "bad padding",
		    "comment too long",
		};
		unsigned char sk[64];
		struct buf f = BUF_INIT;

		memcpy(sk, k.seed, 32);
		memcpy(sk + 32, k.pk, 32);
		if (fault == 2)
			sk[0] ^= 1; /* a seed that does not give pk */
		if (fault == 3)
			sk[40] ^= 1; /* a pk copy that differs */
		sshbuf_put_u32(&priv, 7);
		sshbuf_put_u32(&priv, fault == 0 ? 8 : 7);
		sshbuf_put_cstring(&priv, fault == 1 ? "ssh-rsa" : "ssh-ed25519");
		sshbuf_put_string(&priv, k.pk, 32);
		sshbuf_put_string(&priv, sk, 64);
		sshbuf_put_cstring(&priv, fault == 5 ? "a comment too long" : "");
		ck_assert_uint_ne(priv.len % 8, 0); /* so that there is padding to spoil */
		for (uint8_t pad = 1; priv.len % 8 != 0; pad++)
			sshbuf_put_u8(&priv, pad);
		if (fault == 4)
			priv.p[priv.len - 1] ^= 0x10;
		buf_append(&b, bin.p, privlen_off);
		sshbuf_put_string(&b, priv.p, priv.len);
		pem_encode(b.p, b.len, &f);
		memset(err, 0, sizeof(err));
		ck_assert_int_eq(parse(&k2, comment, sizeof(comment), f.p, f.len, err, sizeof(err)),
				 -1);
		ck_assert_msg(strstr(err, why[fault]) != NULL, "fault %d: %s", fault, err);
		explicit_bzero(sk, sizeof(sk));
		buf_free(&f);
		buf_free(&priv);
		buf_free(&b);
	}

	/* The same section without a fault is accepted: the faults above are the reasons. */
	{
		struct buf f = BUF_INIT;

		sshbuf_put_u32(&priv, 7);
		sshbuf_put_u32(&priv, 7);
		sshbuf_put_cstring(&priv, "ssh-ed25519");
		sshkey_put_private_fields(&priv, &k);
		sshbuf_put_cstring(&priv, "");
		for (uint8_t pad = 1; priv.len % 8 != 0; pad++)
			sshbuf_put_u8(&priv, pad);
		buf_append(&b, bin.p, privlen_off);
		sshbuf_put_string(&b, priv.p, priv.len);
		pem_encode(b.p, b.len, &f);
		ck_assert_int_eq(parse(&k2, comment, sizeof(comment), f.p, f.len, err, sizeof(err)),
				 0);
		ck_assert_mem_eq(k2.seed, k.seed, 32);
		buf_free(&f);
		buf_free(&priv);
		buf_free(&b);
	}

	buf_free(&file);
	buf_free(&bin);
	buf_free(&pub);
}
END_TEST

START_TEST(test_parse_line)
{
	struct sshkey_ed25519 k;
	struct buf line = BUF_INIT, blob = BUF_INIT, b = BUF_INIT;
	char type[SSHKEY_TYPE_MAX], err[256];
	const char *b64;

	ck_assert_int_eq(sshkey_generate(&k), 0);
	ck_assert_int_eq(sshkey_public_line(&line, &k, NULL), 0);
	b64 = (char *)line.p + 12;

	/* White space around, CRLF, tabs, a comment with spaces. */
	buf_appendf(&b, " \tssh-ed25519\t %.*s  my key  \r\n", 68, b64);
	ck_assert_int_eq(sshkey_parse_line(type, &blob, (char *)b.p, b.len, err, sizeof(err)), 0);
	ck_assert_uint_eq(blob.len, 51);
	buf_free(&b);
	buf_free(&blob);

	/* The type said and the type inside disagree. */
	buf_appendf(&b, "ssh-rsa %.*s\n", 68, b64);
	ck_assert_int_eq(sshkey_parse_line(type, &blob, (char *)b.p, b.len, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "says ssh-rsa"));
	ck_assert_uint_eq(blob.len, 0);
	buf_free(&b);

	/* Two lines; a control character; no base64; bad base64. */
	buf_appendf(&b, "ssh-ed25519 %.*s\nssh-ed25519 %.*s\n", 68, b64, 68, b64);
	ck_assert_int_eq(sshkey_parse_line(type, &blob, (char *)b.p, b.len, err, sizeof(err)), -1);
	buf_free(&b);
	buf_appendf(&b, "ssh-ed25519 %.*s \033[2J\n", 68, b64);
	ck_assert_int_eq(sshkey_parse_line(type, &blob, (char *)b.p, b.len, err, sizeof(err)), -1);
	buf_free(&b);
	ck_assert_int_eq(sshkey_parse_line(type, &blob, "ssh-ed25519\n", 12, err, sizeof(err)), -1);
	ck_assert_int_eq(sshkey_parse_line(type, &blob, "", 0, err, sizeof(err)), -1);
	ck_assert_int_eq(sshkey_parse_line(type, &blob, "ssh-ed25519 AAAA!", 17, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "bad base64"));
	/* An empty blob, and a blob whose type string runs past its end. */
	ck_assert_int_eq(sshkey_parse_line(type, &blob, "ssh-ed25519 AAAA", 16, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(sshkey_parse_line(type, &blob, "x AAAAZng=", 10, err, sizeof(err)), -1);
	ck_assert_uint_eq(blob.len, 0);

	buf_free(&line);
	buf_free(&blob);
}
END_TEST

START_TEST(test_text_ok)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
	    {"", 1},
	    {"alice", 1},
	    {"with space and ~", 1},
	    {"caf\xc3\xa9", 1},
	    {"\xe2\x82\xac", 1},
	    {"\xf0\x9f\x98\x80", 1},
	    {"tab\t", 0},
	    {"nl\n", 0},
	    {"esc\033[31m", 0},
	    {"del\x7f", 0},
	    {"\xc2\x9b", 0},	     /* C1 CSI */
	    {"\xc0\xaf", 0},	     /* overlong '/' */
	    {"\xe0\x80\xaf", 0},     /* overlong */
	    {"\xed\xa0\x80", 0},     /* surrogate */
	    {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
	    {"\xc3", 0},	     /* cut */
	    {"\xe2\x82", 0},	     /* cut */
	    {"\x80", 0},	     /* lone continuation */
	    {"\xff", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(ssh_text_ok((const unsigned char *)cases[i].s, strlen(cases[i].s)) ==
				  cases[i].ok,
			      "case %zu", i);
	ck_assert_int_eq(ssh_text_ok((const unsigned char *)"a\0b", 3), 0);
}
END_TEST

/* RFC 8032 §7.1 TEST 1: the seed gives the public key, through libcrypto. */
START_TEST(test_from_seed)
{
	static const unsigned char seed[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
					       0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
					       0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
					       0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
	static const unsigned char pk[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
					     0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
					     0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
					     0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
	struct sshkey_ed25519 k;

	ck_assert_int_eq(sshkey_from_seed(&k, seed), 0);
	ck_assert_mem_eq(k.pk, pk, 32);
	ck_assert_mem_eq(k.seed, seed, 32);
	ck_assert_int_eq(sshkey_from_seed(&k, k.seed), 0);
	ck_assert_mem_eq(k.pk, pk, 32);
}
END_TEST

static Suite *sshkey_suite(void)
{
	Suite *s = suite_create("sshkey");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_public_line);
	tcase_add_test(tc, test_from_seed);
	tcase_add_test(tc, test_text_ok);
	tcase_add_test(tc, test_parse_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("openssh");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ssh_keygen_reads_ours);
	tcase_add_test(tc, test_reads_ssh_keygen);
	tcase_add_test(tc, test_other_keys_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_set_timeout(tc, 300); /* under valgrind */
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_flipped);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	unit_tmpdir("check_sshkey");
	return unit_run(sshkey_suite());
}
