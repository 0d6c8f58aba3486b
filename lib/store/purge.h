/*
 * purge.h - delete a table's records older than a cutoff: the one loop
 * behind every retention purge (messages, seen event keys, bounces).
 */
#ifndef PH_PURGE_H
#define PH_PURGE_H

#include <stddef.h>
#include "store/store.h"

struct purge_ops {
	enum store_table table;
	/* when - a record's time; < 0 when it cannot be read (then purged). */
	double (*when)(const void *val, size_t len);
	/* forget - delete what refers to the record (index entries); or NULL. */
	int (*forget)(struct store_txn *txn, const void *val, size_t len);
};

/*
 * purge_older - delete up to limit records of ops->table whose time is
 * before cutoff, in the caller's transaction; *count gets how many.
 */
PH_MUST_CHECK int purge_older(struct store_txn *txn, const struct purge_ops *ops,
			      double cutoff, int limit, int *count);

#endif
