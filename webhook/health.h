/*
 * health.h - the sender's side of endpoint health: in a pick, what each
 * due delivery's endpoint allows (send, probe, wait a moment, park) and
 * which parked deliveries go again; when attempts are recorded, what each
 * answer does to its endpoint's breaker (lib/health/breaker.h), which may
 * disable the endpoint, and the DeliveryExhausted events.
 */
#ifndef PH_WEBHOOK_HEALTH_H
#define PH_WEBHOOK_HEALTH_H

#include <stdint.h>

#include "health/breaker.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/store.h"

struct config;
struct transfer;

/* What the sender keeps between picks: parked counts and rate gaps. */
struct health_table;

struct health_table *health_table_new(void);
void health_table_free(struct health_table *h);

/* One pick's view of the endpoints' health, made in its transaction. */
struct health_pick {
	struct health_table *h;
	const struct config *cfg;
	struct endpoint **eps; /* borrowed, the pick's list, in its transaction */
	char (*id)[24];	       /* their ids, for health_pick_commit */
	int nep;
	struct breaker *b; /* per endpoint, as stored */
	int *dirty;	   /* b[i] changed: store it */
	long *waiting;	   /* parked deliveries */
	int *due;	   /* due entries seen in the scan, not picked */
	uint64_t gen;	   /* endpoint generation read */
	int recounted;	   /* waiting was counted again */
	int parked, released;
};

/*
 * health_pick_begin - read the breakers of eps (and count the parked
 * deliveries again when the endpoints changed since the last pick).
 */
PH_MUST_CHECK int health_pick_begin(struct health_pick *p, struct health_table *h,
				    const struct config *cfg, struct store_txn *txn,
				    struct endpoint **eps, int nep);

/* health_index - the position of endpoint id in the pick's list, or -1. */
int health_index(const struct health_pick *p, const char *id);

/*
 * health_admit - what a due delivery of endpoint i may do now, load of
 * its requests under way; a probe is noted in the breaker.
 */
enum breaker_admit health_admit(struct health_pick *p, int i, double now, int load);

/* health_full - is endpoint i closed with its (slowed) cap reached? */
int health_full(const struct health_pick *p, int i, int load);

/* health_park - park d, which endpoint i cannot take now. */
PH_MUST_CHECK int health_park(struct health_pick *p, struct store_txn *txn, int i,
			      struct delivery *d);

/*
 * health_pick_end - let parked deliveries go where the breaker allows;
 * load(arg, id) is how many requests of endpoint id are under way.  Then
 * store the breakers that changed.
 */
PH_MUST_CHECK int health_pick_end(struct health_pick *p, struct store_txn *txn,
				  double now, int (*load)(void *, const char *),
				  void *arg);

/* health_pick_commit - the pick's transaction committed: keep its counts. */
void health_pick_commit(struct health_pick *p);
/* health_pick_clear - free the pick's view (committed or not). */
void health_pick_clear(struct health_pick *p);

/* One record batch's breakers, updated as its attempts are recorded. */
struct health_batch;

struct health_batch *health_batch_new(void);
void health_batch_free(struct health_batch *hb);

/*
 * health_attempt - before t's attempt is recorded: count its answer on
 * its endpoint's breaker, and tell r whether it spends a retry.
 */
PH_MUST_CHECK int health_attempt(struct health_batch *hb, struct store_txn *txn,
				 const struct config *cfg, const struct transfer *t,
				 struct attempt_result *r);

/*
 * health_batch_end - store the breakers, disable the endpoints that are
 * gone or failed too long, raise DeliveryExhausted for the deliveries
 * given up on.  exhausted lists delivery ids, n of them.
 */
PH_MUST_CHECK int health_batch_end(struct health_batch *hb, struct store_txn *txn,
				   const uint64_t *exhausted, int n);

/* health_batch_log - after the commit: log what changed. */
void health_batch_log(struct health_batch *hb);

/* health_batch_reset - forget it all (a retried transaction). */
void health_batch_reset(struct health_batch *hb);

#endif
