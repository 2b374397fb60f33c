/*
 * Rendering the managed known_hosts file (see knownhosts.h): every key
 * checked and written again from its decoded blob, so nothing the issuer
 * sends beyond a key reaches a file ssh trusts.
 */
#include <stdbool.h>
#include <string.h>

#include "errmsg.h"
#include "knownhosts.h"
#include "sshbuf.h"
#include "sshconfig.h"
#include "sshkey.h"

/* The key types OpenSSH signs host certificates with: a certificate is no CA key. */
static bool ca_type(const char *type)
{
	static const char *const types[] = {"ssh-ed25519",
					    "ssh-rsa",
					    "ecdsa-sha2-nistp256",
					    "ecdsa-sha2-nistp384",
					    "ecdsa-sha2-nistp521",
					    "sk-ssh-ed25519@openssh.com",
					    "sk-ecdsa-sha2-nistp256@openssh.com"};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

/* The patterns of hosts, comma-joined, each also as "[PATTERN]:*". */
static void put_patterns(struct buf *out, const char *hosts)
{
	const char *p = hosts, *pat;
	bool first = true;
	size_t n;

	/* Commas too: askpass reads hosts as a list either way (sshconfig_host_match). */
	while ((n = sshconfig_next_host(&p, &pat)) > 0) {
		bool neg = pat[0] == '!';

		buf_appendf(out, "%s%.*s", first ? "" : ",", (int)n, pat);
		/* Already "[host]:port": that is the form ssh looks up. */
		if (n > (size_t)neg && pat[neg] != '[')
			buf_appendf(out, ",%s[%.*s]:*", neg ? "!" : "", (int)(n - neg), pat + neg);
		first = false;
	}
}

enum apt_rc knownhosts_render(struct buf *out, const char *hosts, char *const *keys, size_t n,
			      char *err, size_t errlen)
{
	struct buf text = BUF_INIT, blob = BUF_INIT, pats = BUF_INIT;
	char type[SSHKEY_TYPE_MAX], why[256];
	enum apt_rc rc = sshconfig_hosts_check(hosts, err, errlen);

	if (rc != APT_OK)
		return rc;
	put_patterns(&pats, hosts);
	buf_appendf(&text, "# The host CAs the issuer publishes, written by `apitoken ssh-cert "
			   "load`;\n# `apitoken ssh-cert clear` removes this file.\n");
	for (size_t i = 0; i < n && rc == APT_OK; i++) {
		blob.len = 0;
		if (keys[i] == NULL || sshkey_parse_line(type, &blob, keys[i], strlen(keys[i]), why,
							 sizeof(why)) < 0) {
			errf(err, errlen, "host authority %zu is not a public key line: %s", i + 1,
			     keys[i] == NULL ? "none" : why);
			rc = blob.failed ? APT_NOMEM : APT_SERVICE;
		} else if (!ca_type(type)) {
			errf(err, errlen,
			     "host authority %zu is of type %.64s, not a key type for a host CA",
			     i + 1, type);
			rc = APT_SERVICE;
		} else {
			buf_appendf(&text, "@cert-authority %.*s %s ", (int)pats.len,
				    (const char *)pats.p, type);
			if (base64_encode(&text, blob.p, blob.len) < 0)
				rc = APT_NOMEM;
			buf_append(&text, "\n", 1);
		}
	}
	if (rc == APT_OK && (text.failed || pats.failed))
		rc = APT_NOMEM;
	if (rc == APT_OK)
		buf_append(out, text.p, text.len);
	if (rc == APT_OK && out->failed)
		rc = APT_NOMEM;
	buf_free(&text);
	buf_free(&blob);
	buf_free(&pats);
	return rc;
}
