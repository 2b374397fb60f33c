/*
 * Hexadecimal digits, one table for the project: lower-case hex of bytes
 * (cache names, temp names, fingerprints) and the upper-case "%XX" escape
 * (RFC 3986 §2.1) of the audit line, the form body and the cache listing.
 */
#ifndef APITOKEN_HEX_H
#define APITOKEN_HEX_H

#include <stddef.h>

/* len bytes of in as 2 * len lower-case hex digits and a NUL (2 * len + 1 bytes). */
void hex_encode(const void *in, size_t len, char *out);

/* c as "%XX", upper case; three bytes, no NUL. */
void hex_percent(unsigned char c, char out[3]);

#endif
