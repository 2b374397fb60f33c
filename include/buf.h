/*
 * A growable byte buffer that may hold secrets: it is zeroed whenever its
 * memory is released or moved, so a token or client secret copied into it
 * never outlives its use in freed heap.
 */
#ifndef APITOKEN_BUF_H
#define APITOKEN_BUF_H

#include <stddef.h>

struct buf {
	unsigned char *p;
	size_t len, cap;
	int failed; /* sticky: an append ran out of memory or over max */
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

/* Append; on failure sets b->failed and returns -1 (later appends do nothing). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ensure p[len] is a NUL byte (not counted in len). */
int buf_terminate(struct buf *b);
/* Zero and free. */
void buf_free(struct buf *b);

/* Zero then free a NUL-terminated string; NULL is fine. */
void free_secret(char *s);

#endif
