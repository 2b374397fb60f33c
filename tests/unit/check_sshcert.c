/*
 * Unit tests for helper/ssh/sshcert.c. The golden certificates are made at
 * test time by the real `ssh-keygen -s` in the temp dir (main() makes them
 * before the run): user and host, expired, not yet valid, no principals,
 * many, critical options and extensions, Ed25519/ECDSA/RSA keys, and
 * Ed25519, RSA (SHA-256 and SHA-512) and ECDSA P-256/384/521 CAs. Each must
 * parse to what ssh-keygen was told, agree with `ssh-keygen -L`, get the
 * expected verdict from sshcert_check() and verify; then every truncation,
 * many flipped bytes, trailing junk, lengths past the end, disagreeing
 * types and fields spliced in against the spec must be refused.
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "sshbuf.h"
#include "sshcert.h"
#include "sshkey.h"
#include "unit.h"

#define MAX_ARGS 40

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "check_sshcert: %s: %s\n", what, detail);
	unit_tmpdir_remove();
	exit(EXIT_FAILURE);
}

static int write_path(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(p, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* The golden certificates. */

enum validity { V_NOW, V_PAST, V_FUTURE, V_FOREVER };

#define DEFAULT_EXTENSIONS                                                                         \
	"permit-X11-forwarding|permit-agent-forwarding|permit-port-forwarding|permit-pty|"         \
	"permit-user-rc"

struct golden {
	const char *name; /* NAME.pub (a copy of the key's) is signed into NAME-cert.pub */
	const char *ca, *key;
	const char *sigalg; /* ssh-keygen -t, for an RSA CA */
	int host;
	const char *id; /* NULL: "id-NAME" */
	const char *principals;
	enum validity validity;
	const char *opts[6];
	/* What it must parse to: */
	const char *key_type, *ca_type, *sig_type;
	const char *options, *extensions; /* '|'-separated "name" or "name=value" */
	const char *check_err;		  /* what sshcert_check says, NULL when it passes */
};

static char many[100 * 4 + 1]; /* p00,p01,…,p99 */

#define DEF DEFAULT_EXTENSIONS
#define ED  "ssh-ed25519"
#define EC2 "ecdsa-sha2-nistp256"
#define EC3 "ecdsa-sha2-nistp384"
#define EC5 "ecdsa-sha2-nistp521"
#define RSA "ssh-rsa"

/* One certificate per entry; clang-format would spread each over 15 lines. */
/* clang-format off */
static const struct golden golden[] = {
	/* name, CA, key, -t, -h, -I, -n, -V, -O…,
	 * key type, CA type, signature type, options, extensions, check error */
	{"user", "ca_ed", "u_ed", NULL, 0, NULL, "alice", V_NOW, {NULL},
	 ED, ED, ED, "", DEF, NULL},
	{"host", "ca_ed", "u_ed", NULL, 1, NULL, "host.example.com,host", V_NOW, {NULL},
	 ED, ED, ED, "", "", "a host certificate"},
	{"expired", "ca_ed", "u_ed", NULL, 0, NULL, "alice", V_PAST, {NULL},
	 ED, ED, ED, "", DEF, "expired at 2020-01-02T00:00:00Z"},
	{"future", "ca_ed", "u_ed", NULL, 0, NULL, "alice", V_FUTURE, {NULL},
	 ED, ED, ED, "", DEF, "not valid before"},
	{"noprinc", "ca_ed", "u_ed", NULL, 0, NULL, NULL, V_NOW, {NULL},
	 ED, ED, ED, "", DEF, "names no principal"},
	{"many", "ca_ed", "u_ed", NULL, 0, NULL, many, V_NOW, {NULL},
	 ED, ED, ED, "", DEF, NULL},
	{"forever", "ca_ed", "u_ed", NULL, 0, NULL, "alice,bob", V_FOREVER, {NULL},
	 ED, ED, ED, "", DEF, NULL},
	{"options", "ca_ed", "u_ed", NULL, 0, NULL, "alice", V_NOW,
	 {"clear", "force-command=/usr/bin/true", "source-address=10.0.0.0/8,192.0.2.1",
	  "verify-required", "permit-pty", NULL},
	 ED, ED, ED,
	 "force-command=/usr/bin/true|source-address=10.0.0.0/8,192.0.2.1|verify-required",
	 "permit-pty", NULL},
	{"nopty", "ca_ed", "u_ed", NULL, 0, NULL, "alice", V_NOW, {"no-pty", NULL},
	 ED, ED, ED, "",
	 "permit-X11-forwarding|permit-agent-forwarding|permit-port-forwarding|permit-user-rc",
	 NULL},
	{"custom", "ca_ed", "u_ed", NULL, 0, NULL, "alice", V_NOW,
	 {"clear", "extension:login@example.com=alice", "critical:x-custom@example.com=v w",
	  "extension:empty@example.com", NULL},
	 ED, ED, ED, "x-custom@example.com=v w", "empty@example.com|login@example.com=alice", NULL},
	{"keyid", "ca_ed", "u_ed", NULL, 0, "Zo\xc3\xab's key (ci)", "zoe", V_NOW, {NULL},
	 ED, ED, ED, "", DEF, NULL},
	{"eckey", "ca_ed", "u_ec", NULL, 0, NULL, "alice", V_NOW, {NULL},
	 EC2, ED, ED, "", DEF, NULL},
	{"rsakey", "ca_ed", "u_rsa", NULL, 0, NULL, "alice", V_NOW, {NULL},
	 RSA, ED, ED, "", DEF, NULL},
	{"rsaca", "ca_rsa", "u_ed", NULL, 0, NULL, "alice", V_NOW, {NULL},
	 ED, RSA, "rsa-sha2-512", "", DEF, NULL},
	{"rsaca256", "ca_rsa", "u_ed", "rsa-sha2-256", 0, NULL, "alice", V_NOW, {NULL},
	 ED, RSA, "rsa-sha2-256", "", DEF, NULL},
	{"rsarsa", "ca_rsa", "u_rsa", NULL, 0, NULL, "alice", V_PAST, {NULL},
	 RSA, RSA, "rsa-sha2-512", "", DEF, "expired"},
	{"ec256ca", "ca_ec256", "u_ed", NULL, 0, NULL, "alice", V_NOW, {NULL},
	 ED, EC2, EC2, "", DEF, NULL},
	{"ec384ca", "ca_ec384", "u_rsa", NULL, 1, NULL, "h", V_NOW, {NULL},
	 RSA, EC3, EC3, "", "", "host certificate"},
	{"ec521ca", "ca_ec521", "u_ec", NULL, 0, NULL, "alice", V_NOW, {NULL},
	 EC2, EC5, EC5, "", DEF, NULL},
};
/* clang-format on */

