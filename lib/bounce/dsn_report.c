/*
 * dsn_report.c - the bounce parser's reading of standard reports: the
 * fields of RFC 3464 delivery status and RFC 5965 feedback parts, the
 * recipients they name, and the message's own and returned headers.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce/dsn.h"
#include "bounce/dsn_int.h"
#include "util/util.h"

/* ------------------------------------------------------------- headers */

/* set_field - set *field from a value once (the first one wins) */
static void
set_field(struct dsn_ctx *c, char **field, const char *value)
{
	if (*field == NULL && value != NULL && *value != 0)
		*field = dsn_clean(c, value, strlen(value));
}

/* message_id_of - a Message-ID without angle brackets */
static char *
message_id_of(struct dsn_ctx *c, const char *v)
{
	const char *lt = strchr(v, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL && gt > lt + 1)
		return dsn_clean(c, lt + 1, (size_t) (gt - lt - 1));
	return dsn_clean(c, v, strlen(v));
}

/* take_headers - the fields of struct dsn_headers from a block */
static void
take_headers(struct dsn_ctx *c, const struct dsn_hdrs *h, struct dsn_headers *out)
{
	const char *v;

	if (out->message_id == NULL && (v = dsn_hdr_get(h, "Message-ID")) != NULL
	    && *v != 0)
		out->message_id = message_id_of(c, v);
	set_field(c, &out->token, dsn_hdr_get(h, c->token_header));
	set_field(c, &out->from, dsn_hdr_get(h, "From"));
	set_field(c, &out->to, dsn_hdr_get(h, "To"));
	set_field(c, &out->subject, dsn_hdr_get(h, "Subject"));
	set_field(c, &out->date, dsn_hdr_get(h, "Date"));
}

/* dsn_take_returned - fill d->returned from a block (see dsn_int.h) */
int
dsn_take_returned(struct dsn_ctx *c, const struct dsn_hdrs *h)
{
	if (dsn_hdr_get(h, "Message-ID") == NULL
	    && dsn_hdr_get(h, c->token_header) == NULL && dsn_hdr_get(h, "From") == NULL
	    && dsn_hdr_get(h, "Subject") == NULL)
		return 0;
	take_headers(c, h, &c->d->returned);
	return c->d->returned.message_id != NULL || c->d->returned.token != NULL;
}

/* dsn_take_top - the message's own headers (see dsn_int.h) */
void
dsn_take_top(struct dsn_ctx *c, const struct dsn_hdrs *h)
{
	const char *v;

	if (h->n == 0)
		c->d->warnings |= DSN_WARN_NO_HEADERS;
	take_headers(c, h, &c->d->self);
	/* The report's own token header would be ours: not the returned one. */
	free(c->d->self.token);
	c->d->self.token = NULL;
	set_field(c, &c->d->auto_submitted, dsn_hdr_get(h, "Auto-Submitted"));
	if ((v = dsn_hdr_get(h, "Auto-Submitted")) != NULL
	    && strncasecmp(v, "auto-replied", 12) == 0)
		c->autoreply = 1;
	if (dsn_hdr_get(h, "X-Autoreply") != NULL
	    || dsn_hdr_get(h, "X-Autorespond") != NULL)
		c->autoreply = 1;
	if ((v = dsn_hdr_get(h, "Precedence")) != NULL
	    && dsn_ci_find(v, "auto_reply") != NULL)
		c->autoreply = 1;
}

/* -------------------------------------------------- RFC 3464, RFC 5965 */

/* after_type - the value of "type; value" fields without the type */
static const char *
after_type(const char *v, char *type, size_t typelen)
{
	const char *semi = strchr(v, ';');
	size_t n;

	if (type != NULL)
		*type = 0;
	if (semi == NULL || semi - v > 32)
		return v;
	if (type != NULL && typelen > 0) {
		n = (size_t) (semi - v);
		while (n > 0 && v[n - 1] == ' ')
			n--;
		if (n >= typelen)
			n = typelen - 1;
		memcpy(type, v, n);
		type[n] = 0;
		for (size_t i = 0; i < n; i++)
			type[i] = (char) tolower((unsigned char) type[i]);
	}
	semi++;
	while (*semi == ' ' || *semi == '\t')
		semi++;
	return semi;
}

