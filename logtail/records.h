/*
 * records.h - the milter's record of a queue id, read from the store in a
 * transaction of its own (for the correlator's record callback).
 */
#ifndef PH_RECORDS_H
#define PH_RECORDS_H

#include "store/message.h"
#include "store/store.h"

/* records_lookup - the record (caller frees), or NULL (absent or error). */
struct message_record *records_lookup(struct store *st, const char *qid);

#endif
