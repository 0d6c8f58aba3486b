/*
 * retention.c - purge old records in batches.
 */
#include <string.h>

#include "store/activity.h"
#include "store/bounce_record.h"
#include "store/delivery.h"
#include "store/message.h"
#include "store/outbox.h"
#include "store/retention.h"

#define RETENTION_BATCH 500

struct purge_step {
	int (*purge)(struct store_txn *, double, int, int *);
	double cutoff;
	int done; /* this batch */
};

/* purge_batch - one batch of one kind, in one transaction */
static int
purge_batch(struct store_txn *txn, void *ctx)
{
	struct purge_step *step = ctx;

	return step->purge(txn, step->cutoff, RETENTION_BATCH, &step->done);
}

/* purge_all - batches until one comes back short */
static int
purge_all(struct store *st, struct purge_step *step, int *total)
{
	int status;

	do {
		step->done = 0;
		status = store_run(st, purge_batch, step, 0);
		if (status != STORE_OK)
			return status;
		*total += step->done;
	} while (step->done == RETENTION_BATCH);
	return STORE_OK;
}

/* retention_purge - every kind of record past its retention */
int
retention_purge(struct store *st, const struct config *cfg, double now,
		struct retention_counts *counts)
{
	double msg_cutoff = now - (double) cfg->message_retention_ms / 1000.0;
	double dlv_cutoff = now - (double) cfg->delivery_retention_ms / 1000.0;
	struct purge_step messages = { message_purge, msg_cutoff, 0 };
	struct purge_step seen = { outbox_purge_seen, msg_cutoff, 0 };
	struct purge_step deliveries = { delivery_purge, dlv_cutoff, 0 };
	struct purge_step bounces = { bounce_record_purge, msg_cutoff, 0 };
	struct purge_step activity = { activity_purge, msg_cutoff, 0 };
	int status;

	memset(counts, 0, sizeof(*counts));
	status = purge_all(st, &messages, &counts->messages);
	if (status == STORE_OK)
		status = purge_all(st, &seen, &counts->events_seen);
	if (status == STORE_OK)
		status = purge_all(st, &deliveries, &counts->deliveries);
	if (status == STORE_OK)
		status = purge_all(st, &bounces, &counts->bounces);
	if (status == STORE_OK)
		status = purge_all(st, &activity, &counts->activity);
	return status;
}
