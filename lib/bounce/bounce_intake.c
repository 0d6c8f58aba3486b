/*
 * bounce_intake.c - one parsed bounce in one transaction: link, dedupe,
 * queue MessageBounced or MessageComplained, keep the rest (see
 * bounce_intake.h).
 *
 * Event keys are "bounce:" + the message's id (bounce_message_id) + ":" +
 * the recipient, and "complaint:" + the report's id, so a redelivered
 * bounce or report adds nothing; kept records are stored under the
 * message's id for the same reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "bounce/bounce_intake.h"
#include "bounce/complaint.h"
#include "classify/classify.h"
#include "event/bounce_event.h"
#include "store/message.h"
#include "store/outbox.h"
#include "util/json.h"
#include "util/util.h"

/* bounce_outcome_name - the name of an outcome */
const char *
bounce_outcome_name(enum bounce_outcome o)
{
	static const char *const names[] = { "reported", "duplicate", "unmatched",
					     "feedback", "own_ndr",   "not_bounce",
					     "unparsed", "complained" };

	return (unsigned) o < sizeof(names) / sizeof(names[0]) ? names[o] : "unknown";
}

/* trace_header - whether the line at p starts a header our MTA adds */
static int
trace_header(const char *p, size_t len)
{
	static const char *const names[] = { "Return-Path:", "Received:", "Delivered-To:",
					     "X-Original-To:" };
	size_t i, k;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		k = strlen(names[i]);
		if (len >= k && strncasecmp(p, names[i], k) == 0)
			return 1;
	}
	return 0;
}

