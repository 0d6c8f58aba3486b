/*
 * purge.c - the retention purge loop over one table.
 */
#include "store/purge.h"

/* purge_older - walk the table, deleting what is too old */
int
purge_older(struct store_txn *txn, const struct purge_ops *ops, double cutoff, int limit,
	    int *count)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int status;

	*count = 0;
	status = store_cursor_open(txn, ops->table, &c);
	if (status != STORE_OK)
		return status;
	while (*count < limit
	       && (status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		if (ops->when(v, vl) >= cutoff)
			continue;
		if (ops->forget != NULL && (status = ops->forget(txn, v, vl)) != STORE_OK)
			break;
		if ((status = store_cursor_del(c)) != STORE_OK)
			break;
		(*count)++;
	}
	store_cursor_close(c);
	return status == STORE_NOTFOUND ? STORE_OK : status;
}
