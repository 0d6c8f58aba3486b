/*
 * check_records.c - message records, the outbox and retention purging,
 * on a real store in a temporary directory.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "store/message.h"
#include "store/outbox.h"
#include "store/retention.h"
#include "util/util.h"

#include "testlib.h"

struct put_ctx {
	const char *qid;
	const char *token;
	double  when;
	uint64_t id;
};

/* put_message - store a record under the next id (in p->id) */
static int
put_message(struct put_ctx *p)
{
	struct message_record *r = message_record_new();
	int status;

	r->queue_id = xstrdup(p->qid);
	r->token = xstrdup(p->token);
	r->from = xstrdup("app@example.com");
	r->subject = xstrdup("Grüße");
	r->timestamp = p->when;
	r->tag = xstrdup("welcome");
	r->metadata = json_tokener_parse("{\"user_id\":\"42\"}");
	message_record_add_recipient(r, "a@example.net");
	message_record_add_recipient(r, "b@example.net");
	status = test_message_put(test_store, r);
	p->id = r->id;
	message_record_free(r);
	return status;
}

/* lookup - the record a key finds, or NULL */
static struct message_record *
lookup(const char *key)
{
	return test_message_find(test_store, message_get, key);
}

START_TEST(message_put_and_find_three_ways)
{
	struct put_ctx p = { "4XyZabc1z2", "tok0123456789abcdefghij", 1700000000.5, 0 };
	struct message_record *r;
	char idtext[32];

	ck_assert_int_eq(put_message(&p), STORE_OK);
	ck_assert_int_eq(p.id, 1);
	snprintf(idtext, sizeof(idtext), "%llu", (unsigned long long) p.id);
	r = lookup("4XyZabc1z2");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->token, p.token);
	ck_assert_str_eq(r->subject, "Grüße");
	ck_assert_str_eq(r->recipients[1], "b@example.net");
	ck_assert_ptr_null(r->recipients[2]);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(r->metadata, "user_id")),
			 "42");
	message_record_free(r);
	r = lookup(p.token);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->queue_id, "4XyZabc1z2");
	message_record_free(r);
	r = lookup(idtext);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->queue_id, "4XyZabc1z2");
	message_record_free(r);
	ck_assert_ptr_null(lookup("NOSUCHQID"));
}
END_TEST

struct rekey_ctx {
	const char *token;
	const char *qid;
};

static int
rekey(struct store_txn *txn, void *arg)
{
	struct rekey_ctx *k = arg;

	return message_rekey(txn, k->token, k->qid);
}

START_TEST(rekey_moves_the_record)
{
	struct put_ctx p = { "OLDQID1", "tokenrekeyabcdefghijkl", 1700000000, 0 };
	struct rekey_ctx k = { "tokenrekeyabcdefghijkl", "NEWQID2" };
	struct message_record *r;

	ck_assert_int_eq(put_message(&p), STORE_OK);
	ck_assert_int_eq(store_run(test_store, rekey, &k, 0), STORE_OK);
	ck_assert_ptr_null(lookup("OLDQID1"));
	r = lookup("NEWQID2");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->id, p.id);
	message_record_free(r);
	r = lookup(k.token);
	ck_assert_str_eq(r->queue_id, "NEWQID2");
	message_record_free(r);
}
END_TEST

struct add_ctx {
	const char *key;
	const char *endpoint;
	int     status;
};

static int
add_event(struct store_txn *txn, void *arg)
{
	struct add_ctx *a = arg;
	json_object *payload = json_tokener_parse("{\"status\":\"Sent\"}");

	a->status = outbox_add(txn, a->key, EV_MESSAGE_SENT, 1700000000.25, payload,
			       a->endpoint);
	json_object_put(payload);
	return a->status == STORE_EXISTS ? STORE_OK : a->status;
}

struct take_ctx {
	struct outbox_event **evs;
	int     n;
	long    depth;
};

static int
depth(struct store_txn *txn, void *arg)
{
	struct take_ctx *t = arg;

	return outbox_depth(txn, &t->depth);
}

