/*
 * base64.c - base64 encoding and decoding (see base64.h), without
 * OpenSSL, whose EVP_DecodeBlock counts padding as data.
 */
#include <ctype.h>

#include "util/base64.h"
#include "util/util.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64_encode - see base64.h. */
char *
base64_encode(const void *in, size_t len, int flags)
{
	const unsigned char *p = in;
	const char *alpha = (flags & BASE64_URL) ? b64_url : b64_std;
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	char *o = out;
	unsigned v;

	for (; len >= 3; p += 3, len -= 3) {
		v = (unsigned) p[0] << 16 | (unsigned) p[1] << 8 | p[2];
		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 0x3f];
		*o++ = alpha[(v >> 6) & 0x3f];
		*o++ = alpha[v & 0x3f];
	}
	if (len > 0) {
		v = (unsigned) p[0] << 16 | (len > 1 ? (unsigned) p[1] << 8 : 0);
		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 0x3f];
		if (len > 1)
			*o++ = alpha[(v >> 6) & 0x3f];
		else if (!(flags & BASE64_URL))
			*o++ = '=';
		if (!(flags & BASE64_URL))
			*o++ = '=';
	}
	*o = 0;
	return (out);
}

/* b64_value - the value of a base64 digit, -1 for others. */
static int
b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return (ch - 'A');
	if (ch >= 'a' && ch <= 'z')
		return (ch - 'a' + 26);
	if (ch >= '0' && ch <= '9')
		return (ch - '0' + 52);
	if (ch == '+')
		return (62);
	if (ch == '/')
		return (63);
	return (-1);
}

/* base64_decode - see base64.h. */
ssize_t
base64_decode(const char *in, size_t len, unsigned char *out, size_t outmax, int flags,
	      int *junk, size_t *used)
{
	const unsigned char *p = (const unsigned char *) in;
	unsigned acc = 0;
	int bits = 0, v;
	size_t i, n = 0;

	if ((flags & (BASE64_MIME | BASE64_TO_PAD)) == 0) {
		/* Strict: the padding is taken off, the rest must be digits. */
		if (len % 4 != 0)
			return (-1);
		if (len > 0 && p[len - 1] == '=')
			len--;
		if (len > 0 && p[len - 1] == '=')
			len--;
	}
	for (i = 0; i < len && n < outmax; i++) {
		if ((v = b64_value(p[i])) < 0) {
			if ((flags & BASE64_TO_PAD) && p[i] == '=')
				break;
			if (!(flags & BASE64_MIME))
				return (-1);
			if (p[i] != '=' && !isspace(p[i]) && junk != NULL)
				(*junk)++;
			continue;
		}
		acc = (acc << 6) | (unsigned) v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char) ((acc >> bits) & 0xff);
		}
	}
	if (used != NULL)
		*used = i;
	return ((ssize_t) n);
}
