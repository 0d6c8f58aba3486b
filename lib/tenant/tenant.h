/*
 * tenant.h - tenants: the applications one Postfix sends for, each seeing
 * only its own mail, kept in STORE_TENANTS under their name.
 *
 * A tenant has a name ([a-z0-9][a-z0-9_-]{0,62}: safe in URLs and broker
 * routing keys), the rules that say which messages are its own
 * (tenant_rules.h), its settings (a JSON object of overrides of the
 * site-wide posthook.conf, read by later features) and when it was made
 * and last changed.  The tenant TENANT_DEFAULT always exists, stored or
 * not: it owns every message, endpoint and event that names no tenant.
 * Every change bumps the "tenants_gen" counter in STORE_META, so that a
 * running milter or tailer notices it without a restart.
 */
#ifndef PH_TENANT_H
#define PH_TENANT_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "store/store.h"
#include "tenant/tenant_rules.h"
#include "util/util.h"

#define TENANT_NAME_MAX 63

/* What tenant_put and tenant_delete return beyond enum store_status. */
enum tenant_status {
	TENANT_INVALID = -20,  /* a bad name or rule value: err says */
	TENANT_CONFLICT = -21, /* a value another tenant claims; a
				* tenant that still owns endpoints */
};

struct tenant {
	char *name;
	char **rules[TENANT_RULE_KINDS]; /* NULL-terminated, normalised, or NULL */
	json_object *settings;		 /* owned object of overrides, or NULL */
	double created_at;
	double updated_at;
};

/* tenant_new - a tenant of this name with no rules or settings. */
struct tenant *tenant_new(const char *name);
void tenant_free(struct tenant *t);

/* tenant_name_valid - 1 when name matches [a-z0-9][a-z0-9_-]{0,62}. */
int tenant_name_valid(const char *name);

/*
 * tenant_rule_add - add a value to one of t's rules, normalised; adding one
 * it has already is no error.  0, or -1 and err when the value is bad.
 */
int tenant_rule_add(struct tenant *t, enum tenant_rule_kind kind, const char *value,
		    char *err, size_t errlen);
/* tenant_rule_remove - remove a value (normalised first); 0, or -1 if absent. */
int tenant_rule_remove(struct tenant *t, enum tenant_rule_kind kind, const char *value);

/*
 * tenant_to_json - {"name","rules":{"saslUsers":[..],"clients":[..],
 * "daemonNames":[..],"senderDomains":[..]},"settings":{..},"createdAt",
 * "updatedAt","created","updated"}: the stored form and what is shown.
 */
json_object *tenant_to_json(const struct tenant *t);
/* tenant_from_json - NULL unless it has a valid name and valid rules. */
struct tenant *tenant_from_json(json_object *obj);

/*
 * tenant_get - STORE_OK with *out (caller frees), or STORE_NOTFOUND;
 * TENANT_DEFAULT is always found (with no rules when never stored).
 */
PH_MUST_CHECK int tenant_get(struct store_txn *txn, const char *name,
			     struct tenant **out);

/*
 * tenant_list - every tenant, TENANT_DEFAULT among them, by name; free
 * with tenant_list_free.
 */
PH_MUST_CHECK int tenant_list(struct store_txn *txn, struct tenant ***out, size_t *n);
void tenant_list_free(struct tenant **list, size_t n);

/*
 * tenant_put - create or replace t (keeping its creation time when it
 * exists).  TENANT_INVALID for a bad name or rule value, TENANT_CONFLICT
 * for a value another tenant claims; err says which.
 */
PH_MUST_CHECK int tenant_put(struct store_txn *txn, const struct tenant *t, char *err,
			     size_t errlen);

/*
 * tenant_delete - STORE_OK, STORE_NOTFOUND, TENANT_CONFLICT while an
 * endpoint still belongs to it, TENANT_INVALID for TENANT_DEFAULT.
 */
PH_MUST_CHECK int tenant_delete(struct store_txn *txn, const char *name);

/* tenant_generation - the change counter (0 before any change). */
PH_MUST_CHECK int tenant_generation(struct store_txn *txn, uint64_t *gen);

/*
 * tenant_matcher_load - a matcher of every stored tenant's rules (caller
 * frees); a value two records claim (a store written by hand) goes to the
 * tenant whose name sorts first.
 */
PH_MUST_CHECK int tenant_matcher_load(struct store_txn *txn, struct tenant_matcher **out);

/*
 * tenant_matcher_reload - what a daemon that holds the rules calls every
 * few seconds: when the change counter differs from *gen, or with force,
 * *out gets a new matcher (caller frees) and *gen the counter; else *out
 * is NULL.
 */
PH_MUST_CHECK int tenant_matcher_reload(struct store_txn *txn, uint64_t *gen, int force,
					struct tenant_matcher **out);

#endif
