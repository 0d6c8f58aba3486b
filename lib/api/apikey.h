/*
 * apikey.h - the HTTP API's keys: who may call posthook-api, for which
 * tenant, and whether it may change anything.
 *
 * A key is "ph_live_" and 32 random bytes in hex, shown once when made.
 * The store keeps only its SHA-256, in STORE_META under "apikey:ID" (the
 * record) and "apikey_sha256:HEX" (ID), so a presented key is found by
 * its hash and compared in constant time.  IDs are "ak_" and 12 hex
 * digits: safe to print, to list and to revoke by.
 */
#ifndef PH_APIKEY_H
#define PH_APIKEY_H

#include <json-c/json.h>
#include "store/store.h"
#include "util/util.h"

#define APIKEY_PREFIX "ph_live_"
#define APIKEY_LEN (sizeof(APIKEY_PREFIX) - 1 + 64)
#define APIKEY_ID_LEN 15 /* "ak_" + 12 hex */

struct apikey {
	char id[APIKEY_ID_LEN + 1];
	unsigned char sha256[32];
	char *tenant; /* never NULL */
	char *name;   /* may be "" */
	int read_only;
	int all_tenants; /* admin: reaches every tenant */
	double created;
	double last_used; /* 0: never */
};

void apikey_free(struct apikey *k);

/*
 * apikey_generate - a new key's text (APIKEY_LEN + 1 bytes) and its
 * record (caller frees); -1 when no random bytes could be had.
 */
int apikey_generate(const char *tenant, const char *name, int read_only, int all_tenants,
		    char key[APIKEY_LEN + 1], struct apikey **out);

/* apikey_put - store a new or changed key. */
PH_MUST_CHECK int apikey_put(struct store_txn *txn, const struct apikey *k);

/*
 * apikey_find - the key whose text this is: STORE_OK and *out (caller
 * frees), or STORE_NOTFOUND.  The stored hash is compared with the
 * presented one in constant time.
 */
PH_MUST_CHECK int apikey_find(struct store_txn *txn, const char *text,
			      struct apikey **out);

/* apikey_touch - note the key was used at now (at most once a minute). */
PH_MUST_CHECK int apikey_touch(struct store_txn *txn, const struct apikey *k, double now);

/* apikey_list - every key, by id; free with apikey_list_free. */
PH_MUST_CHECK int apikey_list(struct store_txn *txn, struct apikey ***out, int *n);
void apikey_list_free(struct apikey **keys, int n);

/* apikey_revoke - delete the key with this id: STORE_OK or NOTFOUND. */
PH_MUST_CHECK int apikey_revoke(struct store_txn *txn, const char *id);

/* apikey_to_json - the key as listed: never its hash. */
json_object *apikey_to_json(const struct apikey *k);

#endif
