/*
 * store_int.h - what the store's own files share: the handles behind the
 * opaque types of store.h, and Berkeley DB.  Private to lib/store/store*.c:
 * these are the only files that include <db.h> (through this header),
 * and the record modules (message.c, outbox.c, ...) use store.h alone.
 */
#ifndef PH_STORE_INT_H
#define PH_STORE_INT_H

#include <pthread.h>
#include <stdint.h>

#include <db.h>

#include "store/store.h"

/* The file of each table (store.c). */
extern const char *const store_files[STORE_TABLE_COUNT];

struct store {
	char *dir;
	int flags;
	int full_sync;
	int64_t lock_timeout_ms; /* 0: retry busy locks until deadline */
	pthread_rwlock_t lock;	 /* shared: a transaction; exclusive: reopen */
	unsigned gen;		 /* bumped by every reopen */
	DB_ENV *env;		 /* NULL after a failed reopen */
	DB *db[STORE_TABLE_COUNT];
	uint64_t retries; /* atomic counters */
	uint64_t reopens;
	int quiet; /* closing a panicked environment */
};

struct store_txn {
	struct store *st;
	DB_TXN *tid;
	int err; /* first failure that dooms the txn */
	struct store_cursor *cursors;
};

struct store_cursor {
	struct store_txn *txn;
	enum store_table table;
	DBC *dbc;
	DBT key;
	DBT val;
	int started;
	int seek; /* key holds a position to seek */
	struct store_cursor *next;
};

/* store_status - the store status of a Berkeley DB return (store.c). */
int store_status(int ret);

/*
 * store_reopen - close and reopen (recovering) the environment unless
 * another thread already did since generation gen; 0 or -1 (store.c).
 */
int store_reopen(struct store *st, unsigned gen, const char *why);

/* store_dead_owner - does an active transaction belong to a dead process;
 * st->lock held shared (store.c). */
int store_dead_owner(struct store *st);

/* store_txn_ret - the status of ret, recorded in txn when it dooms the
 * transaction (store_table.c). */
int store_txn_ret(struct store_txn *txn, int ret, const char *op, enum store_table t);

/* store_cursors_close - close the cursors a callback left open
 * (store_table.c). */
void store_cursors_close(struct store_txn *txn);

#endif