#define NGOLDEN ((int)(sizeof(golden) / sizeof(golden[0])))

/* One of each CA type: the most expensive loops run on these. */
static const char *const per_ca[] = {"user", "rsaca256", "ec256ca", "ec384ca", "ec521ca"};
#define NPER_CA ((int)(sizeof(per_ca) / sizeof(per_ca[0])))

static uint64_t g_now;			 /* when the certificates were made */
static uint64_t g_after[4], g_before[4]; /* by enum validity */

static void stamp(uint64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, len, "%Y%m%d%H%M%S", &tm) == 0)
		die("strftime", "failed");
}

static void path_of(char *out, const char *name, const char *suffix)
{
	char file[256];

	snprintf(file, sizeof(file), "%s%s", name, suffix);
	snprintf(out, PATH_MAX, "%s/%s", unit_tmpdir(NULL), file);
}

static void make_key(const char *name, const char *type, const char *bits)
{
	const char *argv[16];
	char path[PATH_MAX];
	int n = 0;

	path_of(path, name, "");
	argv[n++] = "ssh-keygen";
	argv[n++] = "-q";
	argv[n++] = "-t";
	argv[n++] = type;
	if (bits != NULL) {
		argv[n++] = "-b";
		argv[n++] = bits;
	}
	argv[n++] = "-N";
	argv[n++] = "";
	argv[n++] = "-C";
	argv[n++] = name;
	argv[n++] = "-f";
	argv[n++] = path;
	argv[n] = NULL;
	if (unit_command(argv, NULL, false, NULL) != 0)
		die("ssh-keygen -t", name);
}

static void make_cert(const struct golden *g)
{
	const char *argv[MAX_ARGS];
	char ca[PATH_MAX], key[PATH_MAX], pub[PATH_MAX], id[128], validity[64], a[32], b[32];
	struct buf line = BUF_INIT;
	int n = 0;

	path_of(ca, g->ca, "");
	path_of(key, g->key, ".pub");
	path_of(pub, g->name, ".pub");
	if (unit_read_file(key, &line) < 0 || write_path(pub, line.p, line.len) < 0)
		die("copy", key);
	buf_free(&line);

	snprintf(id, sizeof(id), "id-%s", g->name);
	argv[n++] = "ssh-keygen";
	argv[n++] = "-q";
	argv[n++] = "-s";
	argv[n++] = ca;
	argv[n++] = "-I";
	argv[n++] = g->id != NULL ? g->id : id;
	argv[n++] = "-z";
	argv[n++] = g->host ? "2" : "1";
	if (g->sigalg != NULL) {
		argv[n++] = "-t";
		argv[n++] = g->sigalg;
	}
	if (g->host)
		argv[n++] = "-h";
	if (g->principals != NULL) {
		argv[n++] = "-n";
		argv[n++] = g->principals;
	}
	if (g->validity != V_FOREVER) {
		stamp(g_after[g->validity], a, sizeof(a));
		stamp(g_before[g->validity], b, sizeof(b));
		snprintf(validity, sizeof(validity), "%s:%s", a, b);
		argv[n++] = "-V";
		argv[n++] = validity;
	}
	for (int i = 0; g->opts[i] != NULL; i++) {
		argv[n++] = "-O";
		argv[n++] = g->opts[i];
	}
	argv[n++] = pub;
	argv[n] = NULL;
	if (unit_command(argv, NULL, false, NULL) != 0)
		die("ssh-keygen -s", g->name);
}

/* Keys and certificates, once, before the tests fork. */
static void make_golden(void)
{
	size_t at = 0;

	for (int i = 0; i < 100; i++)
		at += (size_t)snprintf(many + at, sizeof(many) - at, "%sp%02d", i ? "," : "", i);

	g_now = (uint64_t)time(NULL);
	g_after[V_NOW] = g_now - 300;
	g_before[V_NOW] = g_now + 3600;
	g_after[V_PAST] = 1577836800; /* 2020-01-01, -V 20200101:20200102 */
	g_before[V_PAST] = 1577923200;
	g_after[V_FUTURE] = g_now + 86400;
	g_before[V_FUTURE] = g_now + 2 * 86400;
	g_after[V_FOREVER] = 0;
	g_before[V_FOREVER] = SSHCERT_FOREVER;

	make_key("ca_ed", "ed25519", NULL);
	make_key("ca_rsa", "rsa", "2048");
	make_key("ca_ec256", "ecdsa", "256");
	make_key("ca_ec384", "ecdsa", "384");
	make_key("ca_ec521", "ecdsa", "521");
	make_key("u_ed", "ed25519", NULL);
	make_key("u_ec", "ecdsa", "256");
	make_key("u_rsa", "rsa", "2048");
	make_key("other", "ed25519", NULL);
	for (int i = 0; i < NGOLDEN; i++)
		make_cert(&golden[i]);
}

/* Test-side helpers. */

static const struct golden *golden_by_name(const char *name)
{
	for (int i = 0; i < NGOLDEN; i++)
		if (strcmp(golden[i].name, name) == 0)
			return &golden[i];
	ck_abort_msg("no golden %s", name);
	return NULL;
}

