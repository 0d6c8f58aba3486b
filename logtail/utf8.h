/*
 * utf8.h - make log bytes safe for JSON: a copy that is valid UTF-8.
 */
#ifndef PH_UTF8_H
#define PH_UTF8_H

#include <stddef.h>

/*
 * utf8_clean_dup - a NUL-terminated copy of len bytes where NUL bytes and
 * every byte that is not part of a valid UTF-8 sequence become U+FFFD.
 */
char *utf8_clean_dup(const char *p, size_t len);

/*
 * utf8_clean_to - the same copy into out, which has room for len * 3 + 1
 * bytes; returns its length.
 */
size_t utf8_clean_to(char *out, const char *p, size_t len);

#endif
