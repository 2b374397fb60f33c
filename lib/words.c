/* Space- or tab-separated word lists (see words.h). */
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
