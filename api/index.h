/*
 * index.h - posthook-api's own indexes of the store, kept in memory: the
 * attempts of each webhook and the deliveries of each message.  The store
 * has neither (its shape stays the writers'); each request first reads
 * what was added since the last one, so the indexes are never behind.
 */
#ifndef PH_API_INDEX_H
#define PH_API_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct api_index;

struct api_index *index_new(void);
void index_free(struct api_index *ix);

/*
 * index_attempts - the attempt sequences of webhook id, newest first,
 * skipping offset and at most limit into out (n); *total gets how many
 * there are.  STORE_OK or a store error.
 */
int index_attempts(struct api_index *ix, struct store *st, const char *webhook,
		   long offset, long limit, uint64_t *out, long *n, long *total);

/*
 * index_deliveries - the ids of the deliveries whose payload names the
 * message token, oldest first (*out malloc()ed, *n); some may have been
 * purged since.
 */
int index_deliveries(struct api_index *ix, struct store *st, const char *token,
		     uint64_t **out, size_t *n);

#endif
