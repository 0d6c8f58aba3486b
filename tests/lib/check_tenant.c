/*
 * check_tenant.c - tenants: names, rule values, the matcher's order of
 * precedence and its refusal of a value two tenants claim, and the tenant
 * records in a real store (the implicit default tenant, conflicts, a tenant
 * that owns an endpoint).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/endpoint.h"
#include "store/store.h"
#include "tenant/tenant.h"
#include "tenant/tenant_rules.h"
#include "util/util.h"

#include "testlib.h"

START_TEST(names)
{
	char long_name[80];

	ck_assert(tenant_name_valid("default"));
	ck_assert(tenant_name_valid("a"));
	ck_assert(tenant_name_valid("0shop_eu-2"));
	ck_assert(!tenant_name_valid(""));
	ck_assert(!tenant_name_valid(NULL));
	ck_assert(!tenant_name_valid("-a"));
	ck_assert(!tenant_name_valid("_a"));
	ck_assert(!tenant_name_valid("Shop"));
	ck_assert(!tenant_name_valid("a.b"));
	ck_assert(!tenant_name_valid("a/b"));
	memset(long_name, 'a', 63);
	long_name[63] = 0;
	ck_assert(tenant_name_valid(long_name));
	long_name[63] = 'a';
	long_name[64] = 0;
	ck_assert(!tenant_name_valid(long_name));
	ck_assert_str_eq(tenant_of(NULL), "default");
	ck_assert_str_eq(tenant_of("shop"), "shop");
}
END_TEST

START_TEST(normalize)
{
	char out[256], err[256];

	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_CLIENT, "10.1.2.3/8", out,
					       sizeof(out), err, sizeof(err)),
			 0);
	ck_assert_str_eq(out, "10.0.0.0/8");
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_CLIENT, "192.0.2.7", out,
					       sizeof(out), err, sizeof(err)),
			 0);
	ck_assert_str_eq(out, "192.0.2.7/32");
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_CLIENT, "[2001:DB8::1]/32",
					       out, sizeof(out), err, sizeof(err)),
			 0);
	ck_assert_str_eq(out, "2001:db8::/32");
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_CLIENT, "10.0.0.0/33", out,
					       sizeof(out), err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "not an address"));
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_SENDER_DOMAIN,
					       "@Mail.Example.COM.", out, sizeof(out),
					       err, sizeof(err)),
			 0);
	ck_assert_str_eq(out, "mail.example.com");
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_SENDER_DOMAIN, "a..b", out,
					       sizeof(out), err, sizeof(err)),
			 -1);
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_SENDER_DOMAIN, "a b", out,
					       sizeof(out), err, sizeof(err)),
			 -1);
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_SASL, "App@Shop", out,
					       sizeof(out), err, sizeof(err)),
			 0);
	ck_assert_str_eq(out, "App@Shop");
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_SASL, "a b", out, sizeof(out),
					       err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "SASL username"));
	ck_assert_int_eq(tenant_rule_normalize(TENANT_RULE_DAEMON, "", out, sizeof(out),
					       err, sizeof(err)),
			 -1);
}
END_TEST

/* matcher - the rules of the precedence tests. */
static struct tenant_matcher *
matcher(void)
{
	struct tenant_matcher *m = tenant_matcher_new();
	char err[256];

	ck_assert_int_eq(
	    tenant_matcher_add(m, "bysasl", TENANT_RULE_SASL, "app1", err, sizeof(err)),
	    0);
	ck_assert_int_eq(tenant_matcher_add(m, "wide", TENANT_RULE_CLIENT, "10.0.0.0/8",
					    err, sizeof(err)),
			 0);
	ck_assert_int_eq(tenant_matcher_add(m, "narrow", TENANT_RULE_CLIENT,
					    "10.1.0.0/16", err, sizeof(err)),
			 0);
	ck_assert_int_eq(tenant_matcher_add(m, "bydaemon", TENANT_RULE_DAEMON,
					    "submission", err, sizeof(err)),
			 0);
	ck_assert_int_eq(tenant_matcher_add(m, "parent", TENANT_RULE_SENDER_DOMAIN,
					    "example.com", err, sizeof(err)),
			 0);
	ck_assert_int_eq(tenant_matcher_add(m, "child", TENANT_RULE_SENDER_DOMAIN,
					    "eu.example.com", err, sizeof(err)),
			 0);
	ck_assert_uint_eq(tenant_matcher_rules(m), 6);
	return m;
}

