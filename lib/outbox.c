/*
 * outbox.c - the durable event outbox.
 *
 * STORE_EVENTS_SEEN remembers every event key (until retention), so the
 * same event is never queued twice; STORE_OUTBOX holds the queued events
 * under an 8-byte sequence number, so they are taken in the order made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"
#include "purge.h"
#include "util.h"

/* seq_key - 8-byte big-endian key */
static void
seq_key(uint64_t seq, unsigned char key[8])
{
	int i;

	for (i = 7; i >= 0; i--, seq >>= 8)
		key[i] = (unsigned char) (seq & 0xff);
}

/* outbox_add - queue an event unless its key was seen */
int
outbox_add(struct store_txn *txn, const char *key, enum event_type type,
	   double timestamp, json_object *payload, const char *endpoint_id)
{
	char seen[32];
	unsigned char k[8];
	json_object *o;
	const char *text;
	uint64_t seq;
	int status;

	snprintf(seen, sizeof(seen), "%.6f", now_seconds());
	status = store_put_new(txn, STORE_EVENTS_SEEN, key, strlen(key), seen,
			       strlen(seen));
	if (status != STORE_OK)
		return status;
	status = store_seq_next(txn, "outbox", &seq);
	if (status != STORE_OK)
		return status;
	o = json_object_new_object();
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "event", json_object_new_string(event_type_name(type)));
	json_object_object_add(o, "timestamp", json_double_new(timestamp, 6));
	json_object_object_add(o, "payload", json_object_get(payload));
	if (endpoint_id != NULL)
		json_object_object_add(o, "endpoint", json_object_new_string(endpoint_id));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	seq_key(seq, k);
	status = store_put(txn, STORE_OUTBOX, k, sizeof(k), text, strlen(text));
	json_object_put(o);
	return status;
}

/* outbox_event_free - free one event */
void
outbox_event_free(struct outbox_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->key);
	json_object_put(ev->payload);
	free(ev->endpoint_id);
	free(ev);
}

/* outbox_events_free - free what outbox_take() returned */
void
outbox_events_free(struct outbox_event **evs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		outbox_event_free(evs[i]);
	free(evs);
}

/* outbox_event_parse - a stored event, or NULL if it is damaged */
static struct outbox_event *
outbox_event_parse(const void *val, size_t vlen)
{
	json_object *o = json_parse_len(val, vlen);
	json_object *key, *name, *ts, *payload, *ep;
	struct outbox_event *ev = NULL;
	enum event_type type;

	if (o != NULL
	    && json_object_object_get_ex(o, "key", &key)
	    && json_object_object_get_ex(o, "event", &name)
	    && json_object_object_get_ex(o, "timestamp", &ts)
	    && json_object_object_get_ex(o, "payload", &payload)
	    && event_type_from_name(json_object_get_string(name), &type) == 0) {
		ev = xcalloc(1, sizeof(*ev));
		ev->key = xstrdup(json_object_get_string(key));
		ev->type = type;
		ev->timestamp = json_object_get_double(ts);
		ev->payload = json_object_get(payload);
		if (json_object_object_get_ex(o, "endpoint", &ep))
			ev->endpoint_id = xstrdup(json_object_get_string(ep));
	}
	json_object_put(o);
	return ev;
}

/* outbox_take - remove the oldest events */
int
outbox_take(struct store_txn *txn, int max, struct outbox_event ***out, int *n)
{
	struct outbox_event **evs = xcalloc((size_t) (max > 0 ? max : 1), sizeof(*evs));
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int status;

	*out = NULL;
	*n = 0;
	status = store_cursor_open(txn, STORE_OUTBOX, &c);
	if (status != STORE_OK) {
		free(evs);
		return status;
	}
	while (*n < max && (status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		struct outbox_event *ev = outbox_event_parse(v, vl);

		status = store_cursor_del(c);
		if (status != STORE_OK) {
			outbox_event_free(ev);
			break;
		}
		if (ev == NULL) {
			log_error("outbox: dropped a damaged event record (%zu bytes)", vl);
			continue;
		}
		evs[(*n)++] = ev;
	}
	store_cursor_close(c);
	if (status != STORE_OK && status != STORE_NOTFOUND) {
		outbox_events_free(evs, *n);
		*n = 0;
		return status;
	}
	*out = evs;
	return STORE_OK;
}

/* outbox_depth - count waiting events */
int
outbox_depth(struct store_txn *txn, long *depth)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int status;

	*depth = 0;
	status = store_cursor_open(txn, STORE_OUTBOX, &c);
	if (status != STORE_OK)
		return status;
	while ((status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK)
		(*depth)++;
	store_cursor_close(c);
	return status == STORE_NOTFOUND ? STORE_OK : status;
}

/* seen_time - when an event key was first seen */
static double
seen_time(const void *val, size_t len)
{
	char text[32];

	snprintf(text, sizeof(text), "%.*s", (int) (len < 31 ? len : 31), (const char *) val);
	return strtod(text, NULL);
}

/* outbox_purge_seen - forget keys of events made before cutoff */
int
outbox_purge_seen(struct store_txn *txn, double cutoff, int limit, int *count)
{
	static const struct purge_ops ops = { STORE_EVENTS_SEEN, seen_time, NULL };

	return purge_older(txn, &ops, cutoff, limit, count);
}
