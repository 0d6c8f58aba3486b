/*
 * check_message.c - message records stored, found by queue id, token and
 * id, and moved to a new queue id, on a real store in a temporary directory.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/message.h"
#include "util/util.h"

#include "testlib.h"

/* lookup - the record a key finds, or NULL */
static struct message_record *
lookup(const char *key)
{
	return test_message_find(test_store, message_get, key);
}

START_TEST(message_put_and_find_three_ways)
{
	struct test_sample p = { "4XyZabc1z2", "tok0123456789abcdefghij", 1700000000.5,
				 0 };
	struct message_record *r;
	char idtext[32];

	ck_assert_int_eq(test_message_put_sample(test_store, &p), STORE_OK);
	ck_assert_int_eq(p.id, 1);
	snprintf(idtext, sizeof(idtext), "%llu", (unsigned long long) p.id);
	r = lookup("4XyZabc1z2");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->token, p.token);
	ck_assert_str_eq(r->subject, "Grüße");
	ck_assert_str_eq(r->recipients[1], "b@example.net");
	ck_assert_ptr_null(r->recipients[2]);
	ck_assert_str_eq(
	    json_object_get_string(json_object_object_get(r->metadata, "user_id")), "42");
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

/* rekey - move the record of a token to a new queue id */
static int
rekey(struct store_txn *txn, void *arg)
{
	struct rekey_ctx *k = arg;

	return message_rekey(txn, k->token, k->qid);
}

START_TEST(rekey_moves_the_record)
{
	struct test_sample p = { "OLDQID1", "tokenrekeyabcdefghijkl", 1700000000, 0 };
	struct rekey_ctx k = { "tokenrekeyabcdefghijkl", "NEWQID2" };
	struct message_record *r;

	ck_assert_int_eq(test_message_put_sample(test_store, &p), STORE_OK);
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

int
main(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("message");

	test_store_fixture(tc, "check_message");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, message_put_and_find_three_ways);
	tcase_add_test(tc, rekey_moves_the_record);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
