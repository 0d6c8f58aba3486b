/*
 * check_store.c - the state store on real Berkeley DB files in a temporary
 * directory: record operations, a writer killed with SIGKILL among live
 * ones, a forced deadlock, log removal under a long write load, and
 * recovery by a fresh opener while another process keeps working.
 *
 * Child processes report over pipes, after each commit, what they have
 * committed; the parent checks afterwards that all of it is in the store.
 */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "util/util.h"

#include "testlib.h"

#define REPORT_DONE 0x80000000u /* | reopens: the writer finished */

static char tmpdir[TEST_DIR_MAX];

/* setup - a fresh directory per test */
static void
setup(void)
{
	test_dir_make(tmpdir, sizeof(tmpdir), "ph-store");
}

/* teardown - remove the directory */
static void
teardown(void)
{
	(void) test_dir_remove(tmpdir);
}

struct kv {
	const char *key;
	const char *val;
	enum store_table t;
};

/* put_fn - store one record */
static int
put_fn(struct store_txn *txn, void *ctx)
{
	struct kv *kv = ctx;

	return store_put(txn, kv->t, kv->key, strlen(kv->key), kv->val, strlen(kv->val));
}

/* put_new_fn - store one record unless present */
static int
put_new_fn(struct store_txn *txn, void *ctx)
{
	struct kv *kv = ctx;

	return store_put_new(txn, kv->t, kv->key, strlen(kv->key), kv->val,
			     strlen(kv->val));
}

struct got {
	const char *key;
	enum store_table t;
	char *val;
	size_t len;
};

/* get_fn - fetch one record */
static int
get_fn(struct store_txn *txn, void *ctx)
{
	struct got *g = ctx;

	return store_get(txn, g->t, g->key, strlen(g->key), (void **) &g->val, &g->len);
}

/* del_fn - delete one record */
static int
del_fn(struct store_txn *txn, void *ctx)
{
	struct got *g = ctx;

	return store_del(txn, g->t, g->key, strlen(g->key));
}

/* put_s - store_run(put_fn) */
static int
put_s(struct store *st, enum store_table t, const char *key, const char *val)
{
	struct kv kv = { key, val, t };

	return store_run(st, put_fn, &kv, 0);
}

/* get_s - fetch key into a malloc()ed string or NULL */
static char *
get_s(struct store *st, enum store_table t, const char *key)
{
	struct got g = { key, t, NULL, 0 };
	int rc = store_run(st, get_fn, &g, 0);

	if (rc != STORE_OK)
		return NULL;
	ck_assert_uint_eq(strlen(g.val), g.len);
	return g.val;
}

/* expect - assert key holds val */
static void
expect(struct store *st, enum store_table t, const char *key, const char *val)
{
	char *got = get_s(st, t, key);

	ck_assert_msg(got != NULL, "%s missing", key);
	ck_assert_str_eq(got, val);
	free(got);
}

struct walk {
	char out[512];
	const char *seek;
	int del_odd;
	int n;
};

