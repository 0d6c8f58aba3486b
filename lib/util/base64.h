/*
 * base64.h - base64 (RFC 4648) in both directions: one encoder, and one
 * decoder whose flags give each caller the tolerance it needs.
 */
#ifndef PH_UTIL_BASE64_H
#define PH_UTIL_BASE64_H

#include <stddef.h>
#include <sys/types.h>

/* base64_encode flags. */
#define BASE64_URL 0x01 /* the URL alphabet and no padding (JWK) */

/* base64_encode - len bytes as base64 text (malloc()ed, NUL-terminated). */
char *base64_encode(const void *in, size_t len, int flags);

/*
 * base64_decode flags.  Without one the text is strict: groups of four
 * alphabet characters, '=' only as one or two characters of final padding.
 */
#define BASE64_MIME                                                                      \
	0x01 /* a MIME body: '=' and other bytes outside the                             \
	      * alphabet are skipped; *junk counts those that                            \
	      * are neither '=' nor white space */
#define BASE64_TO_PAD                                                                    \
	0x02 /* an RFC 2047 word: the first '=' ends the text,                           \
	      * any other byte outside the alphabet is an error */

/*
 * base64_decode - decode len characters at in into out, which has room
 * for outmax bytes; decoding stops there, reading no further input.  Bits
 * of an incomplete final byte are dropped.  Returns the number of bytes
 * written, or -1 for text the flags do not allow.  *used (when not NULL)
 * is set to the number of characters read; junk may be NULL.
 */
ssize_t base64_decode(const char *in, size_t len, unsigned char *out, size_t outmax,
		      int flags, int *junk, size_t *used);

#endif
