/*
 * store.h - the state store: one transactional Berkeley DB environment
 * under state_dir, shared by every posthook process and thread.
 *
 * This module owns the environment, its recovery, deadlock handling,
 * checkpoints and log removal.  Its files store.c, store_txn.c and
 * store_table.c are the only ones that include <db.h>, through their
 * private store_int.h; sequences (store_seq.c) and the record modules
 * (message.c, outbox.c, ...) build on the table interface below.
 *
 * Work is done in store_run(): the callback runs inside a transaction that
 * is committed when it returns STORE_OK and aborted otherwise; a deadlock
 * or lock timeout aborts and runs the callback again, and an environment
 * that needs recovery is reopened (recovering it) before the retry.  A
 * callback must therefore have no effect outside the store.
 */
#ifndef PH_STORE_H
#define PH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

enum store_status {
	STORE_OK = 0,
	STORE_NOTFOUND = 1,
	STORE_ERROR = -1,
	STORE_RETRY = -2,   /* deadlock or lock timeout: run again */
	STORE_RECOVER = -3, /* environment must be reopened */
	STORE_EXISTS = -4,  /* store_put_new: key already present */
};

/* One Berkeley DB file each; new tables are added at the end. */
enum store_table {
	STORE_META,	      /* name -> value: sequences, settings */
	STORE_MESSAGES,	      /* queue id -> message record */
	STORE_MESSAGE_TOKENS, /* token -> queue id */
	STORE_MESSAGE_IDS,    /* id (8 bytes, big-endian) -> queue id */
	STORE_OUTBOX,	      /* sequence -> events (outbox.c), until fanned out */
	STORE_EVENTS_SEEN,    /* event key -> time made; file -> high-water mark */
	STORE_ENDPOINTS,      /* endpoint id -> endpoint */
	STORE_DELIVERIES,     /* delivery id -> delivery */
	STORE_DELIVERY_DUE,   /* due time + delivery id -> nothing */
	STORE_ATTEMPTS,	      /* attempt id -> attempt record */
	STORE_POSITIONS,      /* log source -> read position */
	STORE_QUEUE,	      /* queue id -> what the tailer knows */
	STORE_KEYS,	      /* key id -> signing key state */
	STORE_BOUNCES,	      /* bounce id -> unmatched/ARF record */
	STORE_MESSAGE_MIDS,   /* Message-ID -> queue id */
	STORE_DOMAINS,	      /* tenant NUL domain -> domain record */
	STORE_TENANTS,	      /* tenant name -> tenant */
	STORE_VOLUME,	      /* scope + minute -> count; scope -> limit state */
	STORE_RELEASES,	      /* messages posthook held; release requests */
	STORE_ACTIVITY,	      /* message id + time -> an open, click, unsubscribe */
	STORE_TABLE_COUNT
};

#define STORE_RDONLY 0x01 /* open no table for writing */

struct store;
struct store_txn;
struct store_cursor;

/*
 * store_open - open (creating and recovering as needed) the environment in
 * dir.  Returns NULL and logs why on failure.
 */
PH_MUST_CHECK struct store *store_open(const char *dir, int flags);
void store_close(struct store *st);

/*
 * store_set_lock_timeout - bound every lock wait of this handle.  Locks are
 * never waited for inside Berkeley DB: a busy lock aborts the attempt and
 * store_run() retries; it returns STORE_RETRY once a busy lock has kept it
 * retrying for ms (0, the default: until its own deadline).
 */
void store_set_lock_timeout(struct store *st, int64_t ms);

/*
 * store_set_sync - with full_sync, every commit of this handle is flushed
 * to disk; by default a commit survives any process crash but a host crash
 * may lose the last moments.
 */
void store_set_sync(struct store *st, int full_sync);

/* store_retries - callbacks run again (deadlock, timeout, recovery). */
uint64_t store_retries(const struct store *st);
/* store_reopens - times this handle reopened (recovered) the environment. */
uint64_t store_reopens(const struct store *st);

typedef int (*store_fn)(struct store_txn *txn, void *ctx);

/*
 * store_run - run fn in a transaction with retries (see above).  Returns
 * STORE_OK, or the callback's own non-OK status after abort, or
 * STORE_ERROR.  deadline_ms > 0 bounds the total time spent retrying.
 */
PH_MUST_CHECK int store_run(struct store *st, store_fn fn, void *ctx,
			    int64_t deadline_ms);

/*
 * Values returned by store_get() are malloc()ed: the caller frees them.
 * A NUL byte (not counted in *vlen) follows each, so text can be used as is.
 */
PH_MUST_CHECK int store_get(struct store_txn *txn, enum store_table t, const void *key,
			    size_t klen, void **val, size_t *vlen);
/* store_get_rmw - store_get() that takes a write lock at once. */
PH_MUST_CHECK int store_get_rmw(struct store_txn *txn, enum store_table t,
				const void *key, size_t klen, void **val, size_t *vlen);
PH_MUST_CHECK int store_put(struct store_txn *txn, enum store_table t, const void *key,
			    size_t klen, const void *val, size_t vlen);
/* store_put_new - put unless the key exists (STORE_EXISTS). */
PH_MUST_CHECK int store_put_new(struct store_txn *txn, enum store_table t,
				const void *key, size_t klen, const void *val,
				size_t vlen);
PH_MUST_CHECK int store_del(struct store_txn *txn, enum store_table t, const void *key,
			    size_t klen);

/* store_seq_next - next value (from 1) of a named 64-bit sequence. */
PH_MUST_CHECK int store_seq_next(struct store_txn *txn, const char *name, uint64_t *out);
/*
 * store_seq_reserve - n consecutive values of the sequence in one step:
 * *first .. *first + n - 1, as n calls of store_seq_next() would give.
 */
PH_MUST_CHECK int store_seq_reserve(struct store_txn *txn, const char *name, uint64_t n,
				    uint64_t *first);

/*
 * Cursors walk a table in key order (byte-wise).  Key and value pointers
 * from store_cursor_next() stay valid until the next call on the cursor.
 * Close every cursor before the callback returns.
 */
PH_MUST_CHECK int store_cursor_open(struct store_txn *txn, enum store_table t,
				    struct store_cursor **out);
/* store_cursor_seek - the next store_cursor_next() starts at key or after. */
PH_MUST_CHECK int store_cursor_seek(struct store_cursor *c, const void *key, size_t klen);
PH_MUST_CHECK int store_cursor_next(struct store_cursor *c, const void **key,
				    size_t *klen, const void **val, size_t *vlen);
/* store_cursor_del - delete the record the cursor is on. */
PH_MUST_CHECK int store_cursor_del(struct store_cursor *c);
void store_cursor_close(struct store_cursor *c);

/*
 * store_maintain - checkpoint and remove log files no longer needed.
 * Daemons call it every few seconds; it is cheap when nothing changed.
 */
PH_MUST_CHECK int store_maintain(struct store *st);

/* store_log_bytes - total size of the environment's log files. */
int64_t store_log_bytes(const struct store *st);

/* store_dir - the directory the environment lives in. */
const char *store_dir(const struct store *st);

#endif
