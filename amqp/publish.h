/*
 * publish.h - one connection to the broker through rabbitmq-c: connect,
 * declare the exchange (and the queue), publish with confirms, wait for
 * them.  No store here: the sink (sink.c) decides what is published and
 * what a confirm means for a delivery.
 */
#ifndef PH_AMQP_PUBLISH_H
#define PH_AMQP_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "amqp/amqp_msg.h"
#include "config/config.h"

struct publisher;

/* publisher_new - for cfg's amqp_url; NULL (and err) when it is not usable. */
struct publisher *publisher_new(const struct config *cfg, char *err, size_t errlen);
void publisher_free(struct publisher *p);

/*
 * publisher_connect - open, log in, open a channel in confirm mode,
 * declare the exchange (topic, durable) and the queue; 0, or -1 and the
 * reason in err (connection refused, access refused, a missing vhost...).
 */
int publisher_connect(struct publisher *p, char *err, size_t errlen);

/* publisher_connected - is a connection open? */
int publisher_connected(const struct publisher *p);

/* publisher_close - close the connection (cleanly when it still works). */
void publisher_close(struct publisher *p);

/*
 * publisher_send - publish one persistent message; 0, or -1 and err.
 * Its confirm is awaited by publisher_wait.
 */
int publisher_send(struct publisher *p, const struct amqp_props *props, const char *body,
		   size_t len, char *err, size_t errlen);

/*
 * publisher_wait - wait up to timeout_ms for the broker to confirm every
 * message sent since the last wait: 0 when all were acked; -1 and err
 * when one was nacked, the channel or connection closed, or time ran out
 * (the caller then closes and sends them all again: at least once).
 */
int publisher_wait(struct publisher *p, int64_t timeout_ms, char *err, size_t errlen);

/* Counters since publisher_new. */
uint64_t publisher_sent(const struct publisher *p);
uint64_t publisher_acked(const struct publisher *p);
uint64_t publisher_nacked(const struct publisher *p);

#endif
