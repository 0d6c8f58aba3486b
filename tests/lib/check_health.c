/*
 * check_health.c - endpoint health: the breaker's pure decisions replayed
 * over a simulated week (the clock is an argument, nothing sleeps), and
 * in a real store parking, release oldest first, disable with its
 * WebhookDisabled event, enable with --discard, and the operational
 * events that "all events" does not include.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "health/breaker.h"
#include "health/health.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/outbox.h"
#include "store/store.h"
#include "util/util.h"

#include "testlib.h"

#define DAY (24 * 3600.0)

static const struct breaker_policy pol = {
	.failures = 10,
	.cooldown_ms = 60 * 1000,
	.cooldown_max_ms = 3600 * 1000,
	.disable_after_ms = (int64_t) (5 * DAY * 1000),
	.max_rate = 0,
};

START_TEST(verdicts)
{
	ck_assert_int_eq(breaker_verdict(200, NULL, 0), VERDICT_OK);
	ck_assert_int_eq(breaker_verdict(204, NULL, 0), VERDICT_OK);
	ck_assert_int_eq(breaker_verdict(410, "HTTP 410", 0), VERDICT_GONE);
	ck_assert_int_eq(breaker_verdict(429, "HTTP 429", 1), VERDICT_THROTTLED);
	ck_assert_int_eq(breaker_verdict(429, "HTTP 429", 0), VERDICT_FAILED);
	ck_assert_int_eq(breaker_verdict(503, "HTTP 503", 1), VERDICT_THROTTLED);
	ck_assert_int_eq(breaker_verdict(502, "HTTP 502", 0), VERDICT_THROTTLED);
	ck_assert_int_eq(breaker_verdict(504, "HTTP 504", 0), VERDICT_THROTTLED);
	ck_assert_int_eq(breaker_verdict(500, "HTTP 500", 1), VERDICT_FAILED);
	ck_assert_int_eq(breaker_verdict(0, "connection refused", 0), VERDICT_FAILED);
	ck_assert_int_eq(breaker_verdict(302, "HTTP 302", 0), VERDICT_FAILED);
}
END_TEST

/*
 * A receiver that answers down(now) (0: 2xx) and a sender that offers
 * it a delivery every `every` seconds for `span` seconds: what the
 * breaker lets through.  Counts attempts; stops at a disable.
 */
struct sim {
	int attempts, probes, opened, closed, parked;
	enum breaker_change last;
	double disabled_at;
};

static void
simulate(struct sim *s, double span, double every, int (*down)(double))
{
	struct breaker b;
	enum breaker_admit a;
	enum breaker_change ch;
	double t;
	int probe;

	memset(s, 0, sizeof(*s));
	breaker_init(&b);
	for (t = 0; t < span; t += every) {
		a = breaker_admit(&b, &pol, t, 0, 4, 1);
		if (a == ADMIT_PARK || a == ADMIT_LATER) {
			s->parked++;
			continue;
		}
		probe = a == ADMIT_PROBE;
		if (probe) {
			breaker_probe(&b, t);
			s->probes++;
		}
		s->attempts++;
		ch = breaker_record(
		    &b, &pol, t + 1, down(t) ? VERDICT_FAILED : VERDICT_OK, probe,
		    down(t) ? 0 : 200, down(t) ? "connection refused" : NULL, -1);
		s->opened += ch == BREAKER_OPENED;
		s->closed += ch == BREAKER_CLOSED_AGAIN;
		if (ch == BREAKER_DISABLE_FAILING || ch == BREAKER_DISABLE_GONE) {
			s->last = ch;
			s->disabled_at = t;
			return;
		}
	}
}

static int
always(double t)
{
	(void) t;
	return 1;
}

/* down for the first 2 days, then fine */
static int
two_days(double t)
{
	return t < 2 * DAY;
}

/* flapping: down 10 minutes of every 30 */
static int
flapping(double t)
{
	return ((long) t / 600) % 3 == 0;
}

/* fails every third attempt: never ten in a row */
static int
every_third(double t)
{
	return ((long) t / 10) % 3 == 0;
}

