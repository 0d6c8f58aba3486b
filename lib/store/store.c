/*
 * store.c - the state store on Berkeley DB 5.3: the one file that includes
 * <db.h>.
 *
 * Environment.  One transactional environment in state_dir, opened with
 * DB_INIT_TXN|DB_INIT_LOCK|DB_INIT_LOG|DB_INIT_MPOOL|DB_THREAD|DB_REGISTER|
 * DB_RECOVER.  DB_REGISTER records every process that has the environment
 * open, so recovery runs when an opener finds that a registered process
 * died (SIGKILL, crash) and never while all are alive.  Recovery panics the
 * old environment: the processes still running see DB_RUNRECOVERY and
 * reopen (store_reopen), which the rest of the program never notices.
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
 * Dead lock holders.  A process killed inside a transaction leaves its
 * locks behind, and nobody opens the environment to find it.  So while
 * store_run() keeps meeting busy locks (every STORE_DEAD_CHECK_MS), and on
 * every store_maintain(), the active transactions are checked for an
 * owner process that no longer exists; when one is found the environment
 * is reopened, which recovers it.
 *
 * Threads.  One struct store serves many threads.  The environment
 * handle is guarded by a rwlock: store_run() holds it shared for the whole
 * transaction, a reopen holds it exclusive (writers first, so that busy
 * readers cannot starve a reopen).  A generation number makes sure that
 * threads which met the same DB_RUNRECOVERY reopen only once.
 *
 * Durability.  Commits use DB_TXN_WRITE_NOSYNC by default: the log is
 * written to the kernel at commit, so a commit survives the death of any
 * process, but a host crash may lose the last moments.  store_set_sync()
 * makes every commit of a handle flush to disk (DB_TXN_SYNC) instead.
 *
 * Size.  Log files are 2 MiB (a switch to a new file syncs the old one: at
 * 1 MiB a busy tailer switched dozens of times a second; larger files would
 * keep more log on disk than check_store's bound of 4 MiB); DB_LOG_AUTO_REMOVE
 * removes those no longer needed once a checkpoint passes them, and
 * store_maintain() checkpoints every 512 KiB of log (or minute) and removes
 * leftovers itself.  The two tables the tailer fills one record after the
 * other (outbox.db, events_seen.db) get STORE_BULK_PAGESIZE pages when
 * they are created: fewer page splits, whose page images were half the
 * log; a file made before keeps the page size it has.
 */

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <db.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_LEAK__)
#define STORE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define STORE_LSAN 1
#endif
#endif
#ifdef STORE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "util/fault.h"
#include "util/log.h"
#include "store/store.h"
#include "util/util.h"

#define STORE_CACHE_BYTES	(8 * 1024 * 1024)
#define STORE_LOG_MAX		(2 * 1024 * 1024)
#define STORE_BULK_PAGESIZE	(64 * 1024)
#define STORE_LOG_BUFFER	(256 * 1024)
#define STORE_CKP_KBYTES	512
#define STORE_CKP_MINUTES	1
#define STORE_DEAD_CHECK_MS	100
#define STORE_MAX_REOPENS	5	/* per store_run() call */
#define STORE_OPEN_TRIES	20	/* while another process recovers */
#define STORE_OPEN_WAIT_MS	30000	/* for a table busy in a live writer */

/* One file per table; a table added to store.h without a name here fails to build. */
static const char *const store_files[] = {
	[STORE_META] = "meta.db",
	[STORE_MESSAGES] = "messages.db",
	[STORE_MESSAGE_TOKENS] = "message_tokens.db",
	[STORE_MESSAGE_IDS] = "message_ids.db",
	[STORE_OUTBOX] = "outbox.db",
	[STORE_EVENTS_SEEN] = "events_seen.db",
	[STORE_ENDPOINTS] = "endpoints.db",
	[STORE_DELIVERIES] = "deliveries.db",
	[STORE_DELIVERY_DUE] = "delivery_due.db",
	[STORE_ATTEMPTS] = "attempts.db",
	[STORE_POSITIONS] = "positions.db",
	[STORE_QUEUE] = "queue.db",
	[STORE_KEYS] = "keys.db",
	[STORE_BOUNCES] = "bounces.db",
	[STORE_MESSAGE_MIDS] = "message_mids.db",
};

