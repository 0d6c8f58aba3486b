/*
 * eom.h - the milter's work at end of message: decide, record, edit.
 */
#ifndef PH_MILTER_EOM_H
#define PH_MILTER_EOM_H

#include "callbacks.h"
#include "state.h"

/*
 * eom_finish - for outgoing mail read tag and metadata, record the message
 * and add the token header; for all mail remove the application's headers
 * and any token header that is not ours.  Returns the milter's answer:
 * CONTINUE (accept) unless on_bad_metadata says otherwise.
 */
sfsistat eom_finish(struct milter_app *app, SMFICTX *ctx, struct conn_state *cs);

#endif