/* bounce_message_id - see bounce_intake.h */
void
bounce_message_id(const void *data, size_t len, char out[65])
{
	const char *p = data;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t pos = 0;
	const char *nl;
	int skipping = 0;

	/* Skip the leading trace headers and their continuation lines. */
	while (pos < len) {
		if (trace_header(p + pos, len - pos))
			skipping = 1;
		else if (!(skipping && (p[pos] == ' ' || p[pos] == '\t')))
			break;
		nl = memchr(p + pos, '\n', len - pos);
		pos = nl ? (size_t) (nl - p) + 1 : len;
	}
	if (EVP_Digest(p + pos, len - pos, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * i] = 0;
}

/* address_only - the bare address of a header value ("Name <a@b>") */
static char *
address_only(const char *v)
{
	const char *lt, *gt;

	if (v == NULL)
		return NULL;
	if ((lt = strrchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL
	    && gt > lt + 1)
		return xstrndup(lt + 1, (size_t) (gt - lt - 1));
	return xstrdup(v);
}

/* lowercase - a lowercased copy */
static char *
lowercase(const char *s)
{
	char *t = xstrdup(s ? s : "");

	for (char *q = t; *q; q++)
		*q = (char) tolower((unsigned char) *q);
	return t;
}

/* link_message - find the original message; STORE_OK with *rec set (or
 * NULL when nothing matches), or a store error */
static int
link_message(struct store_txn *txn, struct bounce_intake *b, struct message_record **rec)
{
	const struct dsn *d = b->dsn;
	/* The envelope recipient; and since a feedback loop writes to its own
	 * address, an abuse report's Original-Mail-From (the return path). */
	const char *verp[] = { b->recipient, d->feedback.original_mail_from };
	char token[80];
	char *t;
	int status;

	*rec = NULL;
	for (size_t i = 0; i < sizeof(verp) / sizeof(verp[0]); i++) {
		if (!bounce_verp_token(verp[i], b->return_path_domain, token,
				       sizeof(token)))
			continue;
		status = message_get_by_token(txn, token, rec);
		if (status == STORE_OK) {
			strcpy(b->linked_by, "verp");
			return STORE_OK;
		}
		if (status != STORE_NOTFOUND)
			return status;
	}
	if (d->returned.token != NULL && *d->returned.token) {
		t = lowercase(d->returned.token);
		status = message_get_by_token(txn, t, rec);
		free(t);
		if (status == STORE_OK) {
			strcpy(b->linked_by, "header");
			return STORE_OK;
		}
		if (status != STORE_NOTFOUND)
			return status;
	}
	if (d->returned.message_id != NULL && *d->returned.message_id) {
		status = message_get_by_message_id(txn, d->returned.message_id, rec);
		if (status == STORE_OK) {
			strcpy(b->linked_by, "message-id");
			return STORE_OK;
		}
		if (status != STORE_NOTFOUND)
			return status;
	}
	return STORE_OK;
}

/* host_match - whether a Reporting-MTA names one of our hosts */
static int
host_match(const char *mta, const char *host)
{
	size_t ml = strlen(mta), hl = strlen(host);

	while (ml > 0 && (mta[ml - 1] == '.' || mta[ml - 1] == ' '))
		ml--;
	while (hl > 0 && host[hl - 1] == '.')
		hl--;
	return hl > 0 && ml == hl && strncasecmp(mta, host, hl) == 0;
}

/*
 * own_ndr - whether this is Postfix's own non-delivery notice for the
 * original message: its X-Postfix-Queue-ID is the original's queue id, or
 * its Reporting-MTA is one of our hostnames.  The tailer already reported
 * those failures from the log.
 */
static int
own_ndr(struct bounce_intake *b, const struct message_record *rec)
{
	const struct dsn *d = b->dsn;
	const char *const *h;

	if (d->postfix_queue_id != NULL && rec != NULL && rec->queue_id != NULL
	    && strcasecmp(d->postfix_queue_id, rec->queue_id) == 0) {
		snprintf(
		    b->why, sizeof(b->why),
		    "Postfix's own notice: X-Postfix-Queue-ID %s is the original message",
		    d->postfix_queue_id);
		return 1;
	}
	if (d->reporting_mta != NULL && b->own_hostnames != NULL) {
		for (h = b->own_hostnames; *h != NULL; h++) {
			if (host_match(d->reporting_mta, *h)) {
				snprintf(
				    b->why, sizeof(b->why),
				    "Postfix's own notice: Reporting-MTA %s is this host",
				    *h);
				return 1;
			}
		}
	}
	return 0;
}

/* nonempty - s, or NULL for NULL and "": those are null in the JSON */
static const char *
nonempty(const char *s)
{
	return s != NULL && *s ? s : NULL;
}

/* original_message - the message object of the original message */
static void
original_message(struct event_message *m, const struct message_record *rec,
		 const char *rcpt)
{
	memset(m, 0, sizeof(*m));
	m->id = rec->id;
	m->token = rec->token;
	m->direction = rec->direction;
	m->message_id = rec->message_id;
	m->to = (char *) (rcpt != NULL && *rcpt ? rcpt
			  : rec->recipients[0]	? rec->recipients[0]
						: NULL);
	m->from = rec->from;
	m->subject = rec->subject;
	m->timestamp = rec->timestamp;
	m->spam_status = rec->spam_status;
	m->tag = rec->tag;
	m->metadata = rec->metadata;
}

/* bounce_message - the message object of the bounce itself; the caller
 * frees to and from */
static void
bounce_message(struct event_message *m, const struct bounce_intake *b)
{
	const struct dsn *d = b->dsn;

	memset(m, 0, sizeof(*m));
	m->direction = (char *) "incoming";
	m->message_id = d->self.message_id;
	m->to = b->recipient ? address_only(b->recipient) : address_only(d->self.to);
	m->from = address_only(d->self.from);
	m->subject = d->self.subject;
	m->timestamp = b->now;
}

/* recipient_of - the address a DSN recipient is about */
static const char *
recipient_of(const struct dsn_recipient *r, const struct message_record *rec)
{
	if (r->final_recipient != NULL && *r->final_recipient)
		return r->final_recipient;
	if (r->original_recipient != NULL && *r->original_recipient)
		return r->original_recipient;
	/* A notice that names no address: the message's only recipient. */
	if (rec->recipients[0] != NULL && rec->recipients[1] == NULL)
		return rec->recipients[0];
	return NULL;
}

/* report_recipient - queue one MessageBounced */
static int
report_recipient(struct store_txn *txn, struct bounce_intake *b,
		 const struct message_record *rec, const struct dsn_recipient *r)
{
	struct classify_result res;
	struct bounce_event ev;
	const char *rcpt = recipient_of(r, rec);
	json_object *p;
	char *key, *lrcpt;
	int status;

	classify(r->status, r->diagnostic, &res);
	memset(&ev, 0, sizeof(ev));
	original_message(&ev.original, rec, rcpt);
	bounce_message(&ev.bounce, b);
	ev.permanent = r->permanent;
	ev.classification = res.classification;
	ev.smtp_enhanced_code =
	    res.smtp_enhanced_code[0] ? res.smtp_enhanced_code : r->status;
	ev.remote_host = res.remote_host[0] ? res.remote_host : r->remote_mta;
	ev.diagnostic = r->diagnostic;
	ev.recipient = rcpt;
	p = bounce_event_payload(&ev);
	free(ev.bounce.to);
	free(ev.bounce.from);

	lrcpt = lowercase(rcpt);
	key = xasprintf("bounce:%s:%s", b->id, lrcpt);
	status =
	    outbox_add_tenant(txn, key, EV_MESSAGE_BOUNCED, b->now, p, NULL, rec->tenant);
	free(key);
	free(lrcpt);
	json_object_put(p);
	if (status == STORE_OK)
		b->reported++;
	else if (status == STORE_EXISTS) {
		b->duplicates++;
		status = STORE_OK;
	}
	return status;
}

/* in_record - whether the message was sent to this recipient */
static int
in_record(const struct message_record *rec, const struct dsn_recipient *r)
{
	char **p;

	for (p = rec->recipients; *p != NULL; p++)
		if ((r->final_recipient && strcasecmp(*p, r->final_recipient) == 0)
		    || (r->original_recipient
			&& strcasecmp(*p, r->original_recipient) == 0))
			return 1;
	return 0;
}

/*
 * report_failed - one event per failed recipient.  When some of them are
 * recipients of the message, only those count; when none is (a forwarded
 * address, a notice that names no one), at most as many as the message
 * had, so that a forged report cannot multiply events.
 */
static int
report_failed(struct store_txn *txn, struct bounce_intake *b,
	      const struct message_record *rec)
{
	const struct dsn *d = b->dsn;
	size_t i, nrec = 0, matched = 0, taken = 0;
	int status = STORE_OK;

	while (rec->recipients[nrec] != NULL)
		nrec++;
	for (i = 0; i < d->nrcpt; i++)
		if (dsn_recipient_failed(&d->rcpt[i]) && in_record(rec, &d->rcpt[i]))
			matched++;
	for (i = 0; i < d->nrcpt && status == STORE_OK; i++) {
		const struct dsn_recipient *r = &d->rcpt[i];

		if (!dsn_recipient_failed(r))
			continue;
		if (matched > 0 ? !in_record(rec, r) : (nrec > 0 && taken >= nrec))
			continue;
		taken++;
		status = report_recipient(txn, b, rec, r);
	}
	return status;
}

/* report_complaint - queue one MessageComplained for an ARF report */
static int
report_complaint(struct store_txn *txn, struct bounce_intake *b,
		 const struct message_record *rec)
{
	struct event_message original;
	json_object *p;
	char *key;
	int status;

	original_message(&original, rec, complaint_recipient(b->dsn, rec->recipients));
	p = complaint_payload(b->dsn, &original);
	key = xasprintf("complaint:%s", b->id);
	status = outbox_add_tenant(txn, key, EV_MESSAGE_COMPLAINED, b->now, p, NULL,
				   rec->tenant);
	free(key);
	json_object_put(p);
	if (status == STORE_OK) {
		b->reported++;
		b->outcome = BOUNCE_COMPLAINED;
	} else if (status == STORE_EXISTS) {
		b->duplicates++;
		b->outcome = BOUNCE_DUPLICATE;
		status = STORE_OK;
	}
	return status;
}

/* keep_record - store what made no event */
static int
keep_record(struct store_txn *txn, struct bounce_intake *b,
	    const struct message_record *rec)
{
	const struct dsn *d = b->dsn;
	json_object *o = json_object_new_object();
	const char *text;
	int status;

	json_object_object_add(o, "id", json_object_new_string(b->id));
	json_object_object_add(o, "received", json_double_new(b->now, 6));
	json_object_object_add(o, "outcome",
			       json_object_new_string(bounce_outcome_name(b->outcome)));
	json_add_string(o, "envelope_recipient", nonempty(b->recipient));
	json_add_string(o, "envelope_sender", nonempty(b->sender));
	json_add_string(o, "linked_by", nonempty(b->linked_by));
	json_add_string(o, "queue_id", nonempty(rec ? rec->queue_id : NULL));
	json_add_string(o, "token", nonempty(rec ? rec->token : NULL));
	json_object_object_add(o, "message_size",
			       json_object_new_int64((int64_t) b->len));
	json_object_object_add(o, "dsn", dsn_to_json(d));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	status =
	    store_put_new(txn, STORE_BOUNCES, b->id, strlen(b->id), text, strlen(text));
	json_object_put(o);
	if (status == STORE_EXISTS) {
		b->duplicates++;
		status = STORE_OK;
	}
	return status;
}

/* bounce_intake_run - see bounce_intake.h */
int
bounce_intake_run(struct store_txn *txn, void *ctx)
{
	struct bounce_intake *b = ctx;
	const struct dsn *d = b->dsn;
	struct message_record *rec = NULL;
	int status;

	b->reported = 0;
	b->duplicates = 0;
	b->linked_by[0] = 0;
	b->queue_id[0] = 0;
	b->why[0] = 0;
	if (b->id[0] == 0)
		bounce_message_id(b->data, b->len, b->id);

	status = link_message(txn, b, &rec);
	if (status != STORE_OK)
		return status;
	if (rec != NULL && rec->queue_id != NULL)
		snprintf(b->queue_id, sizeof(b->queue_id), "%s", rec->queue_id);

	switch (d->kind) {
	case DSN_KIND_FEEDBACK:
		if (rec != NULL) {
			snprintf(b->why, sizeof(b->why), "feedback report (%s)",
				 d->feedback.feedback_type ? d->feedback.feedback_type
							   : "no type");
			status = report_complaint(txn, b, rec);
			break;
		}
		b->outcome = BOUNCE_FEEDBACK;
		snprintf(b->why, sizeof(b->why),
			 "feedback report (%s) matches no message: kept",
			 d->feedback.feedback_type ? d->feedback.feedback_type
						   : "no type");
		status = keep_record(txn, b, rec);
		break;
	case DSN_KIND_BOUNCE:
		if (own_ndr(b, rec)) {
			b->outcome = BOUNCE_OWN_NDR;
			break;
		}
		if (rec == NULL) {
			b->outcome = BOUNCE_UNMATCHED;
			snprintf(b->why, sizeof(b->why),
				 "bounce matches no message: kept");
			status = keep_record(txn, b, rec);
			break;
		}
		status = report_failed(txn, b, rec);
		b->outcome = b->reported > 0 ? BOUNCE_REPORTED : BOUNCE_DUPLICATE;
		if (status == STORE_OK && b->reported + b->duplicates == 0) {
			b->outcome = BOUNCE_UNMATCHED;
			snprintf(b->why, sizeof(b->why),
				 "no failed recipient of the message: kept");
			status = keep_record(txn, b, rec);
		}
		break;
	case DSN_KIND_DELAYED:
	case DSN_KIND_DELIVERED:
	case DSN_KIND_AUTOREPLY:
		b->outcome = BOUNCE_NOT_BOUNCE;
		snprintf(b->why, sizeof(b->why), "%s, not a bounce",
			 dsn_kind_name(d->kind));
		break;
	default:
		b->outcome = BOUNCE_UNPARSED;
		snprintf(b->why, sizeof(b->why), "not recognised as a report: kept");
		status = keep_record(txn, b, rec);
		break;
	}
	message_record_free(rec);
	return status;
}