/* NAME-cert.pub's line into line, its blob into blob (either may be NULL). */
static void load_cert(const char *name, struct buf *line, struct buf *blob)
{
	struct buf l = BUF_INIT;
	char path[PATH_MAX], type[SSHKEY_TYPE_MAX], err[256];

	path_of(path, name, "-cert.pub");
	ck_assert_int_eq(unit_read_file(path, &l), 0);
	if (blob != NULL)
		ck_assert_msg(sshkey_parse_line(type, blob, (char *)l.p, l.len, err, sizeof(err)) ==
				  0,
			      "%s", err);
	if (line != NULL)
		buf_append(line, l.p, l.len);
	buf_free(&l);
}

/* A key's public blob from NAME.pub. */
static void load_pub(const char *name, struct buf *blob)
{
	struct buf l = BUF_INIT;
	char path[PATH_MAX], type[SSHKEY_TYPE_MAX], err[256];

	path_of(path, name, ".pub");
	ck_assert_int_eq(unit_read_file(path, &l), 0);
	ck_assert_msg(sshkey_parse_line(type, blob, (char *)l.p, l.len, err, sizeof(err)) == 0,
		      "%s", err);
	buf_free(&l);
}

static void parse_ok(struct sshcert *c, const struct buf *blob)
{
	char err[256];

	ck_assert_msg(sshcert_parse(c, blob->p, blob->len, err, sizeof(err)) == 0, "%s", err);
}

/* The options or extensions of c against "a=b|c|…". */
static void assert_options(const struct sshcert_option *o, size_t n, const char *want)
{
	char copy[512], *save = NULL, *item;
	size_t i = 0;

	snprintf(copy, sizeof(copy), "%s", want);
	for (item = strtok_r(copy, "|", &save); item != NULL; item = strtok_r(NULL, "|", &save)) {
		char *eqs = strchr(item, '=');

		ck_assert_uint_lt(i, n);
		if (eqs != NULL)
			*eqs = '\0';
		ck_assert_str_eq(o[i].name, item);
		ck_assert_str_eq(o[i].value, eqs != NULL ? eqs + 1 : "");
		ck_assert_int_eq(o[i].has_value, eqs != NULL);
		i++;
	}
	ck_assert_uint_eq(i, n);
}

static void assert_principals(const struct sshcert *c, const char *want)
{
	char copy[sizeof(many)], *save = NULL, *item;
	size_t i = 0;

	if (want == NULL) {
		ck_assert_uint_eq(c->nprincipals, 0);
		return;
	}
	snprintf(copy, sizeof(copy), "%s", want);
	for (item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		ck_assert_uint_lt(i, c->nprincipals);
		ck_assert_str_eq(c->principals[i], item);
		i++;
	}
	ck_assert_uint_eq(i, c->nprincipals);
}

/* The text after "label" on its line of out, in value. */
static void after(const struct buf *out, const char *label, char *value, size_t len)
{
	const char *at = strstr((const char *)out->p, label), *end;

	ck_assert_msg(at != NULL, "no %s in ssh-keygen -L", label);
	at += strlen(label);
	end = strchr(at, '\n');
	ck_assert_ptr_nonnull(end);
	ck_assert_uint_lt((size_t)(end - at), len);
	memcpy(value, at, (size_t)(end - at));
	value[end - at] = '\0';
}

/* What `ssh-keygen -L` says of the certificate agrees with what we parsed. */
static void cross_check(const struct golden *g, const struct sshcert *c)
{
	const char *argv[] = {"ssh-keygen", "-L", "-f", NULL, NULL};
	char path[PATH_MAX], value[512], want[512], fp[SSHKEY_FP_LEN], cafp[SSHKEY_FP_LEN];
	char a[SSHCERT_TIME_LEN], b[SSHCERT_TIME_LEN];
	struct buf out = BUF_INIT;

	path_of(path, g->name, "-cert.pub");
	argv[3] = path;
	ck_assert_int_eq(unit_command(argv, NULL, false, &out), 0);

	after(&out, "Type: ", value, sizeof(value));
	snprintf(want, sizeof(want), "%s %s certificate", c->type, sshcert_type_name(c));
	ck_assert_str_eq(value, want);
	ck_assert_int_eq(sshkey_fingerprint(c->key.p, c->key.len, fp), 0);
	after(&out, "Public key: ", value, sizeof(value));
	ck_assert_msg(strstr(value, fp) != NULL, "%s vs %s", value, fp);
	ck_assert_int_eq(sshcert_ca_fingerprint(c, cafp), 0);
	after(&out, "Signing CA: ", value, sizeof(value));
	snprintf(want, sizeof(want), "%s (using %s)", cafp, c->sig_type);
	ck_assert_msg(strstr(value, want) != NULL, "%s vs %s", value, want);
	after(&out, "Key ID: ", value, sizeof(value));
	snprintf(want, sizeof(want), "\"%s\"", c->key_id);
	ck_assert_str_eq(value, want);
	after(&out, "Serial: ", value, sizeof(value));
	snprintf(want, sizeof(want), "%" PRIu64, c->serial);
	ck_assert_str_eq(value, want);
	after(&out, "Valid: ", value, sizeof(value));
	if (c->valid_after == 0 && c->valid_before == SSHCERT_FOREVER) {
		ck_assert_str_eq(value, "forever");
	} else {
		/* ssh-keygen shows local time, which main() made UTC, without the Z. */
		sshcert_format_time(c->valid_after, a);
		sshcert_format_time(c->valid_before, b);
		a[strlen(a) - 1] = '\0';
		b[strlen(b) - 1] = '\0';
		snprintf(want, sizeof(want), "from %s to %s", a, b);
		ck_assert_str_eq(value, want);
	}
	buf_free(&out);
}

