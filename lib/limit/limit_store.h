/*
 * limit_store.h - the send limits over the store: a scope's rolling hour,
 * a tenant's limit settings, counting, the status of every scope (what
 * posthookctl limits and GET /limits show) and the releases that are due.
 * Each runs inside the caller's transaction.
 */
#ifndef PH_LIMIT_STORE_H
#define PH_LIMIT_STORE_H

#include <json-c/json.h>

#include "config/config.h"
#include "limit/limit.h"
#include "store/store.h"

/* limit_volume - scope's volume in the rolling hour that ends at now. */
int limit_volume(struct store_txn *txn, const char *scope, double now, uint64_t *out);

/*
 * limit_tenant_settings - tenant's (NULL: the default's) limit and action;
 * an invalid setting is logged and ignored.
 */
int limit_tenant_settings(struct store_txn *txn, const struct config *cfg,
			  const char *tenant, struct limit_settings *out);

/* limit_count - count n messages of tenant (NULL: default) at now. */
int limit_count(struct store_txn *txn, const char *tenant, double now, uint64_t n);

/*
 * limit_status - {"total": {volume, limit, state}, "tenants": [{tenant,
 * volume, limit, state, held}...]}: every tenant, and any scope counted.
 */
int limit_status(struct store_txn *txn, const struct config *cfg, double now,
		 json_object **out);

/*
 * limit_release_due - turn the held messages whose limits have room again
 * into release requests, oldest first, counting each now; *n gets how
 * many.  A scope with no room keeps its messages held; the others go on.
 */
int limit_release_due(struct store_txn *txn, const struct config *cfg, double now,
		      size_t *n);

#endif
