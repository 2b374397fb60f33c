/*
 * Where the client keeps its files, by the XDG Base Directory spec: the
 * config file under $XDG_CONFIG_HOME, the ssh-cert state under
 * $XDG_STATE_HOME, the exec socket under $XDG_RUNTIME_DIR. One reading of the
 * variables, their fallbacks and the home directory for every command.
 */
#ifndef APITOKEN_XDG_H
#define APITOKEN_XDG_H

#include <stddef.h>

enum xdg_base {
	XDG_CONFIG, /* $XDG_CONFIG_HOME, else ~/.config */
	XDG_STATE,  /* $XDG_STATE_HOME, else ~/.local/state */
};

/*
 * BASE/sub, malloc'd. BASE is the variable when it holds an absolute path
 * (the spec ignores a relative one), else the home directory and the spec's
 * default below it. The home directory is $HOME when absolute, else the
 * user database's. *base_len, when not NULL, is the length of the part the
 * user chose (the variable, or the home directory), for a caller that
 * checks the rest step by step. NULL when there is no home directory, or
 * no memory.
 */
char *xdg_path(enum xdg_base b, const char *sub, size_t *base_len);

/*
 * $XDG_RUNTIME_DIR when it is what the spec says it must be: an absolute
 * path to a real directory (not a link), ours, mode 0700. NULL otherwise:
 * the caller falls back to a directory of its own.
 */
const char *xdg_runtime_dir(void);

#endif
