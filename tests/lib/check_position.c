/*
 * check_position.c - the tailer's log positions: their stored text, and
 * put and get under the keys the tailer uses, on a real store in a
 * temporary directory.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/position.h"
#include "util/util.h"

#include "testlib.h"

struct pos_ctx {
	const char *key;
	const struct position_record *put; /* NULL: get only */
	struct position_record got;
	int status;
};

/* pos_put_get - put p->put (when set) under p->key, then get it back */
static int
pos_put_get(struct store_txn *txn, void *arg)
{
	struct pos_ctx *p = arg;
	int status;

	if (p->put != NULL && (status = position_put(txn, p->key, p->put)) != STORE_OK)
		return status;
	p->status = position_get(txn, p->key, &p->got);
	return p->status == STORE_NOTFOUND ? STORE_OK : p->status;
}

START_TEST(position_round_trips)
{
	struct position_record file = {
		NULL, 1, 2049, 18446744073709551000ULL, "0123456789abcdef", 1234567
	};
	struct position_record journal = { "s=abc;i=1f;b=x/y", 0, 0, 0, "", 0 };
	struct position_record back;
	struct pos_ctx p;
	char *text, *key;

	/* The text is the stored contract: posthookctl status shows it. */
	text = position_encode(&file);
	ck_assert_str_eq(text, "{\"path\":\"old\",\"dev\":2049,"
			       "\"ino\":18446744073709551000,"
			       "\"fp\":\"0123456789abcdef\",\"offset\":1234567}");
	memset(&back, 0, sizeof(back));
	ck_assert_int_eq(position_decode(text, strlen(text), &back), 0);
	ck_assert_ptr_null(back.cursor);
	ck_assert_int_eq(back.old, 1);
	ck_assert(back.dev == 2049 && back.ino == file.ino && back.offset == 1234567);
	ck_assert_str_eq(back.fp, file.fp);
	free(text);
	text = position_encode(&journal);
	ck_assert_str_eq(text, "{\"cursor\":\"s=abc;i=1f;b=x\\/y\"}");
	ck_assert_int_eq(position_decode(text, strlen(text), &back), 0);
	ck_assert_str_eq(back.cursor, journal.cursor);
	ck_assert_int_eq(position_decode("[1]", 3, &back), -1);
	ck_assert_ptr_null(back.cursor);
	free(text);

	/* Through the store, under the keys the tailer uses. */
	key = position_key_file("/var/log/mail.log");
	ck_assert_str_eq(key, "file:/var/log/mail.log");
	memset(&p, 0, sizeof(p));
	p.key = key;
	ck_assert_int_eq(store_run(test_store, pos_put_get, &p, 0), STORE_OK);
	ck_assert_int_eq(p.status, STORE_NOTFOUND);
	p.put = &file;
	ck_assert_int_eq(store_run(test_store, pos_put_get, &p, 0), STORE_OK);
	ck_assert_int_eq(p.status, STORE_OK);
	ck_assert(p.got.dev == file.dev && p.got.ino == file.ino
		  && p.got.offset == file.offset && p.got.old == 1);
	ck_assert_str_eq(p.got.fp, file.fp);
	position_clear(&p.got);
	free(key);
	key = position_key_journal(NULL);
	ck_assert_str_eq(key, "journal:");
	p.key = key;
	p.put = &journal;
	ck_assert_int_eq(store_run(test_store, pos_put_get, &p, 0), STORE_OK);
	ck_assert_int_eq(p.status, STORE_OK);
	ck_assert_str_eq(p.got.cursor, journal.cursor);
	position_clear(&p.got);
	free(key);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("position");
	TCase *tc = tcase_create("position");

	test_store_fixture(tc, "check_position");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, position_round_trips);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
