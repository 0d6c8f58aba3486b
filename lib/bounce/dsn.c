/*
 * dsn.c - the bounce parser: dsn_parse() and its verdict (bounce, delay,
 * delivery, auto-reply, complaint or unknown), the text helpers its parts
 * share, and the result as JSON.  The MIME walk is in mime.c, the
 * standard reports in dsn_report.c, the plain-text forms in dsn_text.c.
 *
 * Bounds: the input is cut at max_input; a part is decoded up to max_part
 * bytes (base64 and quoted-printable decoding stop there, so a 50 MiB part
 * costs one pass over its start); nesting stops at max_depth; at most
 * DSN_MAX_PARTS parts and max_recipients recipients are kept; a header
 * block is read up to DSN_HDR_BYTES_MAX bytes and DSN_HDR_MAX headers.
 * Every search is bounded by the length of what it searches, so time is
 * linear in the input times the nesting depth.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce/dsn.h"
#include "bounce/dsn_int.h"
#include "util/json.h"
#include "util/utf8.h"
#include "util/util.h"

/* ---------------------------------------------------------------- text */

/* dsn_ci_find - case-insensitive strstr */
const char *
dsn_ci_find(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	int first = tolower((unsigned char) *needle);

	if (n == 0)
		return hay;
	for (; *hay; hay++)
		if (tolower((unsigned char) *hay) == first
		    && strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* dsn_clean - a sanitized, trimmed copy of at most DSN_FIELD_MAX bytes */
char *
dsn_clean(struct dsn_ctx *c, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	char *out;
	size_t i = 0, o = 0, n;

	while (len > 0 && isspace(p[0]) && p[0] < 0x80) {
		p++;
		len--;
	}
	while (len > 0 && p[len - 1] < 0x80 && isspace(p[len - 1]))
		len--;
	if (len > DSN_FIELD_MAX)
		len = DSN_FIELD_MAX;
	out = xmalloc(len + 1);
	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			out[o++] = ' ';
			i++;
		} else if ((n = utf8_seq_len(p + i, len - i)) == 0) {
			out[o++] = '?';
			i++;
			if (c != NULL)
				c->d->warnings |= DSN_WARN_8BIT;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = 0;
	return out;
}

/* addr_char - may this byte be part of an address token */
static int
addr_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("<>()[],;:\"'", ch) == NULL;
}

/* dsn_find_address - the first local@domain token in s[0..len) */
int
dsn_find_address(const char *s, size_t len, const char **a, size_t *alen)
{
	const char *at, *b, *e, *end = s + len;

	for (at = memchr(s, '@', len); at != NULL;
	     at = memchr(at + 1, '@', (size_t) (end - at - 1))) {
		for (b = at; b > s && addr_char((unsigned char) b[-1]); b--)
			;
		for (e = at + 1; e < end && addr_char((unsigned char) *e); e++)
			;
		while (e > at + 1 && (e[-1] == '.' || e[-1] == '-'))
			e--;
		if (b < at && e > at + 1 && memchr(at + 1, '.', (size_t) (e - at - 1))
		    && memchr(at + 1, '@', (size_t) (e - at - 1)) == NULL) {
			*a = b;
			*alen = (size_t) (e - b);
			return 1;
		}
		if (at + 1 >= end)
			break;
	}
	return 0;
}

/* ------------------------------------------------------------- verdict */

/* text_of - a buffer as a C string: NULs and CRs out */
static char *
text_of(const struct buf *b)
{
	char *t = xmalloc(b->len + 1);
	size_t i, o = 0;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\r')
			continue;
		t[o++] = b->data[i] == 0 ? ' ' : b->data[i];
	}
	t[o] = 0;
	return t;
}

/* autoreply_subject - whether a subject says "Out of Office" and the like */
static int
autoreply_subject(const char *s)
{
	static const char *const words[] = {
		"out of office",
		"out of the office",
		"automatic reply",
		"auto reply",
		"auto-reply",
		"autoreply",
		"auto response",
		"auto-response",
		"autoresponse",
		"vacation",
		"abwesenheit",
		"automatische antwort",
		"r\xc3\xa9ponse automatique",
		"reponse automatique",
		"respuesta autom",
		"risposta automatica",
		"away from the office",
		"away from my",
		"on leave",
	};
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (dsn_ci_find(s, words[i]) != NULL)
			return 1;
	return 0;
}

