/*
 * The "key = value" file format and its typed values (see keyvalue.h). File
 * lines are turned into the argument form "key=value" and go through
 * kv_set(), like module arguments, so there is one parser for both.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "keyvalue.h"
#include "file.h"
#include "errmsg.h"
#include "decimal.h"

static const struct kv_key *key_find(const struct kv_table *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->keys[i].name) == len && memcmp(t->keys[i].name, name, len) == 0)
			return &t->keys[i];
	return NULL;
}

int kv_key_index(const struct kv_table *t, const char *name, size_t len)
{
	const struct kv_key *o = key_find(t, name, len);

	return o != NULL ? (int)(o - t->keys) : -1;
}

/* Levenshtein distance of a (alen) and b, or max + 1 once it is over max. */
static size_t edit_distance(const char *a, size_t alen, const char *b, size_t max)
{
	size_t blen = strlen(b), row[64], i, j;

	/* Key names are short; a longer name is no typo of one. */
	if (alen + 1 > sizeof(row) / sizeof(row[0]) || blen + 1 > sizeof(row) / sizeof(row[0]))
		return max + 1;
	for (j = 0; j <= blen; j++)
		row[j] = j;
	for (i = 1; i <= alen; i++) {
		size_t diag = row[0], best;

		row[0] = i;
		best = row[0];
		for (j = 1; j <= blen; j++) {
			size_t up = row[j], v = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
	}
	return row[blen];
}

/* The letters a key name is made of: a name of others is quoted by no message. */
static bool key_like(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/*
 * The key an unknown name was most likely meant to be: within two edits,
 * else the one key it is the start of (at least 4 letters), else the
 * longest key it starts with ("cache_dir_old"). *quotable: the name itself
 * is a known key but for two edits or a missing end, so it holds nothing
 * that is not in the table and may be shown; a name that only starts with a
 * key may go on with a secret, and is not.
 */
static const struct kv_key *key_nearest(const struct kv_table *t, const char *name, size_t len,
					bool *quotable)
{
	const struct kv_key *best = NULL, *prefix_of = NULL, *starts = NULL;
	size_t best_d = 3, n_prefix_of = 0;

	*quotable = false;
	if (len == 0)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const char *k = t->keys[i].name;
		size_t klen = strlen(k), d = edit_distance(name, len, k, 2);

		if (d < best_d) {
			best = &t->keys[i];
			best_d = d;
		}
		if (len >= 4 && len < klen && strncmp(k, name, len) == 0) {
			prefix_of = &t->keys[i];
			n_prefix_of++;
		}
		if (klen < len && strncmp(k, name, klen) == 0 &&
		    (starts == NULL || klen > strlen(starts->name)))
			starts = &t->keys[i];
	}
	if (best != NULL || n_prefix_of == 1) {
		*quotable = key_like(name, len);
		return best != NULL ? best : prefix_of;
	}
	return starts;
}

/* The message for an unknown name, with the key it was likely meant to be. */
static void unknown_key(const struct kv_table *t, const char *name, size_t len, char *err,
			size_t errlen)
{
	bool quotable;
	const struct kv_key *near = key_nearest(t, name, len, &quotable);

	if (near == NULL)
		errf(err, errlen, "unknown option (not shown: it could be a secret)");
	else if (quotable)
		errf(err, errlen, "unknown option \"%.*s\"; did you mean \"%s\"?", (int)len, name,
		     near->name);
	else
		errf(err, errlen,
		     "unknown option (not shown: it could be a secret); did you mean \"%s\"?",
		     near->name);
}

static int parse_long(const char *s, long min, long max, long *out)
{
	long long v;

	/* Values have always been read with their leading zeros ("0600" is 600), and no sign. */
	while (s[0] == '0' && isdigit((unsigned char)s[1]))
		s++;
	if (!isdigit((unsigned char)s[0]) || decimal_parse(s, strlen(s), min, max, &v) < 0)
		return -1;
	*out = (long)v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* Values are one line of printable text; no control bytes reach a URL or a log. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

enum apt_rc kv_set(const struct kv_table *t, void *target, const char *arg, char *err,
		   size_t errlen)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	const char *val = eq ? eq + 1 : NULL;
	const struct kv_key *o = key_find(t, arg, klen);
	void *field;
	char *copy;

	/*
	 * Never the text, unless it is a key name but for a typo: a line
	 * without "=" is all key, and what was pasted on the wrong line (a
	 * token, a client secret given as config=) would go to stderr, syslog
	 * and CI logs. The caller says where it was.
	 */
	if (o == NULL) {
		unknown_key(t, arg, klen, err, errlen);
		return APT_SERVICE;
	}
	field = (char *)target + o->off;
	if (val == NULL) {
		if (!o->flag) {
			errf(err, errlen, "option %s needs a value", o->name);
			return APT_SERVICE;
		}
		*(bool *)field = true;
		return APT_OK;
	}
	if (val[0] == '\0' && o->type != KV_LONG && o->type != KV_BOOL) {
		/* An empty value means "unset": "token_prefixes =" is "any prefix". */
		free(*(char **)field);
		*(char **)field = NULL;
		return APT_OK;
	}
	if (!printable(val)) {
		errf(err, errlen, "option %s: control characters in value", o->name);
		return APT_SERVICE;
	}
	switch (o->type) {
	case KV_LONG:
		if (parse_long(val, o->min, o->max, (long *)field) < 0) {
			errf(err, errlen, "option %s: want a whole number from %ld to %ld", o->name,
			     o->min, o->max);
			return APT_SERVICE;
		}
		return APT_OK;
	case KV_BOOL:
		if (parse_bool(val, (bool *)field) < 0) {
			errf(err, errlen, "option %s: want yes or no", o->name);
			return APT_SERVICE;
		}
		return APT_OK;
	case KV_PATH:
		if (val[0] != '/') {
			errf(err, errlen, "option %s: want an absolute path", o->name);
			return APT_SERVICE;
		}
		break;
	case KV_STR:
	case KV_WORDS:
		break;
	}
	copy = strdup(val);
	if (copy == NULL)
		return APT_NOMEM;
	free(*(char **)field);
	*(char **)field = copy;
	return APT_OK;
}

/*
 * Puts "WHERE: " in front of the message in err: file:line or "argument N",
 * never the text of the line, so that the message holds no secret.
 */
static void err_locate(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err_locate(char *err, size_t errlen, const char *fmt, ...)
{
	char msg[256], where[PATH_MAX + 32];
	va_list ap;

	snprintf(msg, sizeof(msg), "%s", err);
	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	errf(err, errlen, "%s: %s", where, msg);
}

enum apt_rc kv_set_arg(const struct kv_table *t, void *target, const char *arg, int position,
		       char *err, size_t errlen)
{
	enum apt_rc rc = kv_set(t, target, arg, err, errlen);

	if (rc == APT_SERVICE)
		err_locate(err, errlen, "argument %d", position);
	return rc;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Hands a located problem on, or keeps it in err when no one collects them. */
static bool kv_problem(const struct kv_report *rep, const char *msg)
{
	if (rep == NULL || rep->problem == NULL)
		return true; /* stop: the caller fails on the first */
	rep->problem(rep->ctx, msg);
	return false;
}

/*
 * A key given twice in a file is an error: of two lines that disagree,
 * neither is clearly what the admin meant.
 */
enum apt_rc kv_read_file_report(const struct kv_table *t, void *target, const char *path,
				size_t max, struct kv_report *rep, char *err, size_t errlen)
{
	struct buf arg = BUF_INIT;
	char *text, *line, *next, *seen;
	unsigned lineno = 0;
	bool failed = false;
	enum apt_rc rc;
	size_t len;

	rc = file_read_checked(path, FILE_CONFIG, max, &text, &len, err, errlen);
	if (rc != APT_OK) {
		if (rc == APT_SERVICE)
			kv_problem(rep, err);
		return rc;
	}
	if (rep != NULL)
		rep->read = true;
	seen = calloc(t->n, 1);
	if (seen == NULL) {
		rc = APT_NOMEM;
		goto out;
	}
	for (line = text; line != NULL; line = next) {
		const struct kv_key *o;
		char *key, *val, *eq, msg[512];

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		key = trim(line);
		if (key[0] == '\0' || key[0] == '#')
			continue;
		eq = strchr(key, '=');
		if (eq != NULL) {
			size_t vlen;

			*eq = '\0';
			val = trim(eq + 1);
			key = trim(key);
			/* "..." keeps white space at the ends: prompt = "Deploy token: " */
			vlen = strlen(val);
			if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
				val[vlen - 1] = '\0';
				val++;
			}
		} else {
			val = NULL;
		}
		o = key_find(t, key, strlen(key));
		if (o != NULL && seen[o - t->keys]) {
			errf(msg, sizeof(msg), "%s given twice", o->name);
			rc = APT_SERVICE;
		} else {
			if (o != NULL) {
				seen[o - t->keys] = 1;
				if (rep != NULL && rep->lines != NULL)
					rep->lines[o - t->keys] = lineno;
			}
			arg.len = 0;
			buf_appendf(&arg, "%s%s%s", key, val ? "=" : "", val ? val : "");
			if (arg.failed) {
				rc = APT_NOMEM;
				goto out;
			}
			rc = kv_set(t, target, (char *)arg.p, msg, sizeof(msg));
		}
		if (rc == APT_NOMEM)
			goto out;
		if (rc == APT_SERVICE) {
			err_locate(msg, sizeof(msg), "%s:%u", path, lineno);
			/* err holds the first problem, whether or not more follow. */
			if (!failed)
				errf(err, errlen, "%s", msg);
			failed = true;
			if (kv_problem(rep, msg))
				goto out;
		}
	}
	rc = failed ? APT_SERVICE : APT_OK;
out:
	free(seen);
	buf_free(&arg);
	/* Every line was cut at its '\n': wipe all of it, not up to the first NUL. */
	if (text != NULL)
		explicit_bzero(text, len);
	free(text);
	return rc;
}

enum apt_rc kv_read_file(const struct kv_table *t, void *target, const char *path, size_t max,
			 char *err, size_t errlen)
{
	return kv_read_file_report(t, target, path, max, NULL, err, errlen);
}

void kv_free(const struct kv_table *t, void *target)
{
	for (size_t i = 0; i < t->n; i++) {
		enum kv_type type = t->keys[i].type;
		char **field = (char **)((char *)target + t->keys[i].off);

		if (type == KV_STR || type == KV_PATH || type == KV_WORDS) {
			free(*field);
			*field = NULL;
		}
	}
}
