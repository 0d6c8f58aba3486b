/*
 * probe.h - send one event to one endpoint now and find what came of it:
 * the test event of "webhooks test" and a replay's single attempt, for
 * posthookctl and posthook-api alike.  The sending itself is
 * posthook-webhook's; these only queue and look.
 */
#ifndef PH_PROBE_H
#define PH_PROBE_H

#include <stdint.h>
#include <json-c/json.h>
#include "event/event.h"
#include "store/store.h"
#include "util/util.h"

/* The event key of a test event: "test:" and its uuid; no real event's key. */
#define PROBE_TEST_KEY_PREFIX "test:"

/* probe_is_test - whether an event key is a test event's. */
int probe_is_test(const char *event_key);

/*
 * probe_queue - queue the event (type, payload) under key for endpoint id
 * alone, noting in *after where the attempt history ended.  When the
 * endpoint is disabled, *disabled is set and nothing is queued.
 */
PH_MUST_CHECK int probe_queue(struct store_txn *txn, const char *id, const char *key,
			      enum event_type type, json_object *payload, uint64_t *after,
			      int *disabled);

/* probe_find - the first attempt of key after sequence after; NULL if none yet. */
PH_MUST_CHECK int probe_find(struct store_txn *txn, const char *key, uint64_t after,
			     json_object **found);

/*
 * probe_delivery_done - when delivery id has finished (succeeded or
 * failed), its last attempt's record in *found; else *found is NULL.
 */
PH_MUST_CHECK int probe_delivery_done(struct store_txn *txn, uint64_t id,
				      json_object **found);

#endif
