/*
 * check_delivery.c - the retry schedule and Retry-After (pure), response
 * bodies made safe for JSON, the attempt record against docs/events.md,
 * and fan-out, completion, replay, recover and purge in a real store;
 * fan-out to the endpoints of the event's tenant only.
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/delivery.h"
#include "store/endpoint.h"
#include "event/event_sample.h"
#include "store/outbox.h"
#include "store/store.h"
#include "util/util.h"
#include "util/json.h"
#include "util/utf8.h"

#include "testlib.h"

static const int64_t seed_sched[] = { 0, 120000, 180000, 360000, 600000, 900000 };

START_TEST(schedule_of_seed_000)
{
	int64_t d = -1;
	int n;

	ck_assert_int_eq(retry_delay(seed_sched, 6, 0, 500, NULL, 0, &d), 0);
	for (n = 1; n < 6; n++) {
		ck_assert_int_eq(retry_delay(seed_sched, 6, n, 500, NULL, 0, &d), 1);
		ck_assert_int_eq(d, seed_sched[n]);
	}
	/* the sixth failed attempt is the last */
	ck_assert_int_eq(retry_delay(seed_sched, 6, 6, 500, NULL, 0, &d), 0);
	ck_assert_int_eq(retry_delay(seed_sched, 6, 7, 0, NULL, 0, &d), 0);
}
END_TEST

START_TEST(retry_after_only_delays)
{
	int64_t d;
	double now = 1705312200;
	char date[64];
	time_t when = (time_t) now + 200;
	struct tm tm;

	/* longer than scheduled: taken */
	ck_assert_int_eq(retry_delay(seed_sched, 6, 1, 429, "150", now, &d), 1);
	ck_assert_int_eq(d, 150000);
	/* past twice the schedule: capped */
	ck_assert_int_eq(retry_delay(seed_sched, 6, 1, 429, "3600", now, &d), 1);
	ck_assert_int_eq(d, 240000);
	/* shorter than scheduled: the schedule stands */
	ck_assert_int_eq(retry_delay(seed_sched, 6, 1, 503, "5", now, &d), 1);
	ck_assert_int_eq(d, 120000);
	/* only on 429 and 503 */
	ck_assert_int_eq(retry_delay(seed_sched, 6, 1, 500, "150", now, &d), 1);
	ck_assert_int_eq(d, 120000);
	ck_assert_int_eq(retry_delay(seed_sched, 6, 1, 0, "150", now, &d), 1);
	ck_assert_int_eq(d, 120000);
	/* an HTTP date */
	gmtime_r(&when, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	ck_assert_int_eq(retry_delay(seed_sched, 6, 1, 503, date, now, &d), 1);
	ck_assert_int_eq(d, 200000);
	/* garbage is ignored */
	ck_assert_int_eq(retry_delay(seed_sched, 6, 2, 429, "soon", now, &d), 1);
	ck_assert_int_eq(d, 180000);
	/* nothing left: Retry-After does not add an attempt */
	ck_assert_int_eq(retry_delay(seed_sched, 6, 6, 429, "10", now, &d), 0);
}
END_TEST

START_TEST(retry_after_parsing)
{
	int64_t ms;

	ck_assert_int_eq(retry_after_parse("0", 0, &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(retry_after_parse(" 120 ", 0, &ms), 0);
	ck_assert_int_eq(ms, 120000);
	ck_assert_int_eq(
	    retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 1705312200, &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(retry_after_parse("", 0, &ms), -1);
	ck_assert_int_eq(retry_after_parse("-5", 0, &ms), -1);
	ck_assert_int_eq(retry_after_parse("5s", 0, &ms), -1);
	ck_assert_int_eq(retry_after_parse("99999999999999999999", 0, &ms), -1);
	ck_assert_int_eq(retry_after_parse(NULL, 0, &ms), -1);
}
END_TEST

START_TEST(utf8_made_safe)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "plain", 5, "plain" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "a\xff"
		  "b",
		  3,
		  "a\xef\xbf\xbd"
		  "b" },
		{ "a\0b", 3,
		  "a\xef\xbf\xbd"
		  "b" },
		{ "cut \xe2\x82", 6, "cut \xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" }, /* overlong */
		{ "\xed\xa0\x80", 3,
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
	};
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b);
		utf8_clean_append(&b, cases[i].in, cases[i].len);
		ck_assert_msg(b.len == strlen(cases[i].out)
				  && memcmp(b.data, cases[i].out, b.len) == 0,
			      "case %zu", i);
		buf_free(&b);
	}
}
END_TEST