struct store {
	char   *dir;
	int     flags;
	int     full_sync;
	int64_t lock_timeout_ms;		/* 0: retry busy locks until deadline */
	pthread_rwlock_t lock;		/* shared: a transaction; exclusive: reopen */
	unsigned gen;			/* bumped by every reopen */
	DB_ENV *env;			/* NULL after a failed reopen */
	DB     *db[STORE_TABLE_COUNT];
	uint64_t retries;		/* atomic counters */
	uint64_t reopens;
	int     quiet;			/* closing a panicked environment */
};

struct store_txn {
	struct store *st;
	DB_TXN *tid;
	int     err;			/* first failure that dooms the txn */
	struct store_cursor *cursors;
};

static int store_dead_owner(struct store *);
static void store_abandon(const void *);

struct store_cursor {
	struct store_txn *txn;
	enum store_table table;
	DBC    *dbc;
	DBT     key;
	DBT     val;
	int     started;
	int     seek;			/* key holds a position to seek */
	struct store_cursor *next;
};

/* store_errcall - Berkeley DB's own messages go to our log */
static void
store_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	const struct store *st = env->app_private;

	if (!st->quiet)
		log_error("store: %s", msg);
}

/* store_msgcall - informational messages (recovery) */
static void
store_msgcall(const DB_ENV *env, const char *msg)
{
	log_info("store: %s", msg);
}

/* store_status - map a Berkeley DB return to a store status */
static int
store_status(int ret)
{
	switch (ret) {
	case 0:
		return STORE_OK;
	case DB_NOTFOUND:
		return STORE_NOTFOUND;
	case DB_KEYEXIST:
		return STORE_EXISTS;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		return STORE_RETRY;
	case DB_RUNRECOVERY:
		return STORE_RECOVER;
	default:
		return STORE_ERROR;
	}
}

/*
 * store_db_try - open a table file once, in a transaction that never waits
 * for a lock: the holder may be a dead process nobody has noticed yet.
 */
static int
store_db_try(struct store *st, enum store_table t, u_int32_t oflags, DB **out)
{
	DB_TXN *tid;
	DB     *db;
	int     ret;

	if ((ret = st->env->txn_begin(st->env, NULL, &tid, DB_TXN_NOWAIT)) != 0)
		return ret;
	if ((ret = db_create(&db, st->env, 0)) != 0) {
		(void) tid->abort(tid);
		return ret;
	}
	/* Only a new file takes it; an existing one keeps its own. */
	if ((t == STORE_OUTBOX || t == STORE_EVENTS_SEEN)
	    && (ret = db->set_pagesize(db, STORE_BULK_PAGESIZE)) != 0) {
		(void) db->close(db, 0);
		(void) tid->abort(tid);
		return ret;
	}
	ret = db->open(db, tid, store_files[t], NULL, DB_BTREE, oflags, 0600);
	if (ret == 0)
		ret = tid->commit(tid, 0);
	else
		(void) tid->abort(tid);
	if (ret != 0) {
		if (db->close(db, 0) == DB_RUNRECOVERY)
			store_abandon(db);
		return ret;
	}
	*out = db;
	return 0;
}

/*
 * store_db_open - open (creating) one table file; DB_RUNRECOVERY when a
 * dead process holds what the open needs, so that the caller recovers.
 */
static int
store_db_open(struct store *st, enum store_table t)
{
	u_int32_t oflags = DB_THREAD |
	    ((st->flags & STORE_RDONLY) ? DB_RDONLY : DB_CREATE);
	int64_t start = monotonic_ms();
	DB     *db;
	int     ret;

	for (;;) {
		ret = store_db_try(st, t, oflags, &db);
		if (ret == ENOENT && (oflags & DB_RDONLY)) {
			/* A read-only opener of a new store: create the file. */
			ret = store_db_try(st, t, DB_THREAD | DB_CREATE, &db);
			if (ret == 0) {
				(void) db->close(db, 0);
				continue;
			}
		}
		if (ret == 0) {
			st->db[t] = db;
			return 0;
		}
		if (store_status(ret) != STORE_RETRY)
			break;
		if (store_dead_owner(st))
			return DB_RUNRECOVERY;
		if (monotonic_ms() - start > STORE_OPEN_WAIT_MS)
			break;
		usleep(10000);
	}
	if (ret != DB_RUNRECOVERY)
		log_error("store: open %s/%s: %s", st->dir, store_files[t],
			  db_strerror(ret));
	return ret;
}

