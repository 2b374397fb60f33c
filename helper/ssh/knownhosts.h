/*
 * The managed known_hosts file of `apitoken ssh-cert load` (DESIGN.md §8):
 * the host CAs the issuer publishes ("host_authorities" at
 * cert_url/authority) as "@cert-authority PATTERNS KEY" lines, so that ssh
 * verifies our hosts by their host certificates, with no trust on first use.
 */
#ifndef APITOKEN_KNOWNHOSTS_H
#define APITOKEN_KNOWNHOSTS_H

#include <stddef.h>

#include "buf.h"
#include "result.h"

#define KNOWNHOSTS_FILE "known_hosts" /* its name in the state directory */

/*
 * The file's text, appended to out: a comment, then one line
 * "@cert-authority PATTERNS TYPE BASE64" per key line of keys (n of them).
 * PATTERNS are hosts (ssh Host patterns, as sshconfig_hosts_check takes
 * them) joined by commas, each also as "[PATTERN]:*" (ssh looks a host on
 * another port than 22 up as "[host]:port"); a "!pattern" stays a
 * negation in both forms. Each key line is parsed, must be a plain public
 * key of a type OpenSSH signs host certificates with (no certificate), and
 * is written again from its blob, without its comment. One bad line
 * refuses them all: APT_SERVICE with err naming the line (1-based) and
 * nothing appended; APT_NOMEM.
 */
enum apt_rc knownhosts_render(struct buf *out, const char *hosts, char *const *keys, size_t n,
			      char *err, size_t errlen);

#endif