/* walk_fn - list keys in order (from seek), deleting every second one */
static int
walk_fn(struct store_txn *txn, void *ctx)
{
	struct walk *w = ctx;
	struct store_cursor *c;
	const void *k;
	const void *v;
	size_t kl;
	size_t vl;
	int rc;

	w->out[0] = '\0';
	w->n = 0;
	if ((rc = store_cursor_open(txn, STORE_ENDPOINTS, &c)) != STORE_OK)
		return rc;
	if (w->seek != NULL
	    && (rc = store_cursor_seek(c, w->seek, strlen(w->seek))) != STORE_OK) {
		store_cursor_close(c);
		return rc;
	}
	while ((rc = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		size_t len = strlen(w->out);

		snprintf(w->out + len, sizeof(w->out) - len, "%.*s=%.*s ", (int) kl,
			 (const char *) k, (int) vl, (const char *) v);
		if (w->del_odd && w->n % 2 == 1 && (rc = store_cursor_del(c)) != STORE_OK)
			break;
		w->n++;
	}
	store_cursor_close(c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

struct seq {
	uint64_t a, b, c;
};

/* seq_fn - three draws from two sequences */
static int
seq_fn(struct store_txn *txn, void *ctx)
{
	struct seq *s = ctx;
	int rc;

	if ((rc = store_seq_next(txn, "msg", &s->a)) != STORE_OK
	    || (rc = store_seq_next(txn, "msg", &s->b)) != STORE_OK)
		return rc;
	return store_seq_next(txn, "other", &s->c);
}

/* fail_fn - write, then fail: nothing must remain */
static int
fail_fn(struct store_txn *txn, void *ctx)
{
	int rc = put_fn(txn, ctx);

	return rc == STORE_OK ? STORE_NOTFOUND : STORE_ERROR;
}

START_TEST(test_basics)
{
	struct store *st = store_open(tmpdir, 0);
	struct kv dup = { "a", "other", STORE_MESSAGES };
	struct kv aborted = { "gone", "x", STORE_MESSAGES };
	struct got g = { "a", STORE_MESSAGES, NULL, 0 };
	struct walk w = { .seek = NULL };
	struct seq s;
	char *v;

	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(store_dir(st), tmpdir);
	ck_assert_int_eq(put_s(st, STORE_MESSAGES, "a", "alpha"), STORE_OK);
	ck_assert_int_eq(put_s(st, STORE_MESSAGES, "b", "beta"), STORE_OK);
	expect(st, STORE_MESSAGES, "a", "alpha");
	ck_assert_int_eq(put_s(st, STORE_MESSAGES, "a", "alpha2"), STORE_OK);
	expect(st, STORE_MESSAGES, "a", "alpha2");
	/* Tables are separate. */
	ck_assert_ptr_null(get_s(st, STORE_OUTBOX, "a"));

	ck_assert_int_eq(store_run(st, put_new_fn, &dup, 0), STORE_EXISTS);
	expect(st, STORE_MESSAGES, "a", "alpha2");
	dup.key = "c";
	ck_assert_int_eq(store_run(st, put_new_fn, &dup, 0), STORE_OK);
	expect(st, STORE_MESSAGES, "c", "other");

	/* A callback's failure aborts the transaction and is returned. */
	ck_assert_int_eq(store_run(st, fail_fn, &aborted, 0), STORE_NOTFOUND);
	ck_assert_ptr_null(get_s(st, STORE_MESSAGES, "gone"));

	ck_assert_int_eq(store_run(st, del_fn, &g, 0), STORE_OK);
	ck_assert_int_eq(store_run(st, get_fn, &g, 0), STORE_NOTFOUND);
	ck_assert_int_eq(store_run(st, del_fn, &g, 0), STORE_NOTFOUND);

	/* Empty values and binary keys. */
	ck_assert_int_eq(put_s(st, STORE_META, "empty", ""), STORE_OK);
	v = get_s(st, STORE_META, "empty");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "");
	free(v);

	/* Cursors: key order, seek, delete while walking. */
	ck_assert_int_eq(put_s(st, STORE_ENDPOINTS, "k3", "3"), STORE_OK);
	ck_assert_int_eq(put_s(st, STORE_ENDPOINTS, "k1", "1"), STORE_OK);
	ck_assert_int_eq(put_s(st, STORE_ENDPOINTS, "k2", "2"), STORE_OK);
	ck_assert_int_eq(put_s(st, STORE_ENDPOINTS, "k4", "4"), STORE_OK);
	ck_assert_int_eq(store_run(st, walk_fn, &w, 0), STORE_OK);
	ck_assert_str_eq(w.out, "k1=1 k2=2 k3=3 k4=4 ");
	w.seek = "k2a";
	ck_assert_int_eq(store_run(st, walk_fn, &w, 0), STORE_OK);
	ck_assert_str_eq(w.out, "k3=3 k4=4 ");
	w.seek = "zzz";
	ck_assert_int_eq(store_run(st, walk_fn, &w, 0), STORE_OK);
	ck_assert_str_eq(w.out, "");
	w.seek = NULL;
	w.del_odd = 1;
	ck_assert_int_eq(store_run(st, walk_fn, &w, 0), STORE_OK);
	w.del_odd = 0;
	ck_assert_int_eq(store_run(st, walk_fn, &w, 0), STORE_OK);
	ck_assert_str_eq(w.out, "k1=1 k3=3 ");

	/* Sequences start at 1, are per name, and persist. */
	ck_assert_int_eq(store_run(st, seq_fn, &s, 0), STORE_OK);
	ck_assert_uint_eq(s.a, 1);
	ck_assert_uint_eq(s.b, 2);
	ck_assert_uint_eq(s.c, 1);
	ck_assert_int_eq(store_maintain(st), STORE_OK);
	store_close(st);

	st = store_open(tmpdir, 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(store_run(st, seq_fn, &s, 0), STORE_OK);
	ck_assert_uint_eq(s.a, 3);
	ck_assert_uint_eq(s.b, 4);
	ck_assert_uint_eq(s.c, 2);
	expect(st, STORE_MESSAGES, "b", "beta");
	ck_assert_int_eq(store_retries(st), 0);
	store_close(st);
}
END_TEST

START_TEST(test_rdonly)
{
	struct store *st = store_open(tmpdir, STORE_RDONLY);
	struct store *rw;

	/* A read-only opener of a new directory sees empty tables. */
	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_null(get_s(st, STORE_MESSAGES, "a"));
	store_close(st);

	rw = store_open(tmpdir, 0);
	ck_assert_ptr_nonnull(rw);
	ck_assert_int_eq(put_s(rw, STORE_MESSAGES, "a", "alpha"), STORE_OK);
	store_close(rw);

	st = store_open(tmpdir, STORE_RDONLY);
	ck_assert_ptr_nonnull(st);
	expect(st, STORE_MESSAGES, "a", "alpha");
	ck_assert_int_eq(put_s(st, STORE_MESSAGES, "b", "beta"), STORE_ERROR);
	ck_assert_ptr_null(get_s(st, STORE_MESSAGES, "b"));
	store_close(st);
}
END_TEST

/* report - send one 32-bit value up a pipe */
static void
report(int fd, uint32_t v)
{
	if (write(fd, &v, sizeof(v)) != (ssize_t) sizeof(v))
		_exit(3);
}

struct writer {
	int id;
	uint32_t i;
	int hang; /* stop forever inside this txn */
	int hang_fd;
};

/* writer_fn - one record of this writer plus a shared counter */
static int
writer_fn(struct store_txn *txn, void *ctx)
{
	struct writer *w = ctx;
	char key[32];
	char val[64];
	uint64_t n;
	int rc;

	snprintf(key, sizeof(key), "w%d-%06u", w->id, w->i);
	snprintf(val, sizeof(val), "value of writer %d number %u", w->id, w->i);
	if ((rc = store_seq_next(txn, "hot", &n)) != STORE_OK)
		return rc;
	if ((rc = store_put(txn, STORE_MESSAGES, key, strlen(key), val, strlen(val)))
	    != STORE_OK)
		return rc;
	if (w->hang) {
		report(w->hang_fd, 1);
		for (;;)
			pause();
	}
	return STORE_OK;
}

/* child_open - a child process's store (else exit 2); it lives 60s at most */
static struct store *
child_open(const char *who)
{
	struct store *st;

	alarm(60);
	if ((st = store_open(tmpdir, 0)) == NULL) {
		fprintf(stderr, "%s: store_open failed\n", who);
		_exit(2);
	}
	return st;
}

/* child_write - commit the writer's next record and report it (else exit 1) */
static void
child_write(struct store *st, struct writer *w, int fd)
{
	int rc;

	if ((rc = store_run(st, writer_fn, w, 0)) != STORE_OK) {
		fprintf(stderr, "writer %d: store_run: %d\n", w->id, rc);
		_exit(1);
	}
	report(fd, w->i);
}

/* child_done - report the writer done with its reopens, close, exit 0 */
static void
child_done(struct store *st, int fd)
{
	report(fd, REPORT_DONE | (uint32_t) store_reopens(st));
	store_close(st);
	_exit(0);
}

/*
 * writer_main - commit count records, reporting each; halfway, wait for a
 * byte on go_fd (unless -1); never returns
 */
static void
writer_main(int id, uint32_t count, int fd, uint32_t hang_at, int hang_fd, int go_fd)
{
	struct writer w = { .id = id, .hang_fd = hang_fd };
	struct store *st = child_open("writer");
	char c;

	for (w.i = 0; w.i < count; w.i++) {
		if (w.i == count / 2 && go_fd >= 0 && read(go_fd, &c, 1) != 1)
			_exit(4);
		w.hang = w.i == hang_at;
		child_write(st, &w, fd);
	}
	child_done(st, fd);
}

/* start_writer - fork a writer; returns its pid, *rfd its report pipe */
static pid_t
start_writer(int id, uint32_t count, uint32_t hang_at, int *rfd, int *hfd, int go_fd)
{
	int p[2];
	int h[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(h), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		close(h[0]);
		writer_main(id, count, p[1], hang_at, h[1], go_fd);
	}
	close(p[1]);
	close(h[1]);
	*rfd = p[0];
	if (hfd != NULL)
		*hfd = h[0];
	else
		close(h[0]);
	return pid;
}

/* read_first - wait until a writer has committed its first record */
static void
read_first(int fd)
{
	uint32_t v;

	ck_assert_int_eq(read(fd, &v, sizeof(v)), (ssize_t) sizeof(v));
	ck_assert_uint_eq(v, 0);
}

/* read_reports - collect a finished writer's reports from the n-th on */
static uint32_t
read_reports(int fd, uint32_t n, int *done, uint32_t *reopens)
{
	uint32_t v;

	*done = 0;
	while (read(fd, &v, sizeof(v)) == (ssize_t) sizeof(v)) {
		if (v & REPORT_DONE) {
			*done = 1;
			*reopens = v & ~REPORT_DONE;
		} else {
			ck_assert_uint_eq(v, n);
			n++;
		}
	}
	close(fd);
	return n;
}

/* wait_ok - reap a child that must exit 0 */
static void
wait_ok(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child %ld: status %#x", (long) pid, status);
}

/* expect_writer - every reported record of a writer is present */
static void
expect_writer(struct store *st, int id, uint32_t n)
{
	char key[32];
	char val[64];
	uint32_t i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "w%d-%06u", id, i);
		snprintf(val, sizeof(val), "value of writer %d number %u", id, i);
		expect(st, STORE_MESSAGES, key, val);
	}
}

/* seq_value - the current value of a sequence */
static uint64_t
seq_value(struct store *st, const char *name)
{
	char key[64];
	char *v;
	uint64_t n = 0;
	size_t i;
	struct got g = { key, STORE_META, NULL, 0 };

	snprintf(key, sizeof(key), "seq:%s", name);
	ck_assert_int_eq(store_run(st, get_fn, &g, 0), STORE_OK);
	v = g.val;
	ck_assert_uint_eq(g.len, 8);
	for (i = 0; i < 8; i++)
		n = n << 8 | (unsigned char) v[i];
	free(v);
	return n;
}

START_TEST(test_kill_writer)
{
	const uint32_t count = 400;
	struct store *st;
	uint32_t n[3];
	uint32_t reopens[3] = { 0, 0, 0 };
	int rfd[3];
	int go[2];
	int hfd;
	int done;
	int status;
	uint32_t one;
	pid_t pid[3];
	int i;

	/* Create the environment first so the writers only join it. */
	st = store_open(tmpdir, 0);
	ck_assert_ptr_nonnull(st);
	store_close(st);

	/*
	 * The survivors write half their records alongside the victim, which
	 * stops inside its 50th transaction holding the shared counter; once it
	 * is killed there, they write the other half.
	 */
	ck_assert_int_eq(pipe(go), 0);
	pid[0] = start_writer(0, count, UINT32_MAX, &rfd[0], NULL, go[0]);
	pid[1] = start_writer(1, count, UINT32_MAX, &rfd[1], NULL, go[0]);
	read_first(rfd[0]);
	read_first(rfd[1]);
	pid[2] = start_writer(2, count, 50, &rfd[2], &hfd, -1);
	close(go[0]);
	ck_assert_int_eq(read(hfd, &one, sizeof(one)), (ssize_t) sizeof(one));
	ck_assert_int_eq(kill(pid[2], SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid[2], &status, 0), pid[2]);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(hfd);
	ck_assert_int_eq(write(go[1], "gg", 2), 2);
	close(go[1]);

	wait_ok(pid[0]);
	wait_ok(pid[1]);
	for (i = 0; i < 3; i++)
		n[i] = read_reports(rfd[i], i < 2, &done, &reopens[i]);
	ck_assert_uint_eq(n[0], count);
	ck_assert_uint_eq(n[1], count);
	ck_assert_uint_eq(n[2], 50);
	/* The survivors met the dead lock holder and recovered. */
	ck_assert_uint_ge(reopens[0], 1);
	ck_assert_uint_ge(reopens[1], 1);

	st = store_open(tmpdir, 0);
	ck_assert_ptr_nonnull(st);
	for (i = 0; i < 3; i++)
		expect_writer(st, i, n[i]);
	/* The victim's last, uncommitted record is gone, and so is its count. */
	ck_assert_ptr_null(get_s(st, STORE_MESSAGES, "w2-000050"));
	ck_assert_uint_eq(seq_value(st, "hot"), n[0] + n[1] + n[2]);
	store_close(st);
}
END_TEST

struct lock2 {
	pthread_barrier_t *barrier;
	struct store *st;
	enum store_table first;
	enum store_table second;
	int runs;
};

/*
 * lock2_fn - write two tables in this thread's order, meeting in between:
 * each then asks for the lock the other holds
 */
static int
lock2_fn(struct store_txn *txn, void *ctx)
{
	struct lock2 *l = ctx;
	int rc;

	if ((rc = store_put(txn, l->first, "k", 1, "1", 1)) != STORE_OK)
		return rc;
	if (l->runs++ == 0)
		pthread_barrier_wait(l->barrier);
	return store_put(txn, l->second, "k", 1, "2", 1);
}

/* lock2_thread - run lock2_fn through store_run */
static void *
lock2_thread(void *arg)
{
	struct lock2 *l = arg;

	return (void *) (intptr_t) store_run(l->st, lock2_fn, l, 0);
}

START_TEST(test_deadlock)
{
	struct store *st = store_open(tmpdir, 0);
	pthread_barrier_t barrier;
	struct lock2 a = { &barrier, st, STORE_META, STORE_POSITIONS, 0 };
	struct lock2 b = { &barrier, st, STORE_POSITIONS, STORE_META, 0 };
	pthread_t ta;
	pthread_t tb;
	void *ra;
	void *rb;

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&ta, NULL, lock2_thread, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, lock2_thread, &b), 0);
	ck_assert_int_eq(pthread_join(ta, &ra), 0);
	ck_assert_int_eq(pthread_join(tb, &rb), 0);
	ck_assert_int_eq((intptr_t) ra, STORE_OK);
	ck_assert_int_eq((intptr_t) rb, STORE_OK);
	ck_assert_uint_ge(store_retries(st), 1);
	ck_assert_int_ge(a.runs + b.runs, 3);
	ck_assert_int_eq(store_reopens(st), 0);
	pthread_barrier_destroy(&barrier);
	store_close(st);
}
END_TEST

