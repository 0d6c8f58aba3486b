/*
 * json_body.c - request bodies: one JSON object with known members, and
 * the webhook fields checked all before any is applied, so that a
 * refused body changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_body.h"
#include "store/endpoint.h"
#include "util/json.h"
#include "util/util.h"

const char *const webhook_body_fields[] = { "name",    "url",	 "events", "allEvents",
					    "enabled", "secret", NULL };

/* body_parse - see json_body.h. */
json_object *
body_parse(const char *body, size_t len, const char *const *allowed, int *status,
	   char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *o;
	size_t i;

	*status = 400;
	if (len == 0 || len > (size_t) 0x7fffffff || memchr(body, 0, len) != NULL) {
		snprintf(err, errlen,
			 len == 0 ? "a JSON object body is required"
				  : "the body is not valid JSON");
		return NULL;
	}
	if ((tok = json_tokener_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, body, (int) len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success
	    || json_tokener_get_parse_end(tok) != len) {
		json_tokener_free(tok);
		json_object_put(o);
		snprintf(err, errlen, "the body is not valid JSON");
		return NULL;
	}
	json_tokener_free(tok);
	*status = 422;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		snprintf(err, errlen, "the body must be a JSON object");
		return NULL;
	}
	json_object_object_foreach(o, key, val)
	{
		(void) val;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL) {
			snprintf(err, errlen, "unknown field \"%.100s\"", key);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

/* bad - "field: why" into err; returns -1. */
static int
bad(char *err, size_t errlen, const char *field, const char *why)
{
	snprintf(err, errlen, "%s: %.300s", field, why);
	return -1;
}

/* check_events - the events member as a mask; -1 after bad(). */
static int
check_events(json_object *v, uint32_t *mask, char *err, size_t errlen)
{
	enum event_type t;
	json_object *n;
	size_t i;

	*mask = 0;
	if (!json_object_is_type(v, json_type_array))
		return bad(err, errlen, "events", "must be an array of event names");
	for (i = 0; i < json_object_array_length(v); i++) {
		n = json_object_array_get_idx(v, i);
		if (!json_object_is_type(n, json_type_string))
			return bad(err, errlen, "events",
				   "must be an array of event names");
		if (event_type_from_name(json_object_get_string(n), &t) < 0)
			return bad(err, errlen, "events: unknown event",
				   json_object_get_string(n));
		*mask |= 1u << t;
	}
	return 0;
}

/* check_fields - every member valid; -1 after bad(). */
static int
check_fields(json_object *o, uint32_t *mask, char *err, size_t errlen)
{
	char why[700];
	json_object *v;

	if ((v = json_member(o, "name")) != NULL) {
		if (!json_object_is_type(v, json_type_string))
			return bad(err, errlen, "name", "must be a string");
		if (endpoint_check_name(json_object_get_string(v), why, sizeof(why)) < 0)
			return bad(err, errlen, "name", why);
	}
	if ((v = json_member(o, "url")) != NULL) {
		if (!json_object_is_type(v, json_type_string))
			return bad(err, errlen, "url",
				   "must be an http or https URL string");
		if (endpoint_check_url(json_object_get_string(v), why, sizeof(why)) < 0)
			return bad(err, errlen, "url", why);
	}
	if ((v = json_member(o, "events")) != NULL
	    && check_events(v, mask, err, errlen) < 0)
		return -1;
	if ((v = json_member(o, "allEvents")) != NULL
	    && !json_object_is_type(v, json_type_boolean))
		return bad(err, errlen, "allEvents", "must be true or false");
	if ((v = json_member(o, "enabled")) != NULL
	    && !json_object_is_type(v, json_type_boolean))
		return bad(err, errlen, "enabled", "must be true or false");
	if ((v = json_member(o, "secret")) != NULL) {
		if (!json_object_is_type(v, json_type_string))
			return bad(err, errlen, "secret",
				   "must be a string, \"generate\" or null");
		if (strcmp(json_object_get_string(v), "generate") != 0
		    && endpoint_check_secret(json_object_get_string(v), why, sizeof(why))
			   < 0)
			return bad(err, errlen, "secret", why);
	}
	return 0;
}

/* webhook_body_apply - see json_body.h. */
int
webhook_body_apply(struct endpoint *ep, json_object *o, char *err, size_t errlen,
		   int *secret_set)
{
	json_object *v;
	uint32_t mask = 0;
	char *secret = NULL;

	*secret_set = 0;
	if (check_fields(o, &mask, err, errlen) < 0)
		return -1;
	if ((v = json_member(o, "secret")) != NULL
	    && strcmp(json_object_get_string(v), "generate") == 0
	    && (secret = endpoint_new_secret()) == NULL)
		return bad(err, errlen, "secret", "no random bytes to make one");
	if ((v = json_member(o, "name")) != NULL) {
		free(ep->name);
		ep->name = xstrdup(json_object_get_string(v));
	}
	if ((v = json_member(o, "url")) != NULL) {
		free(ep->url);
		ep->url = xstrdup(json_object_get_string(v));
	}
	if (json_member(o, "events") != NULL) {
		ep->events = mask;
		ep->all_events = 0;
	}
	if ((v = json_member(o, "allEvents")) != NULL) {
		ep->all_events = json_object_get_boolean(v);
		if (ep->all_events)
			ep->events = 0;
	}
	if ((v = json_member(o, "enabled")) != NULL)
		ep->enabled = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "secret", &v)) {
		free(ep->secret);
		ep->secret = secret != NULL ? secret
			     : v != NULL    ? xstrdup(json_object_get_string(v))
					    : NULL;
		*secret_set = ep->secret != NULL;
	}
	return 0;
}
