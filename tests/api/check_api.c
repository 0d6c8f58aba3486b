/*
 * check_api.c - posthook-api's pure parts: the router (every path, the
 * tenant prefix, 405 and 404), the token bucket on a clock of the test's
 * own, the JSON body checks, the webhook fields applied all or nothing,
 * and API keys in a real store (found by the key only, revoked, listed).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/apikey.h"
#include "tenant/tenant.h"
#include "store/endpoint.h"
#include "util/util.h"

#include "group.h"
#include "json_body.h"
#include "ratelimit.h"
#include "router.h"
#include "testlib.h"

static const struct {
	const char *method;
	const char *path;
	enum route_status status;
	enum route_id id;
	const char *tenant, *webhook, *delivery, *email;
} routes[] = {
	{ "GET", "/health", ROUTE_OK, R_HEALTH, "", "", "", "" },
	{ "POST", "/health", ROUTE_BAD_METHOD, R_HEALTH, "", "", "", "" },
	{ "GET", "/.well-known/jwks.json", ROUTE_OK, R_JWKS, "", "", "", "" },
	{ "GET", "/metrics", ROUTE_OK, R_METRICS, "", "", "", "" },
	{ "GET", "/v1/webhooks", ROUTE_OK, R_WEBHOOKS, "", "", "", "" },
	{ "POST", "/v1/webhooks", ROUTE_OK, R_WEBHOOKS, "", "", "", "" },
	{ "PUT", "/v1/webhooks", ROUTE_BAD_METHOD, R_WEBHOOKS, "", "", "", "" },
	{ "PATCH", "/v1/webhooks/12", ROUTE_OK, R_WEBHOOK, "", "12", "", "" },
	{ "DELETE", "/v1/webhooks/12", ROUTE_OK, R_WEBHOOK, "", "12", "", "" },
	{ "POST", "/v1/webhooks/12/test", ROUTE_OK, R_WEBHOOK_TEST, "", "12", "", "" },
	{ "POST", "/v1/webhooks/12/recover", ROUTE_OK, R_WEBHOOK_RECOVER, "", "12", "",
	  "" },
	{ "GET", "/v1/webhooks/12/deliveries", ROUTE_OK, R_DELIVERIES, "", "12", "", "" },
	{ "GET", "/v1/webhooks/12/deliveries/whr_00000000000a", ROUTE_OK, R_DELIVERY, "",
	  "12", "whr_00000000000a", "" },
	{ "POST", "/v1/webhooks/12/deliveries/whr_1/replay", ROUTE_OK, R_DELIVERY_REPLAY,
	  "", "12", "whr_1", "" },
	{ "GET", "/v1/webhooks/12/deliveries/whr_1/replay", ROUTE_BAD_METHOD,
	  R_DELIVERY_REPLAY, "", "12", "whr_1", "" },
	{ "GET", "/v1/emails", ROUTE_OK, R_EMAILS, "", "", "", "" },
	{ "GET", "/v1/emails/aBc123", ROUTE_OK, R_EMAIL, "", "", "", "aBc123" },
	{ "GET", "/v1/emails/aBc123/deliveries", ROUTE_OK, R_EMAIL_DELIVERIES, "", "", "",
	  "aBc123" },
	{ "POST", "/v1/emails/aBc123/retry", ROUTE_OK, R_EMAIL_RETRY, "", "", "",
	  "aBc123" },
	{ "GET", "/v1/events", ROUTE_OK, R_EVENTS, "", "", "", "" },
	{ "GET", "/v1/tenants/acme/webhooks", ROUTE_OK, R_WEBHOOKS, "acme", "", "", "" },
	{ "GET", "/v1/tenants/acme/webhooks/3/deliveries/whr_2", ROUTE_OK, R_DELIVERY,
	  "acme", "3", "whr_2", "" },
	{ "GET", "/v1/tenants/acme/emails/x", ROUTE_OK, R_EMAIL, "acme", "", "", "x" },
	{ "GET", "/v1/tenants/acme/events", ROUTE_OK, R_EVENTS, "acme", "", "", "" },
	{ "GET", "/v1/tenants/acme", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "/v1/tenants/a%2f/webhooks", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "/v1/webhooks/", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "/v1//webhooks", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "/v1/webhooks/a b", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "/v1/webhooks/../x", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "/v1/webhooks/..", ROUTE_OK, R_WEBHOOK, "", "..", "", "" },
	{ "GET", "/v2/webhooks", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "/", ROUTE_NOT_FOUND, R_NONE, "", "", "", "" },
	{ "GET", "/v1/webhooks/1/deliveries/2/replay/x/y/z", ROUTE_NOT_FOUND, R_NONE, "",
	  "", "", "" },
};

START_TEST(router_paths)
{
	struct route r;
	enum route_status st = router_match(routes[_i].method, routes[_i].path, &r);

	ck_assert_msg(st == routes[_i].status, "%s %s: status %d", routes[_i].method,
		      routes[_i].path, st);
	if (st == ROUTE_NOT_FOUND)
		return;
	ck_assert_int_eq(r.id, routes[_i].id);
	ck_assert_str_eq(r.tenant, routes[_i].tenant);
	ck_assert_int_eq(r.tenant_given, routes[_i].tenant[0] != 0);
	ck_assert_str_eq(r.webhook, routes[_i].webhook);
	ck_assert_str_eq(r.delivery, routes[_i].delivery);
	ck_assert_str_eq(r.email, routes[_i].email);
}
END_TEST

START_TEST(router_long_param)
{
	char path[400];
	struct route r;

	snprintf(path, sizeof(path), "/v1/webhooks/%0*d", ROUTE_PARAM_MAX, 1);
	ck_assert_int_eq(router_match("GET", path, &r), ROUTE_NOT_FOUND);
	snprintf(path, sizeof(path), "/v1/webhooks/%0*d", ROUTE_PARAM_MAX - 1, 1);
	ck_assert_int_eq(router_match("GET", path, &r), ROUTE_OK);
	ck_assert_uint_eq(strlen(r.webhook), ROUTE_PARAM_MAX - 1);
}
END_TEST

START_TEST(router_allow)
{
	char allow[48];

	router_allow_header(M_GET | M_PATCH | M_DELETE, allow, sizeof(allow));
	ck_assert_str_eq(allow, "GET, PATCH, DELETE");
	router_allow_header(M_POST, allow, sizeof(allow));
	ck_assert_str_eq(allow, "POST");
}
END_TEST

START_TEST(ratelimit_bucket)
{
	struct ratelimit *rl = ratelimit_new(10, 20);
	int i, wait = 0;

	/* a full burst, then one token per 100 ms */
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(ratelimit_take(rl, "ak_a", 1000, &wait), 1);
	ck_assert_int_eq(ratelimit_take(rl, "ak_a", 1000, &wait), 0);
	ck_assert_int_eq(wait, 1);
	ck_assert_int_eq(ratelimit_take(rl, "ak_a", 1050, &wait), 0);
	ck_assert_int_eq(ratelimit_take(rl, "ak_a", 1100, &wait), 1);
	ck_assert_int_eq(ratelimit_take(rl, "ak_a", 1100, &wait), 0);
	/* another key has its own bucket */
	ck_assert_int_eq(ratelimit_take(rl, "ak_b", 1100, &wait), 1);
	/* a long pause refills to the burst, no more */
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(ratelimit_take(rl, "ak_a", 100000, &wait), 1);
	ck_assert_int_eq(ratelimit_take(rl, "ak_a", 100000, &wait), 0);
	/* a slow rate waits whole seconds */
	ratelimit_set(rl, 1, 1);
	ck_assert_int_eq(ratelimit_take(rl, "ak_c", 5000, &wait), 1);
	ck_assert_int_eq(ratelimit_take(rl, "ak_c", 5000, &wait), 0);
	ck_assert_int_eq(wait, 1);
	ratelimit_free(rl);
}
END_TEST

