/*
 * apikey.c - API keys in the store: made, found by hash, listed, revoked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "api/apikey.h"
#include "event/event.h"
#include "util/json.h"
#include "util/util.h"

#define REC_PREFIX "apikey:"
#define HASH_PREFIX "apikey_sha256:"
#define TOUCH_EVERY 60.0

/* hex - bytes as lowercase hex into out (2n + 1 bytes). */
static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = 0;
}

/* unhex - 2n hex digits to n bytes; -1 when not hex. */
static int
unhex(const char *in, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		hi = OPENSSL_hexchar2int((unsigned char) in[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char) in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char) (hi << 4 | lo);
	}
	return in[2 * n] == 0 ? 0 : -1;
}

/* apikey_free - see apikey.h. */
void
apikey_free(struct apikey *k)
{
	if (k == NULL)
		return;
	free(k->tenant);
	free(k->name);
	free(k);
}

/* apikey_generate - see apikey.h. */
int
apikey_generate(const char *tenant, const char *name, int read_only, int all_tenants,
		char key[APIKEY_LEN + 1], struct apikey **out)
{
	unsigned char raw[32], idraw[6];
	struct apikey *k;

	if (RAND_bytes(raw, sizeof(raw)) != 1 || RAND_bytes(idraw, sizeof(idraw)) != 1)
		return -1;
	memcpy(key, APIKEY_PREFIX, sizeof(APIKEY_PREFIX) - 1);
	hex(raw, sizeof(raw), key + sizeof(APIKEY_PREFIX) - 1);
	k = xcalloc(1, sizeof(*k));
	memcpy(k->id, "ak_", 3);
	hex(idraw, sizeof(idraw), k->id + 3);
	SHA256((const unsigned char *) key, strlen(key), k->sha256);
	OPENSSL_cleanse(raw, sizeof(raw));
	k->tenant = xstrdup(tenant);
	k->name = xstrdup(name != NULL ? name : "");
	k->read_only = read_only;
	k->all_tenants = all_tenants;
	k->created = now_seconds();
	*out = k;
	return 0;
}

/* to_record - the stored form, with the hash. */
static json_object *
to_record(const struct apikey *k)
{
	json_object *o = apikey_to_json(k);
	char h[65];

	hex(k->sha256, sizeof(k->sha256), h);
	json_object_object_add(o, "sha256", json_object_new_string(h));
	return o;
}

/* from_record - parse a stored record; NULL when damaged. */
static struct apikey *
from_record(const void *val, size_t len)
{
	json_object *o = json_parse_len(val, len), *v;
	const char *id, *tenant, *h;
	struct apikey *k = NULL;

	if (o == NULL)
		return NULL;
	id = json_string_member(o, "id");
	tenant = json_string_member(o, "tenant");
	h = json_string_member(o, "sha256");
	if (id == NULL || strlen(id) != APIKEY_ID_LEN || tenant == NULL || h == NULL
	    || strlen(h) != 64)
		goto out;
	k = xcalloc(1, sizeof(*k));
	memcpy(k->id, id, APIKEY_ID_LEN + 1);
	if (unhex(h, k->sha256, sizeof(k->sha256)) < 0) {
		free(k);
		k = NULL;
		goto out;
	}
	k->tenant = xstrdup(tenant);
	k->name =
	    xstrdup(json_string_member(o, "name") ? json_string_member(o, "name") : "");
	k->read_only =
	    (v = json_member(o, "readOnly")) != NULL && json_object_get_boolean(v);
	k->all_tenants =
	    (v = json_member(o, "allTenants")) != NULL && json_object_get_boolean(v);
	if ((v = json_member(o, "created")) != NULL)
		k->created = json_object_get_double(v);
	if ((v = json_member(o, "lastUsed")) != NULL)
		k->last_used = json_object_get_double(v);
out:
	json_object_put(o);
	return k;
}

/* apikey_put - see apikey.h. */
int
apikey_put(struct store_txn *txn, const struct apikey *k)
{
	json_object *o = to_record(k);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	char rk[sizeof(REC_PREFIX) + APIKEY_ID_LEN], hk[sizeof(HASH_PREFIX) + 64];
	int rc;

	snprintf(rk, sizeof(rk), REC_PREFIX "%s", k->id);
	memcpy(hk, HASH_PREFIX, sizeof(HASH_PREFIX) - 1);
	hex(k->sha256, sizeof(k->sha256), hk + sizeof(HASH_PREFIX) - 1);
	rc = store_put(txn, STORE_META, rk, strlen(rk), s, strlen(s));
	json_object_put(o);
	if (rc != STORE_OK)
		return rc;
	return store_put(txn, STORE_META, hk, strlen(hk), k->id, strlen(k->id));
}

