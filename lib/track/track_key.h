/*
 * track_key.h - the site's tracking key: 32 random bytes made once and
 * kept in the store's meta table, so the milter that signs tracking URLs
 * and the server that checks them agree without a key file.
 */
#ifndef PH_TRACK_KEY_H
#define PH_TRACK_KEY_H

#include "store/store.h"
#include "track/token.h"
#include "util/util.h"

/*
 * track_key_get - the key, made and stored on first use, in the caller's
 * transaction.  Returns STORE_OK or the store's status.
 */
PH_MUST_CHECK int track_key_get(struct store_txn *txn, unsigned char key[TRACK_KEY_LEN]);

#endif
