/*
 * endpoint.c - webhook endpoint records: their JSON form and the
 * STORE_ENDPOINTS table (see endpoint.h).  What an admin may give an
 * endpoint is checked in endpoint_check.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#include "store/endpoint.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#define GEN_KEY "endpoints_gen"

/* endpoint_new - an enabled endpoint with no fields set. */
struct endpoint *
endpoint_new(void)
{
	struct endpoint *ep = xcalloc(1, sizeof(*ep));

	ep->enabled = 1;
	return ep;
}

/* endpoint_free - free ep and its strings. */
void
endpoint_free(struct endpoint *ep)
{
	if (ep == NULL)
		return;
	free(ep->id);
	free(ep->name);
	free(ep->url);
	free(ep->secret);
	free(ep->tenant);
	free(ep->disabled_reason);
	free(ep);
}

/* opt_dup - xstrdup that passes NULL through. */
static char *
opt_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* endpoint_dup - a deep copy. */
struct endpoint *
endpoint_dup(const struct endpoint *ep)
{
	struct endpoint *c = xcalloc(1, sizeof(*c));

	*c = *ep;
	c->id = opt_dup(ep->id);
	c->name = opt_dup(ep->name);
	c->url = opt_dup(ep->url);
	c->secret = opt_dup(ep->secret);
	c->tenant = opt_dup(ep->tenant);
	c->disabled_reason = opt_dup(ep->disabled_reason);
	return c;
}

/* endpoint_new_secret - see endpoint.h. */
char *
endpoint_new_secret(void)
{
	unsigned char raw[24];
	char *b64, *secret;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return NULL;
	b64 = base64_encode(raw, sizeof(raw), 0);
	secret = xasprintf("whsec_%s", b64);
	free(b64);
	return secret;
}

/* endpoint_wants - see endpoint.h. */
int
endpoint_wants(const struct endpoint *ep, enum event_type t)
{
	if (ep->all_events && !event_type_operational(t))
		return 1;
	return (ep->events & (1u << t)) != 0;
}

/* endpoint_to_json - see endpoint.h. */
json_object *
endpoint_to_json(const struct endpoint *ep, int show_secret)
{
	json_object *o = json_object_new_object();
	json_object *ev;
	char when[32];
	int t;

	json_object_object_add(o, "id", json_object_new_string(ep->id ? ep->id : ""));
	json_object_object_add(o, "name", json_object_new_string(ep->name));
	json_object_object_add(o, "url", json_object_new_string(ep->url));
	ev = json_object_new_array();
	for (t = 0; t < EV_TYPE_COUNT; t++)
		if (endpoint_wants(ep, (enum event_type) t))
			json_object_array_add(ev, json_object_new_string(event_type_name(
						      (enum event_type) t)));
	json_object_object_add(o, "events", ev);
	json_object_object_add(o, "allEvents", json_object_new_boolean(ep->all_events));
	json_object_object_add(o, "enabled", json_object_new_boolean(ep->enabled));
	iso8601_utc(ep->created_at, when, sizeof(when));
	json_object_object_add(o, "createdAt", json_object_new_string(when));
	json_object_object_add(o, "created", json_double_new(ep->created_at, 6));
	if (ep->secret != NULL)
		json_object_object_add(
		    o, "secret",
		    json_object_new_string(show_secret ? ep->secret : "whsec_(hidden)"));
	if (ep->tenant != NULL)
		json_object_object_add(o, "tenant", json_object_new_string(ep->tenant));
	if (ep->disabled_reason != NULL)
		json_object_object_add(o, "disabledReason",
				       json_object_new_string(ep->disabled_reason));
	if (ep->max_rate > 0)
		json_object_object_add(o, "maxRate", json_double_new(ep->max_rate, 3));
	return o;
}

/* endpoint_from_json - see endpoint.h. */
struct endpoint *
endpoint_from_json(json_object *obj)
{
	struct endpoint *ep;
	json_object *v, *ev;
	enum event_type t;
	size_t i;

	if (json_string_member(obj, "id") == NULL
	    || json_string_member(obj, "name") == NULL
	    || json_string_member(obj, "url") == NULL)
		return NULL;
	ep = endpoint_new();
	ep->id = xstrdup(json_string_member(obj, "id"));
	ep->name = xstrdup(json_string_member(obj, "name"));
	ep->url = xstrdup(json_string_member(obj, "url"));
	ep->secret = opt_dup(json_string_member(obj, "secret"));
	ep->tenant = opt_dup(json_string_member(obj, "tenant"));
	ep->disabled_reason = opt_dup(json_string_member(obj, "disabledReason"));
	if (json_object_object_get_ex(obj, "maxRate", &v))
		ep->max_rate = json_object_get_double(v);
	if (json_object_object_get_ex(obj, "allEvents", &v))
		ep->all_events = json_object_get_boolean(v);
	if (json_object_object_get_ex(obj, "enabled", &v))
		ep->enabled = json_object_get_boolean(v);
	if (json_object_object_get_ex(obj, "created", &v))
		ep->created_at = json_object_get_double(v);
	if (json_object_object_get_ex(obj, "events", &ev)
	    && json_object_is_type(ev, json_type_array)) {
		for (i = 0; i < json_object_array_length(ev); i++) {
			v = json_object_array_get_idx(ev, i);
			if (event_type_from_name(json_object_get_string(v), &t) == 0)
				ep->events |= 1u << t;
		}
	}
	return ep;
}

