/*
 * store_table.c - records of the store's tables: get, put and delete by
 * key, and cursors walking a table in key order, each inside the
 * transaction of a store_run() callback.
 */

#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/log.h"
#include "util/util.h"

/* store_txn_ret - record a failure that dooms the transaction */
int
store_txn_ret(struct store_txn *txn, int ret, const char *op, enum store_table t)
{
	int rc = store_status(ret);

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
	DBT d;

	memset(&d, 0, sizeof(d));
	d.data = (void *) data;
	d.size = (u_int32_t) len;
	return d;
}

/* store_get_flags - fetch a copy of the value, NUL-terminated */
static int
store_get_flags(struct store_txn *txn, enum store_table t, const void *key, size_t klen,
		void **val, size_t *vlen, u_int32_t flags)
{
	DBT k = store_dbt(key, klen);
	DBT v;
	char *copy;
	int rc;

	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	rc = store_txn_ret(
	    txn, txn->st->db[t]->get(txn->st->db[t], txn->tid, &k, &v, flags), "get", t);
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
store_get(struct store_txn *txn, enum store_table t, const void *key, size_t klen,
	  void **val, size_t *vlen)
{
	return store_get_flags(txn, t, key, klen, val, vlen, 0);
}

/* store_get_rmw - fetch with a write lock */
int
store_get_rmw(struct store_txn *txn, enum store_table t, const void *key, size_t klen,
	      void **val, size_t *vlen)
{
	return store_get_flags(txn, t, key, klen, val, vlen, DB_RMW);
}

/* store_put_flags - store a record */
static int
store_put_flags(struct store_txn *txn, enum store_table t, const void *key, size_t klen,
		const void *val, size_t vlen, u_int32_t flags)
{
	DBT k = store_dbt(key, klen);
	DBT v = store_dbt(val, vlen);

	return store_txn_ret(
	    txn, txn->st->db[t]->put(txn->st->db[t], txn->tid, &k, &v, flags), "put", t);
}

/* store_put - insert or replace */
int
store_put(struct store_txn *txn, enum store_table t, const void *key, size_t klen,
	  const void *val, size_t vlen)
{
	return store_put_flags(txn, t, key, klen, val, vlen, 0);
}

/* store_put_new - insert unless present */
int
store_put_new(struct store_txn *txn, enum store_table t, const void *key, size_t klen,
	      const void *val, size_t vlen)
{
	return store_put_flags(txn, t, key, klen, val, vlen, DB_NOOVERWRITE);
}

/* store_del - delete a record; STORE_NOTFOUND when absent */
int
store_del(struct store_txn *txn, enum store_table t, const void *key, size_t klen)
{
	DBT k = store_dbt(key, klen);

	return store_txn_ret(txn, txn->st->db[t]->del(txn->st->db[t], txn->tid, &k, 0),
			     "del", t);
}

/* store_cursor_open - a cursor over table t inside txn */
int
store_cursor_open(struct store_txn *txn, enum store_table t, struct store_cursor **out)
{
	struct store_cursor *c;
	DBC *dbc;
	int rc;

	rc = store_txn_ret(txn, txn->st->db[t]->cursor(txn->st->db[t], txn->tid, &dbc, 0),
			   "cursor", t);
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
	void *data = realloc(c->key.data, klen ? klen : 1);

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
	int rc;

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
	return store_txn_ret(c->txn, c->dbc->del(c->dbc, 0), "cursor del", c->table);
}

/* store_cursor_close - close and free the cursor */
void
store_cursor_close(struct store_cursor *c)
{
	struct store_cursor **pp;
	int ret;

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

/* store_cursors_close - close cursors a callback left open */
void
store_cursors_close(struct store_txn *txn)
{
	while (txn->cursors != NULL) {
		log_error("store: a cursor was left open; closing it");
		store_cursor_close(txn->cursors);
	}
}
