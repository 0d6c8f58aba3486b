/*
 * complaint.c - what an abuse report about our message says, as the
 * MessageComplained payload (see complaint.h).
 */
#include <string.h>
#include <strings.h>

#include "bounce/complaint.h"
#include "util/json.h"

/* nonempty - s, or NULL for NULL and "": those are null in the JSON */
static const char *
nonempty(const char *s)
{
	return (s != NULL && *s ? s : NULL);
}

/* complaint_recipient - see complaint.h */
const char *
complaint_recipient(const struct dsn *d, char *const *recipients)
{
	const char *rcpt = nonempty(d->feedback.original_rcpt_to);
	size_t n;

	for (n = 0; recipients != NULL && recipients[n] != NULL; n++)
		if (rcpt != NULL && strcasecmp(recipients[n], rcpt) == 0)
			return (recipients[n]);
	if (n == 1)
		return (recipients[0]);
	return (rcpt);
}

/* complaint_payload - see complaint.h */
json_object *
complaint_payload(const struct dsn *d, const struct event_message *original)
{
	json_object *p = json_object_new_object();
	const struct dsn_feedback *f = &d->feedback;

	json_object_object_add(p, "original_message", event_message_to_json(original));
	json_add_string(p, "feedback_type", nonempty(f->feedback_type));
	json_add_string(p, "user_agent", nonempty(f->user_agent));
	json_add_string(p, "source_ip", nonempty(f->source_ip));
	json_add_string(p, "arrival_date", nonempty(f->arrival_date));
	json_add_string(p, "reporting_mta", nonempty(d->reporting_mta));
	return (p);
}
