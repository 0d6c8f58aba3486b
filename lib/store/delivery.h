/*
 * delivery.h - deliveries and their attempt history.
 *
 * A delivery is one event for one endpoint, made at fan-out with its
 * envelope uuid fixed for good (STORE_DELIVERIES, key: 8-byte big-endian
 * id).  Pending deliveries are indexed by when they are due
 * (STORE_DELIVERY_DUE, key: 8-byte big-endian due ms + delivery id).  An
 * attempt is one HTTP request; its record (docs/events.md, Delivery attempt)
 * has duration, error and uuid too (STORE_ATTEMPTS, key: 8-byte big-endian
 * sequence; id "whr_" + 12 hex digits).
 *
 * The sender records an attempt and updates its delivery in one
 * transaction after the request completed (delivery_complete), so a crash
 * at any moment leaves the delivery pending and due: at least once.
 */
#ifndef PH_DELIVERY_H
#define PH_DELIVERY_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "event/event.h"
#include "store/store.h"
#include "util/util.h"

#define RESPONSE_BODY_MAX (20 * 1024)

enum delivery_state {
	DELIVERY_PENDING,
	DELIVERY_SUCCEEDED,
	DELIVERY_FAILED,
};

struct delivery {
	uint64_t id;
	char uuid[37];
	char *endpoint_id;
	char *event_key; /* the outbox key it came from, or NULL */
	enum event_type type;
	double timestamp;     /* envelope timestamp */
	json_object *payload; /* owned reference */
	int attempts;	      /* attempts made */
	int base;	      /* attempts before the last recover */
	int spared;	      /* attempts since then that spent no retry */
	int parked;	      /* waiting for its endpoint (breaker, disabled) */
	int replay;	      /* one attempt, never retried */
	int64_t due_ms;	      /* wall clock ms; meaningful when pending */
	enum delivery_state state;
	char *kid; /* key that signed the last attempt */
	double created;
	double updated;
	char *last_attempt; /* "whr_..." or NULL */
	/* the stored text it was read from (delivery_get), else NULL */
	char *stored;
	size_t stored_len;
	/* delivery_pick: the payload's JSON text, not parsed (payload NULL) */
	char *payload_text;
	size_t payload_text_len;
};

void delivery_free(struct delivery *d);
const char *delivery_state_name(enum delivery_state s);

/* delivery_get - STORE_OK with *out (caller frees), or STORE_NOTFOUND. */
PH_MUST_CHECK int delivery_get(struct store_txn *txn, uint64_t id, struct delivery **out);

/*
 * delivery_pick - delivery_get() for sending it: the payload is kept as
 * the JSON text it is stored as (payload_text; payload NULL), not parsed,
 * when the stored text is in the form delivery records are written in
 * now; else parsed as delivery_get() does.
 */
PH_MUST_CHECK int delivery_pick(struct store_txn *txn, uint64_t id,
				struct delivery **out);

/*
 * delivery_payload_json - the payload as JSON text ("/" unescaped):
 * payload_text, or payload printed (borrowed from d), or "null".
 */
const char *delivery_payload_json(const struct delivery *d, size_t *len);

/*
 * delivery_envelope_json - the envelope event_envelope() makes, as the
 * JSON text endpoints get ("/" unescaped), the payload's text spliced in
 * unparsed; *len its length, *payload_off and *payload_len where the
 * payload is in it.  Caller frees.
 */
char *delivery_envelope_json(const struct delivery *d, size_t *len, size_t *payload_off,
			     size_t *payload_len);

/*
 * delivery_message_id - the payload's message.id (an unsigned integer):
 * 1 with *id, or 0 when it has none.  Read from payload_text without
 * parsing the rest of it.
 */
int delivery_message_id(const struct delivery *d, uint64_t *id);

/*
 * delivery_fanout - take up to max events from the outbox and make one
 * pending delivery, due first_delay_ms from now, per enabled endpoint of
 * the event's tenant that wants it (or for the one endpoint an event
 * names); all in txn.
 */
PH_MUST_CHECK int delivery_fanout(struct store_txn *txn, int max, int64_t first_delay_ms,
				  int *events, int *deliveries);

/* One entry of the due index: a delivery and its endpoint. */
struct due_entry {
	uint64_t id;
	char endpoint_id[24]; /* "" when not recorded */
};

/*
 * delivery_due_ids - pending deliveries due at or before now_ms, earliest
 * first, at most max; *out is malloc()ed.
 */
