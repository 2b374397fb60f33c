/*
 * Lists of words. Config values (token_prefixes, required_scopes,
 * allowed_client_ids) are separated by spaces or tabs, one iterator for all
 * of them. The token's scope claim has its own rule: RFC 6749 §3.3 separates
 * scope tokens by U+0020 only, so a tab is part of a word there, and an
 * issuer's "a\tssh" is one scope, not "a" and "ssh".
 */
#ifndef APITOKEN_WORDS_H
#define APITOKEN_WORDS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Yields the next word of *p (which it advances) into word/len; false at
 * the end. Use: for (const char *p = list; next_word(&p, &w, &n);) ...
 */
bool next_word(const char **p, const char **word, size_t *len);

/* True when word (len bytes) is one of the words of list; NULL list: false. */
bool word_in_list(const char *list, const char *word, size_t len);

/*
 * True when word (len > 0 bytes) is one of the space-separated (U+0020 only)
 * scope tokens of scope (scope_len bytes, no NUL needed). Runs of spaces
 * yield empty tokens, which never match.
 */
bool scope_has(const char *scope, size_t scope_len, const char *word, size_t len);

#endif
