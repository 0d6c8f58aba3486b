/*
 * utf8.c - strict UTF-8 checks and cleaned copies (see utf8.h): Postfix
 * logs, bounce texts and webhook responses may hold any bytes at all.
 */
#include <stdint.h>
#include <string.h>

#include "util/util.h"
#include "util/utf8.h"

/* seq_len - length of the valid UTF-8 sequence at p, or 0 (also for NUL). */
static inline size_t
seq_len(const unsigned char *p, size_t avail)
{
	size_t n;
	unsigned cp;

	if (p[0] < 0x80)
		return (p[0] != 0);
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return (0);
	}
	if (avail < n)
		return (0);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
	    || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (n);
}

/* utf8_seq_len - see utf8.h. */
size_t
utf8_seq_len(const unsigned char *p, size_t avail)
{
	return (seq_len(p, avail));
}

/* utf8_valid - see utf8.h. */
int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
		} else if ((n = seq_len(p + i, len - i)) > 0) {
			i += n;
		} else {
			return (0);
		}
	}
	return (1);
}

/* ascii8 - the 8 bytes at p are printable ASCII or DEL (0x20 to 0x7f):
 * no byte below 0x20 (the usual "has a byte below n" word test, exact
 * for n up to 128) and none with its high bit set. */
static inline int
ascii8(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return ((((w - 0x2020202020202020ULL) & ~w) | w) & 0x8080808080808080ULL) == 0;
}

/* utf8_clean_to - see utf8.h. */
size_t
utf8_clean_to(char *out, const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *) p;
	char *o = out;
	size_t i = 0, n;

	while (i < len) {
		/* The common case: a run of printable ASCII. */
		if (len - i >= 8 && ascii8(s + i)) {
			memcpy(o, s + i, 8);
			o += 8;
			i += 8;
			continue;
		}
		if (s[i] >= 0x20 && s[i] < 0x80) {
			*o++ = (char) s[i++];
			continue;
		}
		if ((n = seq_len(s + i, len - i)) > 0) {
			memcpy(o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = 0;
	return ((size_t) (o - out));
}

/* utf8_clean_dup - see utf8.h. */
char *
utf8_clean_dup(const char *p, size_t len)
{
	char *out = xmalloc(len * 3 + 1);

	(void) utf8_clean_to(out, p, len);
	return (out);
}

/* utf8_clean_append - see utf8.h. */
void
utf8_clean_append(struct buf *out, const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *) p;
	size_t i = 0, n;

	while (i < len) {
		if ((n = seq_len(s + i, len - i)) > 0) {
			buf_append(out, s + i, n);
			i += n;
		} else {
			buf_append(out, "\xef\xbf\xbd", 3);
			i++;
		}
	}
}