struct busy {
	pthread_barrier_t *barrier;
	struct store *st;
	int rc;
	int64_t ms;
};

/* hold_fn - take the counter's lock and keep it a while */
static int
hold_fn(struct store_txn *txn, void *ctx)
{
	struct busy *b = ctx;
	uint64_t n;
	int rc;

	if ((rc = store_seq_next(txn, "held", &n)) != STORE_OK)
		return rc;
	pthread_barrier_wait(b->barrier);
	usleep(800 * 1000);
	return STORE_OK;
}

/* take_fn - want the same lock */
static int
take_fn(struct store_txn *txn, void *ctx)
{
	uint64_t n;

	return store_seq_next(txn, "held", &n);
}

/* hold_thread - hold the lock in a transaction of its own */
static void *
hold_thread(void *arg)
{
	struct busy *b = arg;

	b->rc = store_run(b->st, hold_fn, b, 0);
	return NULL;
}

START_TEST(test_lock_timeout)
{
	struct store *st = store_open(tmpdir, 0);
	pthread_barrier_t barrier;
	struct busy b = { &barrier, st, STORE_ERROR, 0 };
	pthread_t t;
	int64_t start;
	int64_t took;

	ck_assert_ptr_nonnull(st);
	store_set_lock_timeout(st, 200);
	ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, hold_thread, &b), 0);
	pthread_barrier_wait(&barrier);
	start = monotonic_ms();
	/* A busy lock held by a live transaction: give up after the timeout. */
	ck_assert_int_eq(store_run(st, take_fn, NULL, 0), STORE_RETRY);
	took = monotonic_ms() - start;
	ck_assert_int_ge(took, 200);
	ck_assert_int_lt(took, 800);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(b.rc, STORE_OK);
	/* Free again: the next run goes through. */
	ck_assert_int_eq(store_run(st, take_fn, NULL, 0), STORE_OK);
	ck_assert_uint_eq(seq_value(st, "held"), 2);
	ck_assert_uint_eq(store_reopens(st), 0);
	pthread_barrier_destroy(&barrier);
	store_close(st);
}
END_TEST

