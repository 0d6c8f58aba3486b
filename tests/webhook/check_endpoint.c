/*
 * check_endpoint.c - webhook endpoints: URL, name, secret and event-list
 * validation, the JSON form, and create/update/delete in a real store
 * with the change counter a running sender watches.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/endpoint.h"
#include "store/store.h"
#include "util/util.h"

#include "testlib.h"

static const char *const good_urls[] = {
	"http://127.0.0.1:8080/hook",
	"https://hooks.example.com/webhooks/ark?token=abc&x=1",
	"HTTPS://Example.COM",
	"http://[::1]:9000/x",
	"http://[2001:db8::1]/",
	"http://a-b.example_1.test:65535",
	"https://example.com/path%20with%20escapes",
};

static const struct {
	const char *url;
	const char *reason;
} bad_urls[] = {
	{ "", "empty" },
	{ "ftp://example.com/", "http:// or https://" },
	{ "file:///etc/passwd", "http:// or https://" },
	{ "example.com/hook", "http:// or https://" },
	{ "http://", "no valid host" },
	{ "http:///path", "no valid host" },
	{ "http://user:pw@example.com/", "credentials" },
	{ "http://exa mple.com/", "space" },
	{ "http://example.com:0/", "out of range" },
	{ "http://example.com:70000/", "out of range" },
	{ "http://example.com:80a/", "bad port" },
	{ "http://example..com/", "empty label" },
	{ "http://exa!mple.com/", "contains '!'" },
	{ "http://[::1/", "unclosed" },
	{ "http://[zz::1]/", "IPv6" },
	{ "http://example.com/#frag", "fragment" },
	{ "http://example.com/\x01", "control" },
	{ "http://ex\xc3\xa4mple.com/", "non-ASCII" },
};

START_TEST(url_good)
{
	char err[256] = "";

	ck_assert_msg(endpoint_check_url(good_urls[_i], err, sizeof(err)) == 0,
		      "%s refused: %s", good_urls[_i], err);
}
END_TEST

START_TEST(url_bad)
{
	char err[256] = "";

	ck_assert_int_eq(endpoint_check_url(bad_urls[_i].url, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, bad_urls[_i].reason) != NULL, "%s: \"%s\" lacks \"%s\"",
		      bad_urls[_i].url, err, bad_urls[_i].reason);
}
END_TEST

START_TEST(url_too_long)
{
	char err[256], *url = xmalloc(ENDPOINT_URL_MAX + 40);

	strcpy(url, "http://example.com/");
	memset(url + 19, 'a', ENDPOINT_URL_MAX);
	url[19 + ENDPOINT_URL_MAX] = 0;
	ck_assert_int_eq(endpoint_check_url(url, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer"));
	free(url);
}
END_TEST

START_TEST(events_parse)
{
	uint32_t mask = 0;
	char err[700] = "";

	ck_assert_int_eq(
	    endpoint_parse_events("MessageSent,MessageHeld", &mask, err, sizeof(err)), 0);
	ck_assert_uint_eq(mask, (1u << EV_MESSAGE_SENT) | (1u << EV_MESSAGE_HELD));
	ck_assert_int_eq(
	    endpoint_parse_events(" MessageBounced , SendLimit", &mask, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(mask, (1u << EV_MESSAGE_BOUNCED) | (1u << EV_SEND_LIMIT));

	ck_assert_int_eq(
	    endpoint_parse_events("MessageSent,MessageSnet", &mask, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown event \"MessageSnet\""));
	ck_assert_ptr_nonnull(strstr(err, "DomainDNSError"));
	ck_assert_int_eq(endpoint_parse_events("", &mask, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--all-events"));
}
END_TEST

START_TEST(names_and_secrets)
{
	char err[256];

	ck_assert_int_eq(endpoint_check_name("Production Webhook", err, sizeof(err)), 0);
	ck_assert_int_eq(endpoint_check_name("", err, sizeof(err)), -1);
	ck_assert_int_eq(endpoint_check_name("a\nb", err, sizeof(err)), -1);
	ck_assert_int_eq(endpoint_check_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
					       err, sizeof(err)),
			 0);
	ck_assert_int_eq(endpoint_check_secret("whsec_", err, sizeof(err)), -1);
	ck_assert_int_eq(endpoint_check_secret("secret", err, sizeof(err)), -1);
	ck_assert_int_eq(endpoint_check_secret("whsec_a b", err, sizeof(err)), -1);
}
END_TEST

START_TEST(json_round_trip)
{
	struct endpoint *ep = endpoint_new(), *back;
	json_object *o;

	ep->id = xstrdup("7");
	ep->name = xstrdup("My App");
	ep->url = xstrdup("https://example.com/h");
	ep->events = (1u << EV_MESSAGE_SENT) | (1u << EV_DOMAIN_DNS_ERROR);
	ep->enabled = 0;
	ep->created_at = 1705312200.5;
	ep->secret = xstrdup("whsec_abc=");
	o = endpoint_to_json(ep, 1);
	back = endpoint_from_json(o);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(back->id, "7");
	ck_assert_str_eq(back->name, "My App");
	ck_assert_str_eq(back->url, "https://example.com/h");
	ck_assert_uint_eq(back->events, ep->events);
	ck_assert_int_eq(back->enabled, 0);
	ck_assert_int_eq(back->all_events, 0);
	ck_assert_str_eq(back->secret, "whsec_abc=");
	ck_assert(endpoint_wants(back, EV_MESSAGE_SENT));
	ck_assert(!endpoint_wants(back, EV_MESSAGE_HELD));
	json_object_put(o);

	/* the secret is not shown unless asked for */
	o = endpoint_to_json(ep, 0);
	ck_assert_ptr_null(strstr(json_object_to_json_string(o), "whsec_abc"));
	json_object_put(o);
	endpoint_free(back);
	endpoint_free(ep);
}
END_TEST

