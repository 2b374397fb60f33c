/*
 * The user map (see usermap.h): its file format, and the one matcher that
 * logins and the admin listing both use.
 */
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "file.h"
#include "hex.h"
#include "usermap.h"

/*
 * Backtracking to the last '*' only: a later '*' can always absorb what an
 * earlier one would have, so this is complete, and it costs at most
 * strlen(pattern) * len steps, never an exponential blow-up on a crafted
 * identity.
 */
bool usermap_glob(const char *p, const char *s, size_t len)
{
	const char *star = NULL;
	size_t i = 0, mark = 0;

	while (i < len) {
		if (*p == '*') {
			star = ++p;
			mark = i;
		} else if (*p != '\0' && *p == s[i]) {
			p++;
			i++;
		} else if (star != NULL) {
			p = star;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

const char *usermap_lookup(const struct usermap *m, const char *identity, size_t len)
{
	if (memchr(identity, '\0', len) != NULL)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (usermap_glob(m->rules[i].identity, identity, len))
			return m->rules[i].user;
	return NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next run of non-blank bytes at *p (advanced past it): its start, length in *n. */
static char *next_field(char **p, size_t *n)
{
	char *s = *p;

	while (is_blank(*s))
		s++;
	for (*n = 0; s[*n] != '\0' && !is_blank(s[*n]); (*n)++)
		;
	*p = s + *n;
	return *n > 0 ? s : NULL;
}

/* One non-comment line, cut at its end: the rule it holds, or the reason it holds none. */
static const char *parse_line(char *line, struct usermap_rule *r)
{
	char *p = line, *id, *user;
	size_t idlen, ulen, rest;

	for (const char *c = line; *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || (unsigned char)*c == 0x7f)
			return "control characters in line";
	id = next_field(&p, &idlen);
	user = next_field(&p, &ulen);
	if (id == NULL || user == NULL || next_field(&p, &rest) != NULL)
		return "want IDENTITY LOCAL_USER";
	if (memchr(user, '*', ulen) != NULL)
		return "LOCAL_USER cannot hold '*'";
	id[idlen] = '\0';
	user[ulen] = '\0';
	r->identity = strdup(id);
	r->user = strdup(user);
	return NULL;
}

enum apt_rc usermap_parse(const char *text, size_t len, const char *name, struct usermap *m,
			  char *err, size_t errlen)
{
	unsigned char sum[SHA256_DIGEST_LEN];
	char *copy, *line, *next;
	unsigned lineno = 0;
	enum apt_rc rc = APT_OK;
	size_t cap = 0;

	memset(m, 0, sizeof(*m));
	sha256(text, len, sum);
	hex_encode(sum, sizeof(sum), m->digest);
	/* Lines are cut in place; the caller's text stays as it was. */
	copy = malloc(len + 1);
	if (copy == NULL)
		return APT_NOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line != NULL; line = next) {
		struct usermap_rule r = {NULL, NULL};
		const char *why;
		size_t n;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		while (is_blank(*line))
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		/* Never the line itself: an identity may be a token pasted by mistake. */
		why = parse_line(line, &r);
		if (why != NULL) {
			errf(err, errlen, "%s:%u: %s (line not shown: it could be a secret)", name,
			     lineno, why);
			rc = APT_SERVICE;
			break;
		}
		if (m->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct usermap_rule *v = realloc(m->rules, ncap * sizeof(*v));

			if (v == NULL) {
				free(r.identity);
				free(r.user);
				rc = APT_NOMEM;
				break;
			}
			m->rules = v;
			cap = ncap;
		}
		m->rules[m->n++] = r;
		if (r.identity == NULL || r.user == NULL) {
			rc = APT_NOMEM;
			break;
		}
	}
	explicit_bzero(copy, len + 1);
	free(copy);
	return rc;
}

enum apt_rc usermap_load(const char *path, struct usermap **out, char *err, size_t errlen)
{
	struct usermap *m;
	char *text = NULL;
	size_t len = 0;
	enum apt_rc rc;

	*out = NULL;
	rc = file_read_checked(path, FILE_CONFIG, USERMAP_MAX_SIZE, &text, &len, err, errlen);
	if (rc != APT_OK)
		return rc;
	m = malloc(sizeof(*m));
	if (m == NULL) {
		rc = APT_NOMEM;
	} else {
		rc = usermap_parse(text, len, path, m, err, errlen);
		if (rc == APT_OK) {
			*out = m;
		} else {
			usermap_free(m);
			free(m);
		}
	}
	explicit_bzero(text, len);
	free(text);
	return rc;
}

void usermap_free(struct usermap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->rules[i].identity);
		free(m->rules[i].user);
	}
	free(m->rules);
	memset(m, 0, sizeof(*m));
}
