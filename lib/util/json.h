/*
 * json.h - reading and writing members of json-c objects, and parsing a
 * text of known length into one.
 *
 * One place for what every record's (de)serialiser needs: a member by
 * name, a string member that is really a string, a member as text, and a string member
 * written as null when the C string is NULL.  All returned strings are
 * borrowed from the object: they live as long as it does.
 */
#ifndef PH_UTIL_JSON_H
#define PH_UTIL_JSON_H

#include <stddef.h>
#include <json-c/json.h>

/* json_parse_len - parse exactly len bytes of JSON; NULL if invalid. */
json_object *json_parse_len(const void *data, size_t len);

/* json_member - the member key of o, or NULL (also when o is NULL). */
json_object *json_member(json_object *o, const char *key);

/* json_string_member - member key when it is a string, or NULL (borrowed). */
const char *json_string_member(json_object *o, const char *key);

/*
 * json_text_member - member key as json-c prints a scalar ("5", "true"),
 * or NULL when it is absent or null (borrowed).
 */
const char *json_text_member(json_object *o, const char *key);

/* json_add_string - add member key: the string v, or null when v is NULL. */
void json_add_string(json_object *o, const char *key, const char *v);

#endif