START_TEST(test_golden)
{
	const struct golden *g = &golden[_i];
	struct buf line = BUF_INIT, blob = BUF_INIT, key = BUF_INIT, ca = BUF_INIT,
		   other = BUF_INIT;
	char want[128], err[256] = "", other_err[256];
	struct sshcert c, c2;
	int rc;

	load_cert(g->name, &line, &blob);
	load_pub(g->key, &key);
	load_pub(g->ca, &ca);
	load_pub("other", &other);

	ck_assert_msg(sshcert_parse_line(&c, (char *)line.p, line.len, err, sizeof(err)) == 0,
		      "%s: %s", g->name, err);
	parse_ok(&c2, &blob);
	ck_assert_uint_eq(c.blob.len, c2.blob.len);
	ck_assert_mem_eq(c.blob.p, c2.blob.p, c.blob.len);
	sshcert_free(&c2);

	snprintf(want, sizeof(want), "%s" SSHCERT_SUFFIX, g->key_type);
	ck_assert_str_eq(c.type, want);
	ck_assert_str_eq(c.key_type, g->key_type);
	ck_assert_uint_eq(c.nonce_len, 32);
	ck_assert_uint_eq(c.key.len, key.len);
	ck_assert_mem_eq(c.key.p, key.p, key.len);
	ck_assert(sshcert_key_is(&c, key.p, key.len));
	ck_assert(!sshcert_key_is(&c, other.p, other.len));
	ck_assert_uint_eq(c.serial, g->host ? 2 : 1);
	ck_assert_uint_eq(c.cert_type, g->host ? SSHCERT_HOST : SSHCERT_USER);
	ck_assert_str_eq(sshcert_type_name(&c), g->host ? "host" : "user");
	snprintf(want, sizeof(want), "id-%s", g->name);
	ck_assert_str_eq(c.key_id, g->id != NULL ? g->id : want);
	assert_principals(&c, g->principals);
	ck_assert_uint_eq(c.valid_after, g_after[g->validity]);
	ck_assert_uint_eq(c.valid_before, g_before[g->validity]);
	assert_options(c.options, c.noptions, g->options);
	assert_options(c.extensions, c.nextensions, g->extensions);
	ck_assert_uint_eq(c.reserved_len, 0);
	ck_assert_str_eq(c.ca_type, g->ca_type);
	ck_assert_uint_eq(c.ca_key_len, ca.len);
	ck_assert_mem_eq(c.ca_key, ca.p, ca.len);
	ck_assert(sshcert_ca_is(&c, ca.p, ca.len));
	ck_assert(!sshcert_ca_is(&c, other.p, other.len));
	ck_assert_str_eq(c.sig_type, g->sig_type);
	ck_assert_uint_lt(c.signed_len, c.blob.len);
	cross_check(g, &c);

	/* The CA's signature holds. */
	ck_assert_msg(sshcert_verify(&c, err, sizeof(err)) == 0, "%s: %s", g->name, err);

	/* The verdict for our key, and for a key that is not ours. */
	err[0] = '\0';
	rc = sshcert_check(&c, key.p, key.len, g_now, err, sizeof(err));
	if (g->check_err == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", g->name, err);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, g->check_err) != NULL, "%s: %s", g->name, err);
	}
	if (!g->host) {
		ck_assert_int_eq(
		    sshcert_check(&c, other.p, other.len, g_now, other_err, sizeof(other_err)), -1);
		ck_assert_msg(strstr(other_err, "the certificate is for another key") != NULL, "%s",
			      other_err);
	}
	sshcert_free(&c);

	/* A byte of the nonce, then of the signature, changed: parses, does not verify. */
	{
		size_t nonce = 4 + strlen(g->key_type) + strlen(SSHCERT_SUFFIX) + 4 + 5;

		blob.p[nonce] ^= 0x01;
		parse_ok(&c, &blob);
		ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), -1);
		ck_assert_str_eq(err, "bad signature");
		sshcert_free(&c);
		blob.p[nonce] ^= 0x01;
		blob.p[blob.len - 2] ^= 0x01;
		parse_ok(&c, &blob);
		ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), -1);
		sshcert_free(&c);
	}

	buf_free(&line);
	buf_free(&blob);
	buf_free(&key);
	buf_free(&ca);
	buf_free(&other);
}
END_TEST

/* Every byte of one certificate per CA type flipped: never both parsed and verified. */
START_TEST(test_flip_every_byte)
{
	static const unsigned char masks[] = {0x01, 0x80};
	struct buf blob = BUF_INIT;
	char err[256];
	struct sshcert c;
	size_t parsed = 0;

	load_cert(golden_by_name(per_ca[_i])->name, NULL, &blob);
	for (size_t m = 0; m < sizeof(masks); m++) {
		for (size_t i = 0; i < blob.len; i++) {
			blob.p[i] ^= masks[m];
			if (sshcert_parse(&c, blob.p, blob.len, err, sizeof(err)) == 0) {
				parsed++;
				ck_assert_msg(sshcert_verify(&c, err, sizeof(err)) == -1,
					      "byte %zu ^ %02x verified", i, masks[m]);
				sshcert_free(&c);
			}
			blob.p[i] ^= masks[m];
		}
	}
	ck_assert_uint_gt(parsed, 0);
	parse_ok(&c, &blob);
	ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), 0);
	sshcert_free(&c);
	buf_free(&blob);
}
END_TEST

