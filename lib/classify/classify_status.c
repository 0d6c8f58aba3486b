/*
 * classify_status.c - the baseline: what the RFC 3463 enhanced status code
 * says (its subject X.Y and detail X.Y.Z), and the SMTP reply code's class
 * when nothing else speaks.
 *
 * Two tables, tried at two places of the walk (classify_int.h):
 *  classify_detail[]   the details that name a class by themselves (X.1.1
 *                      bad mailbox, X.2.2 mailbox full, X.4.4 unable to
 *                      route ...): after the cause vocabulary, because a
 *                      code is often generic or reused (5.7.1 says both
 *                      "spam" and "unknown user"), before the weak words
 *                      ("rejected"), because a code that names a cause
 *                      beats a word that names none.
 *  classify_subject[]  the subjects (X.6.x content, X.7.x policy) and the
 *                      SMTP class (any other 4XX is a temporary failure):
 *                      last.  A permanent failure nothing explains stays
 *                      unclassified.
 * Sources: RFC 3463 (subjects and details), RFC 7372 (X.7.13, X.7.17,
 * X.7.25, X.7.26), RFC 7505 (X.1.10), RFC 5321 (reply codes).
 */
#include "classify/classify_int.h"

#define ANY CLASSIFY_ANY
#define TEMP CLASSIFY_TEMP

const struct classify_rule classify_detail[] = {
	{ NULL, "*.1.1", ANY, CLASS_INVALID_RECIPIENT,
	  "RFC 3463 X.1.1 bad destination mailbox", NULL, NULL },
	{ NULL, "*.1.2", ANY, CLASS_INVALID_DOMAIN,
	  "RFC 3463 X.1.2 bad destination system", NULL, NULL },
	{ NULL, "*.1.3", ANY, CLASS_INVALID_RECIPIENT,
	  "RFC 3463 X.1.3 bad mailbox syntax", NULL, NULL },
	{ NULL, "*.1.4", ANY, CLASS_INVALID_RECIPIENT, "RFC 3463 X.1.4 ambiguous mailbox",
	  NULL, NULL },
	{ NULL, "*.1.6", ANY, CLASS_INACTIVE_MAILBOX, "RFC 3463 X.1.6 mailbox has moved",
	  NULL, NULL },
	{ NULL, "*.1.7", ANY, CLASS_POLICY_REJECTION,
	  "RFC 3463 X.1.7 bad sender mailbox syntax", NULL, NULL },
	{ NULL, "*.1.8", ANY, CLASS_POLICY_REJECTION,
	  "RFC 3463 X.1.8 bad sender system address", NULL, NULL },
	{ NULL, "*.1.10", ANY, CLASS_INVALID_DOMAIN, "RFC 7505 X.1.10 null MX", NULL,
	  NULL },
	{ NULL, "*.2.1", ANY, CLASS_INACTIVE_MAILBOX, "RFC 3463 X.2.1 mailbox disabled",
	  NULL, NULL },
	{ NULL, "*.2.2", ANY, CLASS_MAILBOX_FULL, "RFC 3463 X.2.2 mailbox full", NULL,
	  NULL },
	{ NULL, "*.2.3", ANY, CLASS_POLICY_REJECTION, "RFC 3463 X.2.3 message too long",
	  NULL, NULL },
	{ NULL, "*.3.1", ANY, CLASS_TRANSIENT_FAILURE, "RFC 3463 X.3.1 mail system full",
	  NULL, NULL },
	{ NULL, "*.3.4", ANY, CLASS_POLICY_REJECTION, "RFC 3463 X.3.4 message too big",
	  NULL, NULL },
	{ NULL, "4.4.1", ANY, CLASS_CONNECTION_ERROR,
	  "RFC 3463 4.4.1 no answer from host", NULL, NULL },
	{ NULL, "4.4.2", ANY, CLASS_CONNECTION_ERROR, "RFC 3463 4.4.2 bad connection",
	  NULL, NULL },
	{ NULL, "*.4.3", ANY, CLASS_DNS_FAILURE,
	  "RFC 3463 X.4.3 directory server failure", NULL, NULL },
	{ NULL, "5.4.4", ANY, CLASS_INVALID_DOMAIN, "RFC 3463 5.4.4 unable to route",
	  NULL, NULL },
	{ NULL, "*.4.6", ANY, CLASS_ROUTING_ERROR, "RFC 3463 X.4.6 routing loop", NULL,
	  NULL },
	/*
	 * X.4.7: the message expired in another MTA's queue; the cause, when
	 * the text names one (a connection that failed), came first.
	 */
	{ NULL, "*.4.7", ANY, CLASS_TRANSIENT_FAILURE,
	  "RFC 3463 X.4.7 delivery time expired", NULL, NULL },
	{ NULL, "5.5.1", ANY, CLASS_PROTOCOL_ERROR, "RFC 3463 5.5.1 invalid command",
	  NULL, NULL },
	{ NULL, "5.5.2", ANY, CLASS_PROTOCOL_ERROR, "RFC 3463 5.5.2 syntax error", NULL,
	  NULL },
	{ NULL, "5.5.4", ANY, CLASS_PROTOCOL_ERROR,
	  "RFC 3463 5.5.4 invalid command arguments", NULL, NULL },
	{ NULL, "*.7.13", ANY, CLASS_INACTIVE_MAILBOX,
	  "RFC 7372 X.7.13 user account disabled", NULL, NULL },
	{ NULL, "*.7.17", ANY, CLASS_INACTIVE_MAILBOX,
	  "RFC 7372 X.7.17 mailbox owner changed", NULL, NULL },
	{ NULL, "*.7.25", ANY, CLASS_SPAM_BLOCK,
	  "RFC 7372 X.7.25 reverse DNS validation failed", NULL, NULL },
	{ NULL, "*.7.26", ANY, CLASS_POLICY_REJECTION,
	  "RFC 7372 X.7.26 multiple authentication checks failed", NULL, NULL },
};

const size_t classify_detail_count = sizeof(classify_detail) / sizeof(classify_detail[0]);

const struct classify_rule classify_subject[] = {
	{ NULL, "*.6.*", ANY, CLASS_POLICY_REJECTION,
	  "RFC 3463 X.6.X message content or media", NULL, NULL },
	{ NULL, "5.7.*", ANY, CLASS_POLICY_REJECTION,
	  "RFC 3463 5.7.X security or policy status", NULL, NULL },
	{ NULL, NULL, TEMP, CLASS_TRANSIENT_FAILURE,
	  "RFC 5321 4XX: any other temporary failure", NULL, NULL },
};

const size_t classify_subject_count =
    sizeof(classify_subject) / sizeof(classify_subject[0]);