START_TEST(dead_for_a_week)
{
	struct sim s;

	/* a delivery every 10 s for a week */
	simulate(&s, 7 * DAY, 10, always);
	ck_assert_int_eq(s.last, BREAKER_DISABLE_FAILING);
	ck_assert(s.disabled_at >= 5 * DAY && s.disabled_at <= 5 * DAY + 3600 + 10);
	/*
	 * 10 attempts open it, then one probe per cooldown: 1, 2, 4, ... 32
	 * minutes, then hourly for five days: about 125 in all, not 43,000.
	 */
	ck_assert_int_eq(s.attempts, 10 + s.probes);
	ck_assert_int_eq(s.opened, s.probes); /* the first, and each probe but the last */
	ck_assert_int_le(s.attempts, 10 + 6 + 5 * 24 + 1);
	ck_assert_int_ge(s.attempts, 10 + 5 * 24 - 6);
	ck_assert_int_eq(s.closed, 0);
}
END_TEST

START_TEST(comes_back_by_itself)
{
	struct sim s;

	simulate(&s, 3 * DAY, 10, two_days);
	ck_assert_int_eq(s.disabled_at, 0);
	ck_assert_int_eq(s.closed, 1);
	ck_assert_int_eq(s.opened, s.probes); /* the last probe closed it */
	/* within an hour of its return everything goes again */
	ck_assert_int_ge(s.attempts, 10 + (int) (DAY / 10) - 400);
}
END_TEST

START_TEST(flapping_recovers)
{
	struct sim s;

	simulate(&s, 7 * DAY, 10, flapping);
	ck_assert_int_eq(s.disabled_at, 0); /* it never failed for five days */
	/* it came back after each of its 336 outages, at most 15 min late */
	ck_assert_int_ge(s.closed, 7 * 24 * 2 - 1);
	ck_assert_int_le(s.attempts, (int) (7 * DAY / 10));
	ck_assert_int_ge(s.attempts, (int) (7 * DAY / 10 / 2));
	simulate(&s, 7 * DAY, 10, every_third);
	ck_assert_int_eq(s.opened, 0); /* never ten failures in a row */
	ck_assert_int_eq(s.attempts, (int) (7 * DAY / 10));
}
END_TEST

START_TEST(cooldown_backs_off_to_an_hour)
{
	struct breaker b;
	double t = 0;
	int i;

	breaker_init(&b);
	for (i = 0; i < 9; i++)
		ck_assert_int_eq(
		    breaker_record(&b, &pol, t, VERDICT_FAILED, 0, 500, "HTTP 500", -1),
		    BREAKER_SAME);
	ck_assert_int_eq(
	    breaker_record(&b, &pol, t, VERDICT_FAILED, 0, 500, "HTTP 500", -1),
	    BREAKER_OPENED);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	ck_assert_int_eq(b.cooldown_ms, 60000);
	ck_assert_str_eq(b.last_error, "HTTP 500");
	ck_assert_int_eq(breaker_admit(&b, &pol, 59, 0, 4, 1), ADMIT_PARK);
	ck_assert_int_eq(breaker_admit(&b, &pol, 60, 1, 4, 1), ADMIT_PARK);
	ck_assert_int_eq(breaker_admit(&b, &pol, 60, 0, 4, 1), ADMIT_PROBE);
	ck_assert_int_eq(breaker_release(&b, &pol, 60, 0, 4, 5, 1), 1);
	ck_assert_int_eq(breaker_release(&b, &pol, 59, 0, 4, 5, 1), 0);
	for (i = 0; i < 10; i++) {
		t = b.probe_at;
		breaker_probe(&b, t);
		ck_assert_int_eq(breaker_admit(&b, &pol, t, 1, 4, 1), ADMIT_PARK);
		ck_assert_int_eq(
		    breaker_record(&b, &pol, t, VERDICT_FAILED, 1, 0, "timeout", -1),
		    BREAKER_OPENED);
	}
	ck_assert_int_eq(b.cooldown_ms, 3600 * 1000);
	/* a probe whose answer never came is sent again a minute on */
	t = b.probe_at;
	breaker_probe(&b, t);
	ck_assert_int_eq(breaker_admit(&b, &pol, t + 59, 0, 4, 1), ADMIT_PARK);
	ck_assert_int_eq(breaker_admit(&b, &pol, t + 60, 0, 4, 1), ADMIT_PROBE);
	ck_assert_int_eq(breaker_record(&b, &pol, t + 61, VERDICT_OK, 1, 200, NULL, -1),
			 BREAKER_CLOSED_AGAIN);
	ck_assert_int_eq(b.failures, 0);
	ck_assert(b.failing_since == 0);
	/* closed: the parked go at twice the cap, less what is under way */
	ck_assert_int_eq(breaker_release(&b, &pol, t + 62, 0, 4, 100, 1), 8);
	ck_assert_int_eq(breaker_release(&b, &pol, t + 62, 6, 4, 100, 1), 2);
	ck_assert_int_eq(breaker_release(&b, &pol, t + 62, 9, 4, 100, 1), 0);
	ck_assert_int_eq(breaker_release(&b, &pol, t + 62, 0, 4, 3, 1), 3);
	ck_assert_int_eq(breaker_release(&b, &pol, t + 62, 0, 4, 3, 0), 0);
}
END_TEST