/* address_field - "rfc822; <a@b>" as "a@b" */
static char *
address_field(struct dsn_ctx *c, const char *v)
{
	const char *a = after_type(v, NULL, 0);
	size_t n = strlen(a);

	while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
		n--;
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		a++;
		n -= 2;
	}
	return dsn_clean(c, a, n);
}

/* enhanced_code - copy the first RFC 3463 code of s into out (16 bytes) */
static int
enhanced_code(const char *s, char out[16])
{
	const char *p;
	size_t n1, n2;

	for (p = s; *p; p++) {
		if (*p < '2' || *p > '5' || p[1] != '.')
			continue;
		if (p > s && (isalnum((unsigned char) p[-1]) || p[-1] == '.'))
			continue;
		for (n1 = 0; isdigit((unsigned char) p[2 + n1]) && n1 < 4; n1++)
			;
		if (n1 == 0 || n1 > 3 || p[2 + n1] != '.')
			continue;
		for (n2 = 0; isdigit((unsigned char) p[3 + n1 + n2]) && n2 < 4; n2++)
			;
		if (n2 == 0 || n2 > 3 || isalnum((unsigned char) p[3 + n1 + n2])
		    || (p[3 + n1 + n2] == '.' && isdigit((unsigned char) p[4 + n1 + n2])))
			continue;
		memcpy(out, p, 3 + n1 + n2);
		out[3 + n1 + n2] = 0;
		return 1;
	}
	return 0;
}

/* code_at - an SMTP reply code at p (followed by space, '-' or end) */
static int
code_at(const char *p)
{
	if (p[0] < '2' || p[0] > '5' || !isdigit((unsigned char) p[1])
	    || !isdigit((unsigned char) p[2]))
		return 0;
	if (p[3] != 0 && p[3] != ' ' && p[3] != '-')
		return 0;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* reply_code - the SMTP reply code a diagnostic text gives, or 0 */
static int
reply_code(const char *s)
{
	static const char *const leads[] = {
		"said: ", "said:", "returned '", "#", "Remote host said: ", "reply: "
	};
	const char *p;
	char enh[16];
	size_t i;
	int code;

	while (*s == ' ' || *s == '\t' || *s == '\'' || *s == '#')
		s++;
	if ((code = code_at(s)) != 0)
		return code;
	for (i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
		if ((p = dsn_ci_find(s, leads[i])) != NULL
		    && (code = code_at(p + strlen(leads[i]))) != 0)
			return code;
	}
	/* "... 550 5.1.1 ...": a code that an enhanced code of its class follows */
	for (p = s; *p; p++) {
		if ((p == s || p[-1] == ' ' || p[-1] == '(' || p[-1] == ':')
		    && (code = code_at(p)) != 0 && p[3] != 0 && enhanced_code(p + 4, enh)
		    && enh[0] == p[0] && strncmp(p + 4, enh, strlen(enh)) == 0)
			return code;
	}
	return 0;
}

/* finish_recipient - derived fields: status, reply code, hard or soft */
static void
finish_recipient(struct dsn_recipient *r)
{
	char enh[16];

	if (r->diagnostic != NULL)
		r->smtp_code = reply_code(r->diagnostic);
	if (r->status[0] == 0 && r->diagnostic != NULL
	    && enhanced_code(r->diagnostic, enh))
		memcpy(r->status, enh, sizeof(enh));
	if (r->action == DSN_ACTION_NONE)
		r->action =
		    r->status[0] == '2' ? DSN_ACTION_DELIVERED : DSN_ACTION_FAILED;
	if (r->status[0] == '5' || r->status[0] == '4')
		r->permanent = r->status[0] == '5';
	else if (r->smtp_code >= 400)
		r->permanent = r->smtp_code >= 500;
	else
		r->permanent = r->action == DSN_ACTION_FAILED;
}

/* keep_recipient - append r to d->rcpt (or count and drop it at the cap) */
static void
keep_recipient(struct dsn_ctx *c, struct dsn_recipient *r)
{
	struct dsn *d = c->d;

	d->rcpt_seen++;
	if (d->nrcpt >= c->max_rcpts) {
		d->warnings |= DSN_WARN_RCPT_CAP;
		dsn_recipient_clear(r);
		return;
	}
	finish_recipient(r);
	if ((d->nrcpt & (d->nrcpt - 1)) == 0) /* 0, 1, 2, 4, ...: grow */
		d->rcpt = xrealloc(d->rcpt, (d->nrcpt ? d->nrcpt * 2 : 1) * sizeof(*r));
	d->rcpt[d->nrcpt++] = *r;
	memset(r, 0, sizeof(*r));
}

/* dsn_add_recipient - a recipient read from a plain-text form */
void
dsn_add_recipient(struct dsn_ctx *c, const char *addr, size_t alen, const char *diag,
		  size_t dlen, const char *remote, size_t rlen, enum dsn_action action)
{
	struct dsn_recipient r;

	memset(&r, 0, sizeof(r));
	if (addr != NULL && alen > 0) {
		if (alen >= 2 && addr[0] == '<' && addr[alen - 1] == '>') {
			addr++;
			alen -= 2;
		}
		r.final_recipient = dsn_clean(c, addr, alen);
	}
	if (diag != NULL && dlen > 0)
		r.diagnostic = dsn_clean(c, diag, dlen);
	if (remote != NULL && rlen > 0)
		r.remote_mta = dsn_clean(c, remote, rlen);
	r.action = action;
	keep_recipient(c, &r);
}

/* action_of - an Action field's value */
static enum dsn_action
action_of(const char *v)
{
	static const struct {
		const char *name;
		enum dsn_action a;
	} names[] = {
		{ "failed", DSN_ACTION_FAILED },   { "failure", DSN_ACTION_FAILED },
		{ "delayed", DSN_ACTION_DELAYED }, { "delivered", DSN_ACTION_DELIVERED },
		{ "relayed", DSN_ACTION_RELAYED }, { "expanded", DSN_ACTION_EXPANDED }
	};
	size_t i;

	while (*v == ' ')
		v++;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncasecmp(v, names[i].name, strlen(names[i].name)) == 0)
			return names[i].a;
	return DSN_ACTION_NONE;
}

