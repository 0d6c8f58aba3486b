/*
 * check_limit.c - send limits: the rolling hour's sum over per-minute
 * buckets, the states a volume gives, when SendLimit fires (entering a
 * higher state, at most once an hour per state, never when falling), the
 * tenant settings, the payload; and over a real store the counters with
 * their pruning, the held messages and release requests, and the releases
 * a limit with room again lets go, oldest first.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "limit/limit.h"
#include "limit/limit_store.h"
#include "store/release.h"
#include "store/store.h"
#include "store/volume.h"
#include "tenant/tenant.h"
#include "util/json.h"

#include "testlib.h"

#define T0 1800000000.0 /* a whole minute: 30000000 */

START_TEST(window_sum)
{
	struct volume_bucket b[] = {
		{ 100, 5 }, { 140, 7 }, { 159, 1 }, { 160, 2 }, { 161, 1000 },
	};

	/* minutes 101 .. 160 */
	ck_assert_uint_eq(limit_window_sum(b, 5, 160), 7 + 1 + 2);
	/* minutes 100 .. 159 */
	ck_assert_uint_eq(limit_window_sum(b, 5, 159), 5 + 7 + 1);
	ck_assert_uint_eq(limit_window_sum(b, 5, 300), 0);
	ck_assert_uint_eq(limit_window_sum(NULL, 0, 160), 0);
	/* the first hour since the epoch does not wrap */
	b[0].minute = 0;
	ck_assert_uint_eq(limit_window_sum(b, 1, 10), 5);
	ck_assert_uint_eq(limit_minute(T0 + 59.9), 30000000);
	ck_assert_uint_eq(limit_minute(T0 + 60), 30000001);
}
END_TEST

START_TEST(states)
{
	ck_assert_int_eq(limit_state_of(0, 0), LIMIT_OK);
	ck_assert_int_eq(limit_state_of(1000000, 0), LIMIT_OK); /* no limit */
	ck_assert_int_eq(limit_state_of(8, 10), LIMIT_OK);
	ck_assert_int_eq(limit_state_of(9, 10), LIMIT_APPROACHING);
	ck_assert_int_eq(limit_state_of(10, 10), LIMIT_EXCEEDED);
	ck_assert_int_eq(limit_state_of(899, 1000), LIMIT_OK);
	ck_assert_int_eq(limit_state_of(900, 1000), LIMIT_APPROACHING);
	ck_assert_int_eq(limit_state_of(999, 1000), LIMIT_APPROACHING);
	ck_assert_int_eq(limit_state_of(1, 1), LIMIT_EXCEEDED);
	ck_assert_int_eq(limit_state_of(0, 1), LIMIT_OK);
	ck_assert(!limit_over(9, 10));
	ck_assert(limit_over(10, 10));
	ck_assert(!limit_over(10, 0));
	ck_assert_uint_eq(limit_room(7, 10), 3);
	ck_assert_uint_eq(limit_room(12, 10), 0);
	ck_assert_uint_eq(limit_room(12, 0), UINT64_MAX);
	ck_assert_str_eq(limit_state_name(LIMIT_APPROACHING), "approaching");
	ck_assert_str_eq(limit_state_name(LIMIT_EXCEEDED), "exceeded");
	ck_assert_str_eq(limit_state_name(LIMIT_OK), "ok");
}
END_TEST

