/*
 * tenant_cache.h - the tenants' rules as the milter holds them: read from
 * the store by the housekeeping thread (at start, on SIGUSR1 and every few
 * seconds when their change counter moved), matched at end of message
 * without a store transaction of its own.
 *
 * Fail open: until the rules could be read, and when reading them fails,
 * the last rules read stay in use (none at first: every message belongs to
 * the default tenant).
 */
#ifndef PH_MILTER_TENANT_CACHE_H
#define PH_MILTER_TENANT_CACHE_H

#include <json-c/json.h>

#include "store/store.h"
#include "tenant/tenant.h"

struct tenant_cache;

struct tenant_cache *tenant_cache_new(void);
void tenant_cache_free(struct tenant_cache *tc);

/*
 * tenant_cache_refresh - reread the rules when their change counter moved
 * since the last read, or always with force.  0, or -1 after logging why
 * (the rules in use stay).  One thread at a time: the housekeeping one.
 */
int tenant_cache_refresh(struct tenant_cache *tc, struct store *st, int force);

/*
 * tenant_cache_match - the tenant of a message into out (TENANT_NAME_MAX
 * + 1 bytes); tc may be NULL (TENANT_DEFAULT).  Safe from any thread.
 */
void tenant_cache_match(struct tenant_cache *tc, const struct tenant_facts *f, char *out);

/*
 * tenant_cache_settings - a new reference to the named tenant's settings
 * object (json_object_put it), or NULL when it has none.  Any thread.
 */
json_object *tenant_cache_settings(struct tenant_cache *tc, const char *name);

/* tenant_cache_any_tracking - whether some tenant's settings set tracking_url. */
int tenant_cache_any_tracking(struct tenant_cache *tc);

#endif
