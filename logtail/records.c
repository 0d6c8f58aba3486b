/*
 * records.c - read the milter's message records for the tailer.
 */
#include <stddef.h>

#include "util/log.h"
#include "records.h"

struct lookup {
	const char *qid;
	struct message_record *rec;
};

/* lookup_txn - read one record; a retried run starts afresh. */
static int
lookup_txn(struct store_txn *txn, void *ctx)
{
	struct lookup *lk = ctx;
	int rc;

	if (lk->rec != NULL) {
		message_record_free(lk->rec);
		lk->rec = NULL;
	}
	rc = message_get_by_queue_id(txn, lk->qid, &lk->rec);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/* records_lookup - see records.h. */
struct message_record *
records_lookup(struct store *st, const char *qid)
{
	struct lookup lk = { qid, NULL };

	if (st == NULL)
		return (NULL);
	if (store_run(st, lookup_txn, &lk, 5000) != STORE_OK) {
		log_warn("%s: cannot read the message record", qid);
		if (lk.rec != NULL)
			message_record_free(lk.rec);
		return (NULL);
	}
	return (lk.rec);
}