/* bump_generation - count one change of the endpoint table. */
static int
bump_generation(struct store_txn *txn)
{
	uint64_t gen = 0;
	int rc;

	rc = endpoint_generation(txn, &gen);
	if (rc != STORE_OK)
		return rc;
	gen++;
	return store_put(txn, STORE_META, GEN_KEY, strlen(GEN_KEY), &gen, sizeof(gen));
}

/* endpoint_generation - see endpoint.h. */
int
endpoint_generation(struct store_txn *txn, uint64_t *gen)
{
	void *val;
	size_t vlen;
	int rc;

	rc = store_get(txn, STORE_META, GEN_KEY, strlen(GEN_KEY), &val, &vlen);
	if (rc == STORE_NOTFOUND) {
		*gen = 0;
		return STORE_OK;
	}
	if (rc != STORE_OK)
		return rc;
	if (vlen == sizeof(*gen))
		memcpy(gen, val, sizeof(*gen));
	else
		*gen = 0;
	free(val);
	return STORE_OK;
}

/* endpoint_put - see endpoint.h (the secret is stored, not hidden). */
int
endpoint_put(struct store_txn *txn, const struct endpoint *ep)
{
	json_object *o = endpoint_to_json(ep, 1);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int rc;

	rc = store_put(txn, STORE_ENDPOINTS, ep->id, strlen(ep->id), s, strlen(s));
	json_object_put(o);
	if (rc != STORE_OK)
		return rc;
	return bump_generation(txn);
}

/* endpoint_create - see endpoint.h. */
int
endpoint_create(struct store_txn *txn, struct endpoint *ep)
{
	uint64_t seq;
	int rc;

	rc = store_seq_next(txn, "endpoint", &seq);
	if (rc != STORE_OK)
		return rc;
	free(ep->id);
	ep->id = xasprintf("%" PRIu64, seq);
	if (ep->created_at == 0)
		ep->created_at = now_seconds();
	return endpoint_put(txn, ep);
}

/* parse_record - a stored value to an endpoint, or NULL. */
static struct endpoint *
parse_record(const void *val, size_t vlen)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;
	struct endpoint *ep = NULL;

	o = json_tokener_parse_ex(tok, val, (int) vlen);
	json_tokener_free(tok);
	if (o != NULL) {
		ep = endpoint_from_json(o);
		json_object_put(o);
	}
	return ep;
}

/* endpoint_get - see endpoint.h. */
int
endpoint_get(struct store_txn *txn, const char *id, struct endpoint **out)
{
	void *val;
	size_t vlen;
	int rc;

	rc = store_get(txn, STORE_ENDPOINTS, id, strlen(id), &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	*out = parse_record(val, vlen);
	free(val);
	return *out != NULL ? STORE_OK : STORE_ERROR;
}

/* endpoint_delete - see endpoint.h. */
int
endpoint_delete(struct store_txn *txn, const char *id)
{
	int rc;

	rc = store_del(txn, STORE_ENDPOINTS, id, strlen(id));
	if (rc != STORE_OK)
		return rc;
	return bump_generation(txn);
}

/* by_id - order endpoints by numeric id. */
static int
by_id(const void *a, const void *b)
{
	const struct endpoint *x = *(struct endpoint *const *) a;
	const struct endpoint *y = *(struct endpoint *const *) b;
	unsigned long long ix = strtoull(x->id, NULL, 10);
	unsigned long long iy = strtoull(y->id, NULL, 10);

	return ix < iy ? -1 : ix > iy;
}

/* endpoint_list - see endpoint.h. */
int
endpoint_list(struct store_txn *txn, struct endpoint ***out, int *n)
{
	struct store_cursor *c;
	struct endpoint **eps = NULL, *ep;
	const void *k, *v;
	size_t klen, vlen;
	int rc, count = 0, cap = 0;

	*out = NULL;
	*n = 0;
	rc = store_cursor_open(txn, STORE_ENDPOINTS, &c);
	if (rc != STORE_OK)
		return rc;
	while ((rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if ((ep = parse_record(v, vlen)) == NULL)
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			eps = xrealloc(eps, (size_t) cap * sizeof(*eps));
		}
		eps[count++] = ep;
	}
	store_cursor_close(c);
	if (rc != STORE_NOTFOUND) {
		endpoint_list_free(eps, count);
		return rc;
	}
	if (count > 1)
		qsort(eps, (size_t) count, sizeof(*eps), by_id);
	*out = eps;
	*n = count;
	return STORE_OK;
}

/* endpoint_list_free - free a list from endpoint_list. */
void
endpoint_list_free(struct endpoint **eps, int n)
{
	int i;

	for (i = 0; i < n; i++)
		endpoint_free(eps[i]);
	free(eps);
}