START_TEST(decide_once_per_state)
{
	struct limit_record r;
	uint64_t v;
	int approaching = 0, exceeded = 0;

	memset(&r, 0, sizeof(r));
	/* volume climbing past the limit of 10, one message a second */
	for (v = 1; v <= 15; v++) {
		enum limit_state s = limit_decide(&r, v, 10, T0 + (double) v);

		approaching += s == LIMIT_APPROACHING;
		exceeded += s == LIMIT_EXCEEDED;
		if (v == 9)
			ck_assert_int_eq(s, LIMIT_APPROACHING);
		if (v == 10)
			ck_assert_int_eq(s, LIMIT_EXCEEDED);
	}
	ck_assert_int_eq(approaching, 1);
	ck_assert_int_eq(exceeded, 1);
	ck_assert_int_eq(r.state, LIMIT_EXCEEDED);
	/* falling back fires nothing */
	ck_assert_int_eq(limit_decide(&r, 9, 10, T0 + 100), LIMIT_OK);
	ck_assert_int_eq(r.state, LIMIT_APPROACHING);
	ck_assert_int_eq(limit_decide(&r, 2, 10, T0 + 200), LIMIT_OK);
	ck_assert_int_eq(r.state, LIMIT_OK);
	/* entered again within the hour: no event */
	ck_assert_int_eq(limit_decide(&r, 10, 10, T0 + 300), LIMIT_OK);
	ck_assert_int_eq(r.state, LIMIT_EXCEEDED);
	ck_assert_int_eq(limit_decide(&r, 0, 10, T0 + 400), LIMIT_OK);
	/* an hour after the last of each: they fire again */
	ck_assert_int_eq(limit_decide(&r, 9, 10, T0 + 9 + 3600), LIMIT_APPROACHING);
	/* within the hour of the last exceeded event (T0 + 10): none yet */
	ck_assert_int_eq(limit_decide(&r, 10, 10, T0 + 9.5 + 3600), LIMIT_OK);
	ck_assert_int_eq(limit_decide(&r, 9, 10, T0 + 9.7 + 3600), LIMIT_OK);
	ck_assert_int_eq(limit_decide(&r, 11, 10, T0 + 10 + 3600), LIMIT_EXCEEDED);
	/* straight from ok to exceeded fires exceeded only */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(limit_decide(&r, 50, 10, T0), LIMIT_EXCEEDED);
	ck_assert_int_eq(limit_decide(&r, 9, 10, T0 + 1), LIMIT_OK);
	/* no limit: never */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(limit_decide(&r, 1000, 0, T0), LIMIT_OK);
}
END_TEST

START_TEST(record_json)
{
	struct limit_record r, back;
	json_object *o;

	memset(&r, 0, sizeof(r));
	r.state = LIMIT_EXCEEDED;
	r.event_at[LIMIT_APPROACHING] = T0 + 0.5;
	r.event_at[LIMIT_EXCEEDED] = T0 + 1.25;
	o = limit_record_to_json(&r);
	ck_assert_int_eq(limit_record_from_json(o, &back), 0);
	ck_assert_int_eq(back.state, LIMIT_EXCEEDED);
	ck_assert(back.event_at[LIMIT_APPROACHING] == T0 + 0.5);
	ck_assert(back.event_at[LIMIT_EXCEEDED] == T0 + 1.25);
	json_object_put(o);
	o = json_tokener_parse("[1]");
	ck_assert_int_eq(limit_record_from_json(o, &back), -1);
	ck_assert_int_eq(back.state, LIMIT_OK);
	json_object_put(o);
	ck_assert_int_eq(limit_record_from_json(NULL, &back), -1);
}
END_TEST