/*
 * store_abandon - a handle that Berkeley DB refused to close after a panic.
 *
 * Once recovery by another process has panicked the environment, DB->close
 * and DB_ENV->close return DB_RUNRECOVERY from their panic check without
 * freeing anything (db_iface.c __db_close_pp: ENV_ENTER; env_open.c
 * __env_close_pp: PANIC_CHECK after closing file descriptors): the handles,
 * their cursors, mpool files and region bookkeeping (about 58 KB for our
 * tables) stay allocated for the life of the process, and no call of the
 * API releases them (DB_NOPANIC would, by writing through the stale regions
 * into the recovered log and files).  Every close was called; the memory
 * is Berkeley DB's.  Tell LeakSanitizer so for exactly these objects, and
 * what they reach (the DB handles hang on the environment's list), so that
 * any other leak still fails the run.
 */
static void
store_abandon(const void *handle)
{
#ifdef STORE_LSAN
	__lsan_ignore_object(handle);
#else
	(void) handle;
#endif
}

/* store_env_close - close every handle, whatever state the environment is in */
static void
store_env_close(struct store *st)
{
	int     t;
	int     ret;

	for (t = 0; t < STORE_TABLE_COUNT; t++) {
		if (st->db[t] == NULL)
			continue;
		ret = st->db[t]->close(st->db[t], 0);
		if (ret == DB_RUNRECOVERY)
			store_abandon(st->db[t]);
		else if (ret != 0)
			log_warn("store: close %s: %s", store_files[t], db_strerror(ret));
		st->db[t] = NULL;
	}
	if (st->env != NULL) {
		ret = st->env->close(st->env, 0);
		if (ret == DB_RUNRECOVERY)
			store_abandon(st->env);
		else if (ret != 0)
			log_warn("store: close %s: %s", st->dir, db_strerror(ret));
		st->env = NULL;
	}
}