struct batch {
	int start;
	int n;
	size_t bytes;
};

/* batch_fn - a run of small puts over a bounded key space */
static int
batch_fn(struct store_txn *txn, void *ctx)
{
	struct batch *b = ctx;
	char key[16];
	char val[100];
	int rc;
	int i;

	b->bytes = 0;
	memset(val, 'v', sizeof(val));
	for (i = b->start; i < b->start + b->n; i++) {
		snprintf(key, sizeof(key), "%08d", i % 5000);
		if ((rc = store_put(txn, STORE_ATTEMPTS, key, strlen(key), val,
				    sizeof(val)))
		    != STORE_OK)
			return rc;
		b->bytes += strlen(key) + sizeof(val);
	}
	return STORE_OK;
}

START_TEST(test_log_bounded)
{
	const int64_t bound = 4 * 1024 * 1024;
	struct store *st = store_open(tmpdir, 0);
	struct batch b = { 0, 100, 0 };
	int64_t logs;
	int64_t most = 0;
	size_t total = 0;
	int round;

	ck_assert_ptr_nonnull(st);
	for (round = 0; round < 2000; round++) {
		b.start = round * b.n;
		ck_assert_int_eq(store_run(st, batch_fn, &b, 0), STORE_OK);
		total += b.bytes;
		if (round % 50 == 49) {
			ck_assert_int_eq(store_maintain(st), STORE_OK);
			logs = store_log_bytes(st);
			ck_assert_int_gt(logs, 0);
			if (logs > most)
				most = logs;
			ck_assert_msg(logs < bound, "log files hold %lld bytes",
				      (long long) logs);
		}
	}
	ck_assert_uint_gt(total, 20 * 1024 * 1024);
	ck_assert_int_lt(most, bound);
	store_close(st);
}
END_TEST

