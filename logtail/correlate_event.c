/*
 * correlate_event.c - the events the correlator hands out: each one's key
 * (where its line was read, and the recipient), its tenant, the message
 * object from what is known and the milter's record, and the details,
 * output and classification of a delivery attempt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "util/log.h"
#include "util/util.h"
#include "correlate_int.h"

/* put_u64 - n in decimal at the end of b. */
static void
put_u64(struct buf *b, uint64_t n)
{
	char d[20];
	size_t i = sizeof(d);

	do
		d[--i] = (char) ('0' + n % 10);
	while ((n /= 10) != 0);
	buf_append(b, d + i, sizeof(d) - i);
}

/* put_key_base - where a line was read, the first part of its events'
 * keys ("J/cursor" or "F/source/offset"), at the end of b. */
static void
put_key_base(struct buf *b, const struct log_pos *pos)
{
	if (pos->cursor != NULL) {
		buf_append(b, "J/", 2);
		buf_puts(b, pos->cursor);
	} else {
		buf_append(b, "F/", 2);
		buf_puts(b, pos->source ? pos->source : "-");
		buf_append(b, "/", 1);
		put_u64(b, pos->offset);
	}
}

/* key_base - put_key_base() as a string of its own (caller frees). */
char *
key_base(const struct log_pos *pos)
{
	struct buf b;

	buf_init(&b);
	put_key_base(&b, pos);
	return (buf_take(&b));
}

/* event_key - the identity of an event, in c->key until the next one:
 * where its line was read, "/", the recipient. */
static const char *
event_key(struct correlate *c, const struct log_pos *pos, const char *rcpt)
{
	struct buf *b = &c->key;

	buf_reset(b);
	put_key_base(b, pos);
	buf_append(b, "/", 1);
	buf_puts(b, rcpt);
	return (b->data);
}

/*
 * event_tenant - whose the message is: its record's tenant, else the one
 * the tenants' rules give what the log showed; NULL: the default's.
 */
static const char *
event_tenant(struct correlate *c, struct qstate *qs)
{
	struct message_record *rec = qs_record(c, qs);
	struct tenant_facts f;
	const char *t;

	if (rec != NULL)
		return (rec->tenant);
	if (c->tenants == NULL || tenant_matcher_rules(c->tenants) == 0)
		return (NULL);
	f.sasl_username = qs->sasl_username;
	f.client_addr = qs->client_addr;
	f.daemon_name = NULL; /* Postfix does not log it */
	f.sender = qs->from;
	t = tenant_match(c->tenants, &f);
	return (strcmp(t, TENANT_DEFAULT) == 0 ? NULL : t);
}

/* message_unborrow - forget the message object's strings, which are the
 * queue state's and the record's (fill_message), before the event is
 * cleared. */
static void
message_unborrow(struct event_message *m)
{
	memset(m, 0, sizeof(*m));
}

/* emit_key - hand one event to the caller, under key (taken). */
void
emit_key(struct correlate *c, struct qstate *qs, char *key, struct delivery_event *ev)
{
	struct correlate_event ce;

	ce.key = key;
	ce.queue_id = qs->qid;
	ce.tenant = event_tenant(c, qs);
	ce.ev = *ev;
	c->emit(&ce, c->ctx);
	free(key);
	message_unborrow(&ce.ev.message);
	delivery_event_clear(&ce.ev);
	delivery_event_init(ev, ev->type);
}

/* emit_event - hand one event to the caller, keyed by its line and rcpt. */
void
emit_event(struct correlate *c, struct qstate *qs, const struct log_pos *pos,
	   const char *rcpt, struct delivery_event *ev)
{
	struct correlate_event ce;

	ce.key = event_key(c, pos, rcpt);
	ce.queue_id = qs->qid;
	ce.tenant = event_tenant(c, qs);
	ce.ev = *ev;
	c->emit(&ce, c->ctx);
	message_unborrow(&ce.ev.message);
	delivery_event_clear(&ce.ev);
	delivery_event_init(ev, ev->type);
}

/*
 * fill_message - the message object (docs/events.md) for one recipient.
 * Its strings are borrowed from rcpt, the queue state and the milter's
 * record, which outlive the emit callback (correlate.h): copying them for
 * each event only to free them after the callback was a tenth of
 * --print's allocations.  emit_event() and emit_key() forget them.
 */
void
fill_message(struct correlate *c, struct qstate *qs, const char *rcpt,
	     struct event_message *m)
{
	struct message_record *rec = qs_record(c, qs);
	const char *from = rec && rec->from ? rec->from : qs->from;
	const char *mid = rec && rec->message_id ? rec->message_id : qs->message_id;

	m->to = (char *) rcpt;
	m->from = (char *) from;
	m->message_id = mid && *mid ? (char *) mid : NULL;
	m->direction = (char *) "outgoing";
	m->timestamp = rec && rec->timestamp > 0 ? rec->timestamp : qs->first_seen;
	if (rec == NULL)
		return;
	m->id = rec->id;
	m->token = rec->token;
	m->subject = rec->subject;
	m->tag = rec->tag;
	m->spam_status = rec->spam_status;
	m->metadata = rec->metadata;
}

