/*
 * Error messages into a caller's buffer: the convention of the whole code
 * base (char *err, size_t errlen), in one place.
 */
#ifndef APITOKEN_ERRMSG_H
#define APITOKEN_ERRMSG_H

#include <stddef.h>

/* Formats into err (nothing when err is NULL or errlen 0); returns -1, for "return errf(...)". */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
