/*
 * check_outbox.c - the outbox: an event queued once however often it is
 * read, taken in key order, and the sequence range it reserves; events
 * stored many to a record, taken across records and partly out of one,
 * beside the one-event records of the previous release; damaged records;
 * the high-water marks.  On a real store in a temporary directory.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/outbox.h"
#include "util/json.h"
#include "util/util.h"

#include "testlib.h"

struct take_ctx {
	struct outbox_event **evs;
	int n;
	long depth;
};

/* depth - the number of events queued */
static int
depth(struct store_txn *txn, void *arg)
{
	struct take_ctx *t = arg;

	return outbox_depth(txn, &t->depth);
}

START_TEST(outbox_is_idempotent_and_ordered)
{
	static const char *const keys[] = { "f:zz:300:1", "f:aa:100:1", "f:mm:200:2" };
	struct take_ctx t = { NULL, 0, 0 };
	size_t i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(
		    test_outbox_add(test_store, keys[i], i == 2 ? "wh_1" : NULL),
		    STORE_OK);
	/* The same event read twice is not queued twice. */
	ck_assert_int_eq(test_outbox_add(test_store, keys[1], "wh_1"), STORE_EXISTS);
	ck_assert_int_eq(store_run(test_store, depth, &t, 0), STORE_OK);
	ck_assert_int_eq(t.depth, 3);

	ck_assert_int_eq(test_outbox_take(test_store, 10, &t.evs, &t.n), STORE_OK);
	ck_assert_int_eq(t.n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_str_eq(t.evs[i]->key, keys[i]);
		ck_assert_int_eq(t.evs[i]->type, EV_MESSAGE_SENT);
	}
	ck_assert_ptr_null(t.evs[0]->endpoint_id);
	ck_assert_str_eq(t.evs[2]->endpoint_id, "wh_1");
	ck_assert_str_eq(
	    json_object_get_string(json_object_object_get(t.evs[0]->payload, "status")),
	    "Sent");
	outbox_events_free(t.evs, t.n);
	ck_assert_int_eq(store_run(test_store, depth, &t, 0), STORE_OK);
	ck_assert_int_eq(t.depth, 0);

	/* Taken and gone, but still seen: no second queueing. */
	ck_assert_int_eq(test_outbox_add(test_store, keys[0], "wh_1"), STORE_EXISTS);
}
END_TEST

struct seq_ctx {
	uint64_t first, next;
};

/* reserve_then_next - reserve five values, then draw the next one */
static int
reserve_then_next(struct store_txn *txn, void *arg)
{
	struct seq_ctx *q = arg;
	int status = store_seq_reserve(txn, "check", 5, &q->first);

	return status == STORE_OK ? store_seq_next(txn, "check", &q->next) : status;
}

START_TEST(sequence_reserve_takes_a_range)
{
	struct seq_ctx q = { 0, 0 };

	ck_assert_int_eq(store_run(test_store, reserve_then_next, &q, 0), STORE_OK);
	ck_assert_int_eq(q.first, 1);
	ck_assert_int_eq(q.next, 6);
	ck_assert_int_eq(store_run(test_store, reserve_then_next, &q, 0), STORE_OK);
	ck_assert_int_eq(q.first, 7);
	ck_assert_int_eq(q.next, 12);
}
END_TEST

#define NFRESH 150

struct fresh_ctx {
	char keys[NFRESH][32];
	char payloads[NFRESH][48];
	struct outbox_item items[NFRESH];
	long records;
};

/* add_fresh - the NFRESH events of f, no seen keys, then one by key */
static int
add_fresh(struct store_txn *txn, void *arg)
{
	struct fresh_ctx *f = arg;
	json_object *p = json_object_new_object();
	int rc;

	json_object_object_add(p, "n", json_object_new_int(-1));
	rc = outbox_add_fresh(txn, f->items, NFRESH);
	if (rc == STORE_OK)
		rc = outbox_add(txn, "by-key", EV_MESSAGE_HELD, 3.5, p, NULL);
	json_object_put(p);
	return rc;
}