/* survivor_main - commit until told to stop, then report reopens */
static void
survivor_main(int stop_fd, int fd)
{
	struct writer w = { .id = 7 };
	struct store *st = child_open("survivor");
	char c;

	for (w.i = 0;; w.i++) {
		child_write(st, &w, fd);
		if (read(stop_fd, &c, 1) == 1)
			break;
		usleep(2000);
	}
	child_done(st, fd);
}

/* victim_fn - write without committing, then wait to be killed */
static int
victim_fn(struct store_txn *txn, void *ctx)
{
	int rc = store_put(txn, STORE_OUTBOX, "uncommitted", 11, "x", 1);

	if (rc != STORE_OK)
		return rc;
	report(*(int *) ctx, 1);
	for (;;)
		pause();
}

/* victim_main - commit a few records, then hang inside a transaction */
static void
victim_main(int fd)
{
	struct store *st = child_open("victim");
	char key[16];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "v%02d", i);
		if (put_s(st, STORE_OUTBOX, key, "committed") != STORE_OK)
			_exit(1);
	}
	/* victim_fn waits to be killed inside its transaction: a return,
	 * whatever its status, is a failure. */
	if (store_run(st, victim_fn, &fd, 0) == STORE_OK)
		_exit(2);
	_exit(1);
}