/* keys_are - the object's keys, in order, start with want[]. */
static void
keys_are(json_object *o, const char *const *want, size_t n)
{
	size_t i = 0;

	json_object_object_foreach(o, key, val)
	{
		(void) val;
		if (i < n)
			ck_assert_str_eq(key, want[i]);
		i++;
	}
	ck_assert_uint_ge(i, n);
}

/* sample_delivery - a MessageSent delivery for endpoint 456. */
static struct delivery *
sample_delivery(void)
{
	struct delivery *d = xcalloc(1, sizeof(*d));

	d->id = 1;
	strcpy(d->uuid, "5e273436-d427-4dfe-b727-3659fbb2890c");
	d->endpoint_id = xstrdup("456");
	d->type = EV_MESSAGE_SENT;
	d->timestamp = 1705312200.123456;
	d->payload = event_sample_payload(EV_MESSAGE_SENT, 1705312200.123456);
	return d;
}

START_TEST(record_has_seed_003_shape)
{
	static const char *const top[] = {
		"id",	     "webhookId",  "webhookName", "event",
		"url",	     "statusCode", "success",	  "attempt",
		"willRetry", "timestamp",  "request",	  "response",
	};
	static const char *const req_keys[] = { "payload", "headers" };
	static const char *const resp_keys[] = { "statusCode", "body" };
	struct delivery *d = sample_delivery();
	struct attempt_result r;
	json_object *rec, *v, *req, *resp;
	regex_t re;

	memset(&r, 0, sizeof(r));
	r.started = 1705314600; /* 2024-01-15T10:30:00Z */
	r.duration = 0.0123;
	r.status = 200;
	r.body = "{\"received\": true}";
	r.body_len = strlen(r.body);
	r.headers = json_object_new_object();
	json_object_object_add(r.headers, "Content-Type",
			       json_object_new_string("application/json"));
	json_object_object_add(r.headers, "X-Ark-Signature",
			       json_object_new_string("sig"));
	json_object_object_add(r.headers, "X-Ark-Signature-KID",
			       json_object_new_string("kid"));

	rec = attempt_record_new("whr_abc123def456", d, "My App Webhook",
				 "https://myapp.com/webhooks/email", &r, 1, 0);
	keys_are(rec, top, sizeof(top) / sizeof(top[0]));
	ck_assert(json_object_object_get_ex(rec, "id", &v));
	ck_assert_str_eq(json_object_get_string(v), "whr_abc123def456");
	ck_assert(json_object_object_get_ex(rec, "webhookId", &v));
	ck_assert(json_object_is_type(v, json_type_string));
	ck_assert_str_eq(json_object_get_string(v), "456");
	ck_assert(json_object_object_get_ex(rec, "statusCode", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int(v), 200);
	ck_assert(json_object_object_get_ex(rec, "success", &v));
	ck_assert(json_object_is_type(v, json_type_boolean)
		  && json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(rec, "attempt", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert(json_object_object_get_ex(rec, "willRetry", &v));
	ck_assert(json_object_is_type(v, json_type_boolean)
		  && !json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(rec, "timestamp", &v));
	ck_assert_str_eq(json_object_get_string(v), "2024-01-15T10:30:00Z");
	ck_assert_int_eq(
	    regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
		    REG_EXTENDED | REG_NOSUB),
	    0);
	ck_assert_int_eq(regexec(&re, json_object_get_string(v), 0, NULL, 0), 0);
	regfree(&re);

	ck_assert(json_object_object_get_ex(rec, "request", &req));
	keys_are(req, req_keys, 2);
	ck_assert(json_object_object_get_ex(req, "payload", &v));
	/* the inner payload, not the envelope */
	ck_assert(json_object_object_get_ex(v, "message", NULL));
	ck_assert(json_object_object_get_ex(v, "status", NULL));
	ck_assert(!json_object_object_get_ex(v, "uuid", NULL));
	ck_assert(json_object_object_get_ex(req, "headers", &v));
	ck_assert(json_object_object_get_ex(v, "X-Ark-Signature", NULL));
	ck_assert(json_object_object_get_ex(rec, "response", &resp));
	keys_are(resp, resp_keys, 2);
	ck_assert(json_object_object_get_ex(resp, "body", &v));
	ck_assert_str_eq(json_object_get_string(v), "{\"received\": true}");
	ck_assert(json_object_object_get_ex(rec, "uuid", &v));
	ck_assert_str_eq(json_object_get_string(v), d->uuid);
	ck_assert(json_object_object_get_ex(rec, "error", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(rec, "duration", &v));
	ck_assert(json_object_is_type(v, json_type_double));
	json_object_put(rec);
	json_object_put(r.headers);
	delivery_free(d);
}
END_TEST

START_TEST(record_without_response)
{
	struct delivery *d = sample_delivery();
	struct attempt_result r;
	json_object *rec, *v, *resp;

	memset(&r, 0, sizeof(r));
	r.started = 1705314600;
	r.error = "timeout: Operation timed out after 5000 milliseconds";
	rec = attempt_record_new("whr_000000000002", d, "n", "http://x/", &r, 3, 1);
	ck_assert(json_object_object_get_ex(rec, "statusCode", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(rec, "success", &v));
	ck_assert(!json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(rec, "willRetry", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(rec, "attempt", &v));
	ck_assert_int_eq(json_object_get_int(v), 3);
	ck_assert(json_object_object_get_ex(rec, "response", &resp));
	ck_assert(json_object_object_get_ex(resp, "statusCode", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(rec, "error", &v));
	ck_assert_str_eq(json_object_get_string(v), r.error);
	json_object_put(rec);
	delivery_free(d);
}
END_TEST

START_TEST(record_body_capped)
{
	struct delivery *d = sample_delivery();
	struct attempt_result r;
	json_object *rec, *v, *resp;
	char *big = xmalloc(3 * RESPONSE_BODY_MAX);

	memset(big, 'x', 3 * RESPONSE_BODY_MAX);
	memset(&r, 0, sizeof(r));
	r.status = 500;
	r.error = "HTTP 500";
	r.body = big;
	r.body_len = 3 * RESPONSE_BODY_MAX;
	rec = attempt_record_new("whr_000000000003", d, "n", "http://x/", &r, 1, 1);
	ck_assert(json_object_object_get_ex(rec, "response", &resp));
	ck_assert(json_object_object_get_ex(resp, "body", &v));
	ck_assert_int_eq(json_object_get_string_len(v), RESPONSE_BODY_MAX);
	ck_assert(json_object_object_get_ex(rec, "success", &v));
	ck_assert(!json_object_get_boolean(v));
	json_object_put(rec);
	free(big);
	delivery_free(d);
}
END_TEST

/* ---- the store ---- */

struct fx {
	int events, deliveries;
	struct due_entry *ids;
	int n;
	int64_t at;
	uint64_t id;
	struct delivery *d;
	struct attempt_result r;
	char rec_id[32];
	int will_retry;
	json_object *list;
	struct attempt_filter f;
	int count;
	double cutoff;
};

static int
setup_cb(struct store_txn *txn, void *arg)
{
	static const struct {
		const char *name;
		int enabled, all;
		uint32_t events;
	} eps[] = {
		{ "all", 1, 1, 0 },
		{ "disabled", 0, 1, 0 },
		{ "held only", 1, 0, 1u << EV_MESSAGE_HELD },
	};
	struct endpoint *ep;
	json_object *p;
	size_t i;
	int rc = STORE_OK;

	(void) arg;
	for (i = 0; rc == STORE_OK && i < 3; i++) {
		ep = endpoint_new();
		ep->name = xstrdup(eps[i].name);
		ep->url = xstrdup("http://127.0.0.1:9/");
		ep->enabled = eps[i].enabled;
		ep->all_events = eps[i].all;
		ep->events = eps[i].events;
		rc = endpoint_create(txn, ep);
		endpoint_free(ep);
	}
	p = event_sample_payload(EV_MESSAGE_SENT, 1705312200);
	if (rc == STORE_OK)
		rc = outbox_add(txn, "k1", EV_MESSAGE_SENT, 1705312200, p, NULL);
	if (rc == STORE_OK)
		rc = outbox_add(txn, "k2", EV_MESSAGE_HELD, 1705312201, p, NULL);
	/* for one endpoint alone, even a disabled one (webhooks test) */
	if (rc == STORE_OK)
		rc = outbox_add(txn, "k3", EV_MESSAGE_SENT, 1705312202, p, "2");
	json_object_put(p);
	return rc;
}

static int
fanout_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	return delivery_fanout(txn, 100, 0, &f->events, &f->deliveries);
}

static int
due_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	free(f->ids);
	f->ids = NULL;
	return delivery_due_ids(txn, f->at, 100, &f->ids, &f->n);
}

static int
get_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	delivery_free(f->d);
	f->d = NULL;
	return delivery_get(txn, f->id, &f->d);
}

static const int64_t test_sched[] = { 0, 1000, 2000 };

static int
complete_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;
	struct attempt_target target = { "hook", "http://127.0.0.1:9/", NULL };

	return delivery_complete(txn, f->id, NULL, &target, &f->r, test_sched, 3,
				 f->rec_id, &f->will_retry);
}

/* complete_picked_cb - complete f->id with f->d as picked. */
static int
complete_picked_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;
	struct attempt_target target = { "hook", "http://127.0.0.1:9/", NULL };

	return delivery_complete(txn, f->id, f->d, &target, &f->r, test_sched, 3,
				 f->rec_id, &f->will_retry);
}

static int
list_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	if (f->list != NULL)
		json_object_put(f->list);
	f->list = NULL;
	return attempt_list(txn, &f->f, &f->list);
}

