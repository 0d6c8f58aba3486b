/*
 * loop.h - posthook-webhook's main loop: fan events out of the outbox,
 * start due deliveries within the caps, record each attempt when its
 * request is over, and keep the store and the keys tidy.
 */
#ifndef PH_WEBHOOK_LOOP_H
#define PH_WEBHOOK_LOOP_H

#include <stdint.h>

struct config;
struct store;
struct keyring;
struct sender;
struct signpool;
struct transfer;
struct health_table;
struct daemon_signals;

struct webhook {
	struct config *cfg;
	struct store *st;
	struct keyring *kr;
	struct sender *snd;
	struct daemon_signals *sig;
	struct signpool *pool;	     /* signs the requests picked */
	struct transfer **signing;   /* requests in the pool (see loop.c) */
	struct health_table *health; /* parked counts, rate gaps (health.h) */
	int nsigning;
	int signing_cap;
	int64_t next_pick; /* monotonic ms */
	int64_t next_fanout;
	int fanout_every; /* ms between looks at an empty outbox */
	int64_t next_maintain;
	int64_t next_purge;
	int64_t next_keys;
	int pick_now;  /* something changed: pick at once */
	int keys_wait; /* keys are due a refresh: let the pool empty first */
};

/* webhook_loop - work until SIGTERM, then finish what is in flight. */
int webhook_loop(struct webhook *w);

/* webhook_reload - read the config file again (SIGHUP). */
void webhook_reload(struct webhook *w);

#endif
