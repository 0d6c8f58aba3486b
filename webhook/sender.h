/*
 * sender.h - the HTTP side of posthook-webhook: one libcurl multi handle
 * with many requests in flight, connections kept alive between them.
 */
#ifndef PH_WEBHOOK_SENDER_H
#define PH_WEBHOOK_SENDER_H

#include <stdint.h>
#include "transfer.h"

struct sender;
struct config;

/* sender_new - a multi handle set up from cfg; NULL (logged) on failure. */
struct sender *sender_new(const struct config *cfg);
/* sender_free - abandon what is in flight and free everything. */
void sender_free(struct sender *s);
/* sender_configure - take new settings (after a reload). */
void sender_configure(struct sender *s, const struct config *cfg);

/* sender_start - send t; on failure t is left to the caller. */
int sender_start(struct sender *s, struct transfer *t);

/*
 * sender_wait - wait up to timeout_ms for network activity or for one of
 * the nfds extra descriptors to be readable (their revents tell which),
 * then let libcurl work.
 */
int sender_wait(struct sender *s, struct curl_waitfd *fds, int nfds, int timeout_ms);

/* sender_perform - let libcurl work now (send what was just started). */
int sender_perform(struct sender *s);

/* sender_next_done - a finished transfer (the caller frees it), or NULL. */
struct transfer *sender_next_done(struct sender *s);

/* sender_in_flight - how many requests are under way. */
int sender_in_flight(const struct sender *s);
/* sender_endpoint_load - how many of them go to endpoint_id. */
int sender_endpoint_load(const struct sender *s, const char *endpoint_id);
/* sender_has - is delivery id in flight? */
int sender_has(const struct sender *s, uint64_t delivery_id);

#endif
