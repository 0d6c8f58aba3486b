/*
 * tail_load.c - what the tailer saved, read back at its start: the
 * position it had committed and the correlator's queue states.
 */
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "tail_int.h"

struct load {
	struct tail *t;
	struct position_record *pos;
	int found;
	long states;
};

/* load_txn - the saved position and queue states. */
static int
load_txn(struct store_txn *txn, void *ctx)
{
	struct load *ld = ctx;
	struct store_cursor *cur;
	const void *k, *v;
	size_t kl, vl;
	int rc;

	ld->states = 0;
	rc = position_get(txn, ld->t->poskey, ld->pos);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return (rc);
	ld->found = rc == STORE_OK;
	if ((rc = store_cursor_open(txn, STORE_QUEUE, &cur)) != STORE_OK)
		return (rc);
	while ((rc = store_cursor_next(cur, &k, &kl, &v, &vl)) == STORE_OK) {
		char *qid = xstrndup(k, kl), *text = xstrndup(v, vl);
		json_object *o = json_tokener_parse(text);

		if (o == NULL || correlate_restore(ld->t->corr, qid, o) < 0)
			log_warn("%s: unreadable saved queue state: ignored", qid);
		else
			ld->states++;
		json_object_put(o);
		free(qid);
		free(text);
	}
	store_cursor_close(cur);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/*
 * tail_load - the saved position into pos (the caller clears it) and the
 * queue states into the correlator (*states of them).  1 when there was
 * a position, 0 at a first start, -1 when the store cannot be read.
 */
int
tail_load(struct tail *t, struct position_record *pos, long *states)
{
	struct load ld = { t, pos, 0, 0 };

	if (store_run(t->st, load_txn, &ld, 0) != STORE_OK)
		return (-1);
	*states = ld.states;
	return (ld.found);
}
