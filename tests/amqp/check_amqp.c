/*
 * check_amqp.c - the AMQP sink's pure parts: routing keys, the properties
 * and headers of one message, the broker URL without its password, the
 * sink's configuration keys, and its status record (JSON and in a store).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "amqp/amqp_msg.h"
#include "config/config.h"
#include "store/store.h"
#include "util/util.h"

#include "testlib.h"

START_TEST(routing_keys)
{
	char key[AMQP_KEY_MAX], small[8];

	ck_assert_int_eq(amqp_routing_key(EV_MESSAGE_SENT, NULL, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "MessageSent.default");
	ck_assert_int_eq(
	    amqp_routing_key(EV_MESSAGE_BOUNCED, "shop-eu_2", key, sizeof(key)), 0);
	ck_assert_str_eq(key, "MessageBounced.shop-eu_2");
	ck_assert_int_eq(
	    amqp_routing_key(EV_MESSAGE_COMPLAINED, "acme", key, sizeof(key)), 0);
	ck_assert_str_eq(key, "MessageComplained.acme");
	/* a dot, a capital or a leading dash would make keys ambiguous */
	ck_assert_int_eq(amqp_routing_key(EV_MESSAGE_SENT, "a.b", key, sizeof(key)), -1);
	ck_assert_int_eq(amqp_routing_key(EV_MESSAGE_SENT, "Shop", key, sizeof(key)), -1);
	ck_assert_int_eq(amqp_routing_key(EV_MESSAGE_SENT, "-a", key, sizeof(key)), -1);
	ck_assert_int_eq(amqp_routing_key(EV_MESSAGE_SENT, "", key, sizeof(key)), -1);
	ck_assert_int_eq(amqp_routing_key(EV_MESSAGE_SENT, "a*", key, sizeof(key)), -1);
	ck_assert_int_eq(amqp_routing_key(EV_MESSAGE_SENT, "#", key, sizeof(key)), -1);
	ck_assert_int_eq(amqp_routing_key(EV_MESSAGE_SENT, NULL, small, sizeof(small)),
			 -1);
}
END_TEST

START_TEST(properties)
{
	struct amqp_props p;
	char err[128];

	ck_assert_int_eq(amqp_props_fill(&p, EV_MESSAGE_DELAYED, NULL, 1700000000.75,
					 "0b7e0b8c-0000-4000-8000-000000000001",
					 "mx1.site.test", "4ABC123", "log:1:2", err,
					 sizeof(err)),
			 0);
	ck_assert_str_eq(p.routing_key, "MessageDelayed.default");
	ck_assert_str_eq(p.message_id, "0b7e0b8c-0000-4000-8000-000000000001");
	ck_assert_str_eq(p.type, "MessageDelayed");
	ck_assert_uint_eq(p.timestamp, 1700000000);
	ck_assert_str_eq(p.host_name, "mx1.site.test");
	ck_assert_str_eq(p.queue_id, "4ABC123");
	ck_assert_str_eq(p.tenant, "default");
	ck_assert_str_eq(p.event_key, "log:1:2");
	/* no queue id known (a domain event): no header */
	ck_assert_int_eq(amqp_props_fill(&p, EV_DOMAIN_DNS_ERROR, "shop", 5, "u", "h", "",
					 NULL, err, sizeof(err)),
			 0);
	ck_assert_ptr_null(p.queue_id);
	ck_assert_ptr_null(p.event_key);
	ck_assert_str_eq(p.routing_key, "DomainDNSError.shop");
	ck_assert_int_eq(amqp_props_fill(&p, EV_MESSAGE_SENT, "Bad.Name", 5, "u", "h",
					 NULL, NULL, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "Bad.Name"));
}
END_TEST

START_TEST(urls)
{
	char *u;

	ck_assert(amqp_url_is_sink("amqp://h"));
	ck_assert(amqp_url_is_sink("amqps://h"));
	ck_assert(!amqp_url_is_sink("https://h"));
	ck_assert(!amqp_url_is_sink("amqp:h"));
	ck_assert(!amqp_url_is_sink(NULL));

	u = amqp_url_redact("amqp://fleet:s3cret@rabbit.site.test:5672/posthook");
	ck_assert_str_eq(u, "amqp://fleet@rabbit.site.test:5672/posthook");
	free(u);
	u = amqp_url_redact("amqps://fleet:p@ss@rabbit.site.test/%2f");
	ck_assert_str_eq(u, "amqps://fleet@rabbit.site.test/%2f");
	free(u);
	u = amqp_url_redact("amqp://user@127.0.0.1");
	ck_assert_str_eq(u, "amqp://user@127.0.0.1");
	free(u);
	u = amqp_url_redact("amqp://127.0.0.1:5672");
	ck_assert_str_eq(u, "amqp://127.0.0.1:5672");
	free(u);
	ck_assert_ptr_null(amqp_url_redact("amqp://"));
	ck_assert_ptr_null(amqp_url_redact("amqp://user:pw@/vhost"));
	ck_assert_ptr_null(amqp_url_redact("http://user:pw@h/"));
}
END_TEST

