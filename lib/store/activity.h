/*
 * activity.h - what recipients did with a message (opens, clicks,
 * unsubscribes), kept beside its record in STORE_ACTIVITY under the
 * message's id and the time, so one message's history is one key range,
 * which ends with the message's summary.
 */
#ifndef PH_ACTIVITY_H
#define PH_ACTIVITY_H

#include <stdint.h>

#include "store/store.h"
#include "util/util.h"

/* One hit.  Strings may be NULL; when read, they live during the call. */
struct activity {
	double time;
	char kind;	 /* 'o' open, 'c' click, 'u' unsubscribe (track_kind) */
	unsigned link;	 /* a click's link index */
	const char *url; /* a click's URL */
	const char *ip;	 /* the client's address */
	const char *ua;	 /* its User-Agent */
	const char *bot; /* NULL, "apple_mpp", "scanner" */
};

/* activity_add - record a for the message id, in the caller's transaction. */
PH_MUST_CHECK int activity_add(struct store_txn *txn, uint64_t id,
			       const struct activity *a);

/*
 * activity_each - call fn with the message's activity, oldest first,
 * until it returns non-zero (1 stops, -1 stops with STORE_ERROR).
 */
PH_MUST_CHECK int activity_each(struct store_txn *txn, uint64_t id,
				int (*fn)(const struct activity *a, void *ctx),
				void *ctx);

/*
 * What a message's hits add up to, kept beside them so that a hit reads
 * one record however many came before it: the number of opens and, per
 * link, the time of its last click (0: never).
 */
struct activity_summary {
	long opens;
	double *last_click; /* nlinks entries, malloc()ed */
	unsigned nlinks;
	double time; /* the last hit's, for retention */
};

/*
 * activity_summary_get - the message's summary for nlinks links, read
 * with a write lock (the caller updates it); a zero one when there is none.
 */
PH_MUST_CHECK int activity_summary_get(struct store_txn *txn, uint64_t id,
				       unsigned nlinks, struct activity_summary *s);
/* activity_summary_put - store s as the message's summary. */
PH_MUST_CHECK int activity_summary_put(struct store_txn *txn, uint64_t id,
				       const struct activity_summary *s);
void activity_summary_clear(struct activity_summary *s);

/* activity_purge - delete activity older than cutoff; *count gets how many. */
PH_MUST_CHECK int activity_purge(struct store_txn *txn, double cutoff, int limit,
				 int *count);

#endif
