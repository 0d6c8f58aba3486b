/*
 * app_headers.h - pure parsers for the headers the milter reads: the
 * application's tag and metadata, the spam verdict of an earlier filter,
 * the Message-ID, and a cleaner for raw header values.
 *
 * Header values arrive from libmilter as C strings that may still hold
 * folding line breaks (LF or CRLF), stray CR, and arbitrary 8-bit bytes.
 * Nothing here does I/O or logs: a parser returns its result or a reason
 * the caller logs with the queue id.  Allocation failures return NULL (or
 * APP_ENOMEM) instead of ending the process, so the milter can fail open.
 */
#ifndef PH_MILTER_APP_HEADERS_H
#define PH_MILTER_APP_HEADERS_H

#include <stddef.h>
#include <json-c/json.h>

#define APP_TAG_MAX 255 /* bytes */
#define APP_META_MAX_KEYS 20
#define APP_META_MAX_KEY 40	/* bytes */
#define APP_META_MAX_VALUE 500	/* bytes */
#define APP_META_MAX_TOTAL 4096 /* bytes of header text */

enum app_status {
	APP_OK = 0,
	APP_INVALID = 1, /* *why says what is wrong */
	APP_ENOMEM = -1,
};

enum spam_status {
	SPAM_NOT_CHECKED,
	SPAM_NOT_SPAM,
	SPAM_SPAM,
};

/*
 * header_value_clean - the value with folding undone (a line break and the
 * white space after it become one space), other CR, LF and NUL-free control
 * characters replaced by a space, and outer white space trimmed.  Bytes of
 * 8 bits are kept.  Returns malloc()ed text or NULL when out of memory.
 */
char *header_value_clean(const char *raw);

/*
 * app_tag_parse - one tag value: at most APP_TAG_MAX bytes of UTF-8 text
 * after cleaning, not empty.  On APP_OK *out is malloc()ed.
 */
int app_tag_parse(const char *raw, char **out, const char **why);

/*
 * app_metadata_parse - a JSON object of scalar values within the APP_META_*
 * limits, made {string: string}: a number or boolean becomes a string of
 * its JSON text (42 -> "42", true -> "true"), a null member is dropped,
 * and an object or array value refuses the whole metadata.  On APP_OK
 * *out is a new json-c reference.
 */
int app_metadata_parse(const char *raw, json_object **out, const char **why);

/*
 * spam_status_from_header - the verdict one header gives: X-Spam-Flag
 * (YES/NO) or X-Spam-Status (Yes,... / No,...); SPAM_NOT_CHECKED when
 * the header is neither or says nothing clear.
 */
enum spam_status spam_status_from_header(const char *name, const char *value);
const char *spam_status_name(enum spam_status s);

/*
 * message_id_strip - the first <...> of a Message-ID value without the
 * angle brackets, or the cleaned value when it has none; NULL when empty
 * or out of memory.
 */
char *message_id_strip(const char *raw);

#endif