/* get_by_id - the record of id. */
static int
get_by_id(struct store_txn *txn, const char *id, struct apikey **out)
{
	char rk[64];
	void *val;
	size_t len;
	int rc;

	if (strlen(id) != APIKEY_ID_LEN)
		return STORE_NOTFOUND;
	snprintf(rk, sizeof(rk), REC_PREFIX "%s", id);
	if ((rc = store_get(txn, STORE_META, rk, strlen(rk), &val, &len)) != STORE_OK)
		return rc;
	*out = from_record(val, len);
	free(val);
	return *out != NULL ? STORE_OK : STORE_ERROR;
}

/* apikey_find - see apikey.h. */
int
apikey_find(struct store_txn *txn, const char *text, struct apikey **out)
{
	unsigned char sum[32];
	char hk[sizeof(HASH_PREFIX) + 64];
	struct apikey *k;
	void *id;
	size_t len;
	int rc;

	*out = NULL;
	SHA256((const unsigned char *) text, strlen(text), sum);
	memcpy(hk, HASH_PREFIX, sizeof(HASH_PREFIX) - 1);
	hex(sum, sizeof(sum), hk + sizeof(HASH_PREFIX) - 1);
	if ((rc = store_get(txn, STORE_META, hk, strlen(hk), &id, &len)) != STORE_OK)
		return rc;
	rc = get_by_id(txn, id, &k);
	free(id);
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_NOTFOUND : rc;
	if (CRYPTO_memcmp(k->sha256, sum, sizeof(sum)) != 0) {
		apikey_free(k);
		return STORE_NOTFOUND;
	}
	*out = k;
	return STORE_OK;
}

/* apikey_touch - see apikey.h. */
int
apikey_touch(struct store_txn *txn, const struct apikey *k, double now)
{
	struct apikey *cur;
	int rc;

	if (now - k->last_used < TOUCH_EVERY)
		return STORE_OK;
	if ((rc = get_by_id(txn, k->id, &cur)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	cur->last_used = now;
	rc = apikey_put(txn, cur);
	apikey_free(cur);
	return rc;
}

/* apikey_list - see apikey.h. */
int
apikey_list(struct store_txn *txn, struct apikey ***out, int *n)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	struct apikey *key;
	int rc, cap = 0;

	*out = NULL;
	*n = 0;
	if ((rc = store_cursor_open(txn, STORE_META, &c)) != STORE_OK)
		return rc;
	rc = store_cursor_seek(c, REC_PREFIX, sizeof(REC_PREFIX) - 1);
	while (rc == STORE_OK
	       && (rc = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		if (kl < sizeof(REC_PREFIX) - 1
		    || memcmp(k, REC_PREFIX, sizeof(REC_PREFIX) - 1) != 0)
			break;
		if ((key = from_record(v, vl)) == NULL)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*out = xrealloc(*out, (size_t) cap * sizeof(**out));
		}
		(*out)[(*n)++] = key;
	}
	store_cursor_close(c);
	if (rc == STORE_NOTFOUND)
		rc = STORE_OK;
	if (rc != STORE_OK) {
		apikey_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* apikey_list_free - see apikey.h. */
void
apikey_list_free(struct apikey **keys, int n)
{
	int i;

	for (i = 0; i < n; i++)
		apikey_free(keys[i]);
	free(keys);
}

/* apikey_revoke - see apikey.h. */
int
apikey_revoke(struct store_txn *txn, const char *id)
{
	char rk[64], hk[sizeof(HASH_PREFIX) + 64];
	struct apikey *k;
	int rc;

	if ((rc = get_by_id(txn, id, &k)) != STORE_OK)
		return rc;
	snprintf(rk, sizeof(rk), REC_PREFIX "%s", k->id);
	memcpy(hk, HASH_PREFIX, sizeof(HASH_PREFIX) - 1);
	hex(k->sha256, sizeof(k->sha256), hk + sizeof(HASH_PREFIX) - 1);
	apikey_free(k);
	if ((rc = store_del(txn, STORE_META, hk, strlen(hk))) != STORE_OK
	    && rc != STORE_NOTFOUND)
		return rc;
	return store_del(txn, STORE_META, rk, strlen(rk));
}

/* apikey_to_json - see apikey.h. */
json_object *
apikey_to_json(const struct apikey *k)
{
	json_object *o = json_object_new_object();
	char when[32];

	json_object_object_add(o, "id", json_object_new_string(k->id));
	json_object_object_add(o, "name", json_object_new_string(k->name));
	json_object_object_add(o, "tenant", json_object_new_string(k->tenant));
	json_object_object_add(o, "readOnly", json_object_new_boolean(k->read_only));
	json_object_object_add(o, "allTenants", json_object_new_boolean(k->all_tenants));
	json_object_object_add(o, "created", json_double_new(k->created, 6));
	iso8601_utc(k->created, when, sizeof(when));
	json_object_object_add(o, "createdAt", json_object_new_string(when));
	if (k->last_used > 0)
		json_object_object_add(o, "lastUsed", json_double_new(k->last_used, 6));
	else
		json_object_object_add(o, "lastUsed", NULL);
	return o;
}