START_TEST(settings)
{
	struct config *cfg = config_new();
	struct limit_settings ls;
	json_object *o;
	char err[120];

	cfg->send_limit_action = SEND_LIMIT_HOLD;
	ck_assert_int_eq(limit_settings_of(cfg, NULL, &ls, err, sizeof(err)), 0);
	ck_assert_uint_eq(ls.tenant_limit, 0);
	ck_assert_int_eq(ls.action, SEND_LIMIT_HOLD);
	o = json_tokener_parse("{\"send_limit\": 500, \"send_limit_action\": \"defer\"}");
	ck_assert_int_eq(limit_settings_of(cfg, o, &ls, err, sizeof(err)), 0);
	ck_assert_uint_eq(ls.tenant_limit, 500);
	ck_assert_int_eq(ls.action, SEND_LIMIT_DEFER);
	json_object_put(o);
	o = json_tokener_parse("{\"send_limit\": -1}");
	ck_assert_int_eq(limit_settings_of(cfg, o, &ls, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "send_limit must be a whole number >= 0");
	json_object_put(o);
	o = json_tokener_parse("{\"send_limit\": \"100\"}");
	ck_assert_int_eq(limit_settings_of(cfg, o, &ls, err, sizeof(err)), -1);
	json_object_put(o);
	o = json_tokener_parse("{\"send_limit\": 2.5}");
	ck_assert_int_eq(limit_settings_of(cfg, o, &ls, err, sizeof(err)), -1);
	json_object_put(o);
	o = json_tokener_parse("{\"send_limit\": 5, \"send_limit_action\": \"drop\"}");
	ck_assert_int_eq(limit_settings_of(cfg, o, &ls, err, sizeof(err)), -1);
	ck_assert_uint_eq(ls.tenant_limit, 0);
	ck_assert_str_eq(err, "send_limit_action must be report, hold or defer");
	json_object_put(o);
	config_free(cfg);
}
END_TEST

START_TEST(payload)
{
	json_object *p =
	    limit_event_payload("u-1", "mx.test", "shop", LIMIT_APPROACHING, 950, 1000);

	ck_assert_str_eq(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
			 "{\"server\":{\"uuid\":\"u-1\",\"name\":\"mx.test\"},"
			 "\"volume\":950,\"limit\":1000,\"tenant\":\"shop\","
			 "\"state\":\"approaching\"}");
	json_object_put(p);
	p = limit_event_payload("u-1", "mx.test", NULL, LIMIT_EXCEEDED, 10, 10);
	ck_assert_str_eq(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
			 "{\"server\":{\"uuid\":\"u-1\",\"name\":\"mx.test\"},"
			 "\"volume\":10,\"limit\":10,\"tenant\":null,"
			 "\"state\":\"exceeded\"}");
	json_object_put(p);
}
END_TEST

/* What the store tests do in their transactions. */
struct job {
	const struct config *cfg;
	double now;
	const char *tenant;
	uint64_t n;
	uint64_t volume;
	struct volume_bucket *b;
	size_t nb;
	size_t due;
	struct held_msg *held;
	size_t nheld;
	struct release_req *reqs;
	size_t nreqs;
	const char *qid;
	json_object *status;
	int rc;
};

static int
count_cb(struct store_txn *txn, void *arg)
{
	struct job *j = arg;

	return limit_count(txn, j->tenant, j->now, j->n);
}

static int
volume_cb(struct store_txn *txn, void *arg)
{
	struct job *j = arg;

	free(j->b);
	j->b = NULL;
	return limit_volume(txn, j->tenant ? j->tenant : "default", j->now, &j->volume)
		       != STORE_OK
		   ? STORE_ERROR
		   : volume_buckets(txn, j->tenant ? j->tenant : "default", 0, &j->b,
				    &j->nb);
}

static uint64_t
count(struct job *j, const char *tenant, double now, uint64_t n)
{
	j->tenant = tenant;
	j->now = now;
	j->n = n;
	ck_assert_int_eq(store_run(test_store, count_cb, j, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, volume_cb, j, 0), STORE_OK);
	return j->volume;
}

START_TEST(store_counters)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	ck_assert_uint_eq(count(&j, NULL, T0, 3), 3);
	ck_assert_uint_eq(count(&j, NULL, T0 + 30, 2), 5);
	ck_assert_uint_eq(j.nb, 1); /* one bucket for the minute */
	ck_assert_uint_eq(count(&j, NULL, T0 + 60 * 59, 1), 6);
	ck_assert_uint_eq(j.nb, 2);
	/* the hour moved on: the first minute left it and is pruned */
	ck_assert_uint_eq(count(&j, NULL, T0 + 60 * 60, 4), 5);
	ck_assert_uint_eq(j.nb, 2);
	ck_assert_uint_eq(j.b[0].minute, limit_minute(T0 + 60 * 59));
	/* another tenant has its own counters; the total has both */
	ck_assert_uint_eq(count(&j, "shop", T0 + 60 * 60, 7), 7);
	j.tenant = "*";
	ck_assert_int_eq(store_run(test_store, volume_cb, &j, 0), STORE_OK);
	ck_assert_uint_eq(j.volume, 5 + 7);
	free(j.b);
}
END_TEST

static int
hold_cb(struct store_txn *txn, void *arg)
{
	struct job *j = arg;

	return release_held_add(txn, j->qid, j->tenant, j->now);
}

static int
due_cb(struct store_txn *txn, void *arg)
{
	struct job *j = arg;

	release_held_free(j->held, j->nheld);
	release_reqs_free(j->reqs, j->nreqs);
	j->held = NULL;
	j->reqs = NULL;
	if ((j->rc = limit_release_due(txn, j->cfg, j->now, &j->due)) != STORE_OK)
		return j->rc;
	if ((j->rc = release_held_list(txn, &j->held, &j->nheld)) != STORE_OK)
		return j->rc;
	return release_pending(txn, &j->reqs, &j->nreqs);
}

static int
request_cb(struct store_txn *txn, void *arg)
{
	struct job *j = arg;

	j->rc = release_request(txn, j->qid, "api", j->now);
	return STORE_OK;
}

static int
done_cb(struct store_txn *txn, void *arg)
{
	struct job *j = arg;

	return release_done(txn, j->qid, 1, j->now, j->now - 10);
}

static int
status_cb(struct store_txn *txn, void *arg)
{
	struct job *j = arg;

	json_object_put(j->status);
	return limit_status(txn, j->cfg, j->now, &j->status);
}

static void
hold(struct job *j, const char *qid, const char *tenant, double at)
{
	j->qid = qid;
	j->tenant = tenant;
	j->now = at;
	ck_assert_int_eq(store_run(test_store, hold_cb, j, 0), STORE_OK);
}