START_TEST(outbox_is_idempotent_and_ordered)
{
	static const char *const keys[] = { "f:zz:300:1", "f:aa:100:1", "f:mm:200:2" };
	struct add_ctx a;
	struct take_ctx t = { NULL, 0, 0 };
	size_t i;

	for (i = 0; i < 3; i++) {
		a.key = keys[i];
		a.endpoint = i == 2 ? "wh_1" : NULL;
		ck_assert_int_eq(store_run(test_store, add_event, &a, 0), STORE_OK);
		ck_assert_int_eq(a.status, STORE_OK);
	}
	/* The same event read twice is not queued twice. */
	a.key = keys[1];
	ck_assert_int_eq(store_run(test_store, add_event, &a, 0), STORE_OK);
	ck_assert_int_eq(a.status, STORE_EXISTS);
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
	ck_assert_str_eq(json_object_get_string(json_object_object_get(t.evs[0]->payload,
								       "status")), "Sent");
	outbox_events_free(t.evs, t.n);
	ck_assert_int_eq(store_run(test_store, depth, &t, 0), STORE_OK);
	ck_assert_int_eq(t.depth, 0);

	/* Taken and gone, but still seen: no second queueing. */
	a.key = keys[0];
	ck_assert_int_eq(store_run(test_store, add_event, &a, 0), STORE_OK);
	ck_assert_int_eq(a.status, STORE_EXISTS);
}
END_TEST

START_TEST(retention_purges_only_old_records)
{
	struct config *cfg = config_new();
	double now = now_seconds();
	struct put_ctx old = { "OLDQID", "tokenoldaaaaaaaaaaaaaaa", now - 31 * 86400.0, 0 };
	struct put_ctx fresh = { "NEWQID", "tokennewaaaaaaaaaaaaaaa", now - 29 * 86400.0, 0 };
	struct retention_counts counts;
	struct put_ctx many;
	char qid[32], token[32];
	int i;

	ck_assert_int_eq(put_message(&old), STORE_OK);
	ck_assert_int_eq(put_message(&fresh), STORE_OK);
	/* More than one purge batch of old records. */
	for (i = 0; i < 1200; i++) {
		snprintf(qid, sizeof(qid), "BULK%04d", i);
		snprintf(token, sizeof(token), "bulktoken%04dxxxxxxxxxx", i);
		many.qid = qid;
		many.token = token;
		many.when = now - 40 * 86400.0;
		ck_assert_int_eq(put_message(&many), STORE_OK);
	}
	{
		struct add_ctx a = { "f:retention:1:1", NULL, 0 };

		ck_assert_int_eq(store_run(test_store, add_event, &a, 0), STORE_OK);
		ck_assert_int_eq(a.status, STORE_OK);
	}
	ck_assert_int_eq(retention_purge(test_store, cfg, now, &counts), STORE_OK);
	ck_assert_int_eq(counts.messages, 1201);
	ck_assert_ptr_null(lookup("OLDQID"));
	ck_assert_ptr_null(lookup(old.token));
	ck_assert_ptr_null(lookup("BULK0500"));
	{
		struct message_record *r = lookup("NEWQID");

		ck_assert_ptr_nonnull(r);
		message_record_free(r);
	}
	/* Event keys seen just now are kept. */
	ck_assert_int_eq(counts.events_seen, 0);
	ck_assert_int_eq(retention_purge(test_store, cfg, now + 31 * 86400.0, &counts), STORE_OK);
	ck_assert_int_eq(counts.messages, 1);
	ck_assert_int_eq(counts.events_seen, 1);
	config_free(cfg);
}
END_TEST

struct seq_ctx {
	uint64_t first, next;
};

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
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("records");

	test_store_fixture(tc, "check_records");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, message_put_and_find_three_ways);
	tcase_add_test(tc, rekey_moves_the_record);
	tcase_add_test(tc, outbox_is_idempotent_and_ordered);
	tcase_add_test(tc, retention_purges_only_old_records);
	tcase_add_test(tc, sequence_reserve_takes_a_range);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
