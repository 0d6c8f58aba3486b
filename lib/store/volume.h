/*
 * volume.h - the send volume in the store (STORE_VOLUME): per scope (a
 * tenant's name, or VOLUME_TOTAL for all tenants) one counter per minute,
 * and the scope's send limit state (limit/limit.h decides it).
 *
 * A message is counted inside the milter's one transaction, after it took
 * the message sequence: every counting transaction holds that lock
 * already, so the counters add no lock wait of their own.  Per-minute keys
 * keep old buckets read-only (readers of the rolling hour never wait on a
 * writer but for the current minute) and let a minute's first count prune
 * the buckets that left the hour.
 */
#ifndef PH_STORE_VOLUME_H
#define PH_STORE_VOLUME_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "store/store.h"

#define VOLUME_TOTAL "*" /* the scope of all tenants together */

/* One minute's count: minute = seconds since the epoch / 60. */
struct volume_bucket {
	uint32_t minute;
	uint64_t count;
};

/*
 * volume_add - count n messages of scope in minute; the first count of a
 * minute deletes the scope's buckets before keep_from.
 */
PH_MUST_CHECK int volume_add(struct store_txn *txn, const char *scope, uint32_t minute,
			     uint64_t n, uint32_t keep_from);

/*
 * volume_buckets - scope's buckets from minute first on, oldest first,
 * into *out (caller frees); *n gets their number.
 */
PH_MUST_CHECK int volume_buckets(struct store_txn *txn, const char *scope, uint32_t first,
				 struct volume_bucket **out, size_t *n);

/* volume_scopes - every scope with buckets or a state, NULL-terminated. */
PH_MUST_CHECK int volume_scopes(struct store_txn *txn, char ***out);

/* volume_state_get - the scope's state object, or STORE_NOTFOUND. */
PH_MUST_CHECK int volume_state_get(struct store_txn *txn, const char *scope,
				   json_object **out);
PH_MUST_CHECK int volume_state_put(struct store_txn *txn, const char *scope,
				   json_object *state);

#endif
