/*
 * delivery_int.h - the stored form of a delivery record (STORE_DELIVERIES),
 * for lib/store's delivery files only: read with json-c, written as text.
 */
#ifndef PH_DELIVERY_INT_H
#define PH_DELIVERY_INT_H

#include <stddef.h>
#include <json-c/json.h>
#include "store/delivery.h"

/* delivery_parse_value - a stored JSON value, or NULL. */
json_object *delivery_parse_value(const void *val, size_t vlen);

/* delivery_from_json - parse the stored form; NULL when broken. */
struct delivery *delivery_from_json(json_object *o);

/*
 * delivery_head_json - the stored form parsed without its payload (null
 * in its place), and where the payload's text is; NULL when the text is
 * not in the form delivery_text() writes (the caller parses it whole).
 */
json_object *delivery_head_json(const char *text, size_t len, const char **payload,
				size_t *payload_len);

/*
 * delivery_text - the stored form, appended to b and terminated: the
 * members json-c printed, in that order ("/" now unescaped).  payload is
 * the payload's JSON text when the caller has it (the body it sent), else
 * NULL: d->payload printed.
 */
void delivery_text(struct buf *b, const struct delivery *d, const char *payload,
		   size_t payload_len);

/* delivery_copy - a copy of d to change: its payload shared, no stored text. */
struct delivery *delivery_copy(const struct delivery *src);

#endif