START_TEST(sink_keys)
{
	struct config *cfg = config_new();
	char err[256];

	ck_assert_str_eq(cfg->amqp_url, "");
	ck_assert_str_eq(cfg->amqp_exchange, "posthook");
	ck_assert_str_eq(cfg->amqp_queue, "");
	ck_assert_int_eq(cfg->amqp_queue_type, AMQP_QUEUE_QUORUM);
	ck_assert_str_eq(cfg->amqp_tenants[0], "default");
	ck_assert_ptr_null(cfg->amqp_tenants[1]);
	ck_assert_int_eq(cfg->amqp_batch, 500);
	ck_assert_int_eq(cfg->amqp_backoff_max_ms, 30000);
	ck_assert_int_eq(config_set(cfg, "amqp_queue_type", "stream", err, sizeof(err)),
			 0);
	ck_assert_int_eq(cfg->amqp_queue_type, AMQP_QUEUE_STREAM);
	ck_assert_int_ne(config_set(cfg, "amqp_queue_type", "classic", err, sizeof(err)),
			 0);
	ck_assert_int_eq(
	    config_set(cfg, "amqp_tenants", "default, shop", err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->amqp_tenants[1], "shop");
	ck_assert_int_ne(config_set(cfg, "amqp_batch", "many", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(cfg, "amqp_backoff_max", "2m", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg->amqp_backoff_max_ms, 120000);
	config_free(cfg);
}
END_TEST

START_TEST(status_json)
{
	struct amqp_status s, t;
	json_object *o;

	memset(&s, 0, sizeof(s));
	strcpy(s.state, "down");
	s.url = xstrdup("amqp://u@h/v");
	s.last_error = xstrdup("login: broker closed the connection: 403 ACCESS_REFUSED");
	s.last_error_at = 1700000000.5;
	s.oldest_due = 1699999990;
	s.published = 12345678901ULL;
	s.confirmed = 12345678000ULL;
	s.nacked = 2;
	s.reconnects = 3;
	o = amqp_status_to_json(&s);
	ck_assert_int_eq(amqp_status_from_json(o, &t), 0);
	ck_assert_str_eq(t.state, "down");
	ck_assert_str_eq(t.url, "amqp://u@h/v");
	ck_assert_str_eq(t.last_error, s.last_error);
	ck_assert_double_eq(t.last_error_at, 1700000000.5);
	ck_assert_double_eq(t.oldest_due, 1699999990);
	ck_assert_uint_eq(t.published, 12345678901ULL);
	ck_assert_uint_eq(t.confirmed, 12345678000ULL);
	ck_assert_uint_eq(t.nacked, 2);
	ck_assert_uint_eq(t.reconnects, 3);
	json_object_put(o);
	amqp_status_clear(&t);
	amqp_status_clear(&s);
	o = json_tokener_parse("{\"url\":\"x\"}");
	ck_assert_int_eq(amqp_status_from_json(o, &t), -1);
	json_object_put(o);
	o = json_tokener_parse("{\"state\":\"a state name far too long\"}");
	ck_assert_int_eq(amqp_status_from_json(o, &t), -1);
	json_object_put(o);
}
END_TEST

/* put_cb, get_cb - the status record through a store transaction. */
static int
put_cb(struct store_txn *txn, void *arg)
{
	return amqp_status_put(txn, arg);
}

static int
get_cb(struct store_txn *txn, void *arg)
{
	return amqp_status_get(txn, arg);
}

START_TEST(status_store)
{
	struct amqp_status s, t;

	ck_assert_int_eq(store_run(test_store, get_cb, &t, 0), STORE_NOTFOUND);
	memset(&s, 0, sizeof(s));
	strcpy(s.state, "connected");
	s.published = 7;
	s.confirmed = 7;
	ck_assert_int_eq(store_run(test_store, put_cb, &s, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, get_cb, &t, 0), STORE_OK);
	ck_assert_str_eq(t.state, "connected");
	ck_assert_ptr_null(t.last_error);
	ck_assert_uint_eq(t.confirmed, 7);
	amqp_status_clear(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("amqp");
	TCase *tc = tcase_create("message");
	TCase *ts = tcase_create("store");

	tcase_add_test(tc, routing_keys);
	tcase_add_test(tc, properties);
	tcase_add_test(tc, urls);
	tcase_add_test(tc, sink_keys);
	tcase_add_test(tc, status_json);
	suite_add_tcase(s, tc);
	test_store_fixture(ts, "check_amqp");
	tcase_add_test(ts, status_store);
	suite_add_tcase(s, ts);
	return test_run_suite(s);
}