/* store_env_try - open or join (recovering when needed) once; a BDB error */
static int
store_env_try(struct store *st)
{
	u_int32_t eflags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_THREAD | DB_REGISTER | DB_RECOVER;
	DB_ENV *env;
	int     ret;
	int     t;

	if ((ret = db_env_create(&env, 0)) != 0)
		return ret;
	env->app_private = st;
	env->set_errcall(env, store_errcall);
	env->set_msgcall(env, store_msgcall);
	/* The detector serves Berkeley DB's own waits (handle locks). */
	if ((ret = env->set_cachesize(env, 0, STORE_CACHE_BYTES, 1)) != 0
	    || (ret = env->set_lg_max(env, STORE_LOG_MAX)) != 0
	    || (ret = env->set_lg_bsize(env, STORE_LOG_BUFFER)) != 0
	    || (ret = env->set_lk_detect(env, DB_LOCK_YOUNGEST)) != 0
	    || (ret = env->set_lk_max_locks(env, 20000)) != 0
	    || (ret = env->set_lk_max_objects(env, 20000)) != 0
	    || (ret = env->set_lk_max_lockers(env, 4000)) != 0
	    || (ret = env->set_tx_max(env, 1000)) != 0
	    || (ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0
	    || (ret = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0
	    || (ret = env->set_flags(env, DB_TIME_NOTGRANTED, 1)) != 0
	    || (ret = env->open(env, st->dir, eflags, 0600)) != 0) {
		(void) env->close(env, 0);
		return ret;
	}
	st->env = env;
	for (t = 0; t < STORE_TABLE_COUNT; t++) {
		if ((ret = store_db_open(st, t)) != 0) {
			st->quiet = 1;
			store_env_close(st);
			st->quiet = 0;
			return ret;
		}
	}
	return 0;
}

/*
 * store_env_open - open the environment, trying again for a while when it
 * fails: another process may be recovering it, which panics or removes
 * what we are joining.  Only a lack of rights or space fails at once.
 */
static int
store_env_open(struct store *st)
{
	int     ret;
	int     tries;

	for (tries = 1;; tries++) {
		if ((ret = store_env_try(st)) == 0)
			return 0;
		if (tries == STORE_OPEN_TRIES || ret == EACCES || ret == EPERM
		    || ret == EROFS || ret == ENOSPC)
			break;
		usleep(10000 * tries);
	}
	log_error("store: open %s (%d tries): %s", st->dir, tries, db_strerror(ret));
	return -1;
}

/* store_lock_init - the rwlock, preferring writers */
static int
store_lock_init(struct store *st)
{
	pthread_rwlockattr_t ra;
	int     err;

	if ((err = pthread_rwlockattr_init(&ra)) != 0)
		return err;
	(void) pthread_rwlockattr_setkind_np(&ra,
				PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	err = pthread_rwlock_init(&st->lock, &ra);
	(void) pthread_rwlockattr_destroy(&ra);
	return err;
}

/* store_open - open the environment in dir and every table */
struct store *
store_open(const char *dir, int flags)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int     err;

	st->dir = xstrdup(dir);
	st->flags = flags;
	if (store_env_open(st) != 0) {
		free(st->dir);
		free(st);
		return NULL;
	}
	if ((err = store_lock_init(st)) != 0) {
		log_error("store: rwlock: %s", strerror(err));
		store_env_close(st);
		free(st->dir);
		free(st);
		return NULL;
	}
	return st;
}

/* store_close - close every handle and free st */
void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_env_close(st);
	(void) pthread_rwlock_destroy(&st->lock);
	free(st->dir);
	free(st);
}

/* store_set_lock_timeout - how long store_run() retries a busy lock */
void
store_set_lock_timeout(struct store *st, int64_t ms)
{
	__atomic_store_n(&st->lock_timeout_ms, ms, __ATOMIC_RELAXED);
}

/* store_set_sync - flush every commit of this handle to disk, or not */
void
store_set_sync(struct store *st, int full_sync)
{
	__atomic_store_n(&st->full_sync, full_sync, __ATOMIC_RELAXED);
}

/* store_retries - how many times store_run() ran a callback again */
uint64_t
store_retries(const struct store *st)
{
	return __atomic_load_n(&st->retries, __ATOMIC_RELAXED);
}

/* store_reopens - how many times the environment was reopened */
uint64_t
store_reopens(const struct store *st)
{
	return __atomic_load_n(&st->reopens, __ATOMIC_RELAXED);
}

/* store_reopen - reopen (recovering) unless another thread already did */
static int
store_reopen(struct store *st, unsigned gen, const char *why)
{
	int     err;
	int     ret = 0;

	if ((err = pthread_rwlock_wrlock(&st->lock)) != 0) {
		log_error("store: rwlock: %s", strerror(err));
		return -1;
	}
	if (st->gen == gen || st->env == NULL) {
		log_warn("store: %s: reopening %s", why, st->dir);
		/* Closing after a panic lists every handle: not worth a line. */
		st->quiet = 1;
		store_env_close(st);
		st->quiet = 0;
		ret = store_env_open(st);
		st->gen++;
		__atomic_fetch_add(&st->reopens, 1, __ATOMIC_RELAXED);
	}
	(void) pthread_rwlock_unlock(&st->lock);
	return ret;
}

/* store_dead_owner - does an active transaction belong to a dead process */
static int
store_dead_owner(struct store *st)
{
	DB_TXN_STAT *sp;
	pid_t   self = getpid();
	u_int32_t i;
	int     dead = 0;
	int     ret;

	if ((ret = st->env->txn_stat(st->env, &sp, 0)) != 0) {
		if (ret != DB_RUNRECOVERY)
			log_warn("store: txn_stat: %s", db_strerror(ret));
		return ret == DB_RUNRECOVERY;
	}
	for (i = 0; i < sp->st_nactive && !dead; i++) {
		pid_t   pid = sp->st_txnarray[i].pid;

		if (pid > 0 && pid != self && kill(pid, 0) != 0 && errno == ESRCH) {
			log_warn("store: process %ld died inside a transaction",
				 (long) pid);
			dead = 1;
		}
	}
	free(sp);
	return dead;
}

/* store_backoff - sleep a little, randomly, before a retry */
static void
store_backoff(int attempt)
{
	static __thread unsigned seed;
	int     cap = attempt < 6 ? 1 << attempt : 64;

	if (seed == 0)
		seed = (unsigned) monotonic_ms() ^ (unsigned) (uintptr_t) &seed;
	usleep(1000 * (rand_r(&seed) % cap) + 100);
}

/* store_cursors_close - close cursors a callback left open */
static void
store_cursors_close(struct store_txn *txn)
{
	while (txn->cursors != NULL) {
		log_error("store: a cursor was left open; closing it");
		store_cursor_close(txn->cursors);
	}
}

/* store_attempt - one run of fn in one transaction; returns a store status */
static int
store_attempt(struct store *st, store_fn fn, void *ctx)
{
	struct store_txn txn = { .st = st };
	u_int32_t cflags = __atomic_load_n(&st->full_sync, __ATOMIC_RELAXED) ?
	    DB_TXN_SYNC : DB_TXN_WRITE_NOSYNC;
	int     ret;
	int     rc;

	if (st->env == NULL)
		return STORE_RECOVER;
	ret = st->env->txn_begin(st->env, NULL, &txn.tid, DB_TXN_NOWAIT);
	if (ret != 0) {
		if ((rc = store_status(ret)) == STORE_ERROR)
			log_error("store: txn_begin: %s", db_strerror(ret));
		return rc;
	}
	rc = fn(&txn, ctx);
	PH_FAULT("store-in-txn");	/* killed with the transaction open */
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
	int     reopens = 0;
	int     attempt;
	int     dead;
	unsigned gen;
	int     rc;

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
			(void) store_reopen(st, gen, dead ? "dead lock holder" :
					    "environment needs recovery");
			continue;
		}
		store_backoff(attempt);
	}
}

