/*
 * complaint.h - the MessageComplained payload of an abuse report (ARF,
 * RFC 5965) that names a message posthook sent.  Pure: no store, no I/O;
 * the bounce intake links the report and queues the event.
 */
#ifndef PH_COMPLAINT_H
#define PH_COMPLAINT_H

#include <json-c/json.h>

#include "bounce/dsn.h"
#include "event/event.h"

/*
 * complaint_recipient - who complained: the report's Original-Rcpt-To when
 * the message was sent to it, else the message's only recipient, else
 * Original-Rcpt-To as given (providers may redact it), else NULL.
 * recipients is NULL-terminated.
 */
const char *complaint_recipient(const struct dsn *d, char *const *recipients);

/*
 * complaint_payload - {"original_message","feedback_type","user_agent",
 * "source_ip","arrival_date","reporting_mta"} of the report d about
 * original; absent or empty fields are null.
 */
json_object *complaint_payload(const struct dsn *d, const struct event_message *original);

#endif
