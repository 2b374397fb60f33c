/*
 * libFuzzer harness for helper/ssh/sshconfig.c: the marked Include block
 * that `apitoken ssh-cert load --write-ssh-config` puts into the user's
 * ssh config and `clear` takes out, and the include file it renders.
 * Input: a byte choosing the include path, the hosts patterns, NUL, then
 * the ssh config's text (any bytes). Files live in a private directory.
 *
 * Oracles, on the file as it is after each step: insert refused = file
 * untouched; insert twice = insert once (the second writes nothing);
 * exactly one block after insert, at the top when the file had none
 * (block + x); remove(insert(x)) = remove(x), which is x itself when x had
 * no block. The rendered include file is exactly the Host line with the
 * patterns given and the four option lines, or refused when there is no
 * pattern (never "Host *") or a pattern holds a refused byte: no pattern
 * can start another line or option. The managed known_hosts for the same
 * patterns is accepted exactly when the include is, and is then its two
 * comment lines and one @cert-authority line per key.
 */
#include <sys/stat.h>

#include "buf.h"
#include "knownhosts.h"
#include "oracle.h"
#include "sshconfig.h"

static const char *const includes[] = {
    "/home/u/.local/state/apitoken/ssh/config",
    "/home/my user/#x=y/config",
    "relative/config",
    "/bad\"quote",
};

static void read_all(const char *path, struct buf *out)
{
	unsigned char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	out->len = 0;
	CHECK(fd >= 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	CHECK(n == 0 && !out->failed);
	close(fd);
}

static bool same(const struct buf *b, const void *p, size_t len)
{
	return b->len == len && (len == 0 || memcmp(b->p, p, len) == 0);
}

/* Occurrences at the start of a line: there, the block's text is a block. */
static size_t count(const struct buf *hay, const struct buf *needle)
{
	size_t n = 0;

	for (size_t i = 0; i + needle->len <= hay->len; i++)
		if ((i == 0 || hay->p[i - 1] == '\n') &&
		    memcmp(hay->p + i, needle->p, needle->len) == 0)
			n++;
	return n;
}

static void check_edit(const char *dir, const char *include, const uint8_t *x, size_t xlen)
{
	char cfg[300], cfg2[300], err[1024];
	struct buf y = BUF_INIT, z = BUF_INIT, block = BUF_INIT, x2 = BUF_INIT;
	bool changed, quote = strpbrk(include, " #=") != NULL;
	enum apt_rc rc;

	snprintf(cfg, sizeof(cfg), "%s/config", dir);
	snprintf(cfg2, sizeof(cfg2), "%s/config.removed", dir);
	write_file(cfg, x, xlen);
	write_file(cfg2, x, xlen);
	buf_appendf(&block, "%s\nInclude %s%s%s\n%s\n", SSHCONFIG_BEGIN, quote ? "\"" : "", include,
		    quote ? "\"" : "", SSHCONFIG_END);

	/* remove(x), on a copy: what remove(insert(x)) must give. */
	rc = sshconfig_remove(cfg2, &changed, err, sizeof(err));
	read_all(cfg2, &x2);
	if (rc != APT_OK || !changed)
		CHECK(same(&x2, x, xlen));

	rc = sshconfig_insert(cfg, include, &changed, err, sizeof(err));
	read_all(cfg, &y);
	if (rc != APT_OK) {
		CHECK(rc == APT_SERVICE && err[0] != '\0' && !changed);
		CHECK(same(&y, x, xlen));
		goto out;
	}
	CHECK(count(&y, &block) == 1);
	if (!changed)
		CHECK(same(&y, x, xlen));
	if (same(&x2, x, xlen) && count(&x2, &block) == 0 && changed) {
		/* x had no block: ours went on top, the rest byte for byte. */
		CHECK(y.len == block.len + xlen && memcmp(y.p, block.p, block.len) == 0 &&
		      (xlen == 0 || memcmp(y.p + block.len, x, xlen) == 0));
	}

	CHECK(sshconfig_insert(cfg, include, &changed, err, sizeof(err)) == APT_OK && !changed);
	read_all(cfg, &z);
	CHECK(same(&z, y.p, y.len));

	CHECK(sshconfig_remove(cfg, &changed, err, sizeof(err)) == APT_OK && changed);
	read_all(cfg, &z);
	CHECK(same(&z, x2.p, x2.len));
	CHECK(count(&z, &block) == 0 || count(&x2, &block) > 0);
out:
	buf_free(&y);
	buf_free(&z);
	buf_free(&x2);
	buf_free(&block);
}

static void check_render(const char *hosts)
{
	struct buf out = BUF_INIT, want = BUF_INIT;
	char err[1024];
	const char *p = hosts;
	size_t n = 0;
	enum apt_rc rc =
	    sshconfig_render(&out, hosts, "/id", "/my cert", "/known hosts", err, sizeof(err));

	if (rc != APT_OK) {
		bool bad = hosts[strspn(hosts, " \t")] == '\0';
		CHECK(rc == APT_SERVICE && err[0] != '\0' && out.len == 0);
		for (const unsigned char *c = (const unsigned char *)hosts; *c; c++)
			bad |= *c != ' ' && *c != '\t' &&
			       (*c < 0x21 || *c > 0x7e || strchr("\"'#=\\", *c) != NULL);
		CHECK(bad);
		goto out;
	}
	buf_appendf(&want, "Host");
	while (*p != '\0') {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 0)
			break;
		buf_appendf(&want, " %.*s", (int)len, p);
		p += len;
		n++;
	}
	CHECK(n > 0);
	buf_appendf(&want, "\n\tIdentityFile /id\n\tCertificateFile \"/my cert\"\n"
			   "\tIdentitiesOnly yes\n"
			   "\tUserKnownHostsFile \"/known hosts\" ~/.ssh/known_hosts\n");
	CHECK(same(&out, want.p, want.len));
out:
	buf_free(&out);
	buf_free(&want);
}

static void check_known_hosts(const char *hosts)
{
	static char key[] =
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxKEyJtoi+mJ8mJ71CYg+I2ec4gN1mtBQwmwK8yHvS/";
	char *keys[] = {key, key};
	struct buf out = BUF_INIT, inc = BUF_INIT, ca = BUF_INIT;
	char err[1024];
	enum apt_rc rc = knownhosts_render(&out, hosts, keys, 2, err, sizeof(err));
	size_t lines = 0;

	CHECK((rc == APT_OK) ==
	      (sshconfig_render(&inc, hosts, "/id", "/c", NULL, err, sizeof(err)) == APT_OK));
	if (rc != APT_OK) {
		CHECK(out.len == 0);
		goto out;
	}
	for (size_t i = 0; i < out.len; i++)
		lines += out.p[i] == '\n';
	buf_appendf(&ca, "@cert-authority ");
	CHECK(lines == 4 && count(&out, &ca) == 2);
out:
	buf_free(&out);
	buf_free(&inc);
	buf_free(&ca);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t left = size - 1;
	char *hosts;

	if (size < 1)
		return 0;
	hosts = next_part(&p, &left);
	check_render(hosts);
	check_known_hosts(hosts);
	check_edit(fuzz_dir(false), includes[data[0] % 4], p, left);
	free(hosts);
	return 0;
}