/* kind_of_recipients - bounce if one failed, else delay, else delivered */
static enum dsn_kind
kind_of_recipients(const struct dsn *d)
{
	size_t i;
	int delayed = 0, delivered = 0;

	for (i = 0; i < d->nrcpt; i++) {
		switch (d->rcpt[i].action) {
		case DSN_ACTION_FAILED:
		case DSN_ACTION_NONE:
			return DSN_KIND_BOUNCE;
		case DSN_ACTION_DELAYED:
			delayed = 1;
			break;
		default:
			delivered = 1;
			break;
		}
	}
	if (delayed)
		return DSN_KIND_DELAYED;
	if (delivered)
		return DSN_KIND_DELIVERED;
	return DSN_KIND_UNKNOWN;
}

/* scan_token - the token header on any line of the raw input */
static void
scan_token(struct dsn_ctx *c, const char *p, size_t len)
{
	size_t tl = strlen(c->token_header), pos = 0, vs, ve;
	const char *nl;

	while (pos + tl < len) {
		if ((pos == 0 || p[pos - 1] == '\n')
		    && strncasecmp(p + pos, c->token_header, tl) == 0) {
			vs = pos + tl;
			while (vs < len && (p[vs] == ' ' || p[vs] == '\t'))
				vs++;
			if (vs < len && p[vs] == ':') {
				vs++;
				for (ve = vs; ve < len && p[ve] != '\n' && p[ve] != '\r';
				     ve++)
					;
				if (ve - vs > 0 && ve - vs < 256) {
					c->d->returned.token =
					    dsn_clean(c, p + vs, ve - vs);
					if (*c->d->returned.token)
						return;
					free(c->d->returned.token);
					c->d->returned.token = NULL;
				}
			}
		}
		nl = memchr(p + pos, '\n', len - pos);
		if (nl == NULL)
			break;
		pos = (size_t) (nl - p) + 1;
	}
}

/* dsn_parse - see dsn.h */
struct dsn *
dsn_parse(const void *data, size_t len, const struct dsn_options *opt)
{
	struct dsn_ctx c;
	struct dsn *d = xcalloc(1, sizeof(*d));
	const char *p = data;
	char *text;
	size_t max_input = DSN_MAX_INPUT;

	memset(&c, 0, sizeof(c));
	c.d = d;
	c.token_header = DSN_TOKEN_HEADER;
	c.max_part = DSN_MAX_PART;
	c.max_rcpts = DSN_MAX_RECIPIENTS;
	c.max_depth = DSN_MAX_DEPTH;
	if (opt != NULL) {
		if (opt->token_header != NULL && *opt->token_header)
			c.token_header = opt->token_header;
		if (opt->max_input)
			max_input = opt->max_input;
		if (opt->max_part)
			c.max_part = opt->max_part;
		if (opt->max_recipients)
			c.max_rcpts = opt->max_recipients;
		if (opt->max_depth > 0)
			c.max_depth = opt->max_depth;
	}
	if (p == NULL)
		len = 0;
	if (len > max_input) {
		len = max_input;
		d->warnings |= DSN_WARN_TRUNCATED;
	}
	buf_init(&c.plain);
	buf_init(&c.html);
	if (len > 0)
		dsn_walk(&c, p, len, 0);
	else
		d->warnings |= DSN_WARN_NO_HEADERS;

	text = text_of(c.plain.len > 0 ? &c.plain : &c.html);
	if (c.saw_feedback) {
		d->kind = DSN_KIND_FEEDBACK;
		d->format = DSN_FORMAT_ARF;
	} else if (d->nrcpt > 0 || d->rcpt_seen > 0) {
		d->format = DSN_FORMAT_RFC3464;
		d->kind = kind_of_recipients(d);
	} else if (dsn_text_forms(&c, text)) {
		d->kind = kind_of_recipients(d);
	} else if (c.autoreply || autoreply_subject(d->self.subject)) {
		d->kind = DSN_KIND_AUTOREPLY;
		d->format = DSN_FORMAT_AUTOREPLY;
	} else if (c.saw_status) {
		d->format = DSN_FORMAT_RFC3464;
	} else if (dsn_text_generic(&c, text)) {
		d->format = DSN_FORMAT_GENERIC;
		d->kind = kind_of_recipients(d);
	}
	if (d->returned.message_id == NULL && d->returned.token == NULL)
		dsn_text_returned(&c, text);
	if (d->returned.token == NULL && len > 0)
		scan_token(&c, p, len);
	free(text);
	buf_free(&c.plain);
	buf_free(&c.html);
	return d;
}

