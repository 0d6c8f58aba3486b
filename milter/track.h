/*
 * track.h - the milter's side of open and click tracking: which messages
 * are tracked, their bodies kept while they arrive, the rewrite inside
 * the end-of-message store transaction, and the new body and
 * List-Unsubscribe headers handed back to the MTA.
 *
 * Fail open: a message that cannot be parsed, is too large or signed by
 * the application goes out as it came, with a log line naming its queue id.
 */
#ifndef PH_MILTER_TRACK_H
#define PH_MILTER_TRACK_H

#include <stddef.h>
#include <libmilter/mfapi.h>

#include "store/message.h"
#include "store/store.h"

struct milter_app;
struct conn_state;
struct milter_settings;
struct tenant_cache;

/* Links of one message tracked at most; later ones stay as they are. */
#define TRACK_LINKS_MAX 1000

struct track_msg;

/*
 * track_on_anywhere - whether bodies must be asked for on a connection:
 * tracking_url set in the settings or in some tenant's.
 */
int track_on_anywhere(const struct milter_settings *set, struct tenant_cache *tc);

/*
 * track_begin - the tracking of the connection's message in progress, as
 * its headers, its tenant and the configuration say; NULL when it is not
 * tracked at all (incoming, no tracking_url for its tenant) or out of
 * memory.  Called at its first body chunk, or at end of message.
 */
struct track_msg *track_begin(struct milter_app *app, const struct conn_state *cs);
void track_msg_free(struct track_msg *t);

/*
 * track_body - keep one body chunk.  1 when no more are wanted (nothing
 * to rewrite, or the body passed track_max_body); else 0.
 */
int track_body(struct track_msg *t, const unsigned char *chunk, size_t len);

/*
 * track_txn - the record hook: inside the message's store transaction,
 * after its id is drawn and before it is put, rewrite the body and add
 * the links to rec.  May run again on a retry.  STORE_OK, or the store's
 * error.
 */
int track_txn(struct store_txn *txn, struct message_record *rec, void *track_msg);

/*
 * track_finish - after the message was recorded: log what tracking did,
 * replace the body, add the List-Unsubscribe headers.
 */
void track_finish(struct milter_app *app, SMFICTX *ctx, struct track_msg *t,
		  const char *qid);

#endif