/* Cut at every length, as a blob and as a line. */
START_TEST(test_truncated)
{
	const struct golden *g = &golden[_i];
	struct buf line = BUF_INIT, blob = BUF_INIT;
	char err[256];
	struct sshcert c;
	const char *sp;
	size_t end;

	load_cert(g->name, &line, &blob);
	for (size_t n = 0; n < blob.len; n++) {
		ck_assert_int_eq(sshcert_parse(&c, blob.p, n, err, sizeof(err)), -1);
		ck_assert_str_ne(err, "");
	}
	/* The line: anything shorter than "TYPE BASE64" is refused; the comment may go. */
	sp = strchr((char *)line.p, ' ');
	ck_assert_ptr_nonnull(sp);
	sp = strchr(sp + 1, ' ');
	end = sp != NULL ? (size_t)(sp - (char *)line.p) : line.len - 1;
	for (size_t n = 0; n < end; n++)
		ck_assert_int_eq(sshcert_parse_line(&c, (char *)line.p, n, err, sizeof(err)), -1);
	for (size_t n = end; n <= line.len; n++) {
		ck_assert_msg(sshcert_parse_line(&c, (char *)line.p, n, err, sizeof(err)) == 0,
			      "%zu: %s", n, err);
		sshcert_free(&c);
	}
	buf_free(&line);
	buf_free(&blob);
}
END_TEST