START_TEST(precedence)
{
	struct tenant_matcher *m = matcher();
	struct tenant_facts f;

	memset(&f, 0, sizeof(f));
	ck_assert_str_eq(tenant_match(m, &f), "default");
	ck_assert_str_eq(tenant_match(NULL, &f), "default");
	f.sender = "<a@shop.EU.Example.com>";
	ck_assert_str_eq(tenant_match(m, &f), "child");
	f.sender = "a@example.com";
	ck_assert_str_eq(tenant_match(m, &f), "parent");
	f.sender = "a@notexample.com";
	ck_assert_str_eq(tenant_match(m, &f), "default");
	f.sender = "";
	ck_assert_str_eq(tenant_match(m, &f), "default");
	f.sender = "a@example.com";
	f.daemon_name = "submission";
	ck_assert_str_eq(tenant_match(m, &f), "bydaemon");
	f.client_addr = "10.2.3.4";
	ck_assert_str_eq(tenant_match(m, &f), "wide");
	f.client_addr = "10.1.3.4";
	ck_assert_str_eq(tenant_match(m, &f), "narrow");
	f.client_addr = "192.0.2.1";
	ck_assert_str_eq(tenant_match(m, &f), "bydaemon");
	f.client_addr = "10.1.3.4";
	f.sasl_username = "app1";
	ck_assert_str_eq(tenant_match(m, &f), "bysasl");
	f.sasl_username = "App1"; /* exact: not app1's */
	ck_assert_str_eq(tenant_match(m, &f), "narrow");
	tenant_matcher_free(m);
}
END_TEST

START_TEST(claims)
{
	struct tenant_matcher *m = matcher();
	char err[256];

	ck_assert_int_eq(
	    tenant_matcher_add(m, "bysasl", TENANT_RULE_SASL, "app1", err, sizeof(err)),
	    0);
	ck_assert_int_eq(
	    tenant_matcher_add(m, "other", TENANT_RULE_SASL, "app1", err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "the SASL username app1 belongs to tenant bysasl already");
	ck_assert_int_eq(tenant_matcher_add(m, "other", TENANT_RULE_CLIENT, "10.9.9.9/8",
					    err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "10.0.0.0/8 belongs to tenant wide"));
	ck_assert_int_eq(tenant_matcher_add(m, "other", TENANT_RULE_SENDER_DOMAIN,
					    "EXAMPLE.com", err, sizeof(err)),
			 -1);
	/* one value may be claimed under two kinds */
	ck_assert_int_eq(
	    tenant_matcher_add(m, "other", TENANT_RULE_DAEMON, "app1", err, sizeof(err)),
	    0);
	ck_assert_int_eq(
	    tenant_matcher_add(m, "other", TENANT_RULE_CLIENT, "bad", err, sizeof(err)),
	    -1);
	ck_assert_uint_eq(tenant_matcher_rules(m), 7);
	tenant_matcher_free(m);
}
END_TEST

START_TEST(json_round_trip)
{
	struct tenant *t = tenant_new("shop"), *u;
	json_object *o;
	char err[256];

	ck_assert_int_eq(
	    tenant_rule_add(t, TENANT_RULE_SASL, "shop-app", err, sizeof(err)), 0);
	ck_assert_int_eq(
	    tenant_rule_add(t, TENANT_RULE_CLIENT, "10.1.2.3/16", err, sizeof(err)), 0);
	ck_assert_int_eq(
	    tenant_rule_add(t, TENANT_RULE_CLIENT, "10.1.0.0/16", err, sizeof(err)), 0);
	ck_assert_int_eq(
	    tenant_rule_add(t, TENANT_RULE_SENDER_DOMAIN, "Shop.test", err, sizeof(err)),
	    0);
	ck_assert_int_eq(tenant_rule_add(t, TENANT_RULE_DAEMON, "x y", err, sizeof(err)),
			 -1);
	t->settings = json_tokener_parse("{\"tracking\":false}");
	t->created_at = 1700000000.5;
	o = tenant_to_json(t);
	ck_assert_str_eq(
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
						  | JSON_C_TO_STRING_NOSLASHESCAPE),
	    "{\"name\":\"shop\",\"rules\":{\"saslUsers\":[\"shop-app\"],"
	    "\"clients\":[\"10.1.0.0/16\"],\"daemonNames\":[],"
	    "\"senderDomains\":[\"shop.test\"]},\"settings\":{\"tracking\":false},"
	    "\"createdAt\":\"2023-11-14T22:13:20Z\",\"created\":1700000000.5}");
	u = tenant_from_json(o);
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u->rules[TENANT_RULE_CLIENT][0], "10.1.0.0/16");
	ck_assert_ptr_null(u->rules[TENANT_RULE_CLIENT][1]);
	ck_assert_ptr_null(u->rules[TENANT_RULE_DAEMON]);
	ck_assert_int_eq(tenant_rule_remove(u, TENANT_RULE_CLIENT, "10.1.9.9/16"), 0);
	ck_assert_ptr_null(u->rules[TENANT_RULE_CLIENT][0]);
	ck_assert_int_eq(tenant_rule_remove(u, TENANT_RULE_CLIENT, "10.1.0.0/16"), -1);
	ck_assert(u->created_at == t->created_at);
	json_object_put(o);
	tenant_free(u);
	json_object_object_add((o = json_object_new_object()), "name",
			       json_object_new_string("Bad"));
	ck_assert_ptr_null(tenant_from_json(o));
	json_object_put(o);
	tenant_free(t);
}
END_TEST

struct crud {
	struct tenant *t;
	struct tenant **list;
	size_t n;
	const char *name;
	char err[256];
	uint64_t gen;
	struct tenant_matcher *m;
	struct endpoint *ep;
};

