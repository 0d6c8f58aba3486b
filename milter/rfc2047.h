/*
 * rfc2047.h - decode a header value such as Subject to UTF-8 text.
 *
 * Encoded words (=?charset?B|Q?text?=) are decoded; UTF-8, US-ASCII,
 * ISO-8859-1, ISO-8859-15 and Windows-1252 are built in, other charsets go
 * through iconv(3).  Raw 8-bit bytes that are not UTF-8 are read as
 * Windows-1252, the most common source of such junk.  Control characters
 * become spaces.  Pure: no I/O.
 */
#ifndef PH_MILTER_RFC2047_H
#define PH_MILTER_RFC2047_H

#include <stddef.h>

/*
 * rfc2047_decode - raw header value to UTF-8 of at most max_chars
 * characters (cut on a character boundary).  malloc()ed; NULL when out of
 * memory.
 */
char *rfc2047_decode(const char *raw, size_t max_chars);

#endif