START_TEST(test_trailing)
{
	struct buf line = BUF_INIT, blob = BUF_INIT, b = BUF_INIT;
	char err[256];
	struct sshcert c;

	load_cert("user", &line, &blob);
	buf_append(&b, blob.p, blob.len);
	buf_append(&b, "\0", 1);
	ck_assert_int_eq(sshcert_parse(&c, b.p, b.len, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "1 trailing bytes after the signature");
	buf_append(&b, "junk junk", 9);
	ck_assert_int_eq(sshcert_parse(&c, b.p, b.len, err, sizeof(err)), -1);
	buf_free(&b);

	/* A second line, a control character in the comment. */
	buf_append(&b, line.p, line.len);
	buf_append(&b, line.p, line.len);
	ck_assert_int_eq(sshcert_parse_line(&c, (char *)b.p, b.len, err, sizeof(err)), -1);
	buf_free(&b);
	buf_append(&b, line.p, line.len - 1);
	buf_appendf(&b, " \033]0;owned\007\n");
	ck_assert_int_eq(sshcert_parse_line(&c, (char *)b.p, b.len, err, sizeof(err)), -1);
	buf_free(&b);
	/* CRLF and white space around are fine. */
	buf_appendf(&b, "  ");
	buf_append(&b, line.p, line.len - 1);
	buf_appendf(&b, " \r\n");
	ck_assert_int_eq(sshcert_parse_line(&c, (char *)b.p, b.len, err, sizeof(err)), 0);
	sshcert_free(&c);

	buf_free(&b);
	buf_free(&line);
	buf_free(&blob);
}
END_TEST

/* The top-level fields of an ssh-ed25519 certificate: where each starts, how long. */
enum field {
	F_TYPE,
	F_NONCE,
	F_PK,
	F_SERIAL,
	F_CTYPE,
	F_KEYID,
	F_PRINCIPALS,
	F_AFTER,
	F_BEFORE,
	F_OPTIONS,
	F_EXTENSIONS,
	F_RESERVED,
	F_CAKEY,
	F_SIGNATURE,
	NFIELDS
};

struct span {
	size_t off, len;
	int is_string;
};

static void layout(const struct buf *blob, struct span f[NFIELDS])
{
	static const int width[NFIELDS] = {
	    [F_SERIAL] = 8, [F_CTYPE] = 4, [F_AFTER] = 8, [F_BEFORE] = 8};
	struct sshbuf b;
	const unsigned char *p;
	size_t len;
	uint64_t u;
	uint32_t v;

	sshbuf_init(&b, blob->p, blob->len);
	for (int i = 0; i < NFIELDS; i++) {
		f[i].off = b.off;
		f[i].is_string = width[i] == 0;
		if (f[i].is_string)
			ck_assert_int_eq(sshbuf_get_string(&b, &p, &len), 0);
		else
			ck_assert_int_eq(
			    width[i] == 8 ? sshbuf_get_u64(&b, &u) : sshbuf_get_u32(&b, &v), 0);
		f[i].len = b.off - f[i].off;
	}
	ck_assert_uint_eq(b.off, blob->len);
}

/* blob with field i replaced by a string holding p (or, for a number, the raw bytes p). */
static void splice_field(const struct buf *blob, const struct span f[NFIELDS], int i, const void *p,
			 size_t len, struct buf *out)
{
	buf_append(out, blob->p, f[i].off);
	if (f[i].is_string)
		sshbuf_put_string(out, p, len);
	else
		buf_append(out, p, len);
	buf_append(out, blob->p + f[i].off + f[i].len, blob->len - f[i].off - f[i].len);
	ck_assert(!out->failed);
}

static void expect_refused(const struct buf *b, const char *fragment)
{
	char err[256] = "";
	struct sshcert c;

	ck_assert_int_eq(sshcert_parse(&c, b->p, b->len, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, fragment) != NULL, "error \"%s\" lacks \"%s\"", err, fragment);
	/* Refused means empty: nothing to free, nothing dangling. */
	ck_assert_ptr_null(c.blob.p);
	ck_assert_ptr_null(c.principals);
	ck_assert_ptr_null(c.key_id);
}

/* Each string's length made to point past the end (by one, and by 4 GiB). */
START_TEST(test_length_past_end)
{
	struct buf blob = BUF_INIT;
	struct span f[NFIELDS];
	struct sshcert c;
	char err[256];

	load_cert("options", NULL, &blob);
	layout(&blob, f);
	for (int i = 0; i < NFIELDS; i++) {
		size_t off = f[i].off;
		uint32_t past = (uint32_t)(blob.len - off - 4 + 1);
		unsigned char save[4];

		if (!f[i].is_string)
			continue;
		memcpy(save, blob.p + off, 4);
		for (int k = 0; k < 2; k++) {
			uint32_t v = k == 0 ? past : UINT32_MAX;

			blob.p[off] = (unsigned char)(v >> 24);
			blob.p[off + 1] = (unsigned char)(v >> 16);
			blob.p[off + 2] = (unsigned char)(v >> 8);
			blob.p[off + 3] = (unsigned char)v;
			ck_assert_msg(sshcert_parse(&c, blob.p, blob.len, err, sizeof(err)) == -1,
				      "field %d", i);
		}
		memcpy(blob.p + off, save, 4);
	}
	/* Nested: the first option's name, and its value, past the end of the options. */
	{
		size_t opt = f[F_OPTIONS].off + 4;

		blob.p[opt + 3] = 0xff;
		ck_assert_int_eq(sshcert_parse(&c, blob.p, blob.len, err, sizeof(err)), -1);
		ck_assert_str_eq(err, "truncated critical option");
	}
	buf_free(&blob);
}
END_TEST

START_TEST(test_types_disagree)
{
	struct buf line = BUF_INIT, blob = BUF_INIT, b = BUF_INIT, pub = BUF_INIT;
	char path[PATH_MAX], err[256];
	struct span f[NFIELDS];
	struct sshcert c;
	const char *sp;

	load_cert("user", &line, &blob);
	sp = strchr((char *)line.p, ' ');
	buf_appendf(&b, "ssh-rsa-cert-v01@openssh.com%s", sp);
	ck_assert_int_eq(sshcert_parse_line(&c, (char *)b.p, b.len, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "says ssh-rsa-cert-v01@openssh.com"));
	buf_free(&b);

	/* A plain key is not a certificate. */
	path_of(path, "u_ed", ".pub");
	ck_assert_int_eq(unit_read_file(path, &pub), 0);
	ck_assert_int_eq(sshcert_parse_line(&c, (char *)pub.p, pub.len, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "a plain ssh-ed25519 key, not a certificate");

	/* Another certificate type inside: its fields do not follow. */
	layout(&blob, f);
	splice_field(&blob, f, F_TYPE, "ssh-rsa-cert-v01@openssh.com", 28, &b);
	expect_refused(&b, "bad ssh-rsa key");
	buf_free(&b);
	splice_field(&blob, f, F_TYPE, "ecdsa-sha2-nistp256-cert-v01@openssh.com", 40, &b);
	expect_refused(&b, "bad curve");
	buf_free(&b);
	splice_field(&blob, f, F_TYPE, "ssh-ed25519-cert-v02@openssh.com", 32, &b);
	expect_refused(&b, "unknown certificate type ssh-ed25519-cert-v02@openssh.com");
	buf_free(&b);
	splice_field(&blob, f, F_TYPE, "\033[2J", 4, &b);
	expect_refused(&b, "unknown certificate type");
	ck_assert_ptr_null(strchr(err, '\033'));
	buf_free(&b);

	buf_free(&line);
	buf_free(&blob);
	buf_free(&pub);
}
END_TEST

/* A list of (name, data) pairs; data NULL for empty, else a string holding it. */
static void options_of(struct buf *out, const char *const *pairs, int raw_data)
{
	for (int i = 0; pairs[i] != NULL; i += 2) {
		struct buf data = BUF_INIT;

		sshbuf_put_cstring(out, pairs[i]);
		if (pairs[i + 1] != NULL && raw_data)
			buf_append(&data, pairs[i + 1], strlen(pairs[i + 1]));
		else if (pairs[i + 1] != NULL)
			sshbuf_put_cstring(&data, pairs[i + 1]);
		sshbuf_put_string(out, data.p != NULL ? data.p : (const unsigned char *)"",
				  data.len);
		buf_free(&data);
	}
}

static void expect_options_refused(const struct buf *blob, const struct span *f, int field,
				   const char *const *pairs, int raw, const char *fragment)
{
	struct buf list = BUF_INIT, b = BUF_INIT;

	options_of(&list, pairs, raw);
	splice_field(blob, f, field, list.p, list.len, &b);
	expect_refused(&b, fragment);
	buf_free(&list);
	buf_free(&b);
}

/* Fields the spec or our printing does not allow, spliced into a real certificate. */
START_TEST(test_spliced)
{
	static const char *const unsorted[] = {"permit-pty", NULL, "permit-agent-forwarding", NULL,
					       NULL};
	static const char *const repeated[] = {"permit-pty", NULL, "permit-pty", NULL, NULL};
	static const char *const upper_after[] = {"permit-pty", NULL, "permit-X11-forwarding", NULL,
						  NULL};
	static const char *const prefix_after[] = {"permit-ptyx", NULL, "permit-pty", NULL, NULL};
	static const char *const raw_value[] = {"force-command", "/bin/sh", NULL};
	static const char *const ctl_value[] = {"force-command", "/bin/sh\033[0m", NULL};
	static const char *const ctl_name[] = {"permit\npty", NULL, NULL};
	static const char *const empty_name[] = {"", NULL, NULL};
	static const char *const sorted[] = {"a", "1", "b", NULL, "ba", "", NULL};
	struct buf blob = BUF_INIT, b = BUF_INIT, list = BUF_INIT, ca = BUF_INIT;
	struct span f[NFIELDS];
	struct sshcert c;
	char err[256];

	load_cert("user", NULL, &blob);
	layout(&blob, f);

	expect_options_refused(&blob, f, F_EXTENSIONS, unsorted, 0,
			       "extension permit-agent-forwarding: not sorted or repeated");
	expect_options_refused(&blob, f, F_EXTENSIONS, repeated, 0, "not sorted or repeated");
	expect_options_refused(&blob, f, F_EXTENSIONS, upper_after, 0, "not sorted");
	expect_options_refused(&blob, f, F_OPTIONS, prefix_after, 0, "not sorted");
	expect_options_refused(&blob, f, F_OPTIONS, raw_value, 1,
			       "critical option force-command: bad value");
	expect_options_refused(&blob, f, F_OPTIONS, ctl_value, 0, "bad value");
	expect_options_refused(&blob, f, F_OPTIONS, ctl_name, 0, "critical option 1: bad name");
	expect_options_refused(&blob, f, F_EXTENSIONS, empty_name, 0, "bad name");
	/* A value string with bytes after it inside the data. */
	sshbuf_put_cstring(&list, "force-command");
	sshbuf_put_string(&list, "\0\0\0\1ab", 6);
	splice_field(&blob, f, F_OPTIONS, list.p, list.len, &b);
	expect_refused(&b, "bad value");
	buf_free(&b);
	buf_free(&list);

	/* What the spec allows passes, "a" < "b" < "ba", with an empty value string. */
	options_of(&list, sorted, 0);
	splice_field(&blob, f, F_EXTENSIONS, list.p, list.len, &b);
	parse_ok(&c, &b);
	ck_assert_uint_eq(c.nextensions, 3);
	ck_assert_str_eq(c.extensions[0].value, "1");
	ck_assert_int_eq(c.extensions[1].has_value, 0);
	ck_assert_int_eq(c.extensions[2].has_value, 1);
	ck_assert_str_eq(c.extensions[2].value, "");
	/* Spliced: the signature no longer holds. */
	ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), -1);
	sshcert_free(&c);
	buf_free(&b);
	buf_free(&list);

	/* Key ids and principals that would write to a terminal. */
	splice_field(&blob, f, F_KEYID, "id\033[31m", 8, &b);
	expect_refused(&b, "the key id is not printable");
	buf_free(&b);
	sshbuf_put_cstring(&list, "alice");
	sshbuf_put_cstring(&list, "bob\r");
	splice_field(&blob, f, F_PRINCIPALS, list.p, list.len, &b);
	expect_refused(&b, "principal 2 is not printable");
	buf_free(&b);
	buf_free(&list);
	sshbuf_put_cstring(&list, "alice");
	sshbuf_put_u32(&list, 9);
	splice_field(&blob, f, F_PRINCIPALS, list.p, list.len, &b);
	expect_refused(&b, "truncated principal list");
	buf_free(&b);
	buf_free(&list);

	/* Certificate type 3. */
	splice_field(&blob, f, F_CTYPE, "\0\0\0\3", 4, &b);
	expect_refused(&b, "certificate type 3 is neither user (1) nor host (2)");
	buf_free(&b);

	/* An Ed25519 key of 31 bytes. */
	splice_field(&blob, f, F_PK, blob.p + f[F_PK].off + 4, 31, &b);
	expect_refused(&b, "bad ssh-ed25519 key");
	buf_free(&b);

	/* CA keys: a certificate (a chain), trailing bytes, an unknown type. */
	splice_field(&blob, f, F_CAKEY, blob.p, blob.len, &b);
	expect_refused(&b, "chains are not allowed");
	buf_free(&b);
	buf_append(&ca, blob.p + f[F_CAKEY].off + 4, f[F_CAKEY].len - 4);
	buf_append(&ca, "x", 1);
	splice_field(&blob, f, F_CAKEY, ca.p, ca.len, &b);
	expect_refused(&b, "trailing bytes after the ssh-ed25519 key");
	buf_free(&b);
	buf_free(&ca);
	sshbuf_put_cstring(&ca, "ssh-foo");
	splice_field(&blob, f, F_CAKEY, ca.p, ca.len, &b);
	expect_refused(&b, "unknown key type ssh-foo");
	buf_free(&b);
	buf_free(&ca);

	/* Signatures: trailing bytes; another type; ssh-rsa for an Ed25519 CA; too short. */
	buf_append(&list, blob.p + f[F_SIGNATURE].off + 4, f[F_SIGNATURE].len - 4);
	buf_append(&list, "x", 1);
	splice_field(&blob, f, F_SIGNATURE, list.p, list.len, &b);
	expect_refused(&b, "bad signature");
	buf_free(&b);
	buf_free(&list);
	sshbuf_put_cstring(&list, "rsa-sha2-256");
	sshbuf_put_string(&list, blob.p + blob.len - 64, 64);
	splice_field(&blob, f, F_SIGNATURE, list.p, list.len, &b);
	parse_ok(&c, &b);
	ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "signature type rsa-sha2-256 does not fit an ssh-ed25519 CA");
	sshcert_free(&c);
	buf_free(&b);
	buf_free(&list);
	sshbuf_put_cstring(&list, "ssh-ed25519");
	sshbuf_put_string(&list, "short", 5);
	splice_field(&blob, f, F_SIGNATURE, list.p, list.len, &b);
	parse_ok(&c, &b);
	ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad signature: 5 bytes, not 64");
	sshcert_free(&c);
	buf_free(&b);
	buf_free(&list);

	/* Validity backwards: parses, but is not usable. */
	{
		struct buf key = BUF_INIT;

		load_pub("u_ed", &key);
		splice_field(&blob, f, F_AFTER, "\0\0\0\0\x7f\0\0\0", 8, &b);
		parse_ok(&c, &b);
		ck_assert_int_eq(sshcert_check(&c, key.p, key.len, g_now, err, sizeof(err)), -1);
		ck_assert_str_eq(err, "the certificate's validity period is empty");
		sshcert_free(&c);
		buf_free(&b);
		buf_free(&key);
	}

	buf_free(&blob);
}
END_TEST

