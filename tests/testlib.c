/*
 * testlib.c - what the check_* programs (and bounce_tool) share.
 *
 *	test_dir_make(dir, size, name) makes a fresh directory NAME.XXXXXX
 *	under $TMPDIR (or /tmp) and asserts it is there; test_dir_remove()
 *	removes it with all below.
 *
 *	test_store_make() opens a store in a fresh directory;
 *	test_store_remove() closes it (if not NULL) and removes the
 *	directory.  test_store_fixture(tc, name) does both around every test
 *	of a case, as a checked fixture: the tests use test_store (one name
 *	per program: the last one given counts).
 *
 *	test_message_put(st, r) stores a message record under the next
 *	message id (set in r->id), as the milter does.  It asserts nothing,
 *	so that the helpers outside Check can use it too.
 *	test_message_put_sample(st, s) stores a record of two recipients,
 *	tag and metadata, with s's queue id, token and time, likewise.
 *	test_message_find(st, get, key) is the record that get (message_get
 *	or a message_get_by_*) finds under key, or NULL when there is none.
 *	test_outbox_add(st, key, endpoint) queues a MessageSent event under
 *	key (for one endpoint, or all when NULL): outbox_add's status.
 *	test_outbox_take(st, max, &evs, &n) takes up to max events out of
 *	the outbox, as the webhook sender does; like test_message_put it
 *	asserts nothing.
 *
 *	test_run_suite(s) runs every test of a suite: the exit status of a
 *	check_* program.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox.h"
#include "util/util.h"
#include "testlib.h"

struct store *test_store;
char test_store_dir[TEST_DIR_MAX];

static const char *fixture_name;

/* test_dir_make - a fresh directory NAME.XXXXXX in dir[size] */
void
test_dir_make(char *dir, size_t size, const char *name)
{
	const char *base = getenv("TMPDIR");
	int n;

	n = snprintf(dir, size, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
	ck_assert_msg(n > 0 && (size_t) n < size, "directory name too long");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s failed", dir);
}

/* rm_entry - nftw callback removing one entry */
static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

/* test_dir_remove - remove dir and all below: 0, or -1 */
int
test_dir_remove(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* test_store_make - a store opened in a fresh directory NAME.XXXXXX */
struct store *
test_store_make(char *dir, size_t size, const char *name)
{
	struct store *st;

	test_dir_make(dir, size, name);
	st = store_open(dir, 0);
	ck_assert_msg(st != NULL, "store_open %s failed", dir);
	return st;
}

/* test_store_remove - close the store (if any), remove its directory */
void
test_store_remove(struct store *st, const char *dir)
{
	if (st != NULL)
		store_close(st);
	ck_assert_msg(test_dir_remove(dir) == 0, "cannot remove %s", dir);
}

/* fixture_setup - a fresh test_store */
static void
fixture_setup(void)
{
	test_store =
	    test_store_make(test_store_dir, sizeof(test_store_dir), fixture_name);
}

/* fixture_teardown - close and remove test_store */
static void
fixture_teardown(void)
{
	test_store_remove(test_store, test_store_dir);
	test_store = NULL;
}

/* test_store_fixture - a fresh test_store around every test of tc */
void
test_store_fixture(TCase *tc, const char *name)
{
	fixture_name = name;
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
}

/* put_txn - assign the next message id and store the record */
static int
put_txn(struct store_txn *txn, void *arg)
{
	struct message_record *r = arg;
	uint64_t id;
	int status;

	status = store_seq_next(txn, "message", &id);
	if (status != STORE_OK)
		return status;
	r->id = id;
	return message_put(txn, r);
}

/* test_message_put - store r under the next message id: a STORE_ status */
int
test_message_put(struct store *st, struct message_record *r)
{
	return store_run(st, put_txn, r, 0);
}

/* test_message_put_sample - store a sample record: a STORE_ status */
int
test_message_put_sample(struct store *st, struct test_sample *s)
{
	struct message_record *r = message_record_new();
	int status;

	r->queue_id = xstrdup(s->qid);
	r->token = xstrdup(s->token);
	r->from = xstrdup("app@example.com");
	r->subject = xstrdup("Grüße");
	r->timestamp = s->when;
	r->tag = xstrdup("welcome");
	r->metadata = json_tokener_parse("{\"user_id\":\"42\"}");
	message_record_add_recipient(r, "a@example.net");
	message_record_add_recipient(r, "b@example.net");
	status = test_message_put(st, r);
	s->id = r->id;
	message_record_free(r);
	return status;
}

struct find_ctx {
	test_message_getter get;
	const char *key;
	struct message_record *r;
};

/* find_txn - look the record up (again, on a retry) */
static int
find_txn(struct store_txn *txn, void *arg)
{
	struct find_ctx *f = arg;

	message_record_free(f->r);
	f->r = NULL;
	return f->get(txn, f->key, &f->r);
}

/* test_message_find - the record get finds under key, or NULL */
struct message_record *
test_message_find(struct store *st, test_message_getter get, const char *key)
{
	struct find_ctx f = { get, key, NULL };
	int status = store_run(st, find_txn, &f, 0);

	ck_assert_msg(status == STORE_OK || status == STORE_NOTFOUND,
		      "looking up %s: store status %d", key, status);
	return f.r;
}

struct add_ctx {
	const char *key;
	const char *endpoint;
	int status;
};

/* add_txn - queue the event; a duplicate still commits */
static int
add_txn(struct store_txn *txn, void *arg)
{
	struct add_ctx *a = arg;
	json_object *payload = json_tokener_parse("{\"status\":\"Sent\"}");

	a->status =
	    outbox_add(txn, a->key, EV_MESSAGE_SENT, 1700000000.25, payload, a->endpoint);
	json_object_put(payload);
	return a->status == STORE_EXISTS ? STORE_OK : a->status;
}

/* test_outbox_add - queue a MessageSent event: outbox_add's STORE_ status */
int
test_outbox_add(struct store *st, const char *key, const char *endpoint)
{
	struct add_ctx a = { key, endpoint, STORE_OK };
	int status = store_run(st, add_txn, &a, 0);

	return status == STORE_OK ? a.status : status;
}

struct take_ctx {
	int max;
	struct outbox_event **evs;
	int n;
};

/* take_txn - take the events (again, on a retry) */
static int
take_txn(struct store_txn *txn, void *arg)
{
	struct take_ctx *t = arg;

	outbox_events_free(t->evs, t->n);
	t->evs = NULL;
	t->n = 0;
	return outbox_take(txn, t->max, &t->evs, &t->n);
}

/* test_outbox_take - up to max events out of the outbox: a STORE_ status */
int
test_outbox_take(struct store *st, int max, struct outbox_event ***evs, int *n)
{
	struct take_ctx t = { max, NULL, 0 };
	int status = store_run(st, take_txn, &t, 0);

	*evs = t.evs;
	*n = t.n;
	return status;
}

/* test_run_suite - run every test of s: EXIT_SUCCESS if none failed */
int
test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
