/*
 * track_key.c - keep the tracking key in the store's meta table.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "track/track_key.h"
#include "util/log.h"

#define TRACK_KEY_NAME "track_key"

/* track_key_get - read the key, or make and store it */
int
track_key_get(struct store_txn *txn, unsigned char key[TRACK_KEY_LEN])
{
	void *val;
	size_t vlen;
	int rc;

	rc = store_get(txn, STORE_META, TRACK_KEY_NAME, strlen(TRACK_KEY_NAME), &val,
		       &vlen);
	if (rc == STORE_NOTFOUND)
		rc = store_get_rmw(txn, STORE_META, TRACK_KEY_NAME,
				   strlen(TRACK_KEY_NAME), &val, &vlen);
	if (rc == STORE_OK) {
		if (vlen != TRACK_KEY_LEN) {
			free(val);
			log_error("store: the tracking key has %zu bytes, not %d", vlen,
				  TRACK_KEY_LEN);
			return (STORE_ERROR);
		}
		memcpy(key, val, TRACK_KEY_LEN);
		free(val);
		return (STORE_OK);
	}
	if (rc != STORE_NOTFOUND)
		return (rc);
	if (getrandom(key, TRACK_KEY_LEN, 0) != TRACK_KEY_LEN) {
		log_error("tracking key: getrandom: %m");
		return (STORE_ERROR);
	}
	return (store_put(txn, STORE_META, TRACK_KEY_NAME, strlen(TRACK_KEY_NAME), key,
			  TRACK_KEY_LEN));
}