static int
put_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;

	return tenant_put(txn, c->t, c->err, sizeof(c->err));
}

static int
get_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;

	return tenant_get(txn, c->name, &c->t);
}

static int
list_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;
	int rc = tenant_list(txn, &c->list, &c->n);

	if (rc == STORE_OK)
		rc = tenant_generation(txn, &c->gen);
	if (rc == STORE_OK)
		rc = tenant_matcher_load(txn, &c->m);
	return rc;
}

static int
delete_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;

	return tenant_delete(txn, c->name);
}

static int
endpoint_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;

	return c->ep->id == NULL ? endpoint_create(txn, c->ep)
				 : endpoint_delete(txn, c->ep->id);
}

/* put - store a tenant with one SASL username; the status. */
static int
put(struct crud *c, const char *name, const char *sasl)
{
	int rc;

	c->t = tenant_new(name);
	if (sasl != NULL)
		ck_assert_int_eq(
		    tenant_rule_add(c->t, TENANT_RULE_SASL, sasl, c->err, sizeof(c->err)),
		    0);
	rc = store_run(test_store, put_cb, c, 0);
	tenant_free(c->t);
	c->t = NULL;
	return rc;
}

START_TEST(store_crud)
{
	struct tenant_facts f = { .sasl_username = "b-app" };
	struct crud c;

	memset(&c, 0, sizeof(c));
	/* the default tenant exists before anything is stored */
	c.name = "default";
	ck_assert_int_eq(store_run(test_store, get_cb, &c, 0), STORE_OK);
	ck_assert_str_eq(c.t->name, "default");
	ck_assert_ptr_null(c.t->rules[TENANT_RULE_SASL]);
	tenant_free(c.t);
	c.name = "nosuch";
	ck_assert_int_eq(store_run(test_store, get_cb, &c, 0), STORE_NOTFOUND);
	c.name = "Bad/Name";
	ck_assert_int_eq(store_run(test_store, get_cb, &c, 0), STORE_NOTFOUND);
	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_str_eq(c.list[0]->name, "default");
	ck_assert_uint_eq(c.gen, 0);
	tenant_list_free(c.list, c.n);
	tenant_matcher_free(c.m);

	ck_assert_int_eq(put(&c, "b", "b-app"), STORE_OK);
	ck_assert_int_eq(put(&c, "a", "a-app"), STORE_OK);
	ck_assert_int_eq(put(&c, "c", "b-app"), TENANT_CONFLICT);
	ck_assert_str_eq(c.err, "the SASL username b-app belongs to tenant b already");
	ck_assert_int_eq(put(&c, "B", NULL), TENANT_INVALID);
	ck_assert_ptr_nonnull(strstr(c.err, "tenant name"));
	ck_assert_int_eq(put(&c, "b", "b-app"), STORE_OK); /* its own value */

	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_str_eq(c.list[0]->name, "a");
	ck_assert_str_eq(c.list[1]->name, "b");
	ck_assert_str_eq(c.list[2]->name, "default");
	ck_assert(c.list[1]->created_at > 0);
	ck_assert(c.list[1]->updated_at >= c.list[1]->created_at);
	ck_assert_uint_eq(c.gen, 3);
	ck_assert_str_eq(tenant_match(c.m, &f), "b");
	tenant_list_free(c.list, c.n);
	tenant_matcher_free(c.m);

	/* a tenant owning an endpoint cannot be deleted */
	c.ep = endpoint_new();
	c.ep->name = xstrdup("b's hook");
	c.ep->url = xstrdup("http://127.0.0.1:9/");
	c.ep->tenant = xstrdup("b");
	ck_assert_int_eq(store_run(test_store, endpoint_cb, &c, 0), STORE_OK);
	c.name = "b";
	ck_assert_int_eq(store_run(test_store, delete_cb, &c, 0), TENANT_CONFLICT);
	ck_assert_int_eq(store_run(test_store, endpoint_cb, &c, 0), STORE_OK);
	endpoint_free(c.ep);
	ck_assert_int_eq(store_run(test_store, delete_cb, &c, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, delete_cb, &c, 0), STORE_NOTFOUND);
	c.name = "default";
	ck_assert_int_eq(store_run(test_store, delete_cb, &c, 0), TENANT_INVALID);
	ck_assert_int_eq(put(&c, "c", "b-app"), STORE_OK); /* free again */
	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_str_eq(c.list[1]->name, "c");
	ck_assert_str_eq(tenant_match(c.m, &f), "c");
	tenant_list_free(c.list, c.n);
	tenant_matcher_free(c.m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tenant");
	TCase *tc = tcase_create("rules");
	TCase *ts = tcase_create("store");

	tcase_add_test(tc, names);
	tcase_add_test(tc, normalize);
	tcase_add_test(tc, precedence);
	tcase_add_test(tc, claims);
	tcase_add_test(tc, json_round_trip);
	suite_add_tcase(s, tc);
	test_store_fixture(ts, "check_tenant");
	tcase_add_test(ts, store_crud);
	suite_add_tcase(s, ts);
	return test_run_suite(s);
}
