/*
 * position.h - how far posthook-logtail has read its log: one record per
 * log source in STORE_POSITIONS, committed in the transaction that adds
 * the events read up to there.
 *
 * A file's position names the file (device, inode and the fingerprint of
 * its first line, and whether it was log_file itself or a rotated file)
 * and the byte offset read; the journal's is the cursor of the last
 * record read.  Records are JSON in the store:
 *	{"path":"current"|"old","dev":N,"ino":N,"fp":"HEX","offset":N}
 *	{"cursor":"..."}
 * The tailer writes and reads them; posthookctl status reads them.
 */
#ifndef PH_POSITION_H
#define PH_POSITION_H

#include <stddef.h>
#include <json-c/json.h>

#include "logfile/fingerprint.h"
#include "store/store.h"

struct position_record {
	char *cursor; /* the journal's; NULL for a file */
	int old;      /* a rotated file, not log_file */
	unsigned long long dev, ino;
	char fp[FINGERPRINT_LEN];  /* "" when unknown */
	unsigned long long offset; /* bytes of the file read */
};

/* position_key_file, _journal - the key of a log source (caller frees). */
char *position_key_file(const char *log_file);
char *position_key_journal(const char *journal_dir);

/* position_clear - free what p holds and empty it. */
void position_clear(struct position_record *p);

/* position_encode - p as the record's text (caller frees). */
char *position_encode(const struct position_record *p);

/* position_decode - the record's text into p (cleared first; missing
 * members are 0 or ""); 0, or -1 when the text is no JSON object. */
PH_MUST_CHECK int position_decode(const char *text, size_t len,
				  struct position_record *p);

/* position_to_json - p as the JSON object it is stored as (new reference). */
json_object *position_to_json(const struct position_record *p);

/*
 * position_get - the position under key into p (cleared first; the
 * caller clears it after): STORE_OK, STORE_NOTFOUND when there is none
 * or it cannot be read (the tailer starts as the first time), or a store
 * error.
 */
PH_MUST_CHECK int position_get(struct store_txn *txn, const char *key,
			       struct position_record *p);

/* position_put - store p under key, in the caller's transaction. */
PH_MUST_CHECK int position_put(struct store_txn *txn, const char *key,
			       const struct position_record *p);

#endif
