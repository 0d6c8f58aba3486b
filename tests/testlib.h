/*
 * testlib.h - what the check_* programs share: a scratch directory, a
 * store opened in one (by hand or as a checked fixture), a message record
 * stored under the next id and found again, an event queued, the outbox
 * emptied, and the run of a suite.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <check.h>
#include <stddef.h>

#include "store/message.h"
#include "store/store.h"

#define TEST_DIR_MAX 256

/* The store of test_store_fixture(), fresh for every test. */
extern struct store *test_store;
extern char test_store_dir[TEST_DIR_MAX];

extern void test_dir_make(char *, size_t, const char *);
extern int test_dir_remove(const char *);
extern struct store *test_store_make(char *, size_t, const char *);
extern void test_store_remove(struct store *, const char *);
extern void test_store_fixture(TCase *, const char *);
extern int test_message_put(struct store *, struct message_record *);

/* What test_message_put_sample stores; id is set to the id it got. */
struct test_sample {
	const char *qid;
	const char *token;
	double when;
	uint64_t id;
};
extern int test_message_put_sample(struct store *, struct test_sample *);

/* message_get, or one of message_get_by_queue_id/_token/_message_id */
typedef int (*test_message_getter)(struct store_txn *, const char *,
				   struct message_record **);
extern struct message_record *test_message_find(struct store *, test_message_getter,
						const char *);

struct outbox_event;
extern int test_outbox_add(struct store *, const char *, const char *);
extern int test_outbox_take(struct store *, int, struct outbox_event ***, int *);

extern int test_run_suite(Suite *);

#endif