/* opener_main - a fresh opener: recover, check, exit 0 when all is right */
static void
opener_main(void)
{
	struct store *st = child_open("opener");
	char key[16];
	char *v;
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "v%02d", i);
		if ((v = get_s(st, STORE_OUTBOX, key)) == NULL)
			_exit(3);
		free(v);
	}
	if ((v = get_s(st, STORE_OUTBOX, "uncommitted")) != NULL)
		_exit(4);
	if (put_s(st, STORE_OUTBOX, "opener", "was here") != STORE_OK)
		_exit(5);
	store_close(st);
	_exit(0);
}

/*
 * kill_in_txn_and_recover - a victim dies by SIGKILL inside a transaction,
 * then a fresh opener recovers the environment (and checks it) under
 * whoever else has it open.
 */
static void
kill_in_txn_and_recover(void)
{
	uint32_t one;
	int vic[2], status;
	pid_t victim, opener;

	ck_assert_int_eq(pipe(vic), 0);
	if ((victim = fork()) == 0) {
		close(vic[0]);
		victim_main(vic[1]);
	}
	ck_assert_int_gt(victim, 0);
	close(vic[1]);
	ck_assert_int_eq(read(vic[0], &one, sizeof(one)), (ssize_t) sizeof(one));
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	ck_assert_int_eq(waitpid(victim, &status, 0), victim);
	close(vic[0]);
	if ((opener = fork()) == 0)
		opener_main();
	ck_assert_int_gt(opener, 0);
	wait_ok(opener);
}