struct crud {
	struct endpoint *ep;
	struct endpoint **eps;
	int n;
	uint64_t gen;
	const char *id;
};

static int
create_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;

	return endpoint_create(txn, c->ep);
}

static int
list_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;
	int rc;

	endpoint_list_free(c->eps, c->n);
	rc = endpoint_list(txn, &c->eps, &c->n);
	if (rc == STORE_OK)
		rc = endpoint_generation(txn, &c->gen);
	return rc;
}

static int
delete_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;

	return endpoint_delete(txn, c->id);
}

static int
get_cb(struct store_txn *txn, void *arg)
{
	struct crud *c = arg;

	return endpoint_get(txn, c->id, &c->ep);
}

START_TEST(store_crud)
{
	struct crud c;
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < 11; i++) {
		c.ep = endpoint_new();
		c.ep->name = xasprintf("hook %d", i);
		c.ep->url = xstrdup("http://127.0.0.1:9/");
		c.ep->all_events = 1;
		ck_assert_int_eq(store_run(test_store, create_cb, &c, 0), STORE_OK);
		ck_assert_int_eq(atoi(c.ep->id), i + 1);
		endpoint_free(c.ep);
	}
	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_int_eq(c.n, 11);
	/* numeric order, not byte order: 1, 2, ..., 10, 11 */
	ck_assert_str_eq(c.eps[0]->id, "1");
	ck_assert_str_eq(c.eps[1]->id, "2");
	ck_assert_str_eq(c.eps[10]->id, "11");
	ck_assert_str_eq(c.eps[10]->name, "hook 10");
	ck_assert_uint_eq(c.gen, 11);

	c.id = "3";
	ck_assert_int_eq(store_run(test_store, delete_cb, &c, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, delete_cb, &c, 0), STORE_NOTFOUND);
	c.ep = NULL;
	ck_assert_int_eq(store_run(test_store, get_cb, &c, 0), STORE_NOTFOUND);
	c.id = "4";
	ck_assert_int_eq(store_run(test_store, get_cb, &c, 0), STORE_OK);
	ck_assert_str_eq(c.ep->name, "hook 3");
	endpoint_free(c.ep);
	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_int_eq(c.n, 10);
	ck_assert_uint_eq(c.gen, 12);
	endpoint_list_free(c.eps, c.n);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("endpoint");
	TCase *tc = tcase_create("validation");
	TCase *ts = tcase_create("store");

	tcase_add_loop_test(tc, url_good, 0, sizeof(good_urls) / sizeof(good_urls[0]));
	tcase_add_loop_test(tc, url_bad, 0, sizeof(bad_urls) / sizeof(bad_urls[0]));
	tcase_add_test(tc, url_too_long);
	tcase_add_test(tc, events_parse);
	tcase_add_test(tc, names_and_secrets);
	tcase_add_test(tc, json_round_trip);
	suite_add_tcase(s, tc);
	test_store_fixture(ts, "check_endpoint");
	tcase_add_test(ts, store_crud);
	suite_add_tcase(s, ts);
	return test_run_suite(s);
}
