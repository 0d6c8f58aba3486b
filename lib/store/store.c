/*
 * store.c - the state store's environment on Berkeley DB 5.3: opening,
 * recovery, reopening and closing, and its upkeep (checkpoints, log
 * removal).  Transactions and their retries are store_txn.c's, records and
 * cursors store_table.c's, sequences store_seq.c's; the store_*.c files
 * that need <db.h> share it through store_int.h, and no file outside
 * lib/store/ includes it.
 *
 * Environment.  One transactional environment in state_dir, opened with
 * DB_INIT_TXN|DB_INIT_LOCK|DB_INIT_LOG|DB_INIT_MPOOL|DB_THREAD|DB_REGISTER|
 * DB_RECOVER.  DB_REGISTER records every process that has the environment
 * open, so recovery runs when an opener finds that a registered process
 * died (SIGKILL, crash) and never while all are alive.  Recovery panics the
 * old environment: the processes still running see DB_RUNRECOVERY and
 * reopen (store_reopen), which the rest of the program never notices.
 *
 * Dead lock holders.  A process killed inside a transaction leaves its
 * locks behind, and nobody opens the environment to find it.  So while
 * store_run() keeps meeting busy locks (every STORE_DEAD_CHECK_MS, in
 * store_txn.c), and on every store_maintain(), the active transactions
 * are checked for an owner process that no longer exists; when one is
 * found the environment is reopened, which recovers it.
 *
 * Threads.  One struct store serves many threads.  The environment
 * handle is guarded by a rwlock: store_run() holds it shared for the whole
 * transaction, a reopen holds it exclusive (writers first, so that busy
 * readers cannot starve a reopen).  A generation number makes sure that
 * threads which met the same DB_RUNRECOVERY reopen only once.
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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

#include "store/store_int.h"
#include "util/log.h"
#include "util/util.h"

#define STORE_CACHE_BYTES (8 * 1024 * 1024)
#define STORE_LOG_MAX (2 * 1024 * 1024)
#define STORE_BULK_PAGESIZE (64 * 1024)
#define STORE_LOG_BUFFER (256 * 1024)
#define STORE_CKP_KBYTES 512
#define STORE_CKP_MINUTES 1
#define STORE_OPEN_TRIES 20	 /* while another process recovers */
#define STORE_OPEN_WAIT_MS 30000 /* for a table busy in a live writer */

/* One file per table; a table added to store.h without a name here fails to build. */
const char *const store_files[] = {
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
	[STORE_DOMAINS] = "domains.db",
	[STORE_TENANTS] = "tenants.db",
	[STORE_VOLUME] = "volume.db",
	[STORE_RELEASES] = "releases.db",
	[STORE_ACTIVITY] = "activity.db",
};

static void store_abandon(const void *);

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
int
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
	DB *db;
	int ret;

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
	u_int32_t oflags =
	    DB_THREAD | ((st->flags & STORE_RDONLY) ? DB_RDONLY : DB_CREATE);
	int64_t start = monotonic_ms();
	DB *db;
	int ret;

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
	int t;
	int ret;

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
	u_int32_t eflags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG
			   | DB_INIT_MPOOL | DB_THREAD | DB_REGISTER | DB_RECOVER;
	DB_ENV *env;
	int ret;
	int t;

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
	int ret;
	int tries;

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
	int err;

	if ((err = pthread_rwlockattr_init(&ra)) != 0)
		return err;
	(void) pthread_rwlockattr_setkind_np(
	    &ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	err = pthread_rwlock_init(&st->lock, &ra);
	(void) pthread_rwlockattr_destroy(&ra);
	return err;
}

/* store_open - open the environment in dir and every table */
struct store *
store_open(const char *dir, int flags)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int err;

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
int
store_reopen(struct store *st, unsigned gen, const char *why)
{
	int err;
	int ret = 0;

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
int
store_dead_owner(struct store *st)
{
	DB_TXN_STAT *sp;
	pid_t self = getpid();
	u_int32_t i;
	int dead = 0;
	int ret;

	if ((ret = st->env->txn_stat(st->env, &sp, 0)) != 0) {
		if (ret != DB_RUNRECOVERY)
			log_warn("store: txn_stat: %s", db_strerror(ret));
		return ret == DB_RUNRECOVERY;
	}
	for (i = 0; i < sp->st_nactive && !dead; i++) {
		pid_t pid = sp->st_txnarray[i].pid;

		if (pid > 0 && pid != self && kill(pid, 0) != 0 && errno == ESRCH) {
			log_warn("store: process %ld died inside a transaction",
				 (long) pid);
			dead = 1;
		}
	}
	free(sp);
	return dead;
}

/* store_maintain - recover from dead owners, checkpoint, remove old logs */
int
store_maintain(struct store *st)
{
	unsigned gen;
	int dead;
	int ret = 0;

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
		return store_reopen(st, gen,
				    dead ? "dead lock holder"
					 : "environment needs recovery")
			       == 0
			   ? STORE_OK
			   : STORE_ERROR;
	return ret == 0 ? STORE_OK : STORE_ERROR;
}

/* store_log_bytes - total size of the log.* files */
int64_t
store_log_bytes(const struct store *st)
{
	struct dirent *de;
	struct stat sb;
	int64_t total = 0;
	DIR *dir;
	char *path;

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
