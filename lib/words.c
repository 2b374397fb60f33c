/* Word lists: config values and the token's scope (see words.h). */
#include <string.h>

#include "words.h"

bool next_word(const char **p, const char **word, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*p = s;
		return false;
	}
	*word = s;
	*len = strcspn(s, " \t");
	*p = s + *len;
	return true;
}

bool word_in_list(const char *list, const char *word, size_t len)
{
	const char *w;
	size_t n;

	for (const char *p = list ? list : ""; next_word(&p, &w, &n);)
		if (n == len && memcmp(w, word, len) == 0)
			return true;
	return false;
}

bool scope_has(const char *scope, size_t scope_len, const char *word, size_t len)
{
	const char *p = scope, *end = scope + scope_len;

	if (len == 0)
		return false;
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = sp ? (size_t)(sp - p) : (size_t)(end - p);

		if (n == len && memcmp(p, word, len) == 0)
			return true;
		p += n + 1;
	}
	return false;
}
