/*
 * bounce_record.h - the records the bounce intake keeps in STORE_BOUNCES
 * (bounces that match no message, ARF reports, what could not be parsed):
 * JSON objects keyed by the message's id, with its "received" time.
 */
#ifndef PH_BOUNCE_RECORD_H
#define PH_BOUNCE_RECORD_H

#include <json-c/json.h>

#include "store/store.h"

/*
 * bounce_record_list - the kept records (JSON objects, newest first) with
 * received >= since, at most limit; *out is an array the caller frees with
 * bounce_records_free().
 */
PH_MUST_CHECK int bounce_record_list(struct store_txn *txn, double since, int limit,
				     json_object ***out, int *n);
void bounce_records_free(json_object **recs, int n);

/* bounce_record_purge - delete kept records received before cutoff. */
PH_MUST_CHECK int bounce_record_purge(struct store_txn *txn, double cutoff, int limit,
				      int *count);

#endif
