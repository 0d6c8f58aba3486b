/*
 * app_headers.c - parse the application's X-*-Tag and X-*-Metadata headers,
 * spam verdict headers and the Message-ID; clean raw header values.
 *
 * Pure functions: text in, value or reason out.  See app_headers.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h"
#include "app_headers.h"

/* header_value_clean - unfold, blank out control bytes, trim. */
char *
header_value_clean(const char *raw)
{
	size_t len = strlen(raw);
	char *out = malloc(len + 1);
	size_t i, n = 0, start;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) raw[i];

		if (c == '\r' || c == '\n') {
			size_t j = i;

			while (j < len && (raw[j] == '\r' || raw[j] == '\n'))
				j++;
			/* A line break before white space is folding: drop it. */
			if (j < len && (raw[j] == ' ' || raw[j] == '\t')) {
				i = j - 1;
				continue;
			}
			out[n++] = ' ';
			i = j - 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		out[n++] = (char) c;
	}
	out[n] = 0;
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = 0;
	for (start = 0; out[start] == ' '; start++)
		/* void */;
	if (start > 0)
		memmove(out, out + start, n - start + 1);
	return out;
}

/* app_tag_parse - one tag value. */
int
app_tag_parse(const char *raw, char **out, const char **why)
{
	char *v = header_value_clean(raw);
	size_t len;

	*out = NULL;
	if (v == NULL)
		return APP_ENOMEM;
	len = strlen(v);
	if (len == 0) {
		*why = "tag is empty";
	} else if (len > APP_TAG_MAX) {
		*why = "tag is longer than 255 bytes";
	} else if (!utf8_valid(v, len)) {
		*why = "tag is not UTF-8";
	} else {
		*out = v;
		return APP_OK;
	}
	free(v);
	return APP_INVALID;
}

/*
 * metadata_scalar - a number or boolean becomes a string of its JSON text
 * (json-c keeps a parsed number's own text), as clients typed for
 * {string: string} metadata read it; 0, or -1 when out of memory.
 */
static int
metadata_scalar(json_object *obj, const char *key, json_object *val)
{
	json_object *s;

	s = json_object_new_string(
	    json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
	if (s == NULL)
		return -1;
	/* Replacing a member's value keeps the iteration valid. */
	return json_object_object_add(obj, key, s) < 0 ? -1 : 0;
}

/*
 * metadata_check - the limits on a parsed metadata object, whose numbers
 * and booleans become strings and whose null members are dropped.
 */
static int
metadata_check(json_object *obj, const char **why)
{
	int nkeys = 0;

	if (!json_object_is_type(obj, json_type_object)) {
		*why = "metadata is not a JSON object";
		return APP_INVALID;
	}
	/* json-c's foreach holds the next member: deleting this one is safe. */
	json_object_object_foreach(obj, key, val)
	{
		size_t vlen;

		switch (json_object_get_type(val)) {
		case json_type_null:
			json_object_object_del(obj, key);
			continue;
		case json_type_int:
		case json_type_double:
		case json_type_boolean:
			if (metadata_scalar(obj, key, val) < 0)
				return APP_ENOMEM;
			json_object_object_get_ex(obj, key, &val);
			break;
		case json_type_string:
			break;
		default:
			*why = "metadata value is an object or array";
			return APP_INVALID;
		}
		if (++nkeys > APP_META_MAX_KEYS) {
			*why = "metadata has more than 20 keys";
			return APP_INVALID;
		}
		if (*key == 0) {
			*why = "metadata has an empty key";
			return APP_INVALID;
		}
		if (strlen(key) > APP_META_MAX_KEY) {
			*why = "metadata key is longer than 40 bytes";
			return APP_INVALID;
		}
		vlen = (size_t) json_object_get_string_len(val);
		if (vlen > APP_META_MAX_VALUE) {
			*why = "metadata value is longer than 500 bytes";
			return APP_INVALID;
		}
		if (memchr(json_object_get_string(val), 0, vlen) != NULL) {
			*why = "metadata value holds a NUL character";
			return APP_INVALID;
		}
	}
	return APP_OK;
}

/* app_metadata_parse - a JSON object of scalar values within the limits. */
int
app_metadata_parse(const char *raw, json_object **out, const char **why)
{
	char *v;
	size_t len;
	json_tokener *tok;
	json_object *obj;
	int status;

	*out = NULL;
	if (strlen(raw) > 2 * APP_META_MAX_TOTAL) {
		*why = "metadata is larger than 4 KiB";
		return APP_INVALID;
	}
	if ((v = header_value_clean(raw)) == NULL)
		return APP_ENOMEM;
	len = strlen(v);
	if (len > APP_META_MAX_TOTAL) {
		free(v);
		*why = "metadata is larger than 4 KiB";
		return APP_INVALID;
	}
	/* Depth 2: an object of scalars, nothing nested deeper. */
	if ((tok = json_tokener_new_ex(2)) == NULL) {
		free(v);
		return APP_ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, v, (int) len);
	if (obj == NULL) {
		*why = json_tokener_get_error(tok) == json_tokener_error_depth
			   ? "metadata value is an object or array"
			   : "metadata is not valid JSON";
		status = APP_INVALID;
	} else if (json_tokener_get_parse_end(tok) != len) {
		*why = "metadata has text after the JSON object";
		status = APP_INVALID;
	} else {
		status = metadata_check(obj, why);
	}
	json_tokener_free(tok);
	free(v);
	if (status != APP_OK) {
		json_object_put(obj);
		return status;
	}
	*out = obj;
	return APP_OK;
}

/* first_word_is - value starts (after blanks) with word, case-insensitive. */
static int
first_word_is(const char *value, const char *word)
{
	size_t n = strlen(word);

	while (*value == ' ' || *value == '\t')
		value++;
	return strncasecmp(value, word, n) == 0 && !isalnum((unsigned char) value[n]);
}

/* spam_status_from_header - X-Spam-Flag or X-Spam-Status to a verdict. */
enum spam_status
spam_status_from_header(const char *name, const char *value)
{
	if (strcasecmp(name, "X-Spam-Flag") == 0
	    || strcasecmp(name, "X-Spam-Status") == 0) {
		if (first_word_is(value, "yes"))
			return SPAM_SPAM;
		if (first_word_is(value, "no"))
			return SPAM_NOT_SPAM;
	}
	return SPAM_NOT_CHECKED;
}

/* spam_status_name - the name the record and the events use. */
const char *
spam_status_name(enum spam_status s)
{
	switch (s) {
	case SPAM_SPAM:
		return "Spam";
	case SPAM_NOT_SPAM:
		return "NotSpam";
	default:
		return "NotChecked";
	}
}

/* message_id_strip - the id between the first angle brackets. */
char *
message_id_strip(const char *raw)
{
	char *v = header_value_clean(raw);
	char *lt, *gt;

	if (v == NULL)
		return NULL;
	if ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt + 1, '>')) != NULL) {
		*gt = 0;
		memmove(v, lt + 1, (size_t) (gt - lt));
	}
	if (*v == 0 || strchr(v, ' ') != NULL || !utf8_valid(v, strlen(v))) {
		free(v);
		return NULL;
	}
	return v;
}
