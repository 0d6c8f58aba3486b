/*
 * json_body.h - the pure checks of request bodies: a JSON object with
 * known members only, and a webhook's fields from it.  No I/O; fuzzed.
 */
#ifndef PH_JSON_BODY_H
#define PH_JSON_BODY_H

#include <stddef.h>
#include <json-c/json.h>

struct endpoint;

/*
 * body_parse - exactly len bytes as one JSON object whose members are all
 * among allowed (NULL-terminated).  NULL on error, with *status 400 (not
 * JSON) or 422 (not an object, an unknown member) and why in err.
 */
json_object *body_parse(const char *body, size_t len, const char *const *allowed,
			int *status, char *err, size_t errlen);

/* The members a webhook body may have. */
extern const char *const webhook_body_fields[];

/*
 * webhook_body_apply - check every member of o (name, url, events,
 * allEvents, enabled, secret) and only then set them on ep: 0, or -1 with
 * "field: why" in err and ep unchanged.  *secret_set tells whether a
 * secret was set (it is shown once, in the answer).
 */
int webhook_body_apply(struct endpoint *ep, json_object *o, char *err, size_t errlen,
		       int *secret_set);

#endif