/* ----------------------------------------------------------- the rest */

/* headers_free - free one header set */
static void
headers_free(struct dsn_headers *h)
{
	free(h->message_id);
	free(h->token);
	free(h->from);
	free(h->to);
	free(h->subject);
	free(h->date);
}

/* dsn_recipient_clear - free what r holds and empty it */
void
dsn_recipient_clear(struct dsn_recipient *r)
{
	free(r->final_recipient);
	free(r->original_recipient);
	free(r->diagnostic_type);
	free(r->diagnostic);
	free(r->remote_mta);
	free(r->last_attempt_date);
	memset(r, 0, sizeof(*r));
}

/* dsn_free - free a parse result */
void
dsn_free(struct dsn *d)
{
	size_t i;

	if (d == NULL)
		return;
	headers_free(&d->self);
	headers_free(&d->returned);
	free(d->auto_submitted);
	free(d->reporting_mta);
	free(d->received_from_mta);
	free(d->arrival_date);
	free(d->postfix_queue_id);
	free(d->postfix_sender);
	for (i = 0; i < d->nrcpt; i++)
		dsn_recipient_clear(&d->rcpt[i]);
	free(d->rcpt);
	free(d->feedback.feedback_type);
	free(d->feedback.user_agent);
	free(d->feedback.version);
	free(d->feedback.original_mail_from);
	free(d->feedback.original_rcpt_to);
	free(d->feedback.source_ip);
	free(d->feedback.arrival_date);
	free(d->feedback.reported_domain);
	free(d->feedback.reported_uri);
	free(d);
}

/* dsn_recipient_failed - whether r bounced */
int
dsn_recipient_failed(const struct dsn_recipient *r)
{
	return r->action == DSN_ACTION_FAILED || r->action == DSN_ACTION_NONE;
}

/* dsn_kind_name - the name of a kind */
const char *
dsn_kind_name(enum dsn_kind k)
{
	static const char *const names[] = { "unknown",	  "bounce",    "delayed",
					     "delivered", "autoreply", "feedback" };

	return (unsigned) k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

/* dsn_format_name - the name of a format */
const char *
dsn_format_name(enum dsn_format f)
{
	static const char *const names[] = { "none",  "rfc3464",  "arf",      "qmail",
					     "exim",  "sendmail", "exchange", "gmail",
					     "yahoo", "generic",  "autoreply" };

	return (unsigned) f < sizeof(names) / sizeof(names[0]) ? names[f] : "none";
}

/* dsn_action_name - the name of an action, or NULL */
const char *
dsn_action_name(enum dsn_action a)
{
	static const char *const names[] = { NULL,	  "failed",  "delayed",
					     "delivered", "relayed", "expanded" };

	return (unsigned) a < sizeof(names) / sizeof(names[0]) ? names[a] : NULL;
}

/* dsn_warnings_text - the flags as comma-separated words */
void
dsn_warnings_text(unsigned w, char *out, size_t outlen)
{
	static const char *const names[] = { "truncated", "part_cap",	"depth",
					     "rcpt_cap",  "no_headers", "boundary",
					     "parts_cap", "encoding",	"8bit",
					     "header_cap" };
	size_t i, o = 0;

	if (outlen == 0)
		return;
	out[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(w & (1u << i)))
			continue;
		o += (size_t) snprintf(out + o, o < outlen ? outlen - o : 0, "%s%s",
				       o ? "," : "", names[i]);
		if (o >= outlen) {
			out[outlen - 1] = 0;
			return;
		}
	}
}

