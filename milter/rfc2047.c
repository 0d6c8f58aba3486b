/*
 * rfc2047.c - RFC 2047 encoded-word decoding of header values to UTF-8.
 *
 * Adjacent encoded words in one charset are joined before conversion, so
 * a character split across two words (as some mailers do) survives, and
 * the white space between encoded words is dropped as RFC 2047 says.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/base64.h"
#include "util/utf8.h"
#include "app_headers.h"
#include "rfc2047.h"

#define REPLACEMENT 0xfffd

/* Output: bounded, allocated once; writes past the end are dropped. */
struct out {
	char *data;
	size_t len;
	size_t cap;
};

/* Windows-1252 0x80-0x9f; 0 marks an unassigned byte. */
static const unsigned short cp1252_high[32] = {
	0x20ac, 0,	0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,	0x017d, 0,
	0,	0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,	0x017e, 0x0178,
};

enum charset {
	CS_UTF8,
	CS_ASCII,
	CS_LATIN1,
	CS_LATIN9,
	CS_CP1252,
	CS_ICONV,
};

/* put_cp - append one code point as UTF-8; control characters as space. */
static void
put_cp(struct out *o, unsigned cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		cp = ' ';
	if (cp < 0x80) {
		b[0] = (unsigned char) cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char) (0xc0 | (cp >> 6));
		b[1] = (unsigned char) (0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char) (0xe0 | (cp >> 12));
		b[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char) (0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char) (0xf0 | (cp >> 18));
		b[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char) (0x80 | (cp & 0x3f));
		n = 4;
	}
	if (o->len + n < o->cap) {
		memcpy(o->data + o->len, b, n);
		o->len += n;
	}
}

/* cp1252_cp - the code point of one Windows-1252 byte. */
static unsigned
cp1252_cp(unsigned char c)
{
	if (c >= 0x80 && c < 0xa0)
		return cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] : REPLACEMENT;
	return c;
}

/* latin9_cp - the code point of one ISO-8859-15 byte. */
static unsigned
latin9_cp(unsigned char c)
{
	switch (c) {
	case 0xa4:
		return 0x20ac;
	case 0xa6:
		return 0x0160;
	case 0xa8:
		return 0x0161;
	case 0xb4:
		return 0x017d;
	case 0xb8:
		return 0x017e;
	case 0xbc:
		return 0x0152;
	case 0xbd:
		return 0x0153;
	case 0xbe:
		return 0x0178;
	default:
		return c;
	}
}

/*
 * put_utf8ish - append bytes that should be UTF-8; each byte that does not
 * start a valid sequence is read as bad_cp(byte).
 */
static void
put_utf8ish(struct out *o, const unsigned char *p, size_t len,
	    unsigned (*bad_cp)(unsigned char))
{
	size_t i = 0;

	while (i < len) {
		size_t n = 1;

		if (p[i] < 0x80) {
			put_cp(o, p[i]);
		} else if ((n = utf8_seq_len(p + i, len - i)) == 0) {
			put_cp(o, bad_cp(p[i]));
			n = 1;
		} else if (o->len + n < o->cap) {
			memcpy(o->data + o->len, p + i, n);
			o->len += n;
		}
		i += n;
	}
}

/* replacement_cp - every invalid byte is U+FFFD. */
static unsigned
replacement_cp(unsigned char c)
{
	(void) c;
	return REPLACEMENT;
}

/*
 * put_iconv - convert through iconv; undecodable bytes become U+FFFD.
 * What iconv writes is checked like any other UTF-8: some converters pass
 * through sequences that are not valid UTF-8.
 */
static void
put_iconv(struct out *o, const char *charset, const char *p, size_t len)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	struct out tmp;
	char *in = (char *) p;
	size_t inleft = len;

	if (cd == (iconv_t) -1) {
		put_utf8ish(o, (const unsigned char *) p, len, replacement_cp);
		return;
	}
	tmp.cap = o->cap - o->len;
	tmp.len = 0;
	tmp.data = malloc(tmp.cap);
	if (tmp.data == NULL) {
		iconv_close(cd);
		return;
	}
	while (inleft > 0) {
		char *dst = tmp.data + tmp.len;
		size_t room = tmp.cap - tmp.len - 1, before = room;
		size_t rc = iconv(cd, &in, &inleft, &dst, &room);

		tmp.len += before - room;
		if (rc != (size_t) -1)
			break;
		if (errno == E2BIG)
			break;
		/* EILSEQ or EINVAL: skip one byte. */
		put_cp(&tmp, REPLACEMENT);
		in++;
		inleft--;
	}
	iconv_close(cd);
	put_utf8ish(o, (const unsigned char *) tmp.data, tmp.len, replacement_cp);
	free(tmp.data);
}

/* put_bytes - decoded bytes of one charset to UTF-8. */
static void
put_bytes(struct out *o, enum charset cs, const char *name, const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *) p;
	size_t i;

	switch (cs) {
	case CS_UTF8:
		put_utf8ish(o, u, len, replacement_cp);
		break;
	case CS_ICONV:
		put_iconv(o, name, p, len);
		break;
	default:
		for (i = 0; i < len; i++)
			put_cp(o, cs == CS_ASCII    ? (u[i] < 0x80 ? u[i] : REPLACEMENT)
				  : cs == CS_LATIN9 ? latin9_cp(u[i])
				  : cs == CS_CP1252 ? cp1252_cp(u[i])
						    : u[i]);
		break;
	}
}