/* store_txn_ret - record a failure that dooms the transaction */
static int
store_txn_ret(struct store_txn *txn, int ret, const char *op, enum store_table t)
{
	int     rc = store_status(ret);

	switch (rc) {
	case STORE_OK:
	case STORE_NOTFOUND:
	case STORE_EXISTS:
		return rc;
	case STORE_RETRY:
	case STORE_RECOVER:
		break;
	default:
		log_error("store: %s %s: %s", op, store_files[t], db_strerror(ret));
		break;
	}
	if (txn->err == STORE_OK)
		txn->err = rc;
	return rc;
}

/* store_dbt - a DBT over caller memory */
static DBT
store_dbt(const void *data, size_t len)
{
	DBT     d;

	memset(&d, 0, sizeof(d));
	d.data = (void *) data;
	d.size = (u_int32_t) len;
	return d;
}

/* store_get_flags - fetch a copy of the value, NUL-terminated */
static int
store_get_flags(struct store_txn *txn, enum store_table t, const void *key,
		size_t klen, void **val, size_t *vlen, u_int32_t flags)
{
	DBT     k = store_dbt(key, klen);
	DBT     v;
	char   *copy;
	int     rc;

	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	rc = store_txn_ret(txn, txn->st->db[t]->get(txn->st->db[t], txn->tid,
						     &k, &v, flags), "get", t);
	if (rc != STORE_OK)
		return rc;
	if ((copy = realloc(v.data, v.size + 1)) == NULL) {
		free(v.data);
		log_error("store: get %s: out of memory", store_files[t]);
		return STORE_ERROR;
	}
	copy[v.size] = '\0';
	*val = copy;
	if (vlen != NULL)
		*vlen = v.size;
	return STORE_OK;
}

/* store_get - fetch a malloc()ed copy of a value */
int
store_get(struct store_txn *txn, enum store_table t, const void *key,
	  size_t klen, void **val, size_t *vlen)
{
	return store_get_flags(txn, t, key, klen, val, vlen, 0);
}