/* An SHA-1 RSA signature (ssh-rsa) is refused, as OpenSSH refuses it. */
START_TEST(test_rsa_sha1_refused)
{
	struct buf blob = BUF_INIT, b = BUF_INIT, list = BUF_INIT;
	struct span f[NFIELDS];
	struct sshbuf s;
	const unsigned char *p;
	char type[64], err[256];
	struct sshcert c;
	size_t len;

	load_cert("rsaca", NULL, &blob);
	layout(&blob, f);
	sshbuf_init(&s, blob.p + f[F_SIGNATURE].off + 4, f[F_SIGNATURE].len - 4);
	ck_assert_int_eq(sshbuf_get_cstring(&s, type, sizeof(type)), 0);
	ck_assert_str_eq(type, "rsa-sha2-512");
	ck_assert_int_eq(sshbuf_get_string(&s, &p, &len), 0);
	sshbuf_put_cstring(&list, "ssh-rsa");
	sshbuf_put_string(&list, p, len);
	splice_field(&blob, f, F_SIGNATURE, list.p, list.len, &b);
	parse_ok(&c, &b);
	ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "SHA-1"));
	sshcert_free(&c);
	buf_free(&b);
	buf_free(&list);

	/* A signature one byte short (a leading zero dropped) still verifies, as in OpenSSH. */
	if (p[0] == 0) {
		sshbuf_put_cstring(&list, "rsa-sha2-512");
		sshbuf_put_string(&list, p + 1, len - 1);
		splice_field(&blob, f, F_SIGNATURE, list.p, list.len, &b);
		parse_ok(&c, &b);
		ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), 0);
		sshcert_free(&c);
		buf_free(&b);
		buf_free(&list);
	}
	/* And one byte long does not. */
	{
		struct buf sig = BUF_INIT;

		buf_append(&sig, "\0", 1);
		buf_append(&sig, p, len);
		sshbuf_put_cstring(&list, "rsa-sha2-512");
		sshbuf_put_string(&list, sig.p, sig.len);
		splice_field(&blob, f, F_SIGNATURE, list.p, list.len, &b);
		parse_ok(&c, &b);
		ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), -1);
		sshcert_free(&c);
		buf_free(&b);
		buf_free(&list);
		buf_free(&sig);
	}
	buf_free(&blob);
}
END_TEST