/* charset_of - the built-in decoder for a charset name. */
static enum charset
charset_of(const char *name)
{
	static const struct {
		const char *name;
		enum charset cs;
	} names[] = {
		{ "utf-8", CS_UTF8 },	     { "utf8", CS_UTF8 },
		{ "us-ascii", CS_ASCII },    { "ascii", CS_ASCII },
		{ "iso-8859-1", CS_LATIN1 }, { "iso8859-1", CS_LATIN1 },
		{ "latin1", CS_LATIN1 },     { "iso-8859-15", CS_LATIN9 },
		{ "iso8859-15", CS_LATIN9 }, { "windows-1252", CS_CP1252 },
		{ "cp1252", CS_CP1252 },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].cs;
	return CS_ICONV;
}

/* hexval - value of one hex digit, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* decode_text - B or Q text into dst (room for len bytes); -1 if bad. */
static ssize_t
decode_text(int enc, const char *s, size_t len, char *dst)
{
	size_t i, n = 0;

	if (enc == 'Q' || enc == 'q') {
		for (i = 0; i < len; i++) {
			int hi, lo;

			if (s[i] == '_') {
				dst[n++] = ' ';
			} else if (s[i] == '=' && i + 2 < len
				   && (hi = hexval(s[i + 1])) >= 0
				   && (lo = hexval(s[i + 2])) >= 0) {
				dst[n++] = (char) (hi << 4 | lo);
				i += 2;
			} else {
				dst[n++] = s[i];
			}
		}
		return (ssize_t) n;
	}
	return base64_decode(s, len, (unsigned char *) dst, len, BASE64_TO_PAD, NULL,
			     NULL);
}

/*
 * encoded_word - if s starts an encoded word, fill charset (NUL-ended in
 * cs, at most cslen), the encoding and text span, and return its length.
 */
static size_t
encoded_word(const char *s, char *cs, size_t cslen, int *enc, const char **text,
	     size_t *textlen)
{
	const char *p, *q, *end;
	size_t n;

	if (s[0] != '=' || s[1] != '?')
		return 0;
	p = s + 2;
	for (q = p; *q && *q != '?' && *q != ' '; q++)
		/* void */;
	if (*q != '?' || q == p || (size_t) (q - p) >= cslen)
		return 0;
	n = (size_t) (q - p);
	memcpy(cs, p, n);
	cs[n] = 0;
	/* RFC 2231 language: charset*lang. */
	if ((p = strchr(cs, '*')) != NULL)
		cs[p - cs] = 0;
	if (strchr("BbQq", q[1]) == NULL || q[1] == 0 || q[2] != '?')
		return 0;
	*enc = q[1];
	*text = q + 3;
	for (end = *text; *end && *end != ' '; end++)
		if (end[0] == '?' && end[1] == '=')
			break;
	if (end[0] != '?' || end[1] != '=')
		return 0;
	*textlen = (size_t) (end - *text);
	return (size_t) (end + 2 - s);
}

/* truncate_chars - cut o to at most max code points; controls to space. */
static void
truncate_chars(struct out *o, size_t max)
{
	size_t i, chars = 0;

	for (i = 0; i < o->len; i++) {
		if ((unsigned char) o->data[i] < 0x20 || o->data[i] == 0x7f)
			o->data[i] = ' ';
		if (((unsigned char) o->data[i] & 0xc0) == 0x80)
			continue;
		if (chars++ == max) {
			o->len = i;
			break;
		}
	}
	while (o->len > 0 && o->data[o->len - 1] == ' ')
		o->len--;
	o->data[o->len] = 0;
}

/* rfc2047_decode - see rfc2047.h. */
char *
rfc2047_decode(const char *raw, size_t max_chars)
{
	char *v = header_value_clean(raw);
	struct out o;
	char *pend = NULL; /* decoded bytes of adjacent words */
	size_t pendlen = 0;
	char pendcs[64] = "", cs[64];
	const char *s;
	size_t len;

	if (v == NULL)
		return NULL;
	len = strlen(v);
	o.cap = 4 * len + 8;
	o.len = 0;
	if ((o.data = malloc(o.cap)) == NULL || (pend = malloc(len + 1)) == NULL) {
		free(o.data);
		free(v);
		return NULL;
	}
	for (s = v; *s;) {
		const char *text, *e;
		size_t textlen, wlen;
		int enc;
		ssize_t dlen;

		wlen = encoded_word(s, cs, sizeof(cs), &enc, &text, &textlen);
		if (wlen > 0) {
			if (pendlen > 0 && strcasecmp(cs, pendcs) != 0) {
				put_bytes(&o, charset_of(pendcs), pendcs, pend, pendlen);
				pendlen = 0;
			}
			if ((dlen = decode_text(enc, text, textlen, pend + pendlen))
			    >= 0) {
				pendlen += (size_t) dlen;
				memcpy(pendcs, cs, sizeof(pendcs));
				s += wlen;
				continue;
			}
		}
		/* Literal text up to the next possible encoded word. */
		for (e = s + 1; *e && !(e[0] == '=' && e[1] == '?'); e++)
			/* void */;
		if (pendlen > 0 && *e && strspn(s, " ") >= (size_t) (e - s)
		    && encoded_word(e, cs, sizeof(cs), &enc, &text, &textlen) > 0) {
			/* White space between encoded words is dropped. */
			s = e;
			continue;
		}
		if (pendlen > 0) {
			put_bytes(&o, charset_of(pendcs), pendcs, pend, pendlen);
			pendlen = 0;
		}
		put_utf8ish(&o, (const unsigned char *) s, (size_t) (e - s), cp1252_cp);
		s = e;
	}
	if (pendlen > 0)
		put_bytes(&o, charset_of(pendcs), pendcs, pend, pendlen);
	free(pend);
	free(v);
	o.data[o.len] = 0;
	truncate_chars(&o, max_chars);
	return o.data;
}