START_TEST(gone_disables_at_once)
{
	struct breaker b;

	breaker_init(&b);
	ck_assert_int_eq(
	    breaker_record(&b, &pol, 5, VERDICT_GONE, 0, 410, "HTTP 410", -1),
	    BREAKER_DISABLE_GONE);
	ck_assert_int_eq(b.state, BREAKER_DISABLED);
	ck_assert_int_eq(breaker_admit(&b, &pol, 6, 0, 4, 1), ADMIT_PARK);
	ck_assert_int_eq(breaker_release(&b, &pol, 6, 0, 4, 10, 1), 0);
	/* a straggler's success does not undo it: an admin enables */
	ck_assert_int_eq(breaker_record(&b, &pol, 7, VERDICT_OK, 0, 200, NULL, -1),
			 BREAKER_SAME);
	ck_assert_int_eq(b.state, BREAKER_DISABLED);
	breaker_reset(&b);
	ck_assert_int_eq(breaker_admit(&b, &pol, 8, 0, 4, 1), ADMIT_SEND);
}
END_TEST

START_TEST(throttled_slows_down)
{
	struct breaker b;

	breaker_init(&b);
	ck_assert_int_eq(
	    breaker_record(&b, &pol, 100, VERDICT_THROTTLED, 0, 429, "HTTP 429", 30000),
	    BREAKER_SAME);
	ck_assert_int_eq(b.slow, 1);
	ck_assert(b.slow_until == 130);
	ck_assert_int_eq(breaker_delay(&b, 100, 30000), 30000);
	ck_assert_int_eq(breaker_delay(&b, 110, -1), 20000);
	/* a long pause parks, a short one leaves the delivery due */
	ck_assert_int_eq(breaker_admit(&b, &pol, 110, 0, 4, 1), ADMIT_PARK);
	ck_assert_int_eq(breaker_admit(&b, &pol, 129, 0, 4, 1), ADMIT_LATER);
	ck_assert_int_eq(breaker_release(&b, &pol, 120, 0, 4, 10, 1), 0);
	/* after it: half the requests in flight */
	ck_assert_int_eq(breaker_cap(&b, 4), 2);
	ck_assert_int_eq(breaker_admit(&b, &pol, 131, 1, 4, 1), ADMIT_SEND);
	ck_assert_int_eq(breaker_admit(&b, &pol, 131, 2, 4, 1), ADMIT_LATER);
	ck_assert_int_eq(breaker_release(&b, &pol, 131, 0, 4, 10, 1), 4);
	/* 502 without Retry-After: a pause of 2 s << slow, capped at an hour */
	breaker_record(&b, &pol, 200, VERDICT_THROTTLED, 0, 502, "HTTP 502", -1);
	ck_assert_int_eq(b.slow, 2);
	ck_assert(b.slow_until == 204);
	breaker_record(&b, &pol, 300, VERDICT_THROTTLED, 0, 503, "HTTP 503",
		       86400 * 1000LL);
	ck_assert(b.slow_until == 300 + 3600);
	/* successes speed it up again, one step each */
	breaker_record(&b, &pol, 4000, VERDICT_OK, 0, 200, NULL, -1);
	ck_assert_int_eq(b.slow, 2);
	ck_assert_int_eq(b.failures, 0);
}
END_TEST

