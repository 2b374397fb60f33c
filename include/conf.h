/*
 * The "key = value" format of our configuration files, driven by a table
 * of keys: the module's config (config.c) and the client settings
 * (helper/settings.c) both read through it, so both take the same syntax,
 * quoting, types and errors. Values are also accepted one at a time as
 * "key=value" (module arguments, environment).
 */
#ifndef APITOKEN_CONF_H
#define APITOKEN_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include "result.h"

enum conf_type { CONF_STR, CONF_PATH, CONF_WORDS, CONF_LONG, CONF_BOOL };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;    /* of the field in the target struct: char *, long or bool */
	long min, max; /* CONF_LONG */
	bool flag;     /* may stand alone, as a module flag: "debug" */
};

struct conf_table {
	const struct conf_key *keys;
	size_t n;
};

/*
 * Applies one "key=value" (or a bare flag). APT_OK, APT_SERVICE with err,
 * APT_NOMEM. err names a known key but never quotes a value, nor the text of
 * an unknown key (it may be a token or secret on the wrong line); the caller
 * adds where it was.
 */
enum apt_rc conf_set(const struct conf_table *t, void *target, const char *arg, char *err,
		     size_t errlen);

/* conf_set() for a module argument: messages start "argument POSITION: " (1 = first). */
enum apt_rc conf_set_arg(const struct conf_table *t, void *target, const char *arg, int position,
			 char *err, size_t errlen);

/*
 * Reads a file of "key = value" lines (checked as FILE_CONFIG) into target.
 * A key given twice is an error; messages carry "path:line:" and never the
 * line's text.
 */
enum apt_rc conf_read_file(const struct conf_table *t, void *target, const char *path, size_t max,
			   char *err, size_t errlen);

/* Frees the string fields of target that the table names. */
void conf_free(const struct conf_table *t, void *target);

#endif
