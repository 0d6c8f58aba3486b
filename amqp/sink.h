/*
 * sink.h - posthook-amqp's work: keep the sink's endpoints in step with
 * the configuration, publish their due deliveries in order, in batches,
 * and let a delivery succeed only once the broker confirmed it.
 */
#ifndef PH_AMQP_SINK_H
#define PH_AMQP_SINK_H

#include <stdint.h>

#include "amqp/amqp_msg.h"

struct config;
struct store;
struct publisher;
struct daemon_signals;

struct sink {
	struct config *cfg;
	struct store *st;
	struct publisher *pub;
	struct daemon_signals *sig;
	const char *host_name;
	uint32_t events; /* amqp_events as a mask */
	int all_events;
	struct amqp_status status;		     /* as stored, kept current here */
	uint64_t base_sent, base_acked, base_nacked; /* stored before this run */
	int64_t backoff_ms;
	int64_t next_connect; /* monotonic ms */
	int64_t next_status;
	int status_dirty;
	int connected_once;
};

/*
 * sink_setup - check the sink's settings, make or update its endpoints
 * (one per tenant in amqp_tenants) and read its status; -1 (logged).
 */
int sink_setup(struct sink *s);

/* sink_run - until SIGTERM: 0, or -1 when the store failed. */
int sink_run(struct sink *s);

#endif