START_TEST(test_times)
{
	struct buf blob = BUF_INIT;
	char out[SSHCERT_TIME_LEN];
	struct sshcert c;

	sshcert_format_time(0, out);
	ck_assert_str_eq(out, "always");
	sshcert_format_time(SSHCERT_FOREVER, out);
	ck_assert_str_eq(out, "forever");
	sshcert_format_time(1577836800, out);
	ck_assert_str_eq(out, "2020-01-01T00:00:00Z");
	sshcert_format_time(253402300799, out);
	ck_assert_str_eq(out, "9999-12-31T23:59:59Z");
	sshcert_format_time(253402300800, out);
	ck_assert_str_eq(out, "253402300800");
	sshcert_format_time(UINT64_MAX - 1, out);
	ck_assert_str_eq(out, "18446744073709551614");

	load_cert("user", NULL, &blob);
	parse_ok(&c, &blob);
	ck_assert_uint_eq(sshcert_seconds_left(&c, g_now), 3600);
	ck_assert_uint_eq(sshcert_seconds_left(&c, g_now + 3599), 1);
	ck_assert_uint_eq(sshcert_seconds_left(&c, g_now + 3600), 0);
	ck_assert_uint_eq(sshcert_seconds_left(&c, g_now - 301), 0);
	sshcert_free(&c);
	buf_free(&blob);
	load_cert("forever", NULL, &blob);
	parse_ok(&c, &blob);
	ck_assert_uint_eq(sshcert_seconds_left(&c, g_now), UINT64_MAX);
	ck_assert_uint_eq(sshcert_seconds_left(&c, 0), UINT64_MAX);
	sshcert_free(&c);
	buf_free(&blob);
}
END_TEST

/* A certificate for our own generated key, signed by ssh-keygen, passes every check. */
START_TEST(test_our_key)
{
	const char *argv[] = {"ssh-keygen", "-q", "-s", NULL,	   "-I", "ours",
			      "-n",	    "me", "-V", "-5m:+1h", NULL, NULL};
	struct sshkey_ed25519 k;
	struct buf line = BUF_INIT, blob = BUF_INIT, cert = BUF_INIT;
	char ca[PATH_MAX], pub[PATH_MAX], certpath[PATH_MAX], err[256];
	struct sshcert c;

	ck_assert_int_eq(sshkey_generate(&k), 0);
	ck_assert_int_eq(sshkey_public_line(&line, &k, "ours"), 0);
	sshkey_put_public(&blob, &k);
	path_of(ca, "ca_ec256", "");
	path_of(pub, "ours", ".pub");
	path_of(certpath, "ours", "-cert.pub");
	unit_write_path(pub, line.p, line.len, 0644);
	argv[3] = ca;
	argv[10] = pub;
	ck_assert_int_eq(unit_command(argv, NULL, false, NULL), 0);
	ck_assert_int_eq(unit_read_file(certpath, &cert), 0);
	ck_assert_int_eq(sshcert_parse_line(&c, (char *)cert.p, cert.len, err, sizeof(err)), 0);
	ck_assert_msg(sshcert_check(&c, blob.p, blob.len, (uint64_t)time(NULL), err, sizeof(err)) ==
			  0,
		      "%s", err);
	ck_assert_int_eq(sshcert_verify(&c, err, sizeof(err)), 0);
	sshcert_free(&c);
	sshkey_clear(&k);
	buf_free(&line);
	buf_free(&blob);
	buf_free(&cert);
}
END_TEST

static Suite *sshcert_suite(void)
{
	Suite *s = suite_create("sshcert");
	TCase *tc;

	tc = tcase_create("golden");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_golden, 0, NGOLDEN);
	tcase_add_test(tc, test_times);
	tcase_add_test(tc, test_our_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_set_timeout(tc, 600); /* valgrind */
	tcase_add_loop_test(tc, test_flip_every_byte, 0, NPER_CA);
	tcase_add_loop_test(tc, test_truncated, 0, NGOLDEN);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_length_past_end);
	tcase_add_test(tc, test_types_disagree);
	tcase_add_test(tc, test_spliced);
	tcase_add_test(tc, test_rsa_sha1_refused);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	unit_tmpdir("check_sshcert");
	/* ssh-keygen reads -V and prints -L in local time: make that UTC. */
	setenv("TZ", "UTC", 1);
	tzset();
	make_golden();
	return unit_run(sshcert_suite());
}
