/*
 * check_outbox.c - the outbox: an event queued once however often it is
 * read, taken in key order, and the sequence range it reserves, on a real
 * store in a temporary directory.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/outbox.h"
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

int
main(void)
{
	Suite *s = suite_create("outbox");
	TCase *tc = tcase_create("outbox");

	test_store_fixture(tc, "check_outbox");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, outbox_is_idempotent_and_ordered);
	tcase_add_test(tc, sequence_reserve_takes_a_range);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
