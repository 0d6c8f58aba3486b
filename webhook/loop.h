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
struct daemon_signals;

struct webhook {
	struct config *cfg;
	struct store *st;
	struct keyring *kr;
	struct sender *snd;
	struct daemon_signals *sig;
	int64_t next_pick; /* monotonic ms */
	int64_t next_maintain;
	int64_t next_purge;
	int64_t next_keys;
	int pick_now; /* something changed: pick at once */
};

/* webhook_loop - work until SIGTERM, then finish what is in flight. */
int webhook_loop(struct webhook *w);

/* webhook_reload - read the config file again (SIGHUP). */
void webhook_reload(struct webhook *w);

#endif