/* has_recipient - whether r holds anything worth keeping */
static int
has_recipient(const struct dsn_recipient *r)
{
	return r->final_recipient || r->original_recipient || r->status[0]
	       || r->diagnostic || r->action != DSN_ACTION_NONE;
}

/* recipient_field - one per-recipient field into r; 0 if not one */
static int
recipient_field(struct dsn_ctx *c, struct dsn_recipient *r, const char *name, size_t nlen,
		const char *v)
{
	char type[33];

#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
	if (IS("Final-Recipient")) {
		if (r->final_recipient != NULL)
			keep_recipient(c, r);
		r->final_recipient = address_field(c, v);
	} else if (IS("Original-Recipient")) {
		/* A field seen twice: the next recipient (no blank line between). */
		if (r->original_recipient != NULL)
			keep_recipient(c, r);
		r->original_recipient = address_field(c, v);
	} else if (IS("Action")) {
		if (r->action == DSN_ACTION_NONE)
			r->action = action_of(v);
	} else if (IS("Status")) {
		if (r->status[0] == 0)
			enhanced_code(v, r->status);
	} else if (IS("Diagnostic-Code")) {
		if (r->diagnostic == NULL) {
			const char *text = after_type(v, type, sizeof(type));

			r->diagnostic = dsn_clean(c, text, strlen(text));
			if (type[0])
				r->diagnostic_type = dsn_clean(c, type, strlen(type));
		}
	} else if (IS("Remote-MTA")) {
		if (r->remote_mta == NULL) {
			const char *h = after_type(v, NULL, 0);

			r->remote_mta = dsn_clean(c, h, strlen(h));
		}
	} else if (IS("Last-Attempt-Date")) {
		set_field(c, &r->last_attempt_date, v);
	} else
		return 0;
#undef IS
	return 1;
}