START_TEST(max_rate_spaces_requests)
{
	struct breaker_policy p = pol;
	struct breaker b;
	int sent = 0;
	double t;

	p.max_rate = 5;
	breaker_init(&b);
	for (t = 0; t < 10; t += 0.01)
		if (breaker_admit(&b, &p, t, 0, 4, 1) == ADMIT_SEND) {
			breaker_sent(&b, &p, t);
			sent++;
		}
	ck_assert_int_ge(sent, 49);
	ck_assert_int_le(sent, 51);
}
END_TEST

START_TEST(record_round_trip)
{
	struct breaker b, back;
	json_object *o;

	breaker_init(&b);
	b.state = BREAKER_OPEN;
	b.failures = 12;
	b.failing_since = 1796637660.25;
	b.cooldown_ms = 240000;
	b.probe_at = 1796637900.5;
	b.slow = 2;
	b.last_status = 503;
	snprintf(b.last_error, sizeof(b.last_error), "HTTP 503");
	o = breaker_to_json(&b);
	breaker_from_json(&back, o);
	json_object_put(o);
	ck_assert_int_eq(back.state, BREAKER_OPEN);
	ck_assert_int_eq(back.failures, 12);
	ck_assert(back.failing_since == 1796637660.25);
	ck_assert_int_eq(back.cooldown_ms, 240000);
	ck_assert(back.probe_at == 1796637900.5);
	ck_assert_int_eq(back.slow, 2);
	ck_assert_int_eq(back.last_status, 503);
	ck_assert_str_eq(back.last_error, "HTTP 503");
	ck_assert_str_eq(breaker_state_name(BREAKER_PROBING), "probing");
}
END_TEST

START_TEST(operational_events_named_only)
{
	struct endpoint *ep = endpoint_new();
	uint32_t mask;
	char err[512];

	ep->all_events = 1;
	ck_assert(endpoint_wants(ep, EV_MESSAGE_SENT));
	ck_assert(endpoint_wants(ep, EV_SEND_LIMIT));
	ck_assert(!endpoint_wants(ep, EV_WEBHOOK_DISABLED));
	ck_assert(!endpoint_wants(ep, EV_DELIVERY_EXHAUSTED));
	ck_assert_int_eq(endpoint_parse_events("WebhookDisabled,DeliveryExhausted", &mask,
					       err, sizeof(err)),
			 0);
	ep->events = mask;
	ck_assert(endpoint_wants(ep, EV_WEBHOOK_DISABLED));
	ck_assert(endpoint_wants(ep, EV_DELIVERY_EXHAUSTED));
	ck_assert(event_type_operational(EV_DELIVERY_EXHAUSTED));
	ck_assert(!event_type_operational(EV_MESSAGE_BOUNCED));
	ck_assert_uint_eq(ENDPOINT_ALL_EVENTS & (1u << EV_WEBHOOK_DISABLED), 0);
	endpoint_free(ep);
}
END_TEST

/* The store part: endpoints 1 (dead), 2 (names WebhookDisabled), 3 (all). */
struct fx {
	int events, deliveries, count;
	struct due_entry *due;
	int ndue;
	struct parked_count *pc;
	int npc;
	struct outbox_event **evs;
	int nev;
	uint64_t first;
};

static int
setup_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;
	struct endpoint *ep;
	json_object *p;
	char key[16];
	int i, rc = STORE_OK;

	for (i = 1; rc == STORE_OK && i <= 3; i++) {
		ep = endpoint_new();
		ep->name = xasprintf("hook %d", i);
		ep->url = xstrdup("http://127.0.0.1:9/x");
		if (i == 2)
			ep->events =
			    (1u << EV_WEBHOOK_DISABLED) | (1u << EV_MESSAGE_HELD);
		else if (i == 1)
			ep->events = 1u << EV_MESSAGE_SENT;
		else
			ep->all_events = 1;
		rc = endpoint_create(txn, ep);
		endpoint_free(ep);
	}
	for (i = 0; rc == STORE_OK && i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		p = json_object_new_object();
		rc = outbox_add(txn, key, EV_MESSAGE_SENT, 1705312200 + i, p, "1");
		json_object_put(p);
	}
	if (rc == STORE_OK)
		rc = delivery_fanout(txn, 100, 0, &f->events, &f->deliveries);
	return rc;
}

