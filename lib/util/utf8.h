/*
 * utf8.h - checking and cleaning UTF-8: one strict reading of the
 * encoding (no overlong forms, no surrogates, nothing past U+10FFFF) for
 * every program that turns outside bytes into JSON or headers.
 */
#ifndef PH_UTIL_UTF8_H
#define PH_UTIL_UTF8_H

#include <stddef.h>

struct buf;

/*
 * utf8_seq_len - the length of the valid UTF-8 sequence at p (avail > 0
 * bytes left), or 0 when it is invalid or a NUL byte.
 */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

/* utf8_valid - whether len bytes at s are well-formed UTF-8 (NUL counts). */
int utf8_valid(const char *s, size_t len);

/*
 * utf8_clean_to - copy len bytes into out, which has room for len * 3 + 1
 * bytes, with NUL bytes and every byte that is not part of a valid UTF-8
 * sequence replaced by U+FFFD; NUL-terminated; returns its length.
 */
size_t utf8_clean_to(char *out, const char *p, size_t len);

/* utf8_clean_dup - the same copy, malloc()ed. */
char *utf8_clean_dup(const char *p, size_t len);

/* utf8_clean_append - the same copy appended to out. */
void utf8_clean_append(struct buf *out, const char *p, size_t len);

#endif
