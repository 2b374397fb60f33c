/*
 * The user map (DESIGN.md §4 user_map ★2): which local account a token's
 * identity (the value of username_claim) may log in as. A file of
 * "IDENTITY LOCAL_USER" lines, '#' comments and blank lines, read with the
 * config's safety rules (lib/file.c, FILE_CONFIG). IDENTITY may hold '*',
 * which matches any run of bytes, none included; every other byte, '?'
 * too, stands for itself. The first line that matches decides.
 */
#ifndef APITOKEN_USERMAP_H
#define APITOKEN_USERMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"
#include "sha256.h"

/* Platforms with many accounts keep long maps; still a bound on what a login reads. */
#define USERMAP_MAX_SIZE (1024 * 1024)

struct usermap_rule {
	char *identity; /* a pattern */
	char *user;	/* a plain name */
};

struct usermap {
	struct usermap_rule *rules;
	size_t n;
	/* Hex SHA-256 of the file's bytes: what the cache binds to, so an edit voids entries. */
	char digest[SHA256_DIGEST_LEN * 2 + 1];
};

/*
 * Parses text (len bytes) into *m, which is freed with usermap_free()
 * whatever the result. APT_OK, APT_NOMEM, or APT_SERVICE with a message in
 * err that starts "name:LINE: " and never quotes the line (an identity may
 * be a token pasted on the wrong line).
 */
enum apt_rc usermap_parse(const char *text, size_t len, const char *name, struct usermap *m,
			  char *err, size_t errlen);

/*
 * Reads path (checked as FILE_CONFIG, at most USERMAP_MAX_SIZE bytes) and
 * parses it: *out is a new map, or NULL when the result is not APT_OK.
 */
enum apt_rc usermap_load(const char *path, struct usermap **out, char *err, size_t errlen);

/* True when pattern (NUL-terminated) matches all len bytes of s. */
bool usermap_glob(const char *pattern, const char *s, size_t len);

/*
 * The local user of the first rule whose identity matches the len bytes at
 * identity, or NULL when none does. An identity holding a NUL byte matches
 * nothing: no file line could have been meant for it.
 */
const char *usermap_lookup(const struct usermap *m, const char *identity, size_t len);

void usermap_free(struct usermap *m);

#endif
