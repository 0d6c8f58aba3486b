/*
 * store_seq.c - named 64-bit sequences in STORE_META, built on the table
 * interface alone.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/log.h"
#include "util/util.h"

/* store_seq_next - the next value of a sequence: a reservation of one */
int
store_seq_next(struct store_txn *txn, const char *name, uint64_t *out)
{
	return store_seq_reserve(txn, name, 1, out);
}

/*
 * store_seq_reserve - take n consecutive values of a named sequence (a
 * big-endian counter under "seq:NAME" in STORE_META) in one
 * read-modify-write: *first .. *first + n - 1, what n store_seq_next()
 * calls in this transaction would return.  n == 0 writes nothing.
 */
int
store_seq_reserve(struct store_txn *txn, const char *name, uint64_t n, uint64_t *first)
{
	char *key = xasprintf("seq:%s", name);
	unsigned char buf[8];
	uint64_t last = 0;
	void *val;
	size_t vlen;
	int rc;
	int i;

	rc = store_get_rmw(txn, STORE_META, key, strlen(key), &val, &vlen);
	if (rc == STORE_OK) {
		if (vlen != sizeof(buf)) {
			log_error("store: sequence %s: bad record of %zu bytes", name,
				  vlen);
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
		log_error("store: sequence %s: cannot reserve %llu more values", name,
			  (unsigned long long) n);
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