/* dsn_headers_to_json - one header set */
json_object *
dsn_headers_to_json(const struct dsn_headers *h)
{
	json_object *o = json_object_new_object();

	json_add_string(o, "message_id", h->message_id);
	json_add_string(o, "token", h->token);
	json_add_string(o, "from", h->from);
	json_add_string(o, "to", h->to);
	json_add_string(o, "subject", h->subject);
	json_add_string(o, "date", h->date);
	return o;
}

/* dsn_to_json - the whole result */
json_object *
dsn_to_json(const struct dsn *d)
{
	json_object *o = json_object_new_object();
	json_object *rcpts = json_object_new_array();
	json_object *warn = json_object_new_array();
	char wtext[256], *tok, *save = NULL;
	size_t i;

	json_add_string(o, "kind", dsn_kind_name(d->kind));
	json_add_string(o, "format", dsn_format_name(d->format));
	json_object_object_add(o, "message", dsn_headers_to_json(&d->self));
	json_add_string(o, "auto_submitted", d->auto_submitted);
	json_add_string(o, "reporting_mta", d->reporting_mta);
	json_add_string(o, "received_from_mta", d->received_from_mta);
	json_add_string(o, "arrival_date", d->arrival_date);
	json_add_string(o, "postfix_queue_id", d->postfix_queue_id);
	json_add_string(o, "postfix_sender", d->postfix_sender);
	for (i = 0; i < d->nrcpt; i++) {
		const struct dsn_recipient *r = &d->rcpt[i];
		json_object *ro = json_object_new_object();

		json_add_string(ro, "final_recipient", r->final_recipient);
		json_add_string(ro, "original_recipient", r->original_recipient);
		json_add_string(ro, "action", dsn_action_name(r->action));
		json_add_string(ro, "status", r->status[0] ? r->status : NULL);
		json_add_string(ro, "diagnostic_type", r->diagnostic_type);
		json_add_string(ro, "diagnostic", r->diagnostic);
		json_add_string(ro, "remote_mta", r->remote_mta);
		json_add_string(ro, "last_attempt_date", r->last_attempt_date);
		json_object_object_add(ro, "smtp_code",
				       r->smtp_code ? json_object_new_int(r->smtp_code)
						    : NULL);
		json_object_object_add(ro, "permanent",
				       json_object_new_boolean(r->permanent));
		json_object_array_add(rcpts, ro);
	}
	json_object_object_add(o, "recipients", rcpts);
	json_object_object_add(o, "recipients_listed",
			       json_object_new_int64((int64_t) d->rcpt_seen));
	json_object_object_add(o, "returned", dsn_headers_to_json(&d->returned));
	if (d->kind == DSN_KIND_FEEDBACK) {
		json_object *f = json_object_new_object();

		json_add_string(f, "feedback_type", d->feedback.feedback_type);
		json_add_string(f, "user_agent", d->feedback.user_agent);
		json_add_string(f, "version", d->feedback.version);
		json_add_string(f, "original_mail_from", d->feedback.original_mail_from);
		json_add_string(f, "original_rcpt_to", d->feedback.original_rcpt_to);
		json_add_string(f, "source_ip", d->feedback.source_ip);
		json_add_string(f, "arrival_date", d->feedback.arrival_date);
		json_add_string(f, "reported_domain", d->feedback.reported_domain);
		json_add_string(f, "reported_uri", d->feedback.reported_uri);
		json_object_object_add(o, "feedback", f);
	}
	dsn_warnings_text(d->warnings, wtext, sizeof(wtext));
	for (tok = strtok_r(wtext, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_object_array_add(warn, json_object_new_string(tok));
	json_object_object_add(o, "warnings", warn);
	return o;
}