/* dsn_parse_delivery_status - the fields of a message/delivery-status part */
void
dsn_parse_delivery_status(struct dsn_ctx *c, const char *p, size_t len)
{
	struct dsn_hdrs *h = xcalloc(1, sizeof(*h));
	struct dsn_recipient r;
	struct dsn *d = c->d;
	size_t pos = 0, used, i;
	const char *nl, *v;

	memset(&r, 0, sizeof(r));
	c->saw_status = 1;
	while (pos < len) {
		/* Blank lines between blocks. */
		if (p[pos] == '\n'
		    || (p[pos] == '\r' && pos + 1 < len && p[pos + 1] == '\n')) {
			pos += p[pos] == '\r' ? 2 : 1;
			continue;
		}
		used = dsn_parse_headers(c, p + pos, len - pos, h);
		if (used == 0) { /* a line that is no field: skip it */
			nl = memchr(p + pos, '\n', len - pos);
			pos = nl ? (size_t) (nl - p) + 1 : len;
			continue;
		}
		pos += used;
		for (i = 0; i < h->n; i++) {
			const char *name = h->h[i].name;
			size_t nlen = h->h[i].nlen;

			v = h->h[i].value;
			if (recipient_field(c, &r, name, nlen, v))
				continue;
#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
			if (IS("Reporting-MTA"))
				set_field(c, &d->reporting_mta, after_type(v, NULL, 0));
			else if (IS("Received-From-MTA"))
				set_field(c, &d->received_from_mta,
					  after_type(v, NULL, 0));
			else if (IS("Arrival-Date"))
				set_field(c, &d->arrival_date, v);
			else if (IS("X-Postfix-Queue-ID"))
				set_field(c, &d->postfix_queue_id, v);
			else if (IS("X-Postfix-Sender"))
				set_field(c, &d->postfix_sender, after_type(v, NULL, 0));
#undef IS
		}
		/* A block without an address, action or status is no recipient. */
		if (has_recipient(&r))
			keep_recipient(c, &r);
		else
			dsn_recipient_clear(&r);
	}
	dsn_recipient_clear(&r);
	dsn_hdrs_free(h);
}

/* dsn_parse_feedback - the fields of a message/feedback-report part */
void
dsn_parse_feedback(struct dsn_ctx *c, const char *p, size_t len)
{
	struct dsn_hdrs *h = xcalloc(1, sizeof(*h));
	struct dsn_feedback *f = &c->d->feedback;

	c->saw_feedback = 1;
	dsn_parse_headers(c, p, len, h);
	set_field(c, &f->feedback_type, dsn_hdr_get(h, "Feedback-Type"));
	set_field(c, &f->user_agent, dsn_hdr_get(h, "User-Agent"));
	set_field(c, &f->version, dsn_hdr_get(h, "Version"));
	if (f->original_mail_from == NULL && dsn_hdr_get(h, "Original-Mail-From") != NULL)
		f->original_mail_from =
		    address_field(c, dsn_hdr_get(h, "Original-Mail-From"));
	if (f->original_rcpt_to == NULL && dsn_hdr_get(h, "Original-Rcpt-To") != NULL)
		f->original_rcpt_to =
		    address_field(c, dsn_hdr_get(h, "Original-Rcpt-To"));
	set_field(c, &f->source_ip, dsn_hdr_get(h, "Source-IP"));
	set_field(c, &f->arrival_date, dsn_hdr_get(h, "Arrival-Date"));
	set_field(c, &f->arrival_date, dsn_hdr_get(h, "Received-Date"));
	set_field(c, &f->reported_domain, dsn_hdr_get(h, "Reported-Domain"));
	set_field(c, &f->reported_uri, dsn_hdr_get(h, "Reported-URI"));
	/* RFC 5965's optional Reporting-MTA: the field of struct dsn, as in a DSN. */
	if (dsn_hdr_get(h, "Reporting-MTA") != NULL)
		set_field(c, &c->d->reporting_mta,
			  after_type(dsn_hdr_get(h, "Reporting-MTA"), NULL, 0));
	dsn_hdrs_free(h);
}

/* dsn_parse_returned - headers of the returned message (or of its copy) */
void
dsn_parse_returned(struct dsn_ctx *c, const char *p, size_t len)
{
	struct dsn_hdrs *h = xcalloc(1, sizeof(*h));

	dsn_parse_headers(c, p, len, h);
	(void) dsn_take_returned(c, h);
	dsn_hdrs_free(h);
}
