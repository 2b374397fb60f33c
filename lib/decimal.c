/* Strict decimal numbers and the space-separated records that hold them (see decimal.h). */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "decimal.h"

int decimal_parse(const char *s, size_t len, long long min, long long max, long long *out)
{
	bool neg = len > 0 && s[0] == '-';
	size_t i = neg ? 1 : 0;
	/* The magnitude's limit: one more on the negative side (LLONG_MIN). */
	unsigned long long limit = (unsigned long long)LLONG_MAX + (neg ? 1 : 0), v = 0;
	long long r;

	if (i == len || (s[i] == '0' && (len - i > 1 || neg)))
		return -1; /* empty, "-", a leading zero, "-0" */
	for (; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (!neg)
		r = (long long)v;
	else if (v == (unsigned long long)LLONG_MAX + 1)
		r = LLONG_MIN;
	else
		r = -(long long)v;
	if (r < min || r > max)
		return -1;
	*out = r;
	return 0;
}

int decimal_fields(char *s, char *fields[], size_t n)
{
	size_t k = 0;

	if (n == 0)
		return -1;
	fields[k++] = s;
	for (char *p = s; *p != '\0'; p++) {
		if (*p != ' ')
			continue;
		if (k == n)
			return -1;
		*p = '\0';
		fields[k++] = p + 1;
	}
	return k == n ? 0 : -1;
}