START_TEST(ratelimit_many_keys)
{
	struct ratelimit *rl = ratelimit_new(1, 1);
	char key[32];
	int i, wait;

	/* more keys than buckets: none is refused on its first request */
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "ak_%d", i);
		ck_assert_int_eq(ratelimit_take(rl, key, 1000 + i, &wait), 1);
	}
	ratelimit_free(rl);
}
END_TEST

static const char *const fields[] = { "name", "url", NULL };

static const struct {
	const char *body;
	int status;
	const char *why;
} bodies[] = {
	{ "", 400, "required" },
	{ "{", 400, "not valid JSON" },
	{ "{\"name\":\"a\"} x", 400, "not valid JSON" },
	{ "[1]", 422, "JSON object" },
	{ "\"x\"", 422, "JSON object" },
	{ "{\"name\":\"a\",\"other\":1}", 422, "unknown field \"other\"" },
	{ "{\"name\":\"a\",\"url\":\"b\"}", 0, NULL },
	{ "{}", 0, NULL },
	{ " {\"name\" : \"a\"} ", 0, NULL },
};

START_TEST(body_checks)
{
	json_object *o;
	char err[256] = "";
	int status = 0;

	o = body_parse(bodies[_i].body, strlen(bodies[_i].body), fields, &status, err,
		       sizeof(err));
	if (bodies[_i].status == 0) {
		ck_assert_msg(o != NULL, "%s refused: %s", bodies[_i].body, err);
		json_object_put(o);
		return;
	}
	ck_assert_ptr_null(o);
	ck_assert_int_eq(status, bodies[_i].status);
	ck_assert_msg(strstr(err, bodies[_i].why) != NULL, "%s: %s", bodies[_i].body,
		      err);
}
END_TEST

