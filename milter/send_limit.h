/*
 * send_limit.h - the send volume, send limits and learned domains of one
 * outgoing message, decided inside record.c's one store transaction:
 * the message is counted (per tenant and in total) unless a limit holds
 * or defers it, a SendLimit event is queued when a limit state is
 * entered, and with domains_learn the sender's domain joins the list.
 */
#ifndef PH_MILTER_SEND_LIMIT_H
#define PH_MILTER_SEND_LIMIT_H

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "config/config.h"
#include "store/store.h"

enum limits_verdict {
	LIMITS_PASS,  /* counted; goes on */
	LIMITS_HOLD,  /* held: recorded, counted when released */
	LIMITS_DEFER, /* answered 451 4.7.1: neither recorded nor counted */
};

struct limits_job {
	const struct config *cfg;
	const char *tenant; /* NULL: the default tenant */
	const char *sender; /* envelope sender, or NULL */
	const char *qid;
	int can_hold; /* the MTA lets us quarantine */
	double now;
	enum limits_verdict verdict; /* out */
	int unheld;		     /* out: over, hold, no quarantine */
	char learned[256];	     /* out: the domain learned, or "" */
};

/* limits_job_init - a job for one message, its time now_seconds(). */
void limits_job_init(struct limits_job *j, const struct config *cfg, const char *tenant,
		     const char *sender, const char *qid, int can_hold);

/*
 * limits_txn - decide and count; every write is in txn, so store_run()
 * may run it again.  STORE_OK or the store's error.
 */
int limits_txn(struct store_txn *txn, struct limits_job *j);

/* limits_log - what the committed transaction did, for the log. */
void limits_log(const struct limits_job *j);

/* limits_defer - answer 451 4.7.1: the application retries later. */
sfsistat limits_defer(struct milter_app *app, SMFICTX *ctx, const char *qid);

/*
 * limits_hold - quarantine the message (Postfix's hold queue); a failure
 * is logged, and its record forgotten by the next release run.
 */
void limits_hold(struct milter_app *app, SMFICTX *ctx, const char *qid);

#endif