START_TEST(store_releases)
{
	struct config *cfg = config_new();
	struct job j;
	json_object *t;

	memset(&j, 0, sizeof(j));
	cfg->send_limit = 5;
	j.cfg = cfg;
	count(&j, NULL, T0, 5); /* at the limit */
	hold(&j, "B2", NULL, T0 + 2);
	hold(&j, "A1", NULL, T0 + 1);
	hold(&j, "C3", NULL, T0 + 3);
	hold(&j, "D4", NULL, T0 + 4);
	/* nothing has room: all stay held, oldest first */
	j.now = T0 + 10;
	ck_assert_int_eq(store_run(test_store, due_cb, &j, 0), STORE_OK);
	ck_assert_uint_eq(j.due, 0);
	ck_assert_uint_eq(j.nheld, 4);
	ck_assert_str_eq(j.held[0].queue_id, "A1");
	ck_assert_str_eq(j.held[3].queue_id, "D4");
	ck_assert_int_eq(store_run(test_store, status_cb, &j, 0), STORE_OK);
	t = json_member(j.status, "total");
	ck_assert_int_eq(json_object_get_int(json_member(t, "volume")), 5);
	ck_assert_str_eq(json_string_member(t, "state"), "exceeded");
	ck_assert_int_eq(json_object_get_int(json_member(t, "held")), 4);
	/* the API asks for one that posthook did not hold: refused */
	j.qid = "ZZ9";
	ck_assert_int_eq(store_run(test_store, request_cb, &j, 0), STORE_OK);
	ck_assert_int_eq(j.rc, STORE_NOTFOUND);
	/* an hour on, the volume is 0: five may go, the oldest */
	j.now = T0 + 3600;
	count(&j, NULL, j.now, 2); /* two sent meanwhile: room for 3 */
	ck_assert_int_eq(store_run(test_store, due_cb, &j, 0), STORE_OK);
	ck_assert_uint_eq(j.due, 3);
	ck_assert_uint_eq(j.nheld, 1);
	ck_assert_str_eq(j.held[0].queue_id, "D4");
	ck_assert_uint_eq(j.nreqs, 3);
	ck_assert_str_eq(j.reqs[0].queue_id, "A1");
	ck_assert_str_eq(j.reqs[0].by, "limit");
	/* released messages are counted now */
	j.tenant = "*";
	ck_assert_int_eq(store_run(test_store, volume_cb, &j, 0), STORE_OK);
	ck_assert_uint_eq(j.volume, 5);
	/* requested twice: the second is refused */
	j.qid = "A1";
	ck_assert_int_eq(store_run(test_store, request_cb, &j, 0), STORE_OK);
	ck_assert_int_eq(j.rc, STORE_NOTFOUND);
	/* done ones leave the pending list */
	ck_assert_int_eq(store_run(test_store, done_cb, &j, 0), STORE_OK);
	j.now += 1;
	ck_assert_int_eq(store_run(test_store, due_cb, &j, 0), STORE_OK);
	ck_assert_uint_eq(j.nreqs, 2);
	ck_assert_str_eq(j.reqs[0].queue_id, "B2");
	release_held_free(j.held, j.nheld);
	release_reqs_free(j.reqs, j.nreqs);
	free(j.b);
	json_object_put(j.status);
	config_free(cfg);
}
END_TEST

START_TEST(store_tenant_limit)
{
	struct config *cfg = config_new();
	struct job j;

	memset(&j, 0, sizeof(j));
	j.cfg = cfg; /* no total limit */
	count(&j, "shop", T0, 3);
	hold(&j, "S1", "shop", T0 + 1);
	hold(&j, "O1", "other", T0 + 2);
	/* shop has no limit of its own: both go */
	j.now = T0 + 5;
	ck_assert_int_eq(store_run(test_store, due_cb, &j, 0), STORE_OK);
	ck_assert_uint_eq(j.due, 2);
	release_held_free(j.held, j.nheld);
	release_reqs_free(j.reqs, j.nreqs);
	free(j.b);
	json_object_put(j.status);
	config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("limit");
	TCase *tc = tcase_create("pure");
	TCase *ts = tcase_create("store");

	tcase_add_test(tc, window_sum);
	tcase_add_test(tc, states);
	tcase_add_test(tc, decide_once_per_state);
	tcase_add_test(tc, record_json);
	tcase_add_test(tc, settings);
	tcase_add_test(tc, payload);
	suite_add_tcase(s, tc);
	test_store_fixture(ts, "check_limit");
	tcase_add_test(ts, store_counters);
	tcase_add_test(ts, store_releases);
	tcase_add_test(ts, store_tenant_limit);
	suite_add_tcase(s, ts);
	return test_run_suite(s);
}
