/*
 * Lists of words separated by spaces or tabs, as config values give them
 * (token_prefixes, required_scopes, allowed_client_ids) and as RFC 7662
 * gives scope. One iterator, so that every list splits the same way.
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

#endif