PH_MUST_CHECK int delivery_due_ids(struct store_txn *txn, int64_t now_ms, int max,
				   struct due_entry **out, int *n);

/* delivery_abandon - mark a pending delivery failed without an attempt. */
PH_MUST_CHECK int delivery_abandon(struct store_txn *txn, struct delivery *d);

/*
 * delivery_park - set a pending delivery aside until its endpoint takes
 * requests again: never due, its due time and retries kept.
 */
PH_MUST_CHECK int delivery_park(struct store_txn *txn, struct delivery *d);

/*
 * delivery_unpark - let up to max of the endpoint's parked deliveries go,
 * oldest first, each due at the time it had; *count gets how many.
 */
PH_MUST_CHECK int delivery_unpark(struct store_txn *txn, const char *endpoint_id, int max,
				  int *count);

/*
 * delivery_discard_parked - mark every parked delivery of the endpoint
 * failed without an attempt (deliveries recover brings them back).
 */
PH_MUST_CHECK int delivery_discard_parked(struct store_txn *txn, const char *endpoint_id,
					  int *count);

/* One endpoint's parked deliveries. */
struct parked_count {
	char endpoint_id[24];
	long count;
};

/* delivery_parked - how many wait parked, per endpoint; *out malloc()ed. */
PH_MUST_CHECK int delivery_parked(struct store_txn *txn, struct parked_count **out,
				  int *n);

/*
 * retry_after_parse - a Retry-After value (delta seconds or an HTTP date)
 * to milliseconds from now (never negative); -1 when unparsable.
 */
PH_MUST_CHECK int retry_after_parse(const char *value, double now, int64_t *ms);

/*
 * retry_delay - after attempt number done (1-based, counted since the last
 * recover) failed: 1 and *delay_ms when another attempt follows, 0 when
 * the schedule is exhausted.  Attempt n waits sched[n-1] after the
 * previous failure; a Retry-After on 429 or 503 can only lengthen that,
 * to at most twice the scheduled delay.
 */
int retry_delay(const int64_t *sched, int count, int done, long status,
		const char *retry_after, double now, int64_t *delay_ms);

/* What one HTTP request of a delivery came to. */
struct attempt_result {
	double started;	   /* wall clock, seconds */
	double duration;   /* seconds */
	long status;	   /* HTTP status, 0 when none */
	const char *error; /* NULL when 2xx; else the reason */
	const char *body;  /* response body, capped */
	size_t body_len;
	json_object *headers;	 /* request headers sent (borrowed) */
	const char *kid;	 /* signing key id used */
	const char *retry_after; /* Retry-After value, or NULL */
	int spare;		 /* a failure that spends no retry (probe, throttle) */
	int64_t not_before_ms;	 /* spare: due again this long after the end */
	double envelope_ts;	 /* timestamp in the body sent */
	/* the payload's JSON text as sent (NULL: the delivery's, printed) */
	const char *payload;
	size_t payload_len;
};

/* attempt_success - a 2xx answer with no transport error. */
int attempt_success(const struct attempt_result *r);

/*
 * attempt_record_new - the record of this attempt (docs/events.md): id,
 * webhookId, webhookName, event, url, statusCode, success, attempt,
 * willRetry, timestamp, request {payload, headers}, response {statusCode,
 * body}, and duration, error, uuid.
 */
json_object *attempt_record_new(const char *id, const struct delivery *d,
				const char *webhook_name, const char *url,
				const struct attempt_result *r, int attempt,
				int will_retry);

/* Where the attempt's endpoint stood when it was sent. */
struct attempt_target {
	const char *name;
	const char *url;
	const char *tenant; /* the endpoint's; NULL: the default tenant */
};

/*
 * attempt_wrap_text - the stored form of an attempt, appended to b and
 * terminated: {"ts","delivery","key"[,"tenant"],"record":{...}}, the
 * record as attempt_record_new() has it, written as text.
 */
void attempt_wrap_text(struct buf *b, const char *id, const struct delivery *d,
		       const struct attempt_target *target,
		       const struct attempt_result *r, int attempt, int will_retry);

/*
 * delivery_complete - in one transaction: record the attempt, count it,
 * and make the delivery succeeded, due again, or failed.  A failed
 * attempt marked spare keeps the delivery's place in the schedule: it is
 * due again not_before_ms after the attempt ended.  *record_id gets
 * the attempt id ("whr_..."), *will_retry whether another attempt follows.
 * picked, when not NULL, is the delivery as delivery_get() read it before
 * the request: while its record is still those bytes it is used as it is
 * rather than parsed again.
 */