/* store_get_rmw - fetch with a write lock */
int
store_get_rmw(struct store_txn *txn, enum store_table t, const void *key,
	      size_t klen, void **val, size_t *vlen)
{
	return store_get_flags(txn, t, key, klen, val, vlen, DB_RMW);
}

/* store_put_flags - store a record */
static int
store_put_flags(struct store_txn *txn, enum store_table t, const void *key,
		size_t klen, const void *val, size_t vlen, u_int32_t flags)
{
	DBT     k = store_dbt(key, klen);
	DBT     v = store_dbt(val, vlen);

	return store_txn_ret(txn, txn->st->db[t]->put(txn->st->db[t], txn->tid,
						       &k, &v, flags), "put", t);
}

/* store_put - insert or replace */
int
store_put(struct store_txn *txn, enum store_table t, const void *key,
	  size_t klen, const void *val, size_t vlen)
{
	return store_put_flags(txn, t, key, klen, val, vlen, 0);
}

/* store_put_new - insert unless present */
int
store_put_new(struct store_txn *txn, enum store_table t, const void *key,
	      size_t klen, const void *val, size_t vlen)
{
	return store_put_flags(txn, t, key, klen, val, vlen, DB_NOOVERWRITE);
}

/* store_del - delete a record; STORE_NOTFOUND when absent */
int
store_del(struct store_txn *txn, enum store_table t, const void *key, size_t klen)
{
	DBT     k = store_dbt(key, klen);

	return store_txn_ret(txn, txn->st->db[t]->del(txn->st->db[t], txn->tid,
						       &k, 0), "del", t);
}

/* store_seq_next - the next value of a sequence: a reservation of one */
int
store_seq_next(struct store_txn *txn, const char *name, uint64_t *out)
{
	return store_seq_reserve(txn, name, 1, out);
}

/* store_cursor_open - a cursor over table t inside txn */
int
store_cursor_open(struct store_txn *txn, enum store_table t,
		  struct store_cursor **out)
{
	struct store_cursor *c;
	DBC    *dbc;
	int     rc;

	rc = store_txn_ret(txn, txn->st->db[t]->cursor(txn->st->db[t], txn->tid,
							&dbc, 0), "cursor", t);
	if (rc != STORE_OK)
		return rc;
	c = xcalloc(1, sizeof(*c));
	c->txn = txn;
	c->table = t;
	c->dbc = dbc;
	c->key.flags = DB_DBT_REALLOC;
	c->val.flags = DB_DBT_REALLOC;
	c->next = txn->cursors;
	txn->cursors = c;
	*out = c;
	return STORE_OK;
}

/* store_cursor_seek - start the next store_cursor_next() at key or after */
int
store_cursor_seek(struct store_cursor *c, const void *key, size_t klen)
{
	void   *data = realloc(c->key.data, klen ? klen : 1);

	if (data == NULL) {
		log_error("store: cursor seek: out of memory");
		return STORE_ERROR;
	}
	memcpy(data, key, klen);
	c->key.data = data;
	c->key.size = (u_int32_t) klen;
	c->seek = 1;
	return STORE_OK;
}

/* store_cursor_next - the next record in key order; STORE_NOTFOUND at the end */
int
store_cursor_next(struct store_cursor *c, const void **key, size_t *klen,
		  const void **val, size_t *vlen)
{
	u_int32_t how = c->seek ? DB_SET_RANGE : c->started ? DB_NEXT : DB_FIRST;
	int     rc;

	rc = store_txn_ret(c->txn, c->dbc->get(c->dbc, &c->key, &c->val, how),
			   "cursor get", c->table);
	c->seek = 0;
	c->started = 1;
	if (rc != STORE_OK)
		return rc;
	*key = c->key.data;
	*klen = c->key.size;
	if (val != NULL)
		*val = c->val.data;
	if (vlen != NULL)
		*vlen = c->val.size;
	return STORE_OK;
}

/* store_cursor_del - delete the current record */
int
store_cursor_del(struct store_cursor *c)
{
	return store_txn_ret(c->txn, c->dbc->del(c->dbc, 0), "cursor del",
			     c->table);
}

