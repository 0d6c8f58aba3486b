/*
 * jsonw.c - JSON numbers and strings written as json-c prints them, without
 * json-c objects (see jsonw.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/jsonw.h"

/*
 * format_fixed - v as printf's "%.*f" writes it, decimals 0 to 9, with its
 * trailing zeros cut to one ("2.110000" -> "2.11", "3.000" -> "3.0");
 * returns the length.  The digits are computed exactly (v is m * 2^e; its
 * value times 10^decimals is rounded to the nearest integer, a tie to the
 * even one, as glibc's printf does in the default rounding mode) with
 * 128-bit integers; what does not fit (NaN, infinities, very large or very
 * small magnitudes) goes through snprintf().  size must be at least
 * JSON_DOUBLE_MAX: "%.9f" of the largest double has 320 characters.
 * (Before this formatter json_double_new() printed into 64 bytes, which
 * cut numbers of 1e55 and more and could write one byte past the buffer.)
 */
static size_t
format_fixed(char *text, size_t size, double v, int decimals)
{
	/* "00" to "99": the digits of each number below 100. */
	static const char two[] = "0001020304050607080910111213141516171819"
				  "2021222324252627282930313233343536373839"
				  "4041424344454647484950515253545556575859"
				  "6061626364656667686970717273747576777879"
				  "8081828384858687888990919293949596979899";
	static const uint64_t pow10[] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	};
	unsigned __int128 scaled, q, r, half;
	uint64_t bits, mant, ip, fp;
	int exp, neg, shift, i;
	unsigned d;
	char digits[24], *p = text;
	size_t len, n;

	memcpy(&bits, &v, sizeof(bits));
	neg = (int) (bits >> 63);
	exp = (int) ((bits >> 52) & 0x7ff);
	mant = bits & ((UINT64_C(1) << 52) - 1);
	if (size < JSON_DOUBLE_MAX)
		return (0);
	if (decimals < 0 || decimals > 9 || exp == 0x7ff)
		goto slow;
	if (exp == 0 && mant == 0) {
		exp = 0; /* zero: q is 0 below */
	} else if (exp == 0) {
		exp = 1 - 1075; /* subnormal or zero */
	} else {
		mant |= UINT64_C(1) << 52;
		exp -= 1075;
	}
	if (exp > 20 || exp < -100)
		goto slow;
	if (mant == 0) {
		q = 0;
	} else if (exp >= 0) {
		q = ((unsigned __int128) mant << exp) * pow10[decimals];
	} else {
		shift = -exp;
		scaled = (unsigned __int128) mant * pow10[decimals];
		q = scaled >> shift;
		r = scaled - (q << shift);
		half = (unsigned __int128) 1 << (shift - 1);
		if (r > half || (r == half && (q & 1)))
			q++;
	}
	if ((q >> 64) == 0) {
		/* The usual case (a time in microseconds): 64-bit division,
		 * several times cheaper than the 128-bit one. */
		ip = (uint64_t) q / pow10[decimals];
		fp = (uint64_t) q % pow10[decimals];
	} else {
		if (q / pow10[decimals] > UINT64_MAX)
			goto slow;
		ip = (uint64_t) (q / pow10[decimals]);
		fp = (uint64_t) (q % pow10[decimals]);
	}
	if (neg)
		*p++ = '-';
	/* Two digits per division, right to left. */
	n = sizeof(digits);
	while (ip >= 100) {
		d = (unsigned) (ip % 100) * 2;
		ip /= 100;
		digits[--n] = two[d + 1];
		digits[--n] = two[d];
	}
	if (ip >= 10) {
		digits[--n] = two[ip * 2 + 1];
		digits[--n] = two[ip * 2];
	} else {
		digits[--n] = (char) ('0' + ip);
	}
	memcpy(p, digits + n, sizeof(digits) - n);
	p += sizeof(digits) - n;
	if (decimals > 0) {
		*p++ = '.';
		for (i = decimals; i >= 2; i -= 2) {
			d = (unsigned) (fp % 100) * 2;
			fp /= 100;
			p[i - 1] = two[d + 1];
			p[i - 2] = two[d];
		}
		if (i == 1)
			p[0] = (char) ('0' + fp % 10);
		p += decimals;
		while (p[-1] == '0' && p[-2] != '.')
			p--;
	}
	*p = 0;
	return ((size_t) (p - text));
slow:
	snprintf(text, size, "%.*f", decimals, v);
	len = strlen(text);
	if (strchr(text, '.') != NULL) {
		while (len > 0 && text[len - 1] == '0')
			text[--len] = '\0';
		if (len > 0 && text[len - 1] == '.' && len + 1 < size)
			text[len++] = '0', text[len] = '\0';
	}
	return (len);
}