static int
park_all_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;
	struct delivery *d;
	int i, rc;

	free(f->due);
	rc = delivery_due_ids(txn, INT64_MAX / 2, 100, &f->due, &f->ndue);
	f->first = f->ndue > 0 ? f->due[0].id : 0;
	for (i = 0; rc == STORE_OK && i < f->ndue; i++) {
		rc = delivery_get(txn, f->due[i].id, &d);
		if (rc == STORE_OK)
			rc = delivery_park(txn, d);
		delivery_free(d);
	}
	return rc;
}

static int
look_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;
	int rc;

	free(f->due);
	free(f->pc);
	rc = delivery_due_ids(txn, INT64_MAX / 2, 100, &f->due, &f->ndue);
	if (rc == STORE_OK)
		rc = delivery_parked(txn, &f->pc, &f->npc);
	return rc;
}

static int
unpark_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	return delivery_unpark(txn, "1", 2, &f->count);
}

static int
disable_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	return endpoint_disable(txn, "1", DISABLED_GONE, &f->count);
}

static int
enable_discard_cb(struct store_txn *txn, void *arg)
{
	struct fx *f = arg;

	return endpoint_enable(txn, "1", ENABLE_DISCARD, &f->count);
}

START_TEST(park_release_disable_enable)
{
	struct fx f;
	json_object *v, *w;

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(store_run(test_store, setup_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.deliveries, 5);
	ck_assert_int_eq(store_run(test_store, park_all_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.ndue, 5);
	ck_assert_int_eq(store_run(test_store, look_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.ndue, 0); /* parked: never due */
	ck_assert_int_eq(f.npc, 1);
	ck_assert_str_eq(f.pc[0].endpoint_id, "1");
	ck_assert_int_eq(f.pc[0].count, 5);
	/* two go again, the oldest */
	ck_assert_int_eq(store_run(test_store, unpark_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.count, 2);
	ck_assert_int_eq(store_run(test_store, look_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.ndue, 2);
	ck_assert_uint_eq(f.due[0].id, f.first);
	ck_assert_int_eq(f.pc[0].count, 3);
	/* disabled (gone): WebhookDisabled for endpoint 2 only */
	ck_assert_int_eq(store_run(test_store, disable_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.count, 1);
	ck_assert_int_eq(test_outbox_take(test_store, 10, &f.evs, &f.nev), STORE_OK);
	ck_assert_int_eq(f.nev, 1);
	ck_assert_int_eq(f.evs[0]->type, EV_WEBHOOK_DISABLED);
	ck_assert_str_eq(f.evs[0]->endpoint_id, "2");
	ck_assert(json_object_object_get_ex(f.evs[0]->payload, "webhook", &w));
	ck_assert(json_object_object_get_ex(w, "id", &v));
	ck_assert_str_eq(json_object_get_string(v), "1");
	ck_assert(json_object_object_get_ex(f.evs[0]->payload, "reason", &v));
	ck_assert_str_eq(json_object_get_string(v), "gone");
	outbox_events_free(f.evs, f.nev);
	/* enabled with --discard: the three parked are failed, none waits */
	ck_assert_int_eq(store_run(test_store, enable_discard_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.count, 3);
	ck_assert_int_eq(store_run(test_store, look_cb, &f, 0), STORE_OK);
	ck_assert_int_eq(f.npc, 0);
	ck_assert_int_eq(f.ndue, 2);
	free(f.due);
	free(f.pc);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("breaker");
	TCase *ts = tcase_create("store");

	tcase_add_test(tc, verdicts);
	tcase_add_test(tc, dead_for_a_week);
	tcase_add_test(tc, comes_back_by_itself);
	tcase_add_test(tc, flapping_recovers);
	tcase_add_test(tc, cooldown_backs_off_to_an_hour);
	tcase_add_test(tc, gone_disables_at_once);
	tcase_add_test(tc, throttled_slows_down);
	tcase_add_test(tc, max_rate_spaces_requests);
	tcase_add_test(tc, record_round_trip);
	tcase_add_test(tc, operational_events_named_only);
	suite_add_tcase(s, tc);
	test_store_fixture(ts, "check_health");
	tcase_add_test(ts, park_release_disable_enable);
	suite_add_tcase(s, ts);
	return test_run_suite(s);
}
