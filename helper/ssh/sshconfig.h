/*
 * The ssh_config side of `apitoken ssh-cert` (DESIGN.md §8): where the
 * user's ssh config is, the one marked Include block we put at its top and
 * take out again, and the include file naming our key and certificate.
 *
 * Every file is replaced through a temp file in its own directory, fsync
 * and rename, so ssh never reads a half-written config. Paths written into
 * ssh_config must be absolute and free of what ssh_config would interpret
 * (quotes, backslashes, %-tokens, ${VAR}, glob characters, control bytes);
 * a path with a space is written in double quotes.
 *
 * Results: APT_OK; APT_SERVICE with a message in err (refused or failed);
 * APT_NOMEM.
 */
#ifndef APITOKEN_SSHCONFIG_H
#define APITOKEN_SSHCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

#define SSHCONFIG_BEGIN                                                                            \
	"# BEGIN apitoken (managed by apitoken ssh-cert; remove with `apitoken ssh-cert clear`)"
#define SSHCONFIG_END "# END apitoken"
#define SSHCONFIG_MAX (1024 * 1024) /* a larger ~/.ssh/config is refused */

/*
 * The config file ssh reads: $APITOKEN_SSH_CONFIG if set, else
 * ~/.ssh/config with the home directory from the user database, as ssh
 * takes it ($HOME is not what ssh uses). *out is freed with free().
 */
enum apt_rc sshconfig_path(char **out, char *err, size_t errlen);

/*
 * Puts our block (SSHCONFIG_BEGIN, "Include INCLUDE", SSHCONFIG_END) at the
 * top of config, before any Host or Match line could make it conditional.
 * If a block is already there with this include, nothing is written; with
 * another include, it is replaced where it stands. The rest of the file is
 * kept byte for byte, and its mode. A missing file is created 0600, and its
 * directory 0700 when that is missing too (one level only). Refused: a
 * symbolic link, a file with other hard links, not owned by the user or
 * not a regular file, a BEGIN line without its END. *changed (may be NULL) tells if the file was
 * written.
 */
enum apt_rc sshconfig_insert(const char *config, const char *include, bool *changed, char *err,
			     size_t errlen);

/*
 * Takes our block(s) out of config, and nothing else: the file is then
 * byte for byte what it was before sshconfig_insert. A missing file or one
 * without the block is left alone; a file that held only the block is left
 * empty, not deleted. Refuses what sshconfig_insert refuses.
 */
enum apt_rc sshconfig_remove(const char *config, bool *changed, char *err, size_t errlen);

/*
 * hosts as sshconfig_render takes them: ssh Host patterns separated by
 * white space, at least one. A pattern holding a quote, '#', '=', a
 * backslash, a control or non-ASCII byte is refused: it could end the Host
 * line and inject options. Blank hosts are refused too: "Host *" with
 * IdentitiesOnly would leave every other remote without the user's keys.
 * APT_OK, or APT_SERVICE with the fault in err.
 */
enum apt_rc sshconfig_hosts_check(const char *hosts, char *err, size_t errlen);

/*
 * The include file, appended to out: "Host PATTERNS" (hosts as
 * sshconfig_hosts_check takes them); then, when identity is not NULL,
 * IdentityFile, CertificateFile and "IdentitiesOnly yes"; then, when
 * known_hosts is not NULL, "UserKnownHostsFile KNOWN_HOSTS
 * ~/.ssh/known_hosts" (ours first, the user's own still read).
 */
enum apt_rc sshconfig_render(struct buf *out, const char *hosts, const char *identity,
			     const char *certificate, const char *known_hosts, char *err,
			     size_t errlen);

/* sshconfig_render() written to path, mode 0600, atomically. Its directory must exist. */
enum apt_rc sshconfig_write_include(const char *path, const char *hosts, const char *identity,
				    const char *certificate, const char *known_hosts, char *err,
				    size_t errlen);

/*
 * Whether host matches hosts as ssh matches a Host line: patterns separated
 * by white space or commas, '*' and '?' wildcards, case sensitive (as ssh); a
 * matching "!pattern" excludes the host whatever else matches, and a list
 * of negations alone matches nothing. NULL, blank hosts or host: false.
 */
bool sshconfig_host_match(const char *hosts, const char *host);

/*
 * The next pattern of hosts read as a list (white space or commas between
 * patterns, as sshconfig_host_match reads it) at *p: its start in *start,
 * *p moved past it; its length, 0 at the end.
 */
size_t sshconfig_next_host(const char **p, const char **start);

#endif
