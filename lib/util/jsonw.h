/*
 * jsonw.h - JSON values written straight into a buf, byte for byte as
 * json-c prints them (JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE), and numbers with a fixed count of
 * decimals as json_double_new() makes them.
 *
 * For hot paths that would otherwise build json-c objects only to print
 * them: the caller writes the punctuation and keys (JSONW_LIT), this module
 * the values, and the caller terminates the text (jsonw_end).
 */
#ifndef PH_UTIL_JSONW_H
#define PH_UTIL_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>

#include "util/util.h"

/*
 * json_double_format - v printed as "%.*f" with decimals 0 to 9, its
 * trailing zeros cut to one ("2.110000" -> "2.11", "3.000" -> "3.0"),
 * into out (cut to size - 1 bytes and terminated; JSON_DOUBLE_MAX is
 * always enough); returns its whole length.
 */
#define JSON_DOUBLE_MAX 400
size_t json_double_format(char *out, size_t size, double v, int decimals);

/* json_double_new - a json-c double that prints as json_double_format(). */
json_object *json_double_new(double v, int decimals);

/* jsonw_string - a JSON string; NULL writes null. */
void jsonw_string(struct buf *b, const char *s);

/*
 * jsonw_name - a string that needs no escaping, as the program's own names
 * (event types, statuses, classifications, UUIDs) are: quoted, copied.
 * NULL writes null.
 */
void jsonw_name(struct buf *b, const char *s);

/* jsonw_double - a number as json_double_new() prints it. */
void jsonw_double(struct buf *b, double v, int decimals);

/* jsonw_uint - an unsigned integer. */
void jsonw_uint(struct buf *b, uint64_t v);

/* jsonw_reserve - room for n more bytes and the NUL, growing as
 * buf_append() does; the writer fills b->data directly. */
static inline void
jsonw_reserve(struct buf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->len + n + 1 > b->cap)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

/* jsonw_mem - append n bytes as they are (the NUL comes at jsonw_end). */
static inline void
jsonw_mem(struct buf *b, const char *s, size_t n)
{
	jsonw_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

/* JSONW_LIT - append a string literal: punctuation, keys, null. */
#define JSONW_LIT(b, s) jsonw_mem((b), (s), sizeof(s) - 1)

/* jsonw_end - terminate the text, as a buf always is. */
static inline void
jsonw_end(struct buf *b)
{
	b->data[b->len] = 0;
}

#endif