static int
replay_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	return delivery_replay(txn, f->rec_id, &f->id);
}

static int
recover_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	return delivery_recover(txn, "1", 0, &f->count);
}

static int
purge_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	return delivery_purge(txn, f->cutoff, 1000, &f->count);
}

/* fail_once - one failed attempt of delivery f->id at now. */
static void
fail_once(struct fx *f, long status)
{
	memset(&f->r, 0, sizeof(f->r));
	f->r.started = now_seconds();
	f->r.status = status;
	f->r.error = "HTTP 500";
	ck_assert_int_eq(store_run(test_store, complete_cb, f, 0), STORE_OK);
}

/* due_contains - is id due at f->at? */
static int
due_contains(struct fx *f, uint64_t id)
{
	int i;

	ck_assert_int_eq(store_run(test_store, due_cb, f, 0), STORE_OK);
	for (i = 0; i < f->n; i++)
		if (f->ids[i].id == id)
			return 1;
	return 0;
}

START_TEST(fanout_complete_replay_recover_purge)
{
	struct fx f;
	int64_t now_ms = (int64_t) (now_seconds() * 1000);
	char uuid[37], first_rec[32];
	json_object *v;

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(store_run(test_store, setup_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, fanout_cb, &f, 0), STORE_OK);
	/* k1 -> "all"; k2 -> "all", "held only"; k3 -> endpoint 2 alone */
	ck_assert_int_eq(f.events, 3);
	ck_assert_int_eq(f.deliveries, 4);
	ck_assert_int_eq(store_run(test_store, fanout_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.events, 0);

	f.at = now_ms + 1000;
	ck_assert_int_eq(store_run(test_store, due_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.n, 4);
	/* the due index names each delivery's endpoint */
	ck_assert_uint_eq(f.ids[0].id, 1);
	ck_assert_str_eq(f.ids[0].endpoint_id, "1");
	ck_assert_str_eq(f.ids[3].endpoint_id, "2");

	/* delivery 1: success */
	f.id = 1;
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_str_eq(f.d->endpoint_id, "1");
	ck_assert_int_eq(f.d->type, EV_MESSAGE_SENT);
	ck_assert_str_eq(f.d->event_key, "k1");
	memset(&f.r, 0, sizeof(f.r));
	f.r.started = now_seconds();
	f.r.status = 204;
	ck_assert_int_eq(store_run(test_store, complete_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.will_retry, 0);
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.d->state, DELIVERY_SUCCEEDED);
	ck_assert_int_eq(f.d->attempts, 1);
	ck_assert(!due_contains(&f, 1));

	/* delivery 2: three failures on a 0 1s 2s schedule, then failed */
	f.id = 2;
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	memcpy(uuid, f.d->uuid, sizeof(uuid));
	fail_once(&f, 500);
	strcpy(first_rec, f.rec_id);
	ck_assert_int_eq(f.will_retry, 1);
	f.at = (int64_t) (now_seconds() * 1000) + 500;
	ck_assert(!due_contains(&f, 2));
	f.at += 1000;
	ck_assert(due_contains(&f, 2));
	fail_once(&f, 500);
	ck_assert_int_eq(f.will_retry, 1);
	fail_once(&f, 500);
	ck_assert_int_eq(f.will_retry, 0);
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.d->state, DELIVERY_FAILED);
	ck_assert_int_eq(f.d->attempts, 3);
	ck_assert_str_eq(f.d->uuid, uuid);
	f.at += 100000;
	ck_assert(!due_contains(&f, 2));

	/* the history, newest first, failed only */
	f.f.event = -1;
	f.f.failed_only = 1;
	ck_assert_int_eq(store_run(test_store, list_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(json_object_array_length(f.list), 3);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(f.list, 0),
					    "attempt", &v));
	ck_assert_int_eq(json_object_get_int(v), 3);
	ck_assert(
	    json_object_object_get_ex(json_object_array_get_idx(f.list, 2), "id", &v));
	ck_assert_str_eq(json_object_get_string(v), first_rec);
	f.f.limit = 2;
	ck_assert_int_eq(store_run(test_store, list_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(json_object_array_length(f.list), 2);
	f.f.limit = 0;
	f.f.failed_only = 0;
	f.f.event = EV_MESSAGE_SENT; /* delivery 2 is k2's MessageHeld */
	ck_assert_int_eq(store_run(test_store, list_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(json_object_array_length(f.list), 1);
	f.f.event = -1;
	f.f.endpoint_id = "1";
	ck_assert_int_eq(store_run(test_store, list_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(json_object_array_length(f.list), 4);

	/* replay: same uuid, one attempt, never retried */
	strcpy(f.rec_id, first_rec);
	ck_assert_int_eq(store_run(test_store, replay_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_str_eq(f.d->uuid, uuid);
	ck_assert_int_eq(f.d->replay, 1);
	ck_assert_int_eq(f.d->state, DELIVERY_PENDING);
	ck_assert(f.d->timestamp > 1705312200 + 1000);
	fail_once(&f, 500);
	ck_assert_int_eq(f.will_retry, 0);
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.d->state, DELIVERY_FAILED);

	/* recover: delivery 2 (not the replay) is pending again, schedule anew */
	ck_assert_int_eq(store_run(test_store, recover_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.count, 1);
	f.id = 2;
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.d->state, DELIVERY_PENDING);
	ck_assert_str_eq(f.d->uuid, uuid);
	f.at = (int64_t) (now_seconds() * 1000) + 10;
	ck_assert(due_contains(&f, 2));
	fail_once(&f, 500);
	ck_assert_int_eq(f.will_retry, 1);
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.d->attempts, 4);

	/* purge: history and finished deliveries go; pending ones stay */
	f.cutoff = now_seconds() + 10;
	ck_assert_int_eq(store_run(test_store, purge_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.count, 6 + 2); /* 6 attempts, 2 finished deliveries */
	f.f.endpoint_id = NULL;
	ck_assert_int_eq(store_run(test_store, list_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(json_object_array_length(f.list), 0);
	f.id = 1;
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_NOTFOUND);
	f.id = 2;
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.d->state, DELIVERY_PENDING);

	json_object_put(f.list);
	delivery_free(f.d);
	free(f.ids);
}
END_TEST

/* tenant_setup_cb - endpoints of two tenants, events of three. */
static int
tenant_setup_cb(struct store_txn *txn, void *arg)
{
	static const char *const owners[] = { "shop", NULL, "default" };
	struct endpoint *ep;
	json_object *p;
	size_t i;
	int rc = STORE_OK;

	(void) arg;
	for (i = 0; rc == STORE_OK && i < 3; i++) {
		ep = endpoint_new();
		ep->name = xasprintf("hook %zu", i + 1);
		ep->url = xstrdup("http://127.0.0.1:9/");
		ep->all_events = 1;
		ep->tenant = owners[i] ? xstrdup(owners[i]) : NULL;
		rc = endpoint_create(txn, ep);
		endpoint_free(ep);
	}
	p = event_sample_payload(EV_MESSAGE_SENT, 1705312200);
	if (rc == STORE_OK)
		rc =
		    outbox_add_tenant(txn, "shop's", EV_MESSAGE_SENT, 1, p, NULL, "shop");
	if (rc == STORE_OK) /* no tenant: the default tenant's */
		rc = outbox_add(txn, "site's", EV_SEND_LIMIT, 2, p, NULL);
	if (rc == STORE_OK) /* a tenant without endpoints */
		rc =
		    outbox_add_tenant(txn, "blog's", EV_MESSAGE_SENT, 3, p, NULL, "blog");
	if (rc == STORE_OK) /* for one endpoint alone: whatever its tenant */
		rc = outbox_add_tenant(txn, "test", EV_MESSAGE_SENT, 4, p, "1", NULL);
	json_object_put(p);
	return rc;
}

/*
 * The delivery read at pick is used as it is only while its stored text
 * is unchanged: a stale one (another attempt recorded meanwhile) is read
 * again, and either way the records are those of a parsed delivery.
 */
START_TEST(complete_from_picked)
{
	struct fx f;
	struct delivery *stale;
	json_object *payload, *rec, *v;
	char first[32];

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(store_run(test_store, setup_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, fanout_cb, &f, 0), STORE_OK);
	f.id = 1;
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_ptr_nonnull(f.d->stored);
	payload = json_object_get(f.d->payload);
	stale = f.d;
	f.d = NULL;
	fail_once(&f, 500); /* attempt 1, recorded behind the picked copy */
	strcpy(first, f.rec_id);

	/* the stale copy says 0 attempts: the stored record (1) wins */
	f.d = stale;
	memset(&f.r, 0, sizeof(f.r));
	f.r.started = now_seconds();
	f.r.status = 500;
	f.r.error = "HTTP 500";
	ck_assert_int_eq(store_run(test_store, complete_picked_cb, &f, 0), STORE_OK);
	ck_assert_str_ne(f.rec_id, first);
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.d->attempts, 2);
	ck_assert_int_eq(f.will_retry, 1);

	/* fresh, with the payload's text as sent: attempt 3 succeeds */
	memset(&f.r, 0, sizeof(f.r));
	f.r.started = now_seconds();
	f.r.status = 200;
	f.r.kid = "k-3";
	f.r.payload = json_object_to_json_string_ext(
	    payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	f.r.payload_len = strlen(f.r.payload);
	ck_assert_int_eq(store_run(test_store, complete_picked_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.d->attempts, 3);
	ck_assert_int_eq(f.d->state, DELIVERY_SUCCEEDED);
	ck_assert_str_eq(f.d->kid, "k-3");
	ck_assert_str_eq(f.d->last_attempt, f.rec_id);
	ck_assert_str_eq(f.d->event_key, "k1");
	ck_assert(json_object_equal(f.d->payload, payload));
	f.f.event = -1;
	ck_assert_int_eq(store_run(test_store, list_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(json_object_array_length(f.list), 3);
	rec = json_object_array_get_idx(f.list, 0);
	ck_assert(json_object_object_get_ex(rec, "attempt", &v));
	ck_assert_int_eq(json_object_get_int(v), 3);
	ck_assert(json_object_object_get_ex(rec, "success", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(rec, "request", &v));
	ck_assert(json_object_equal(json_member(v, "payload"), payload));

	json_object_put(payload);
	json_object_put(f.list);
	free(f.ids);
	delivery_free(f.d);
}
END_TEST

/* pick_cb - delivery_pick() of f->id into f->d. */
static int
pick_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	delivery_free(f->d);
	f->d = NULL;
	return delivery_pick(txn, f->id, &f->d);
}

/* tricky_setup_cb - one endpoint, one event whose payload looks like the record. */
static int
tricky_setup_cb(struct store_txn *txn, void *arg)
{
	struct endpoint *ep = endpoint_new();
	json_object *p;
	int rc;

	(void) arg;
	ep->name = xstrdup("all");
	ep->url = xstrdup("http://127.0.0.1:9/");
	ep->enabled = 1;
	ep->all_events = 1;
	rc = endpoint_create(txn, ep);
	endpoint_free(ep);
	p = json_tokener_parse("{\"status\":\"a/b \\\",\\\"attempts\\\":9\","
			       "\"attempts\":{\"attempts\":[1,2.50,\"x\"]},"
			       "\"payload\":null,\"n\":1.0}");
	ck_assert_ptr_nonnull(p);
	if (rc == STORE_OK)
		rc = outbox_add(txn, "t1", EV_MESSAGE_SENT, 1705312200, p, NULL);
	json_object_put(p);
	return rc;
}

/*
 * delivery_pick() keeps the payload as its stored text: the bytes
 * delivery_get()'s parsed payload prints as, even when the payload holds
 * keys and strings that look like the record's own members.
 */
START_TEST(pick_keeps_payload_text)
{
	struct fx f;
	const char *want;
	struct delivery *got;
	size_t len;

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(store_run(test_store, tricky_setup_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, fanout_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.deliveries, 1);
	f.id = 1;
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	got = f.d;
	f.d = NULL;
	ck_assert_int_eq(store_run(test_store, pick_cb, &f, 0), STORE_OK);
	ck_assert_ptr_null(f.d->payload);
	ck_assert_ptr_nonnull(f.d->payload_text);
	want = json_object_to_json_string_ext(
	    got->payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	ck_assert_str_eq(delivery_payload_json(f.d, &len), want);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(f.d->uuid, got->uuid);
	ck_assert_str_eq(f.d->event_key, "t1");
	ck_assert_int_eq(f.d->attempts, 0);
	ck_assert_int_eq(f.d->due_ms, got->due_ms);
	ck_assert_int_eq(f.d->state, DELIVERY_PENDING);

	/* completed from the picked copy: the payload stays whole */
	memset(&f.r, 0, sizeof(f.r));
	f.r.started = now_seconds();
	f.r.status = 500;
	f.r.error = "HTTP 500";
	ck_assert_int_eq(store_run(test_store, complete_picked_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
	ck_assert(json_object_equal(f.d->payload, got->payload));
	ck_assert_int_eq(f.d->attempts, 1);
	delivery_free(got);
	delivery_free(f.d);
	free(f.ids);
}
END_TEST

/* text_id - delivery_message_id() of a payload given as text. */
static int
text_id(const char *text, uint64_t *id)
{
	struct delivery d;

	memset(&d, 0, sizeof(d));
	d.payload_text = (char *) text;
	d.payload_text_len = strlen(text);
	return delivery_message_id(&d, id);
}

/*
 * delivery_message_id() finds message.id in the text wherever it is,
 * past strings and nested values that look like it, and says "none"
 * where the parsed payload has no integer there.
 */
START_TEST(message_id_from_text)
{
	struct delivery d;
	uint64_t id = 0;

	ck_assert_int_eq(text_id("{\"message\":{\"id\":42,\"queue_id\":\"Q\"}}", &id), 1);
	ck_assert_uint_eq(id, 42);
	ck_assert_int_eq(text_id(" { \"x\" : \"\\\"message\\\":{\\\"id\\\":1}\" , \"n\":"
				 "[{\"message\":{\"id\":2}}],\"message\" : { \"idx\":3 ,"
				 " \"id\" : 18446744073709551615 } } ",
				 &id),
			 1);
	ck_assert_uint_eq(id, UINT64_MAX);
	ck_assert_int_eq(text_id("{\"message\":{\"id\":18446744073709551616}}", &id), 0);
	ck_assert_int_eq(text_id("{\"message\":{\"id\":\"42\"}}", &id), 0);
	ck_assert_int_eq(text_id("{\"message\":{\"id\":4.2}}", &id), 0);
	ck_assert_int_eq(text_id("{\"message\":{\"id\":-4}}", &id), 0);
	ck_assert_int_eq(text_id("{\"message\":{\"id\":null}}", &id), 0);
	ck_assert_int_eq(text_id("{\"message\":{\"ids\":1}}", &id), 0);
	ck_assert_int_eq(text_id("{\"domain\":\"example.com\"}", &id), 0);
	ck_assert_int_eq(text_id("{\"message\":{\"id\":", &id), 0);
	ck_assert_int_eq(text_id("{\"message\":{\"id\":7", &id), 0);
	ck_assert_int_eq(text_id("{\"a\":\"unterminated", &id), 0);
	ck_assert_int_eq(text_id("[1,2]", &id), 0);
	ck_assert_int_eq(text_id("", &id), 0);

	/* a parsed payload: the same answer from its tree */
	memset(&d, 0, sizeof(d));
	d.payload = json_parse_len("{\"message\":{\"id\":9}}", 20);
	ck_assert_ptr_nonnull(d.payload);
	ck_assert_int_eq(delivery_message_id(&d, &id), 1);
	ck_assert_uint_eq(id, 9);
	json_object_put(d.payload);
}
END_TEST

/*
 * delivery_envelope_json() prints the envelope event_envelope() makes,
 * byte for byte, from the payload's text, and says where the payload is.
 */
START_TEST(envelope_from_text)
{
	struct delivery d;
	json_object *env;
	const char *want, *text = "{\"message\":{\"id\":5,\"to\":\"a/b@example.com\"}}";
	char *got;
	size_t len, off, plen;

	memset(&d, 0, sizeof(d));
	d.type = EV_MESSAGE_SENT;
	d.timestamp = 1700000000.123456;
	snprintf(d.uuid, sizeof(d.uuid), "%s", "0b5f4c7e-1f2a-4c3b-8d9e-0a1b2c3d4e5f");
	d.payload = json_parse_len(text, strlen(text));
	ck_assert_ptr_nonnull(d.payload);
	env = event_envelope(d.type, d.timestamp, d.uuid, d.payload);
	want = json_object_to_json_string_ext(env, JSON_C_TO_STRING_PLAIN
						       | JSON_C_TO_STRING_NOSLASHESCAPE);
	json_object_put(d.payload);
	d.payload = NULL;
	d.payload_text = (char *) text;
	d.payload_text_len = strlen(text);
	got = delivery_envelope_json(&d, &len, &off, &plen);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_uint_eq(plen, strlen(text));
	ck_assert_int_eq(memcmp(got + off, text, plen), 0);
	free(got);
	json_object_put(env);
}
END_TEST

START_TEST(fanout_by_tenant)
{
	static const char *const expect[][2] = {
		{ "shop's", "1" },
		{ "site's", "2" },
		{ "site's", "3" },
		{ "test", "1" },
	};
	struct fx f;
	json_object *sample;
	size_t i;

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(store_run(test_store, tenant_setup_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, fanout_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.events, 4);
	ck_assert_int_eq(f.deliveries, 4);
	sample = event_sample_payload(EV_MESSAGE_SENT, 1705312200);
	for (i = 0; i < 4; i++) {
		f.id = i + 1;
		ck_assert_int_eq(store_run(test_store, get_cb, &f, 0), STORE_OK);
		ck_assert_str_eq(f.d->event_key, expect[i][0]);
		ck_assert_str_eq(f.d->endpoint_id, expect[i][1]);
		/* the tenant routes the event; the body is the payload as made */
		ck_assert_str_eq(json_object_to_json_string(f.d->payload),
				 json_object_to_json_string(sample));
	}
	json_object_put(sample);
	delivery_free(f.d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("delivery");
	TCase *tc = tcase_create("pure");
	TCase *ts = tcase_create("store");

	tcase_add_test(tc, schedule_of_seed_000);
	tcase_add_test(tc, retry_after_only_delays);
	tcase_add_test(tc, retry_after_parsing);
	tcase_add_test(tc, utf8_made_safe);
	tcase_add_test(tc, record_has_seed_003_shape);
	tcase_add_test(tc, record_without_response);
	tcase_add_test(tc, record_body_capped);
	tcase_add_test(tc, message_id_from_text);
	tcase_add_test(tc, envelope_from_text);
	suite_add_tcase(s, tc);
	test_store_fixture(ts, "check_delivery");
	tcase_add_test(ts, fanout_complete_replay_recover_purge);
	tcase_add_test(ts, fanout_by_tenant);
	tcase_add_test(ts, complete_from_picked);
	tcase_add_test(ts, pick_keeps_payload_text);
	suite_add_tcase(s, ts);
	return test_run_suite(s);
}