START_TEST(body_nul)
{
	char err[256];
	int status;

	ck_assert_ptr_null(
	    body_parse("{\"name\":\"a\0\"}", 13, fields, &status, err, sizeof(err)));
	ck_assert_int_eq(status, 400);
}
END_TEST

static const struct {
	const char *body;
	const char *why; /* NULL: accepted */
} webhook_bodies[] = {
	{ "{\"url\":\"ftp://x.test/\"}", "url: URL must start with http" },
	{ "{\"url\":5}", "url: must be" },
	{ "{\"name\":[]}", "name: must be a string" },
	{ "{\"events\":[\"MessageSent\",\"Nope\"]}", "unknown event: Nope" },
	{ "{\"events\":\"MessageSent\"}", "events: must be an array" },
	{ "{\"events\":[1]}", "events: must be an array" },
	{ "{\"enabled\":\"yes\"}", "enabled: must be true or false" },
	{ "{\"allEvents\":1}", "allEvents: must be" },
	{ "{\"secret\":\"nope\"}", "secret:" },
	{ "{\"secret\":7}", "secret: must be" },
	{ "{\"name\":\"n\",\"url\":\"https://x.test/h\",\"events\":[\"MessageBounced\"],"
	  "\"enabled\":false,\"secret\":\"generate\"}",
	  NULL },
	{ "{\"allEvents\":true,\"secret\":null}", NULL },
};

START_TEST(webhook_body)
{
	struct endpoint *ep = endpoint_new();
	json_object *o = json_tokener_parse(webhook_bodies[_i].body);
	char err[800] = "";
	int secret_set = -1, rc;

	ep->name = xstrdup("old");
	ep->url = xstrdup("http://old.test/");
	ep->events = 1;
	ep->enabled = 1;
	ck_assert_ptr_nonnull(o);
	rc = webhook_body_apply(ep, o, err, sizeof(err), &secret_set);
	if (webhook_bodies[_i].why != NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, webhook_bodies[_i].why) != NULL, "%s", err);
		/* nothing changed */
		ck_assert_str_eq(ep->name, "old");
		ck_assert_str_eq(ep->url, "http://old.test/");
		ck_assert_int_eq(ep->events, 1);
		ck_assert_int_eq(ep->enabled, 1);
		ck_assert_ptr_null(ep->secret);
	} else {
		ck_assert_msg(rc == 0, "%s", err);
	}
	if (_i == 10) {
		ck_assert_str_eq(ep->name, "n");
		ck_assert_int_eq(ep->enabled, 0);
		ck_assert_int_eq(ep->events, 1u << EV_MESSAGE_BOUNCED);
		ck_assert_int_eq(secret_set, 1);
		ck_assert_int_eq(strncmp(ep->secret, "whsec_", 6), 0);
	}
	if (_i == 11) {
		ck_assert_int_eq(ep->all_events, 1);
		ck_assert_int_eq(secret_set, 0);
	}
	json_object_put(o);
	endpoint_free(ep);
}
END_TEST