/* is_remote_program - smtp and lmtp talk to a server with an address. */
int
is_remote_program(const char *program)
{
	return (strcmp(program, "smtp") == 0 || strcmp(program, "lmtp") == 0);
}

/* domain_of - the part of an address after its last '@'. */
static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return (at ? at + 1 : addr);
}

/* str_cat - a new string: the n strings of parts, one after the other. */
static char *
str_cat(const char *const *parts, size_t n)
{
	size_t len[8], total = 0, o = 0;
	char *s;

	if (n > sizeof(len) / sizeof(len[0]))
		log_fatal("str_cat: %zu parts", n);
	for (size_t i = 0; i < n; i++)
		total += (len[i] = strlen(parts[i]));
	s = xmalloc(total + 1);
	for (size_t i = 0; i < n; i++) {
		memcpy(s + o, parts[i], len[i]);
		o += len[i];
	}
	s[o] = 0;
	return (s);
}

#define STR_CAT(...)                                                                     \
	str_cat((const char *const[]){ __VA_ARGS__ },                                    \
		sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

#define WHERE_SIZE 512 /* "ip:port (host)", cut to 511 bytes */

/* where_add - n bytes of p at the end of where (WHERE_SIZE bytes, *len
 * used), cut where snprintf() into it would cut. */
static void
where_add(char *where, size_t *len, const char *p, size_t n)
{
	size_t room = WHERE_SIZE - 1 - *len;

	if (n > room)
		n = room;
	memcpy(where + *len, p, n);
	*len += n;
	where[*len] = 0;
}

/*
 * describe - details, output and classification of one attempt, per the
 * table in docs/events.md, "details and output".
 */
void
describe(struct correlate *c, const struct attempt *a, struct delivery_event *ev)
{
	struct span rs = { a->relay, strlen(a->relay) }, host, addr, port;
	struct classify_result res;
	char where[WHERE_SIZE], code[16];
	size_t wlen = 0;
	int none = (*a->relay == 0 || strcmp(a->relay, "none") == 0);
	size_t olen = strlen(a->text) + 1;
	char *out = xmalloc(olen);
	const char *name;

	where[0] = 0;
	parse_relay(rs, &host, &addr, &port);
	if (addr.len > 0) {
		where_add(where, &wlen, addr.p, addr.len);
		/* An LMTP socket ("name[private/dovecot-lmtp]") has no port. */
		if (port.len > 0) {
			where_add(where, &wlen, ":", 1);
			where_add(where, &wlen, port.p, port.len);
		}
		where_add(where, &wlen, " (", 2);
		where_add(where, &wlen, host.p, host.len);
		where_add(where, &wlen, ")", 1);
	} else {
		name = none ? a->program : a->relay;
		where_add(where, &wlen, name, strlen(name));
	}

	if (ev->type == EV_MESSAGE_SENT) {
		if (addr.len > 0 && is_remote_program(a->program))
			ev->details =
			    STR_CAT("Message for ", a->to, " accepted by ", where);
		else
			ev->details =
			    STR_CAT("Message for ", a->to, " delivered by ", where);
		classify_reply_text(a->text, out, olen);
		ev->output = out;
		return;
	}
	classify_cached(c->verdicts, a->dsn, a->text, &res);
	ev->classification =
	    res.classification != CLASS_NONE ? res.classification : CLASS_UNCLASSIFIED;
	if (none
	    && (ev->classification == CLASS_CONNECTION_ERROR
		|| ev->classification == CLASS_DNS_FAILURE
		|| ev->classification == CLASS_INVALID_DOMAIN)) {
		ev->details = STR_CAT("Connection error: Could not connect to "
				      "any mail server for ",
				      domain_of(a->to));
		memcpy(out, a->text, olen);
		ev->output = out;
		return;
	}
	if (!none) {
		/* The remote's own code only: not the dsn= Postfix gave its
		 * own status, or a reply that had none. */
		if (res.smtp_enhanced_code[0] && res.enhanced_from_text)
			ev->smtp_enhanced_code = xstrdup(res.smtp_enhanced_code);
		if (res.remote_host[0])
			ev->remote_host = xstrdup(res.remote_host);
		else if (host.len > 0 && addr.len > 0)
			ev->remote_host = xstrndup(host.p, host.len);
	}
	name = classification_name(ev->classification); /* not CLASS_NONE */
	if (res.smtp_code > 0) {
		snprintf(code, sizeof(code), "%d ", res.smtp_code);
		ev->details =
		    STR_CAT(code, name, ": Delivery to ", a->to, " failed at ", where);
	} else {
		ev->details =
		    STR_CAT(name, ": Delivery to ", a->to, " failed at ", where);
	}
	classify_reply_text(a->text, out, olen);
	ev->output = out;
}