START_TEST(test_recover_running)
{
	struct store *st;
	uint32_t n;
	uint32_t reopens = 0;
	int stop[2];
	int rep[2];
	int done;
	pid_t survivor;

	st = store_open(tmpdir, 0);
	ck_assert_ptr_nonnull(st);
	store_close(st);

	ck_assert_int_eq(pipe2(stop, O_NONBLOCK), 0);
	ck_assert_int_eq(pipe(rep), 0);
	if ((survivor = fork()) == 0) {
		close(stop[1]);
		close(rep[0]);
		survivor_main(stop[0], rep[1]);
	}
	ck_assert_int_gt(survivor, 0);
	close(stop[0]);
	close(rep[1]);
	read_first(rep[0]);
	/* A fresh opener recovers while the survivor is still working. */
	kill_in_txn_and_recover();

	/* Let the survivor meet the recovered environment, then stop it. */
	usleep(300 * 1000);
	/* A survivor that died early shows in wait_ok(), not here. */
	(void) !write(stop[1], "x", 1);
	wait_ok(survivor);
	close(stop[1]);
	n = read_reports(rep[0], 1, &done, &reopens);
	ck_assert(done);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_ge(reopens, 1);

	st = store_open(tmpdir, 0);
	ck_assert_ptr_nonnull(st);
	expect_writer(st, 7, n);
	expect(st, STORE_OUTBOX, "opener", "was here");
	expect(st, STORE_OUTBOX, "v19", "committed");
	ck_assert_ptr_null(get_s(st, STORE_OUTBOX, "uncommitted"));
	store_close(st);
}
END_TEST

/*
 * panicked_main - open, commit, wait for a byte on go_fd (meanwhile the
 * environment is recovered under it), commit again, which reopens, and
 * close.  exit(), not _exit(): in a sanitizer build LeakSanitizer then
 * checks what is left of the panicked handles (status 23 on a leak).
 */
static void
panicked_main(int go_fd, int fd)
{
	struct store *st = child_open("panicked");
	char c;

	if (put_s(st, STORE_OUTBOX, "before", "x") != STORE_OK)
		_exit(1);
	report(fd, 0);
	if (read(go_fd, &c, 1) != 1 || put_s(st, STORE_OUTBOX, "after", "x") != STORE_OK)
		_exit(1);
	report(fd, REPORT_DONE | (uint32_t) store_reopens(st));
	store_close(st);
	exit(0);
}

START_TEST(test_panic_exit)
{
	struct store *st;
	uint32_t reopens = 0;
	int go[2], rep[2], done;
	pid_t panicked;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(rep), 0);
	if ((panicked = fork()) == 0) {
		close(go[1]);
		close(rep[0]);
		panicked_main(go[0], rep[1]);
	}
	ck_assert_int_gt(panicked, 0);
	close(go[0]);
	close(rep[1]);
	read_first(rep[0]);
	kill_in_txn_and_recover();

	ck_assert_int_eq(write(go[1], "x", 1), 1);
	close(go[1]);
	wait_ok(panicked);
	(void) read_reports(rep[0], 1, &done, &reopens);
	ck_assert(done);
	ck_assert_uint_ge(reopens, 1);

	st = store_open(tmpdir, 0);
	ck_assert_ptr_nonnull(st);
	expect(st, STORE_OUTBOX, "after", "x");
	store_close(st);
}
END_TEST

/* store_case - one test in a case of its own (CK_RUN_CASE picks one) */
static void
store_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

/* store_suite - every store test */
static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");

	store_case(s, "basics", test_basics);
	store_case(s, "rdonly", test_rdonly);
	store_case(s, "deadlock", test_deadlock);
	store_case(s, "timeout", test_lock_timeout);
	store_case(s, "kill", test_kill_writer);
	store_case(s, "recover", test_recover_running);
	store_case(s, "panic_exit", test_panic_exit);
	store_case(s, "logs", test_log_bounded);
	return s;
}

int
main(void)
{
	/* A child that died early must fail an assertion, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return test_run_suite(store_suite());
}