START_TEST(tenant_names)
{
	ck_assert(tenant_name_valid("default"));
	ck_assert(tenant_name_valid("a"));
	ck_assert(tenant_name_valid("0acme_b-2"));
	ck_assert(!tenant_name_valid(""));
	ck_assert(!tenant_name_valid("Acme"));
	ck_assert(!tenant_name_valid("-acme"));
	ck_assert(!tenant_name_valid("a/b"));
	ck_assert(tenant_name_valid(
	    "a23456789012345678901234567890123456789012345678901234567890123"));
	ck_assert(!tenant_name_valid(
	    "a234567890123456789012345678901234567890123456789012345678901234"));
}
END_TEST

struct key_ctx {
	struct apikey *k;
	const char *text;
	struct apikey *found;
	struct apikey **all;
	int n;
};

/* put_cb - store c->k. */
static int
put_cb(struct store_txn *txn, void *arg)
{
	return apikey_put(txn, ((struct key_ctx *) arg)->k);
}

/* find_cb - look c->text up. */
static int
find_cb(struct store_txn *txn, void *arg)
{
	struct key_ctx *c = arg;

	apikey_free(c->found);
	c->found = NULL;
	return apikey_find(txn, c->text, &c->found);
}

/* list_cb - every key. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct key_ctx *c = arg;

	return apikey_list(txn, &c->all, &c->n);
}

/* revoke_cb - revoke c->k. */
static int
revoke_cb(struct store_txn *txn, void *arg)
{
	return apikey_revoke(txn, ((struct key_ctx *) arg)->k->id);
}

START_TEST(apikey_store)
{
	char key[APIKEY_LEN + 1], other[APIKEY_LEN + 1];
	struct key_ctx c, d;
	json_object *o;

	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(apikey_generate("acme", "ci", 1, 0, key, &c.k), 0);
	ck_assert_int_eq(apikey_generate("beta", NULL, 0, 1, other, &d.k), 0);
	ck_assert_uint_eq(strlen(key), APIKEY_LEN);
	ck_assert_int_eq(strncmp(key, "ph_live_", 8), 0);
	ck_assert_str_ne(key, other);
	ck_assert_int_eq(store_run(test_store, put_cb, &c, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, put_cb, &d, 0), STORE_OK);

	c.text = key;
	ck_assert_int_eq(store_run(test_store, find_cb, &c, 0), STORE_OK);
	ck_assert_str_eq(c.found->id, c.k->id);
	ck_assert_str_eq(c.found->tenant, "acme");
	ck_assert_str_eq(c.found->name, "ci");
	ck_assert_int_eq(c.found->read_only, 1);
	ck_assert_int_eq(c.found->all_tenants, 0);
	/* one character off, or the other key's id, finds nothing */
	key[20] = key[20] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(store_run(test_store, find_cb, &c, 0), STORE_NOTFOUND);
	c.text = d.k->id;
	ck_assert_int_eq(store_run(test_store, find_cb, &c, 0), STORE_NOTFOUND);

	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_int_eq(c.n, 2);
	o = apikey_to_json(c.all[0]);
	ck_assert_ptr_null(json_object_object_get(o, "sha256"));
	ck_assert_ptr_null(json_object_object_get(o, "key"));
	json_object_put(o);
	apikey_list_free(c.all, c.n);

	d.text = other;
	ck_assert_int_eq(store_run(test_store, find_cb, &d, 0), STORE_OK);
	ck_assert_int_eq(d.found->all_tenants, 1);
	ck_assert_int_eq(store_run(test_store, revoke_cb, &d, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, find_cb, &d, 0), STORE_NOTFOUND);
	ck_assert_int_eq(store_run(test_store, revoke_cb, &d, 0), STORE_NOTFOUND);
	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_int_eq(c.n, 1);
	apikey_list_free(c.all, c.n);

	apikey_free(c.k);
	apikey_free(c.found);
	apikey_free(d.k);
	apikey_free(d.found);
}
END_TEST

/* A caller of the group commit: its callback writes its own key. */
struct caller {
	struct group *g;
	int n;	    /* its number: key "g<n>" */
	int fail;   /* its callback writes, then fails */
	int hold;   /* its callback waits until every caller is queued */
	int status; /* group_run's answer */
};

static int callers_in;	/* callers that are about to queue */
static int callers_all; /* how many there are */

