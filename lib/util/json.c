/*
 * json.c - member access for json-c objects, and exact parsing (see json.h).
 */
#include <stdint.h>

#include "util/json.h"

/* json_parse_len - a whole JSON text of known length */
json_object *
json_parse_len(const void *data, size_t len)
{
	struct json_tokener *tok;
	json_object *o;

	if (data == NULL || len == 0 || len > INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, data, (int) len);
	if (o != NULL && json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* json_member - the member key of o, or NULL. */
json_object *
json_member(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return (NULL);
	return (v);
}

/* json_string_member - member key when it is a string, or NULL. */
const char *
json_string_member(json_object *o, const char *key)
{
	json_object *v = json_member(o, key);

	if (!json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

/* json_text_member - member key as text, or NULL when absent or null. */
const char *
json_text_member(json_object *o, const char *key)
{
	json_object *v = json_member(o, key);

	return (v != NULL ? json_object_get_string(v) : NULL);
}

/* json_add_string - add member key: the string v, or null. */
void
json_add_string(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v != NULL ? json_object_new_string(v) : NULL);
}
