/*
 * retention.h - forget what is older than the configured retention:
 * message records, the keys of events seen and kept bounces
 * (message_retention), recipients' activity (message_retention), and
 * deliveries with their attempts (delivery_retention).
 */
#ifndef PH_RETENTION_H
#define PH_RETENTION_H

#include "config/config.h"
#include "store/store.h"

struct retention_counts {
	int messages;
	int events_seen;
	int deliveries;
	int bounces;
	int activity; /* opens, clicks, unsubscribes */
};

/*
 * retention_purge - delete, in small transactions so that no writer waits
 * long, everything past its retention at time now.  STORE_OK or an error.
 */
PH_MUST_CHECK int retention_purge(struct store *st, const struct config *cfg, double now,
				  struct retention_counts *counts);

#endif