/* caller_cb - the key of the caller, a sequence step; hold or fail as told. */
static int
caller_cb(struct store_txn *txn, void *arg)
{
	struct caller *c = arg;
	char key[16];
	uint64_t seq;
	int i;

	/* the rest queue behind this batch: the next one takes them together */
	for (i = 0; c->hold && i < 5000
		    && __atomic_load_n(&callers_in, __ATOMIC_SEQ_CST) < callers_all;
	     i++)
		usleep(1000);
	if (c->hold)
		usleep(200 * 1000);
	snprintf(key, sizeof(key), "g%d", c->n);
	if (store_seq_next(txn, "group_test", &seq) != STORE_OK
	    || store_put(txn, STORE_META, key, strlen(key), "1", 1) != STORE_OK)
		return STORE_ERROR;
	return c->fail ? STORE_ERROR : STORE_OK;
}

/* caller_main - one caller's thread. */
static void *
caller_main(void *arg)
{
	struct caller *c = arg;

	__atomic_add_fetch(&callers_in, 1, __ATOMIC_SEQ_CST);
	c->status = group_run(c->g, test_store, caller_cb, c, 10000);
	return NULL;
}

/* has_key_cb - STORE_OK when the key in arg is there. */
static int
has_key_cb(struct store_txn *txn, void *arg)
{
	void *v;
	size_t vlen;
	int status = store_get(txn, STORE_META, arg, strlen(arg), &v, &vlen);

	if (status == STORE_OK)
		free(v);
	return status;
}

/* run_callers - n callers at once, the first holding the first batch. */
static void
run_callers(struct caller *c, int n)
{
	pthread_t th[16];
	int i;

	callers_in = 0;
	callers_all = n;
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, caller_main, &c[i]), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
}

START_TEST(group_batches)
{
	struct caller c[16];
	struct group *g = group_new();
	uint64_t batches, calls;
	char key[16];
	int i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 16; i++) {
		c[i].g = g;
		c[i].n = i;
	}
	c[0].hold = 1;
	run_callers(c, 16);
	for (i = 0; i < 16; i++) {
		ck_assert_int_eq(c[i].status, STORE_OK);
		snprintf(key, sizeof(key), "g%d", i);
		ck_assert_int_eq(store_run(test_store, has_key_cb, key, 0), STORE_OK);
	}
	group_stats(g, &batches, &calls);
	ck_assert_uint_eq(calls, 16);
	/* the fifteen that queued behind the held batch shared transactions */
	ck_assert_uint_lt(batches, 16);
	ck_assert_uint_ge(batches, 2);
	group_free(g);
}
END_TEST

START_TEST(group_one_fails)
{
	struct caller c[4];
	struct group *g = group_new();
	char key[16];
	int i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 4; i++) {
		c[i].g = g;
		c[i].n = 100 + i;
	}
	c[0].hold = 1;
	c[2].fail = 1;
	run_callers(c, 4);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "g%d", 100 + i);
		/* the failing one's write is undone; the others' batch survives it */
		ck_assert_int_eq(c[i].status, i == 2 ? STORE_ERROR : STORE_OK);
		ck_assert_int_eq(store_run(test_store, has_key_cb, key, 0),
				 i == 2 ? STORE_NOTFOUND : STORE_OK);
	}
	group_free(g);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api");
	TCase *tr = tcase_create("router");
	TCase *tl = tcase_create("ratelimit");
	TCase *tb = tcase_create("bodies");
	TCase *tk = tcase_create("apikeys");
	TCase *tg = tcase_create("group_commit");

	tcase_add_loop_test(tr, router_paths, 0, sizeof(routes) / sizeof(routes[0]));
	tcase_add_test(tr, router_long_param);
	tcase_add_test(tr, router_allow);
	suite_add_tcase(s, tr);
	tcase_add_test(tl, ratelimit_bucket);
	tcase_add_test(tl, ratelimit_many_keys);
	suite_add_tcase(s, tl);
	tcase_add_loop_test(tb, body_checks, 0, sizeof(bodies) / sizeof(bodies[0]));
	tcase_add_test(tb, body_nul);
	tcase_add_loop_test(tb, webhook_body, 0,
			    sizeof(webhook_bodies) / sizeof(webhook_bodies[0]));
	suite_add_tcase(s, tb);
	tcase_add_test(tk, tenant_names);
	test_store_fixture(tk, "check_api");
	tcase_add_test(tk, apikey_store);
	suite_add_tcase(s, tk);
	test_store_fixture(tg, "check_api");
	tcase_add_test(tg, group_batches);
	tcase_add_test(tg, group_one_fails);
	suite_add_tcase(s, tg);
	return test_run_suite(s);
}
