/*
 * check_retention.c - retention purging: old message records and seen
 * event keys go, fresh ones stay, on a real store in a temporary directory.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "store/message.h"
#include "store/retention.h"
#include "util/util.h"

#include "testlib.h"

/* lookup - the record a key finds, or NULL */
static struct message_record *
lookup(const char *key)
{
	return test_message_find(test_store, message_get, key);
}

START_TEST(retention_purges_only_old_records)
{
	struct config *cfg = config_new();
	double now = now_seconds();
	struct test_sample old = { "OLDQID", "tokenoldaaaaaaaaaaaaaaa",
				   now - 31 * 86400.0, 0 };
	struct test_sample fresh = { "NEWQID", "tokennewaaaaaaaaaaaaaaa",
				     now - 29 * 86400.0, 0 };
	struct retention_counts counts;
	struct test_sample many;
	char qid[32], token[32];
	int i;

	ck_assert_int_eq(test_message_put_sample(test_store, &old), STORE_OK);
	ck_assert_int_eq(test_message_put_sample(test_store, &fresh), STORE_OK);
	/* More than one purge batch of old records. */
	for (i = 0; i < 1200; i++) {
		snprintf(qid, sizeof(qid), "BULK%04d", i);
		snprintf(token, sizeof(token), "bulktoken%04dxxxxxxxxxx", i);
		many.qid = qid;
		many.token = token;
		many.when = now - 40 * 86400.0;
		ck_assert_int_eq(test_message_put_sample(test_store, &many), STORE_OK);
	}
	ck_assert_int_eq(test_outbox_add(test_store, "f:retention:1:1", NULL), STORE_OK);
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
	ck_assert_int_eq(retention_purge(test_store, cfg, now + 31 * 86400.0, &counts),
			 STORE_OK);
	ck_assert_int_eq(counts.messages, 1);
	ck_assert_int_eq(counts.events_seen, 1);
	config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("retention");
	TCase *tc = tcase_create("retention");

	test_store_fixture(tc, "check_retention");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, retention_purges_only_old_records);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
