/*
 * outbox.h - the durable event outbox between those who see events (the
 * tailer, the bounce intake) and the webhook sender.
 *
 * An event is added under its key: its identity, derived from where it was
 * seen (a log file's fingerprint and offset, a journal cursor, a bounce's
 * id), so that adding the same event twice is a no-op.  A log source that
 * never reads a line twice (the tailer's files: their high-water marks,
 * committed with their events) adds its events without that check.  The sender takes
 * events out and fans each into one delivery per subscribed endpoint, in
 * the same transaction.  An event may name the tenant it belongs to (the
 * message's); one that names none is the default tenant's.  The tenant is
 * kept beside the payload, never in it: it routes the event, the webhook
 * body is the payload as it was made.
 */
#ifndef PH_OUTBOX_H
#define PH_OUTBOX_H

#include <stdint.h>
#include <json-c/json.h>
#include "event/event.h"
#include "store/store.h"

struct outbox_event {
	char *key;
	enum event_type type;
	double timestamp;
	json_object *payload; /* owned reference */
	char *endpoint_id;    /* NULL: every subscribed endpoint */
	char *tenant;	      /* NULL: the default tenant's */
};

/*
 * outbox_add - queue an event.  STORE_OK when added, STORE_EXISTS when an
 * event with this key was seen before (nothing is written).
 */
PH_MUST_CHECK int outbox_add(struct store_txn *txn, const char *key, enum event_type type,
			     double timestamp, json_object *payload,
			     const char *endpoint_id);

/* outbox_add_tenant - outbox_add() for an event of a tenant (NULL: default). */
PH_MUST_CHECK int outbox_add_tenant(struct store_txn *txn, const char *key,
				    enum event_type type, double timestamp,
				    json_object *payload, const char *endpoint_id,
				    const char *tenant);

/* An event whose payload is JSON text already, for outbox_add_many(). */
struct outbox_item {
	const char *key;
	enum event_type type;
	double timestamp;
	const char *payload; /* one JSON object, not checked */
	size_t payload_len;
	const char *endpoint_id; /* NULL: every subscribed endpoint */
	const char *tenant;	 /* NULL: the default tenant's */
};

/*
 * outbox_add_many - outbox_add() for n events at once, in order: the
 * events whose keys were seen before are skipped, the others get their
 * sequence numbers in one step and are stored with their payload text as
 * it is.  *added gets how many were queued.
 */
PH_MUST_CHECK int outbox_add_many(struct store_txn *txn, const struct outbox_item *items,
				  size_t n, long *added);

/*
 * outbox_add_fresh - queue n events that are new for certain (their
 * source's high-water mark says so): as outbox_add_many() without looking
 * up or remembering their keys.
 */
PH_MUST_CHECK int outbox_add_fresh(struct store_txn *txn, const struct outbox_item *items,
				   size_t n);

/*
 * outbox_mark_get - the high-water mark of a log source (a key of its
 * own, "F/fingerprint"): the offset up to which its lines were read and
 * their events committed.  Without one stored, the seen keys of its
 * events ("F/fingerprint/OFFSET/...", of the previous release) give it:
 * past the largest offset.  STORE_NOTFOUND when neither is there.
 */
PH_MUST_CHECK int outbox_mark_get(struct store_txn *txn, const char *source,
				  uint64_t *offset);

/* outbox_mark_put - move it, in the transaction that adds those events. */
PH_MUST_CHECK int outbox_mark_put(struct store_txn *txn, const char *source,
				  uint64_t offset);

/* outbox_mark_parse - a mark's stored text ("TIME OFFSET"): 0, or -1. */
PH_MUST_CHECK int outbox_mark_parse(const char *text, size_t len, uint64_t *offset);

/* outbox_event_free - free one taken event. */
void outbox_event_free(struct outbox_event *ev);

/*
 * outbox_take - remove up to max events, oldest key first, into *out
 * (an array the caller frees with outbox_events_free); *n gets the count.
 */
PH_MUST_CHECK int outbox_take(struct store_txn *txn, int max, struct outbox_event ***out,
			      int *n);
void outbox_events_free(struct outbox_event **evs, int n);

/* The most events one stored record holds. */
#define OUTBOX_RECORD_MAX 64

/* One event's text (a JSON object) inside a stored record. */
struct outbox_slice {
	const char *text;
	size_t len;
};

/*
 * outbox_record_events - split a stored outbox record into its events:
 * up to max slices into rec in out (NULL when max is 0).  Returns how
 * many events it holds, or -1 when it is damaged.
 */
int outbox_record_events(const void *rec, size_t len, struct outbox_slice *out, int max);

/* outbox_walk - each waiting event's text, oldest first, to fn, which
 * returns STORE_OK to go on (read only). */
typedef int (*outbox_walk_fn)(const char *text, size_t len, void *ctx);
PH_MUST_CHECK int outbox_walk(struct store_txn *txn, outbox_walk_fn fn, void *ctx);

/* outbox_depth - how many events wait. */
PH_MUST_CHECK int outbox_depth(struct store_txn *txn, long *depth);

/* outbox_purge_seen - forget event keys older than cutoff. */
PH_MUST_CHECK int outbox_purge_seen(struct store_txn *txn, double cutoff, int limit,
				    int *count);

#endif