/* store_cursor_close - close and free the cursor */
void
store_cursor_close(struct store_cursor *c)
{
	struct store_cursor **pp;
	int     ret;

	for (pp = &c->txn->cursors; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if ((ret = c->dbc->close(c->dbc)) != 0)
		(void) store_txn_ret(c->txn, ret, "cursor close", c->table);
	free(c->key.data);
	free(c->val.data);
	free(c);
}

/* store_maintain - recover from dead owners, checkpoint, remove old logs */
int
store_maintain(struct store *st)
{
	unsigned gen;
	int     dead;
	int     ret = 0;

	if (pthread_rwlock_rdlock(&st->lock) != 0) {
		log_error("store: rwlock: %s", strerror(errno));
		return STORE_ERROR;
	}
	gen = st->gen;
	if (st->env == NULL) {
		dead = 1;
	} else if ((dead = store_dead_owner(st)) == 0) {
		ret = st->env->txn_checkpoint(st->env, STORE_CKP_KBYTES,
					      STORE_CKP_MINUTES, 0);
		if (ret == 0)
			ret = st->env->log_archive(st->env, NULL, DB_ARCH_REMOVE);
		if (ret != 0 && ret != DB_RUNRECOVERY)
			log_error("store: checkpoint %s: %s", st->dir, db_strerror(ret));
	}
	(void) pthread_rwlock_unlock(&st->lock);
	if (dead || ret == DB_RUNRECOVERY)
		return store_reopen(st, gen, dead ? "dead lock holder" :
				    "environment needs recovery") == 0 ?
		    STORE_OK : STORE_ERROR;
	return ret == 0 ? STORE_OK : STORE_ERROR;
}

/* store_log_bytes - total size of the log.* files */
int64_t
store_log_bytes(const struct store *st)
{
	struct dirent *de;
	struct stat sb;
	int64_t total = 0;
	DIR    *dir;
	char   *path;

	if ((dir = opendir(st->dir)) == NULL) {
		log_error("store: open %s: %s", st->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "log.", 4) != 0)
			continue;
		path = xasprintf("%s/%s", st->dir, de->d_name);
		if (stat(path, &sb) == 0)
			total += sb.st_size;
		free(path);
	}
	(void) closedir(dir);
	return total;
}

/* store_dir - the environment's directory */
const char *
store_dir(const struct store *st)
{
	return st->dir;
}

/*
 * store_seq_reserve - take n consecutive values of a named sequence (a
 * big-endian counter under "seq:NAME" in STORE_META) in one
 * read-modify-write: *first .. *first + n - 1, what n store_seq_next()
 * calls in this transaction would return.  n == 0 writes nothing.
 */
int
store_seq_reserve(struct store_txn *txn, const char *name, uint64_t n,
		  uint64_t *first)
{
	char   *key = xasprintf("seq:%s", name);
	unsigned char buf[8];
	uint64_t last = 0;
	void   *val;
	size_t  vlen;
	int     rc;
	int     i;

	rc = store_get_rmw(txn, STORE_META, key, strlen(key), &val, &vlen);
	if (rc == STORE_OK) {
		if (vlen != sizeof(buf)) {
			log_error("store: sequence %s: bad record of %zu bytes", name, vlen);
			free(val);
			free(key);
			return STORE_ERROR;
		}
		for (i = 0; i < 8; i++)
			last = last << 8 | ((unsigned char *) val)[i];
		free(val);
	} else if (rc != STORE_NOTFOUND) {
		free(key);
		return rc;
	}
	if (n > UINT64_MAX - last) {
		log_error("store: sequence %s: cannot reserve %llu more values",
			  name, (unsigned long long) n);
		free(key);
		return STORE_ERROR;
	}
	rc = STORE_OK;
	if (n > 0) {
		for (i = 7; i >= 0; i--)
			buf[7 - i] = (unsigned char) ((last + n) >> (8 * i));
		rc = store_put(txn, STORE_META, key, strlen(key), buf, sizeof(buf));
	}
	free(key);
	if (rc == STORE_OK)
		*first = last + 1;
	return rc;
}
