/* The XDG base directories of the client commands (see xdg.h). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xdg.h"

static const struct {
	const char *var, *home_rel;
} bases[] = {
    [XDG_CONFIG] = {"XDG_CONFIG_HOME", ".config"},
    [XDG_STATE] = {"XDG_STATE_HOME", ".local/state"},
};

/* $HOME when absolute; else the user database, so an unset or odd $HOME still finds it. */
static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && home[0] == '/')
		return home;
	pw = getpwuid(getuid());
	return pw ? pw->pw_dir : NULL;
}

char *xdg_path(enum xdg_base b, const char *sub, size_t *base_len)
{
	const char *dir = getenv(bases[b].var);
	char *p = NULL;
	int n;

	if (dir != NULL && dir[0] == '/') {
		n = asprintf(&p, "%s/%s", dir, sub);
	} else {
		dir = home_dir();
		if (dir == NULL)
			return NULL;
		n = asprintf(&p, "%s/%s/%s", dir, bases[b].home_rel, sub);
	}
	if (n < 0)
		return NULL;
	if (base_len != NULL)
		*base_len = strlen(dir);
	return p;
}

const char *xdg_runtime_dir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat sb;

	if (xdg == NULL || xdg[0] != '/' || lstat(xdg, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != getuid() || (sb.st_mode & 077) != 0)
		return NULL;
	return xdg;
}
