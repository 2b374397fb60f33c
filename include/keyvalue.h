/*
 * The "key = value" format of our configuration files, driven by a table
 * of keys: the module's config (config.c) and the client settings
 * (helper/settings.c) both read through it, so both take the same syntax,
 * quoting, types and errors. Values are also accepted one at a time as
 * "key=value" (module arguments, environment).
 */
#ifndef APITOKEN_KEYVALUE_H
#define APITOKEN_KEYVALUE_H

#include <stdbool.h>
#include <stddef.h>
#include "result.h"

enum kv_type { KV_STR, KV_PATH, KV_WORDS, KV_LONG, KV_BOOL };

struct kv_key {
	const char *name;
	enum kv_type type;
	size_t off;    /* of the field in the target struct: char *, long or bool */
	long min, max; /* KV_LONG */
	bool flag;     /* may stand alone, as a module flag: "debug" */
};

/*
 * Rows of a table: the file defines KV_TARGET as the struct the table fills,
 * then writes {"name", KV_S(field)}, ... (string, path, words, number with
 * its range, boolean, and a boolean that may stand alone as a module flag).
 */
#define KV_S(f)		  KV_STR, offsetof(KV_TARGET, f), 0, 0, false
#define KV_P(f)		  KV_PATH, offsetof(KV_TARGET, f), 0, 0, false
#define KV_W(f)		  KV_WORDS, offsetof(KV_TARGET, f), 0, 0, false
#define KV_L(f, min, max) KV_LONG, offsetof(KV_TARGET, f), min, max, false
#define KV_B(f)		  KV_BOOL, offsetof(KV_TARGET, f), 0, 0, false
#define KV_F(f)		  KV_BOOL, offsetof(KV_TARGET, f), 0, 0, true

struct kv_table {
	const struct kv_key *keys;
	size_t n;
};

/*
 * Applies one "key=value" (or a bare flag). APT_OK, APT_SERVICE with err,
 * APT_NOMEM. err names a known key but never quotes a value, nor the text of
 * an unknown key (it may be a token or secret on the wrong line); the caller
 * adds where it was. An unknown key gets the nearest known one ('did you
 * mean "introspection_url"?': within two edits, or the one key it is the
 * start of), and only then is its text shown, being a key name but for the
 * typo.
 */
enum apt_rc kv_set(const struct kv_table *t, void *target, const char *arg, char *err,
		   size_t errlen);

/* kv_set() for a module argument: messages start "argument POSITION: " (1 = first). */
enum apt_rc kv_set_arg(const struct kv_table *t, void *target, const char *arg, int position,
		       char *err, size_t errlen);

/*
 * Reads a file of "key = value" lines (checked as FILE_CONFIG) into target.
 * A key given twice is an error; messages carry "path:line:" and never the
 * line's text.
 */
enum apt_rc kv_read_file(const struct kv_table *t, void *target, const char *path, size_t max,
			 char *err, size_t errlen);

/* The index of the key name (len bytes) in t, or -1. */
int kv_key_index(const struct kv_table *t, const char *name, size_t len);

/*
 * For a reader that wants every problem of a file, not the first
 * (`apitoken check`): each one, "path:line: what", goes to problem(ctx,
 * msg) and reading goes on. lines (NULL, or t->n entries, zeroed by the
 * caller) gets the line each key was set on.
 */
struct kv_report {
	void (*problem)(void *ctx, const char *msg);
	void *ctx;
	unsigned *lines;
	bool read; /* set: the file itself could be read (its problems are in its lines) */
};

/*
 * kv_read_file, reporting to rep (NULL, or problem NULL: stop at the first
 * problem, as kv_read_file does). err holds the first problem either way.
 */
enum apt_rc kv_read_file_report(const struct kv_table *t, void *target, const char *path,
				size_t max, struct kv_report *rep, char *err, size_t errlen);

/* Frees the string fields of target that the table names. */
void kv_free(const struct kv_table *t, void *target);

#endif