/* count_records - the stored records (not events) of the outbox */
static int
count_records(struct store_txn *txn, void *arg)
{
	struct fresh_ctx *f = arg;
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int rc;

	f->records = 0;
	if ((rc = store_cursor_open(txn, STORE_OUTBOX, &c)) != STORE_OK)
		return rc;
	while ((rc = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK)
		f->records++;
	store_cursor_close(c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* seen_of - is key remembered in STORE_EVENTS_SEEN */
static int
seen_of(struct store_txn *txn, void *arg)
{
	void *v;
	size_t vl;
	int rc = store_get(txn, STORE_EVENTS_SEEN, arg, strlen(arg), &v, &vl);

	if (rc == STORE_OK)
		free(v);
	return rc;
}

START_TEST(batches_are_taken_in_order_across_records)
{
	static struct fresh_ctx f;
	struct take_ctx t = { NULL, 0, 0 };
	int i, got = 0;

	for (i = 0; i < NFRESH; i++) {
		snprintf(f.keys[i], sizeof(f.keys[i]), "F/abc/%d/r", i);
		snprintf(f.payloads[i], sizeof(f.payloads[i]),
			 "{\"n\":%d,\"s\":\"a\\/b\"}", i);
		f.items[i].key = f.keys[i];
		f.items[i].type = EV_MESSAGE_SENT;
		f.items[i].timestamp = 1700000000.5 + i;
		f.items[i].payload = f.payloads[i];
		f.items[i].payload_len = strlen(f.payloads[i]);
		f.items[i].tenant = i % 7 == 0 ? "shop" : NULL;
		f.items[i].endpoint_id = i % 11 == 0 ? "wh_1" : NULL;
	}
	ck_assert_int_eq(store_run(test_store, add_fresh, &f, 0), STORE_OK);
	/* 64 + 64 + 22 events, and the one added by key. */
	ck_assert_int_eq(store_run(test_store, count_records, &f, 0), STORE_OK);
	ck_assert_int_eq(f.records, 4);
	ck_assert_int_eq(store_run(test_store, depth, &t, 0), STORE_OK);
	ck_assert_int_eq(t.depth, NFRESH + 1);
	ck_assert_int_eq(store_run(test_store, seen_of, (void *) f.keys[0], 0),
			 STORE_NOTFOUND);
	ck_assert_int_eq(store_run(test_store, seen_of, (void *) "by-key", 0), STORE_OK);

	/* Takes of 50 end inside records: the rest stays, in order. */
	while (got < NFRESH + 1) {
		ck_assert_int_eq(test_outbox_take(test_store, 50, &t.evs, &t.n),
				 STORE_OK);
		ck_assert_int_eq(t.n, got + 50 <= NFRESH + 1 ? 50 : NFRESH + 1 - got);
		for (i = 0; i < t.n; i++, got++) {
			struct outbox_event *e = t.evs[i];

			if (got == NFRESH) {
				ck_assert_str_eq(e->key, "by-key");
				ck_assert_int_eq(e->type, EV_MESSAGE_HELD);
				continue;
			}
			ck_assert_str_eq(e->key, f.keys[got]);
			ck_assert_int_eq(e->type, EV_MESSAGE_SENT);
			ck_assert(e->timestamp == 1700000000.5 + got);
			ck_assert_int_eq(
			    json_object_get_int(json_object_object_get(e->payload, "n")),
			    got);
			ck_assert_str_eq(json_object_get_string(
					     json_object_object_get(e->payload, "s")),
					 "a/b");
			if (got % 7 == 0)
				ck_assert_str_eq(e->tenant, "shop");
			else
				ck_assert_ptr_null(e->tenant);
			if (got % 11 == 0)
				ck_assert_str_eq(e->endpoint_id, "wh_1");
			else
				ck_assert_ptr_null(e->endpoint_id);
		}
		outbox_events_free(t.evs, t.n);
		ck_assert_int_eq(store_run(test_store, depth, &t, 0), STORE_OK);
		ck_assert_int_eq(t.depth, NFRESH + 1 - got);
	}
	ck_assert_int_eq(test_outbox_take(test_store, 50, &t.evs, &t.n), STORE_OK);
	ck_assert_int_eq(t.n, 0);
	outbox_events_free(t.evs, t.n);
}
END_TEST

/* put_old - two records as the previous release stored them */
static int
put_old(struct store_txn *txn, void *arg)
{
	static const char *const rec[] = {
		"{\"key\":\"old-1\",\"event\":\"MessageSent\",\"timestamp\":1.5,"
		"\"payload\":{\"v\":1}}",
		"{\"key\":\"old-2\",\"event\":\"MessageBounced\",\"timestamp\":2,"
		"\"payload\":{\"v\":2},\"endpoint\":\"wh_2\",\"tenant\":\"blog\"}",
	};
	unsigned char k[8] = { 0 };
	uint64_t seq;
	int rc, i;

	(void) arg;
	if ((rc = store_seq_reserve(txn, "outbox", 2, &seq)) != STORE_OK)
		return rc;
	for (i = 0; i < 2 && rc == STORE_OK; i++) {
		k[7] = (unsigned char) (seq + (uint64_t) i);
		rc = store_put(txn, STORE_OUTBOX, k, sizeof(k), rec[i], strlen(rec[i]));
	}
	return rc;
}

START_TEST(records_of_the_previous_release_are_read)
{
	struct take_ctx t = { NULL, 0, 0 };

	ck_assert_int_eq(store_run(test_store, put_old, NULL, 0), STORE_OK);
	ck_assert_int_eq(test_outbox_add(test_store, "new-1", NULL), STORE_OK);
	ck_assert_int_eq(store_run(test_store, depth, &t, 0), STORE_OK);
	ck_assert_int_eq(t.depth, 3);
	ck_assert_int_eq(test_outbox_take(test_store, 10, &t.evs, &t.n), STORE_OK);
	ck_assert_int_eq(t.n, 3);
	ck_assert_str_eq(t.evs[0]->key, "old-1");
	ck_assert_str_eq(t.evs[1]->key, "old-2");
	ck_assert_int_eq(t.evs[1]->type, EV_MESSAGE_BOUNCED);
	ck_assert_str_eq(t.evs[1]->endpoint_id, "wh_2");
	ck_assert_str_eq(t.evs[1]->tenant, "blog");
	ck_assert_int_eq(
	    json_object_get_int(json_object_object_get(t.evs[1]->payload, "v")), 2);
	ck_assert_str_eq(t.evs[2]->key, "new-1");
	outbox_events_free(t.evs, t.n);
}
END_TEST

START_TEST(damaged_records_are_refused)
{
	static const unsigned char two[] = { 'B', 0,   0, 0, 2, 0, 0,	0,   2,
					     '{', '}', 0, 0, 0, 3, '{', ' ', '}' };
	struct outbox_slice ev[OUTBOX_RECORD_MAX];
	unsigned char bad[sizeof(two) + 1];

	ck_assert_int_eq(outbox_record_events(two, sizeof(two), ev, OUTBOX_RECORD_MAX),
			 2);
	ck_assert_int_eq(ev[0].len, 2);
	ck_assert_int_eq(memcmp(ev[1].text, "{ }", 3), 0);
	ck_assert_int_eq(outbox_record_events(two, sizeof(two), NULL, 0), 2);
	ck_assert_int_eq(outbox_record_events("{\"key\":1}", 9, ev, 1), 1);
	ck_assert_int_eq(ev[0].len, 9);
	/* Cut short, too long, no events, too many, unknown form. */
	ck_assert_int_eq(outbox_record_events(two, sizeof(two) - 1, ev, 2), -1);
	memcpy(bad, two, sizeof(two));
	bad[sizeof(two)] = '}';
	ck_assert_int_eq(outbox_record_events(bad, sizeof(bad), ev, 2), -1);
	ck_assert_int_eq(outbox_record_events("B\0\0\0\0", 5, ev, 2), -1);
	ck_assert_int_eq(outbox_record_events("B\0\0\1\0", 5, ev, 2), -1);
	ck_assert_int_eq(outbox_record_events("B\0\0", 3, ev, 2), -1);
	ck_assert_int_eq(outbox_record_events("", 0, ev, 2), -1);
	ck_assert_int_eq(outbox_record_events("[1]", 3, ev, 2), -1);
	memcpy(bad, two, sizeof(two));
	bad[11] = 0x80; /* the second event's length past the end */
	ck_assert_int_eq(outbox_record_events(bad, sizeof(two), ev, 2), -1);
}
END_TEST

/* damaged_then_good - a damaged record, then a good event */
static int
damaged_then_good(struct store_txn *txn, void *arg)
{
	unsigned char k[8] = { 0 }; /* before the first sequence number */

	(void) arg;
	return store_put(txn, STORE_OUTBOX, k, sizeof(k), "B\0\0\0\7xx", 7);
}

START_TEST(a_damaged_record_is_dropped_not_fatal)
{
	struct take_ctx t = { NULL, 0, 0 };

	ck_assert_int_eq(store_run(test_store, damaged_then_good, NULL, 0), STORE_OK);
	ck_assert_int_eq(test_outbox_add(test_store, "good", NULL), STORE_OK);
	ck_assert_int_eq(store_run(test_store, depth, &t, 0), STORE_OK);
	ck_assert_int_eq(t.depth, 1);
	ck_assert_int_eq(test_outbox_take(test_store, 10, &t.evs, &t.n), STORE_OK);
	ck_assert_int_eq(t.n, 1);
	ck_assert_str_eq(t.evs[0]->key, "good");
	outbox_events_free(t.evs, t.n);
}
END_TEST

struct mark_ctx {
	uint64_t offset;
	int count;
};

/* mark_get - F/abc's mark */
static int
mark_get(struct store_txn *txn, void *arg)
{
	struct mark_ctx *m = arg;

	return outbox_mark_get(txn, "F/abc", &m->offset);
}

/* mark_put - F/abc's mark to m->offset */
static int
mark_put(struct store_txn *txn, void *arg)
{
	struct mark_ctx *m = arg;

	return outbox_mark_put(txn, "F/abc", m->offset);
}

/* purge_all_seen - forget every seen key and mark */
static int
purge_all_seen(struct store_txn *txn, void *arg)
{
	struct mark_ctx *m = arg;

	return outbox_purge_seen(txn, now_seconds() + 10, 100, &m->count);
}

START_TEST(marks_are_kept_and_purged)
{
	struct mark_ctx m = { 0, 0 };
	uint64_t off;

	ck_assert_int_eq(store_run(test_store, mark_get, &m, 0), STORE_NOTFOUND);
	m.offset = 18446744073709551615ULL;
	ck_assert_int_eq(store_run(test_store, mark_put, &m, 0), STORE_OK);
	m.offset = 0;
	ck_assert_int_eq(store_run(test_store, mark_get, &m, 0), STORE_OK);
	ck_assert(m.offset == 18446744073709551615ULL);
	ck_assert_int_eq(outbox_mark_parse("1.5 42", 6, &off), 0);
	ck_assert(off == 42);
	ck_assert_int_eq(outbox_mark_parse("1.5", 3, &off), -1);
	ck_assert_int_eq(outbox_mark_parse("1.5 -4", 6, &off), -1);
	ck_assert_int_eq(outbox_mark_parse("1.5 4x", 6, &off), -1);
	ck_assert_int_eq(outbox_mark_parse("1.5 ", 4, &off), -1);
	ck_assert_int_eq(store_run(test_store, purge_all_seen, &m, 0), STORE_OK);
	ck_assert_int_eq(m.count, 1);
	ck_assert_int_eq(store_run(test_store, mark_get, &m, 0), STORE_NOTFOUND);
}
END_TEST

START_TEST(a_mark_comes_from_old_seen_keys)
{
	static const char *const keys[] = { "F/abc/100/r", "F/abc/99/x",  "F/abcd/5000/r",
					    "F/abc/x",	   "F/ab/7000/r", "F/abc/" };
	struct mark_ctx m = { 0, 0 };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_int_eq(test_outbox_add(test_store, keys[i], NULL), STORE_OK);
	ck_assert_int_eq(store_run(test_store, mark_get, &m, 0), STORE_OK);
	ck_assert(m.offset == 101);
	/* A mark stored wins over them. */
	m.offset = 50;
	ck_assert_int_eq(store_run(test_store, mark_put, &m, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, mark_get, &m, 0), STORE_OK);
	ck_assert(m.offset == 50);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("outbox");
	TCase *tc = tcase_create("outbox");

	test_store_fixture(tc, "check_outbox");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, outbox_is_idempotent_and_ordered);
	tcase_add_test(tc, sequence_reserve_takes_a_range);
	tcase_add_test(tc, batches_are_taken_in_order_across_records);
	tcase_add_test(tc, records_of_the_previous_release_are_read);
	tcase_add_test(tc, damaged_records_are_refused);
	tcase_add_test(tc, a_damaged_record_is_dropped_not_fatal);
	tcase_add_test(tc, marks_are_kept_and_purged);
	tcase_add_test(tc, a_mark_comes_from_old_seen_keys);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