PH_MUST_CHECK int delivery_complete(struct store_txn *txn, uint64_t delivery_id,
				    const struct delivery *picked,
				    const struct attempt_target *target,
				    const struct attempt_result *r, const int64_t *sched,
				    int count, char record_id[32], int *will_retry);

/* attempt_get - the record for "whr_..." (caller puts it), or NOTFOUND. */
PH_MUST_CHECK int attempt_get(struct store_txn *txn, const char *id, json_object **rec);

/*
 * attempt_tenant - the tenant of "whr_..." (caller frees): its endpoint's
 * when it was made, so that it stays the tenant's after the endpoint is
 * deleted; TENANT_DEFAULT for attempts made before tenants.
 */
PH_MUST_CHECK int attempt_tenant(struct store_txn *txn, const char *id, char **tenant);

struct attempt_filter {
	const char *endpoint_id; /* NULL: all */
	int failed_only;
	int succeeded_only;
	int event;	       /* -1: all, else enum event_type */
	double since;	       /* 0: all */
	double before;	       /* 0: all; else only attempts made earlier */
	int limit;	       /* 0: all */
	const char *event_key; /* NULL: any */
	uint64_t after_seq;    /* only attempts with a higher sequence */
	const char *tenant;    /* NULL: any; else only this tenant's */
};

/*
 * attempt_list - matching records, newest first, into a json array
 * (*out, caller puts it).
 */
PH_MUST_CHECK int attempt_list(struct store_txn *txn, const struct attempt_filter *f,
			       json_object **out);

/*
 * attempt_page - attempt_list() a page at a time: skip the newest offset
 * matches, then at most limit (0: all); *total gets how many matched.
 */
PH_MUST_CHECK int attempt_page(struct store_txn *txn, const struct attempt_filter *f,
			       long offset, long limit, json_object **out, long *total);

/*
 * attempt_get_head - the record of attempt seq without its request and
 * response (id .. timestamp: what a list shows), read without parsing
 * those.  STORE_OK, STORE_NOTFOUND or an error.
 */
PH_MUST_CHECK int attempt_get_head(struct store_txn *txn, uint64_t seq,
				   json_object **rec);

/*
 * attempt_each_webhook - fn(seq, webhook id) for every attempt after
 * sequence after, oldest first, read without parsing where the text
 * allows; fn returns 0 to go on, 1 to stop, -1 to fail.  For an index of
 * attempts by webhook that a reader keeps up to date.
 */
PH_MUST_CHECK int attempt_each_webhook(struct store_txn *txn, uint64_t after,
				       int (*fn)(uint64_t seq, const char *webhook_id,
						 void *ctx),
				       void *ctx);

/* attempt_first_seq - the oldest attempt's sequence (0: none); purges go oldest first. */
PH_MUST_CHECK int attempt_first_seq(struct store_txn *txn, uint64_t *seq);

/* attempt_last_seq - the sequence of the newest attempt (0: none). */
PH_MUST_CHECK int attempt_last_seq(struct store_txn *txn, uint64_t *seq);

/*
 * delivery_replay - a new one-attempt delivery of the attempt's event, due
 * now, same uuid and a new envelope timestamp.
 */
PH_MUST_CHECK int delivery_replay(struct store_txn *txn, const char *attempt_id,
				  uint64_t *new_id);

/*
 * delivery_recover - make every failed delivery of the endpoint created
 * since since pending again, due now, with the whole schedule ahead.
 */
PH_MUST_CHECK int delivery_recover(struct store_txn *txn, const char *endpoint_id,
				   double since, int *count);

/*
 * delivery_each - call fn with every delivery whose id is above after, in
 * id order (the order they were made), until fn returns non-zero: 1 stops,
 * -1 stops with STORE_ERROR.  d is valid during the call only.  With a
 * needle, only deliveries whose stored text holds it are read (a cheap
 * first cut: fn still decides).
 */
PH_MUST_CHECK int delivery_each(struct store_txn *txn, uint64_t after, const char *needle,
				int (*fn)(const struct delivery *d, void *ctx),
				void *ctx);

/*
 * delivery_purge - delete attempt records, and finished deliveries, older
 * than cutoff; at most limit of each per call.
 */
PH_MUST_CHECK int delivery_purge(struct store_txn *txn, double cutoff, int limit,
				 int *count);

#endif
