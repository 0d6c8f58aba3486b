/*
 * group.h - group commit: callbacks handed in by many threads at once run
 * together in one store transaction, so that concurrent writers neither
 * meet each other's locks nor pay a commit each.
 *
 * A thread hands in its callback and waits.  When no batch is committing,
 * it takes every callback queued so far (its own among them), runs them
 * one after the other in one store_run() and wakes their threads; the
 * others queue meanwhile for the next batch.  A callback returns only once
 * its writes are committed (or refused), so an answer given after
 * group_run() never speaks of a write a crash could lose.
 */
#ifndef PH_GROUP_H
#define PH_GROUP_H

#include <stdint.h>

#include "store/store.h"
#include "util/util.h"

struct group;

struct group *group_new(void);
void group_free(struct group *g);

/*
 * group_run - run fn(txn, ctx) in the next batch's transaction on st (the
 * same store for every caller of g); its status
 * as store_run() gives it.  As in store_run(), fn may run more than once
 * (a retried batch) and must have no effect outside the store.  When a
 * batch fails, each of its callbacks is run again in a transaction of its
 * own, so one bad callback fails only its own caller.  Batches run one at
 * a time: state that only callbacks touch needs no lock of its own.
 */
PH_MUST_CHECK int group_run(struct group *g, struct store *st, store_fn fn, void *ctx,
			    int64_t deadline_ms);

/* group_stats - batches committed and callbacks run in them, so far. */
void group_stats(struct group *g, uint64_t *batches, uint64_t *calls);

#endif