/* json_double_new - a number printed with up to `decimals` places */
json_object *
json_double_new(double v, int decimals)
{
	char text[JSON_DOUBLE_MAX];

	(void) format_fixed(text, sizeof(text), v, decimals);
	return json_object_new_double_s(v, text);
}

/* json_double_format - see jsonw.h; formats in place when out is big
 * enough, as the tailer's envelope timestamp is. */
size_t
json_double_format(char *out, size_t size, double v, int decimals)
{
	char text[JSON_DOUBLE_MAX];
	size_t len;

	if (size >= JSON_DOUBLE_MAX)
		return (format_fixed(out, size, v, decimals));
	len = format_fixed(text, sizeof(text), v, decimals);
	if (size == 0)
		return (len);
	memcpy(out, text, len < size ? len + 1 : size - 1);
	if (len >= size)
		out[size - 1] = 0;
	return (len);
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* plain8 - none of the 8 bytes at p needs escaping: no control character
 * (below 0x20), no '"', no '\\' (bytes from 0x80 on are copied as they
 * are).  Exact: the byte tests are the usual "has a byte below n" and
 * "has a zero byte" word tricks, whose only false alarms cannot occur
 * without a true one. */
static inline int
plain8(const unsigned char *p)
{
	uint64_t w, q, bs;

	memcpy(&w, p, sizeof(w));
	q = w ^ (ONES * '"');
	bs = w ^ (ONES * '\\');
	return ((((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) | ((bs - ONES) & ~bs))
		& HIGHS)
	       == 0;
}

/* The bytes a JSON string escapes: '"', '\\' and the control characters. */
static const unsigned char json_esc[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1,
};

/* escape - the escape of one byte json_esc names, at o; returns its end. */
static char *
escape(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '\\';
	switch (c) {
	case '\b':
		*o++ = 'b';
		break;
	case '\n':
		*o++ = 'n';
		break;
	case '\r':
		*o++ = 'r';
		break;
	case '\t':
		*o++ = 't';
		break;
	case '\f':
		*o++ = 'f';
		break;
	case '"':
	case '\\':
		*o++ = (char) c;
		break;
	default:
		*o++ = 'u';
		*o++ = '0';
		*o++ = '0';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 0xf];
		break;
	}
	return (o);
}

/*
 * jsonw_string - a JSON string as json-c escapes it (with
 * JSON_C_TO_STRING_NOSLASHESCAPE): '"', '\\' and the control characters;
 * every other byte as it is.  NULL is null.  Eight plain bytes are copied
 * at a time; the last word of a string of eight bytes or more is tested
 * once from its end (it overlaps what was copied), so that its plain
 * tail is one copy rather than a byte loop.
 */
void
jsonw_string(struct buf *b, const char *s)
{
	const unsigned char *p, *end;
	size_t len, n;
	char *o;

	if (s == NULL) {
		JSONW_LIT(b, "null");
		return;
	}
	len = strlen(s);
	jsonw_reserve(b, 6 * len + 2);
	o = b->data + b->len;
	*o++ = '"';
	p = (const unsigned char *) s;
	end = p + len;
	while (p < end) {
		while (end - p >= 8 && plain8(p)) {
			memcpy(o, p, 8);
			o += 8;
			p += 8;
		}
		if (p == end)
			break;
		if (len >= 8 && end - p < 8 && plain8(end - 8)) {
			n = (size_t) (end - p);
			memcpy(o, p, n);
			o += n;
			break;
		}
		if (json_esc[*p])
			o = escape(o, *p);
		else
			*o++ = (char) *p;
		p++;
	}
	*o++ = '"';
	b->len = (size_t) (o - b->data);
}

/* jsonw_name - see jsonw.h. */
void
jsonw_name(struct buf *b, const char *s)
{
	size_t len;
	char *o;

	if (s == NULL) {
		JSONW_LIT(b, "null");
		return;
	}
	len = strlen(s);
	jsonw_reserve(b, len + 2);
	o = b->data + b->len;
	*o++ = '"';
	memcpy(o, s, len);
	o[len] = '"';
	b->len += len + 2;
}

/* jsonw_double - a number as json_double_new() prints it. */
void
jsonw_double(struct buf *b, double v, int decimals)
{
	char text[JSON_DOUBLE_MAX];

	jsonw_mem(b, text, format_fixed(text, sizeof(text), v, decimals));
}

/* jsonw_uint - an unsigned integer. */
void
jsonw_uint(struct buf *b, uint64_t v)
{
	char text[24];
	size_t n = sizeof(text);

	do {
		text[--n] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	jsonw_mem(b, text + n, sizeof(text) - n);
}
