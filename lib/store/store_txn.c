/*
 * store_txn.c - store_run(): a callback in one transaction, committed or
 * aborted, and run again while a lock is busy or the environment must be
 * recovered (the contract in store.h).
 *
 * Locks are never waited for.  Every transaction runs with DB_TXN_NOWAIT:
 * a lock held by another transaction fails the request at once, and
 * store_run() aborts, backs off a random few milliseconds and runs the
 * callback again.  So a deadlock cannot form (two transactions taking two
 * keys in opposite order: one meets the other's lock and is retried), and
 * no thread can be stranded: Berkeley DB 5.3 never wakes a thread that
 * waits for a lock when recovery panics the environment under it, nor
 * expires that wait later.
 *
 * Durability.  Commits use DB_TXN_WRITE_NOSYNC by default: the log is
 * written to the kernel at commit, so a commit survives the death of any
 * process, but a host crash may lose the last moments.  store_set_sync()
 * makes every commit of a handle flush to disk (DB_TXN_SYNC) instead.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/util.h"

#define STORE_DEAD_CHECK_MS 100
#define STORE_MAX_REOPENS 5 /* per store_run() call */

/* store_backoff - sleep a little, randomly, before a retry */
static void
store_backoff(int attempt)
{
	static __thread unsigned seed;
	int cap = attempt < 6 ? 1 << attempt : 64;

	if (seed == 0)
		seed = (unsigned) monotonic_ms() ^ (unsigned) (uintptr_t) &seed;
	usleep(1000 * (rand_r(&seed) % cap) + 100);
}

/* store_attempt - one run of fn in one transaction; returns a store status */
static int
store_attempt(struct store *st, store_fn fn, void *ctx)
{
	struct store_txn txn = { .st = st };
	u_int32_t cflags = __atomic_load_n(&st->full_sync, __ATOMIC_RELAXED)
			       ? DB_TXN_SYNC
			       : DB_TXN_WRITE_NOSYNC;
	int ret;
	int rc;

	if (st->env == NULL)
		return STORE_RECOVER;
	ret = st->env->txn_begin(st->env, NULL, &txn.tid, DB_TXN_NOWAIT);
	if (ret != 0) {
		if ((rc = store_status(ret)) == STORE_ERROR)
			log_error("store: txn_begin: %s", db_strerror(ret));
		return rc;
	}
	rc = fn(&txn, ctx);
	PH_FAULT("store-in-txn"); /* killed with the transaction open */
	store_cursors_close(&txn);
	if (txn.err != STORE_OK)
		rc = txn.err;
	if (rc == STORE_OK) {
		if ((ret = txn.tid->commit(txn.tid, cflags)) != 0) {
			rc = store_status(ret);
			if (rc == STORE_ERROR)
				log_error("store: commit: %s", db_strerror(ret));
		}
		return rc;
	}
	if ((ret = txn.tid->abort(txn.tid)) != 0) {
		log_error("store: abort: %s", db_strerror(ret));
		if (ret == DB_RUNRECOVERY)
			rc = STORE_RECOVER;
	}
	return rc;
}

/*
 * store_run - run fn in a transaction, retrying and reopening as needed.
 * A lock that stays busy is checked now and then for a dead holder.
 */
int
store_run(struct store *st, store_fn fn, void *ctx, int64_t deadline_ms)
{
	int64_t start = monotonic_ms();
	int64_t lock_ms = __atomic_load_n(&st->lock_timeout_ms, __ATOMIC_RELAXED);
	int64_t next_check = STORE_DEAD_CHECK_MS;
	int64_t busy;
	int reopens = 0;
	int attempt;
	int dead;
	unsigned gen;
	int rc;

	for (attempt = 0;; attempt++) {
		if (pthread_rwlock_rdlock(&st->lock) != 0) {
			log_error("store: rwlock: %s", strerror(errno));
			return STORE_ERROR;
		}
		gen = st->gen;
		rc = store_attempt(st, fn, ctx);
		busy = monotonic_ms() - start;
		dead = 0;
		if (rc == STORE_RETRY && busy >= next_check) {
			next_check = busy + STORE_DEAD_CHECK_MS;
			dead = store_dead_owner(st);
		}
		(void) pthread_rwlock_unlock(&st->lock);
		if (dead)
			rc = STORE_RECOVER;
		if (rc != STORE_RETRY && rc != STORE_RECOVER)
			return rc;
		if (deadline_ms > 0 && busy >= deadline_ms)
			return rc;
		if (rc == STORE_RETRY && lock_ms > 0 && busy >= lock_ms)
			return rc;
		__atomic_fetch_add(&st->retries, 1, __ATOMIC_RELAXED);
		if (rc == STORE_RECOVER) {
			if (++reopens > STORE_MAX_REOPENS)
				return STORE_ERROR;
			(void) store_reopen(st, gen,
					    dead ? "dead lock holder"
						 : "environment needs recovery");
			continue;
		}
		store_backoff(attempt);
	}
}
