/*
 * health.h - endpoint health in the store: each endpoint's breaker
 * record (STORE_META "health:ID"), disabling and enabling an endpoint,
 * and the operational events that tell the tenant's other endpoints.
 *
 * Only posthook-webhook changes a breaker as attempts end; enabling (by
 * posthookctl or the API) resets it and bumps the endpoint generation,
 * so the sender reads it again.
 */
#ifndef PH_HEALTH_H
#define PH_HEALTH_H

#include <stdint.h>
#include "health/breaker.h"
#include "store/store.h"

#define DISABLED_GONE "gone"
#define DISABLED_FAILING "failing"
#define DISABLED_ADMIN "admin"

/* health_get - the endpoint's breaker, closed when none is stored. */
PH_MUST_CHECK int health_get(struct store_txn *txn, const char *endpoint_id, int rmw,
			     struct breaker *b);
/* health_put - store the endpoint's breaker. */
PH_MUST_CHECK int health_put(struct store_txn *txn, const char *endpoint_id,
			     const struct breaker *b);
/* health_delete - forget it (the endpoint is deleted). */
PH_MUST_CHECK int health_delete(struct store_txn *txn, const char *endpoint_id);

/*
 * endpoint_disable - disable the endpoint for reason (DISABLED_*), its
 * breaker too, and queue a WebhookDisabled event for each other enabled
 * endpoint of its tenant that names the event (*notified: how many).
 * Its pending deliveries stay pending.  STORE_NOTFOUND: no such endpoint.
 */
PH_MUST_CHECK int endpoint_disable(struct store_txn *txn, const char *id,
				   const char *reason, int *notified);

enum enable_mode {
	ENABLE_RESUME,	/* parked deliveries go out again */
	ENABLE_DISCARD, /* they are marked failed instead */
	ENABLE_RECOVER	/* and what failed while it was failing is queued again */
};

/*
 * endpoint_enable - enable the endpoint and close its breaker; what
 * waited for it goes out (or, ENABLE_DISCARD, is marked failed: *count;
 * ENABLE_RECOVER also makes pending again the deliveries that failed
 * since it began failing: *count).  STORE_NOTFOUND: no such endpoint.
 */
PH_MUST_CHECK int endpoint_enable(struct store_txn *txn, const char *id,
				  enum enable_mode mode, int *count);

/*
 * delivery_exhausted_raise - queue a DeliveryExhausted event about the
 * delivery, whose last retry failed, for each other enabled endpoint of
 * its endpoint's tenant that names the event.  None for replays and for
 * operational events (no event about an event about an event).
 */
PH_MUST_CHECK int delivery_exhausted_raise(struct store_txn *txn, uint64_t delivery_id,
					   int *notified);

#endif
