/*
 * correlate.c - per-queue-id state: which lines of one message belong
 * together, and which delivery events they make.
 *
 * A message is known from its first line (smtpd client=, pickup, cleanup,
 * qmgr) until qmgr says "removed".  Delivery lines make Sent, SoftFail and
 * HardFail events; qmgr's "status=expired" turns every recipient still
 * deferred into HardFail; cleanup's hold lines make Held.  A delivery that
 * hands the message to a content filter or a second instance logging here
 * ("queued as NEWQID" where NEWQID is in this log, or a relay named in
 * hop_relays) is no delivery: NEWQID inherits the message and its final
 * delivery is reported as the original's.  The filter may deliver NEWQID
 * before its answer to the original is logged: once this log has shown a
 * hop through a loopback relay, delivery lines of a message that came in
 * from a loopback client without a record wait (hop_wait seconds, of the
 * log's time or the clock's) for the line that links it, and are replayed
 * then; a relay so learned stays a hop.
 *
 * SMTP sessions are followed per smtp process for sent_with_ssl: a "TLS
 * connection established to h[a]:p" line holds for that process's
 * delivery lines to h[a]:p, on that connection only.  The sessions are
 * saved with the queue states (under TLS_STATE_KEY), so that a delivery
 * over a connection opened before a restart is still known as TLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "config/config.h"
#include "util/log.h"
#include "util/util.h"
#include "util/cidr.h"
#include "utf8.h"
#include "correlate.h"

#define DEFAULT_MAX_MESSAGES	50000
#define TLS_SLOTS		256
#define TLS_STATE_KEY		"#tls"	/* no queue id starts with "#" */
#define HOP_STATE_KEY		"#hop"	/* the hop relays learned */
#define LOG_CHECK_S		0.25	/* log time between checks of waits */
#define HOP_RELAYS		8	/* hop relays learned from the log */

struct deferral {
	struct deferral *next;
	char   *rcpt;
	char   *program;
	char   *relay;
	char   *dsn;
	char   *text;
	double  delay;			/* the line's delay= */
	double  when;			/* the line's time */
	double  time;			/* its delays c + d; < 0: unknown */
	int     ssl;			/* its sent_with_ssl, or SSL_UNKNOWN */
};

/*
 * A hold line whose Held events wait for the milter's record: cleanup logs
 * "hold: header ..." while it reads the headers, before the milter's
 * end-of-message has committed the record (see correlate_tick).
 */
struct held {
	struct held *next;
	char   *keybase;		/* "F/fp/offset" or "J/cursor" */
	char   *to;			/* the line's to=, without a record */
	char   *reason;
	char   *output;
	double  when;			/* the line's time */
	double  deadline;		/* wall clock; 0: from the next tick */
};

/*
 * A delivery line that waits to learn whether its message is a hop's
 * NEWQID: what parse_message() needs to read it again, where it was read
 * (its events' identity) and its TLS session as it was then.
 */
struct waiting {
	struct waiting *next;
	char   *source;			/* log_pos: file, or NULL */
	uint64_t offset;
	char   *cursor;			/* log_pos: journal, or NULL */
	char   *program;
	long    pid;
	char   *msg;			/* after "QID: " */
	int     ssl;			/* sent_with_ssl then, or SSL_UNKNOWN */
	double  when;			/* the line's time */
	double  deadline;		/* wall clock; 0: from the next tick */
};

struct qstate {
	struct qstate *hnext;		/* hash chain */
	struct qstate *pnext, *pprev;	/* with held or waiting events */
	struct qstate *older, *newer;	/* age order, for the cap */
	char   *qid;
	char   *from;			/* NULL: not seen */
	char   *message_id;
	char   *origin;			/* a hop's original queue id */
	double  first_seen;
	int     submitted;		/* this site submitted it */
	int     loopback;		/* smtpd client on loopback, no SASL */
	int     removed;		/* qmgr removed it; lines still wait */
	int     pinned;			/* being worked on: not evicted */
	int     rec_state;		/* REC_* */
	struct message_record *rec;
	struct deferral *deferred;
	struct held *held;		/* oldest first */
	struct waiting *waiting;	/* oldest first */
	int     dirty;
	int     persisted;
};

enum {
	REC_UNKNOWN,			/* not asked, or not found yet */
	REC_FOUND,
	REC_NONE,			/* queued without a record: final */
};

/* One smtp/lmtp process's current TLS session. */
struct tls_sess {
	long    pid;			/* 0: free */
	char    addr[64];
	char    port[8];
	char    qid[33];		/* first message sent over it */
};

struct strvec {
	char  **v;
	size_t  n, cap;
};

struct correlate {
	struct correlate_opts opts;
	struct cidr_list *internal;	/* opts.internal_hosts, parsed */
	correlate_emit_fn emit;
	correlate_record_fn record;
	void   *ctx;
	time_t  now;

	struct qstate **buckets;
	size_t  nbuckets;
	size_t  count;
	struct qstate *oldest, *newest;
	struct qstate *pending;		/* messages with held or waiting lines */
	struct qstate *pending_tail;
	size_t  npending;
	double  clock;			/* the last correlate_tick() */
	double  log_checked;		/* log time of the last wait check */
	/* Relays ("addr:port") this log has shown to be hops. */
	char    hop_relay[HOP_RELAYS][72];
	size_t  nhop_relay;
	int     hop_dirty;		/* changed since the last flush */

	struct strvec dirty;
	struct strvec gone;

	struct tls_sess tls[TLS_SLOTS];
	int     tls_dirty;		/* changed since the last flush */

	/* Yearless stamps: the minute last resolved. */
	struct log_stamp minute_key;
	double  minute_base;
	int     minute_valid;

	struct buf key;			/* the event key being emitted */
	char   *scratch;		/* a delivery line's fields, cleaned */
	size_t  scratch_cap;
};

/* strvec_push - append a copy of s. */
static void
strvec_push(struct strvec *sv, const char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 64;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = xstrdup(s);
}

/* strvec_clear - free the strings, keep the array. */
static void
strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	sv->n = 0;
}

/* span_dup - a copy of a span, as valid UTF-8 for the JSON it goes to. */
static char *
span_dup(struct span s)
{
	return (utf8_clean_dup(s.p, s.len));
}

/* hash_qid - FNV-1a of a queue id. */
static size_t
hash_qid(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char) p[i];
		h *= 1099511628211ULL;
	}
	return ((size_t) h);
}

/* internal_set - parse opts.internal_hosts (config_load has checked it:
 * a list that does not parse matches nothing) */
static void
internal_set(struct correlate *c)
{
	char err[256];

	cidr_list_free(c->internal);
	c->internal = NULL;
	if (c->opts.internal_hosts != NULL)
		c->internal = cidr_list_new(c->opts.internal_hosts, err, sizeof(err));
}

/* internal_host - the client address is in internal_hosts */
static int
internal_host(const struct correlate *c, struct span addr)
{
	char text[64];

	if (c->internal == NULL || addr.len == 0 || addr.len >= sizeof(text))
		return 0;
	memcpy(text, addr.p, addr.len);
	text[addr.len] = '\0';
	return cidr_list_match_text(c->internal, text);
}

/* is_loopback - a client address on 127.0.0.0/8 or ::1 */
static int
is_loopback(struct span addr)
{
	return ((addr.len > 4 && memcmp(addr.p, "127.", 4) == 0)
		|| span_eq(addr, "::1")
		|| (addr.len > 11 && memcmp(addr.p, "::ffff:127.", 11) == 0));
}

/* correlate_new - see correlate.h. */
struct correlate *
correlate_new(const struct correlate_opts *opts, correlate_emit_fn emit,
	      correlate_record_fn record, void *ctx)
{
	struct correlate *c = xcalloc(1, sizeof(*c));

	c->opts = *opts;
	if (c->opts.max_messages == 0)
		c->opts.max_messages = DEFAULT_MAX_MESSAGES;
	internal_set(c);
	c->emit = emit;
	c->record = record;
	c->ctx = ctx;
	c->nbuckets = 1024;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	buf_init(&c->key);
	return (c);
}

/* deferral_free - one deferral. */
static void
deferral_free(struct deferral *d)
{
	free(d->rcpt);
	free(d->program);
	free(d->relay);
	free(d->dsn);
	free(d->text);
	free(d);
}

/* held_free - one waiting hold. */
static void
held_free(struct held *h)
{
	free(h->keybase);
	free(h->to);
	free(h->reason);
	free(h->output);
	free(h);
}

/* waiting_free - one waiting delivery line. */
static void
waiting_free(struct waiting *w)
{
	free(w->source);
	free(w->cursor);
	free(w->program);
	free(w->msg);
	free(w);
}

/* qstate_free - one message's state. */
static void
qstate_free(struct qstate *qs)
{
	struct deferral *d, *next;
	struct held *h, *hnext;
	struct waiting *w, *wnext;

	for (d = qs->deferred; d != NULL; d = next) {
		next = d->next;
		deferral_free(d);
	}
	for (h = qs->held; h != NULL; h = hnext) {
		hnext = h->next;
		held_free(h);
	}
	for (w = qs->waiting; w != NULL; w = wnext) {
		wnext = w->next;
		waiting_free(w);
	}
	if (qs->rec != NULL)
		message_record_free(qs->rec);
	free(qs->qid);
	free(qs->from);
	free(qs->message_id);
	free(qs->origin);
	free(qs);
}

/* correlate_free - everything. */
void
correlate_free(struct correlate *c)
{
	struct qstate *qs, *next;

	if (c == NULL)
		return;
	for (qs = c->oldest; qs != NULL; qs = next) {
		next = qs->newer;
		qstate_free(qs);
	}
	free(c->buckets);
	cidr_list_free(c->internal);
	strvec_clear(&c->dirty);
	strvec_clear(&c->gone);
	free(c->dirty.v);
	free(c->gone.v);
	buf_free(&c->key);
	free(c->scratch);
	free(c);
}

/* correlate_set_opts - see correlate.h. */
void
correlate_set_opts(struct correlate *c, const struct correlate_opts *opts)
{
	size_t  max = c->opts.max_messages;

	c->opts = *opts;
	c->opts.max_messages = opts->max_messages ? opts->max_messages : max;
	internal_set(c);
}

/* correlate_set_now - see correlate.h. */
void
correlate_set_now(struct correlate *c, time_t now)
{
	c->now = now;
}

/* correlate_count - see correlate.h. */
size_t
correlate_count(const struct correlate *c)
{
	return (c->count);
}

/* qs_find - the state of a queue id, or NULL. */
static struct qstate *
qs_find(struct correlate *c, const char *p, size_t len)
{
	struct qstate *qs;

	for (qs = c->buckets[hash_qid(p, len) & (c->nbuckets - 1)]; qs; qs = qs->hnext)
		if (strlen(qs->qid) == len && memcmp(qs->qid, p, len) == 0)
			return (qs);
	return (NULL);
}

/* qs_mark_dirty - the state must be written out at the next flush. */
static void
qs_mark_dirty(struct correlate *c, struct qstate *qs)
{
	if (!qs->dirty) {
		qs->dirty = 1;
		strvec_push(&c->dirty, qs->qid);
	}
}

/* pend_link - the message has held events or lines waiting: at the end
 * of the list, which is oldest first. */
static void
pend_link(struct correlate *c, struct qstate *qs)
{
	if (qs->pprev != NULL || c->pending == qs)
		return;
	qs->pnext = NULL;
	qs->pprev = c->pending_tail;
	if (c->pending_tail != NULL)
		c->pending_tail->pnext = qs;
	else
		c->pending = qs;
	c->pending_tail = qs;
	c->npending++;
}

/* pend_unlink - it has none any more. */
static void
pend_unlink(struct correlate *c, struct qstate *qs)
{
	if (qs->pprev == NULL && c->pending != qs)
		return;
	if (qs->pprev != NULL)
		qs->pprev->pnext = qs->pnext;
	else
		c->pending = qs->pnext;
	if (qs->pnext != NULL)
		qs->pnext->pprev = qs->pprev;
	else
		c->pending_tail = qs->pprev;
	qs->pnext = qs->pprev = NULL;
	c->npending--;
}

/* pend_update - on the pending list exactly while it has held events or
 * waiting lines. */
static void
pend_update(struct correlate *c, struct qstate *qs)
{
	if (qs->held != NULL || qs->waiting != NULL)
		pend_link(c, qs);
	else
		pend_unlink(c, qs);
}

/* qs_unlink - take a state out of the table and the age list. */
static void
qs_unlink(struct correlate *c, struct qstate *qs)
{
	struct qstate **pp;

	pp = &c->buckets[hash_qid(qs->qid, strlen(qs->qid)) & (c->nbuckets - 1)];
	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == qs) {
			*pp = qs->hnext;
			break;
		}
	}
	if (qs->older)
		qs->older->newer = qs->newer;
	else
		c->oldest = qs->newer;
	if (qs->newer)
		qs->newer->older = qs->older;
	else
		c->newest = qs->older;
	pend_unlink(c, qs);
	c->count--;
}

static int held_flush(struct correlate *c, struct qstate *qs, int wait);
static void waiting_replay_all(struct correlate *c, struct qstate *qs);

/* qs_forget - drop a message, remembering to delete what was written. */
static void
qs_forget(struct correlate *c, struct qstate *qs)
{
	/* Held events and waiting lines go out now, with what is known. */
	qs->pinned++;
	held_flush(c, qs, 0);
	waiting_replay_all(c, qs);
	if (qs->persisted)
		strvec_push(&c->gone, qs->qid);
	qs_unlink(c, qs);
	qstate_free(qs);
}

/* grow - double the hash table. */
static void
grow(struct correlate *c)
{
	size_t  n = c->nbuckets * 2;
	struct qstate **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct qstate *qs, *next;

		for (qs = c->buckets[i]; qs; qs = next) {
			size_t  h = hash_qid(qs->qid, strlen(qs->qid)) & (n - 1);

			next = qs->hnext;
			qs->hnext = b[h];
			b[h] = qs;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

/* qs_create - a new, empty state for a queue id. */
static struct qstate *
qs_create(struct correlate *c, const char *p, size_t len, double when)
{
	struct qstate *qs = xcalloc(1, sizeof(*qs));
	size_t  h;

	/* Bounded memory: the oldest message goes first, unless it is one
	 * being worked on. */
	while (c->count >= c->opts.max_messages) {
		struct qstate *v = c->oldest;

		while (v != NULL && v->pinned)
			v = v->newer;
		if (v == NULL)
			break;
		qs_forget(c, v);
	}
	if (c->count >= c->nbuckets)
		grow(c);
	qs->qid = xstrndup(p, len);
	qs->first_seen = when;
	h = hash_qid(p, len) & (c->nbuckets - 1);
	qs->hnext = c->buckets[h];
	c->buckets[h] = qs;
	qs->older = c->newest;
	if (c->newest)
		c->newest->newer = qs;
	else
		c->oldest = qs;
	c->newest = qs;
	c->count++;
	return (qs);
}

/* qs_get - the state of a queue id, created when new. */
static struct qstate *
qs_get(struct correlate *c, struct span qid, double when)
{
	struct qstate *qs = qs_find(c, qid.p, qid.len);

	return (qs != NULL ? qs : qs_create(c, qid.p, qid.len, when));
}

/*
 * qs_record - the milter's record, asked for until it is known.  A hop's
 * record is under its own queue id when the milter saw the re-injection
 * (it moves the record to the new queue id), else under the original's.
 */
static struct message_record *
qs_record(struct correlate *c, struct qstate *qs)
{
	if (qs->rec_state == REC_UNKNOWN && c->record != NULL) {
		qs->rec = c->record(qs->qid, c->ctx);
		if (qs->rec == NULL && qs->origin != NULL)
			qs->rec = c->record(qs->origin, c->ctx);
		if (qs->rec != NULL)
			qs->rec_state = REC_FOUND;
	}
	return (qs->rec);
}

/* in_scope - report events of this message? */
static int
in_scope(struct correlate *c, struct qstate *qs)
{
	struct message_record *rec = qs_record(c, qs);

	/* Postfix's own notifications are no messages of the site's. */
	if (rec == NULL && qs->from != NULL && qs->from[0] == 0)
		return (0);
	switch (c->opts.report) {
	case REPORT_RECORDED:
		return (rec != NULL);
	case REPORT_OUTGOING:
		return (rec != NULL || qs->submitted);
	default:
		return (1);
	}
}

/* line_time - seconds since the epoch of a stamp; 0 when it is none. */
static double
line_time(struct correlate *c, const struct log_stamp *st)
{
	struct log_stamp key;
	double  t;

	if (st->epoch > 0)
		return (st->epoch);
	/* mktime() is slow: resolve each minute once. */
	key = *st;
	key.sec = 0;
	key.usec = 0;
	key.frac_digits = 0;
	if (c->minute_valid && memcmp(&key, &c->minute_key, sizeof(key)) == 0)
		return (c->minute_base + st->sec + st->usec / 1e6);
	if (log_stamp_resolve(&key, c->now ? c->now : time(NULL), &t) != 0)
		return (0);
	c->minute_key = key;
	c->minute_base = t;
	c->minute_valid = 1;
	return (t + st->sec + st->usec / 1e6);
}

/* put_u64 - n in decimal at the end of b. */
static void
put_u64(struct buf *b, uint64_t n)
{
	char    d[20];
	size_t  i = sizeof(d);

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
static char *
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

/* emit_key - hand one event to the caller, under key (taken). */
static void
emit_key(struct correlate *c, struct qstate *qs, char *key,
	 struct delivery_event *ev)
{
	struct correlate_event ce;

	ce.key = key;
	ce.queue_id = qs->qid;
	ce.ev = *ev;
	c->emit(&ce, c->ctx);
	free(key);
	delivery_event_clear(&ce.ev);
	delivery_event_init(ev, ev->type);
}

/* emit - hand one event to the caller. */
static void
emit(struct correlate *c, struct qstate *qs, const struct log_pos *pos,
     const char *rcpt, struct delivery_event *ev)
{
	struct correlate_event ce;

	ce.key = event_key(c, pos, rcpt);
	ce.queue_id = qs->qid;
	ce.ev = *ev;
	c->emit(&ce, c->ctx);
	delivery_event_clear(&ce.ev);
	delivery_event_init(ev, ev->type);
}

/* fill_message - the seed's message object for one recipient. */
static void
fill_message(struct correlate *c, struct qstate *qs, const char *rcpt,
	     struct event_message *m)
{
	struct message_record *rec = qs_record(c, qs);
	const char *from = rec && rec->from ? rec->from : qs->from;
	const char *mid = rec && rec->message_id ? rec->message_id : qs->message_id;

	m->to = xstrdup(rcpt);
	m->from = from ? xstrdup(from) : NULL;
	m->message_id = mid && *mid ? xstrdup(mid) : NULL;
	m->direction = xstrdup("outgoing");
	m->timestamp = rec && rec->timestamp > 0 ? rec->timestamp : qs->first_seen;
	if (rec == NULL)
		return;
	m->id = rec->id;
	m->token = rec->token ? xstrdup(rec->token) : NULL;
	m->subject = rec->subject ? xstrdup(rec->subject) : NULL;
	m->tag = rec->tag ? xstrdup(rec->tag) : NULL;
	m->spam_status = rec->spam_status ? xstrdup(rec->spam_status) : NULL;
	m->metadata = rec->metadata ? json_object_get(rec->metadata) : NULL;
}

/* One delivery attempt, as a delivery line or a saved deferral gives it. */
struct attempt {
	const char *program;
	const char *relay;
	const char *to;
	const char *dsn;
	const char *text;
};

/* is_remote_program - smtp and lmtp talk to a server with an address. */
static int
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
	size_t  len[8], total = 0, o = 0;
	char   *s;

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

#define STR_CAT(...) str_cat((const char *const[]) { __VA_ARGS__ }, \
	sizeof((const char *const[]) { __VA_ARGS__ }) / sizeof(const char *))

#define WHERE_SIZE	512		/* "ip:port (host)", cut to 511 bytes */

/* where_add - n bytes of p at the end of where (WHERE_SIZE bytes, *len
 * used), cut where snprintf() into it would cut. */
static void
where_add(char *where, size_t *len, const char *p, size_t n)
{
	size_t  room = WHERE_SIZE - 1 - *len;

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
static void
describe(const struct attempt *a, struct delivery_event *ev)
{
	struct span rs = { a->relay, strlen(a->relay) }, host, addr, port;
	struct classify_result res;
	char    where[WHERE_SIZE], code[16];
	size_t  wlen = 0;
	int     none = (*a->relay == 0 || strcmp(a->relay, "none") == 0);
	size_t  olen = strlen(a->text) + 1;
	char   *out = xmalloc(olen);
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
			ev->details = STR_CAT("Message for ", a->to,
					      " accepted by ", where);
		else
			ev->details = STR_CAT("Message for ", a->to,
					      " delivered by ", where);
		classify_reply_text(a->text, out, olen);
		ev->output = out;
		return;
	}
	classify(a->dsn, a->text, &res);
	ev->classification = res.classification != CLASS_NONE
	    ? res.classification : CLASS_UNCLASSIFIED;
	if (none && (ev->classification == CLASS_CONNECTION_ERROR
		     || ev->classification == CLASS_DNS_FAILURE
		     || ev->classification == CLASS_INVALID_DOMAIN)) {
		ev->details = STR_CAT("Connection error: Could not connect to "
				      "any mail server for ", domain_of(a->to));
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
	name = classification_name(ev->classification);	/* not CLASS_NONE */
	if (res.smtp_code > 0) {
		snprintf(code, sizeof(code), "%d ", res.smtp_code);
		ev->details = STR_CAT(code, name, ": Delivery to ", a->to,
				      " failed at ", where);
	} else {
		ev->details = STR_CAT(name, ": Delivery to ", a->to,
				      " failed at ", where);
	}
	classify_reply_text(a->text, out, olen);
	ev->output = out;
}

/* tls_slot - the session slot of a process. */
static struct tls_sess *
tls_slot(struct correlate *c, long pid)
{
	return (&c->tls[(unsigned long) pid % TLS_SLOTS]);
}

/* copy_span - a span into a fixed buffer, truncated. */
static void
copy_span(char *dst, size_t size, struct span s)
{
	size_t  n = s.len < size - 1 ? s.len : size - 1;

	memcpy(dst, s.p, n);
	dst[n] = 0;
}

/* on_tls - a process opened a TLS session to h[a]:p. */
static void
on_tls(struct correlate *c, const struct log_line *l)
{
	struct tls_sess *s;

	if (l->pid <= 0)
		return;
	s = tls_slot(c, l->pid);
	s->pid = l->pid;
	copy_span(s->addr, sizeof(s->addr), l->relay_addr);
	copy_span(s->port, sizeof(s->port), l->relay_port);
	s->qid[0] = 0;
	c->tls_dirty = 1;
}

/*
 * tls_field_plain - Postfix 3.11's tls= names the security level, with
 * the level it was lowered to after a '/' ("may", "dane/may",
 * "encrypt/(requiretls)"): plaintext when a level in it is "none".
 */
static int
tls_field_plain(struct span v)
{
	const char *p = v.p, *end = v.p + v.len, *q;

	for (; p < end; p = q + 1) {
		for (q = p; q < end && *q != '/'; q++)
			;
		if (q - p >= 4 && memcmp(p, "none", 4) == 0
		    && (q - p == 4 || strchr("!?:(", p[4]) != NULL))
			return (1);
	}
	return (0);
}

/*
 * session_ssl - was this delivery line's connection a TLS one?  A new
 * connection (no conn_use, or 1) to the same server after a message was
 * already sent over the TLS one is a different connection: not TLS.
 */
static int
session_ssl(struct correlate *c, const struct log_line *l, const char *qid)
{
	struct tls_sess *s;

	if (l->tls.len > 0)
		return (!tls_field_plain(l->tls));
	if (l->pid <= 0 || l->relay_addr.len == 0)
		return (0);
	s = tls_slot(c, l->pid);
	if (s->pid != l->pid || !span_eq(l->relay_addr, s->addr)
	    || !span_eq(l->relay_port, s->port))
		return (0);
	if (l->conn_use > 1)
		return (1);
	if (strcmp(s->qid, qid) == 0)
		return (1);
	if (s->qid[0] == 0) {
		snprintf(s->qid, sizeof(s->qid), "%s", qid);
		c->tls_dirty = 1;
		return (1);
	}
	s->pid = 0;
	c->tls_dirty = 1;
	return (0);
}

/*
 * line_ssl - a delivery line's sent_with_ssl: its session's for smtp and
 * lmtp (every line of a session counts for it, reported or not, once),
 * SSL_UNKNOWN for local deliveries.  program is the line's, cleaned.
 */
static int
line_ssl(struct correlate *c, const struct log_line *l, const char *program,
	 const char *qid)
{
	return (is_remote_program(program) ? session_ssl(c, l, qid)
		: SSL_UNKNOWN);
}

/* deferral_take - unlink and return the deferral of rcpt, or NULL. */
static struct deferral *
deferral_take(struct qstate *qs, const char *rcpt)
{
	struct deferral **pp, *d;

	for (pp = &qs->deferred; (d = *pp) != NULL; pp = &d->next) {
		if (strcmp(d->rcpt, rcpt) == 0) {
			*pp = d->next;
			d->next = NULL;
			return (d);
		}
	}
	return (NULL);
}

/* deferral_add - remember the last deferral of a recipient: the attempt
 * a (copied), when, its delay=, its delays c + d and its TLS. */
static void
deferral_add(struct qstate *qs, const struct attempt *a, double delay,
	     double when, double time, int ssl)
{
	struct deferral *d = deferral_take(qs, a->to);

	if (d != NULL)
		deferral_free(d);
	d = xcalloc(1, sizeof(*d));
	d->rcpt = xstrdup(a->to);
	d->program = xstrdup(a->program);
	d->relay = xstrdup(a->relay);
	d->dsn = xstrdup(a->dsn);
	d->text = xstrdup(a->text);
	d->delay = delay;
	d->when = when;
	d->time = time;
	d->ssl = ssl;
	d->next = qs->deferred;
	qs->deferred = d;
}

/* relay_ap - "addr:port" of the line's relay, "" without an address. */
static void
relay_ap(const struct log_line *l, char *out, size_t size)
{
	out[0] = 0;
	if (l->relay_addr.len > 0)
		snprintf(out, size, "%.*s:%.*s", (int) l->relay_addr.len,
			 l->relay_addr.p, (int) l->relay_port.len, l->relay_port.p);
}

/*
 * is_hop_relay - the relay is named in hop_relays (name, addr:port,
 * [addr]:port, or the whole relay= value), or this log has shown it to be
 * one (hop_relay_learn): its answers name hops also when their new id has
 * been forgotten or is still to come.
 */
static int
is_hop_relay(struct correlate *c, const struct log_line *l)
{
	char    ap[128], br[132];
	int     named = c->opts.hop_relays != NULL && c->opts.hop_relays[0] != NULL;

	/* Most "queued as" answers are remote: no formatting for them. */
	if (!named && (c->nhop_relay == 0 || !is_loopback(l->relay_addr)))
		return (0);
	relay_ap(l, ap, sizeof(ap));
	for (size_t i = 0; ap[0] && i < c->nhop_relay; i++)
		if (strcmp(ap, c->hop_relay[i]) == 0)
			return (1);
	if (!named)
		return (0);
	snprintf(br, sizeof(br), "[%.*s]:%.*s", (int) l->relay_addr.len,
		 l->relay_addr.p, (int) l->relay_port.len, l->relay_port.p);
	for (char **h = c->opts.hop_relays; *h != NULL; h++)
		if (span_eq(l->relay, *h) || span_eq(l->relay_host, *h)
		    || strcmp(ap, *h) == 0 || strcmp(br, *h) == 0)
			return (1);
	return (0);
}

/*
 * hop_relay_learn - remember that this line's relay is a hop (the first
 * HOP_RELAYS of them: a site has one or two).  Only loopback relays: a
 * remote server's queue id that happens to be one of this log's must not
 * make that server a hop for good.
 */
static void
hop_relay_learn(struct correlate *c, const struct log_line *l)
{
	char    ap[72];

	if (!is_loopback(l->relay_addr) || c->nhop_relay == HOP_RELAYS)
		return;
	relay_ap(l, ap, sizeof(ap));
	for (size_t i = 0; i < c->nhop_relay; i++)
		if (strcmp(ap, c->hop_relay[i]) == 0)
			return;
	memcpy(c->hop_relay[c->nhop_relay++], ap, sizeof(ap));
	c->hop_dirty = 1;
}

/*
 * link_hop - the message went on as new_qid on this host: new_qid carries
 * the original's identity.  Returns new_qid's state.
 */
static struct qstate *
link_hop(struct correlate *c, struct qstate *qs, struct span new_qid,
	 double when)
{
	struct qstate *nq = qs_get(c, new_qid, when);

	if (nq == qs)
		return (nq);
	free(nq->origin);
	nq->origin = xstrdup(qs->origin ? qs->origin : qs->qid);
	if (qs->from) {
		free(nq->from);
		nq->from = xstrdup(qs->from);
	}
	if (qs->message_id) {
		free(nq->message_id);
		nq->message_id = xstrdup(qs->message_id);
	}
	nq->first_seen = qs->first_seen;
	nq->submitted = qs->submitted;
	if (nq->rec != NULL)
		message_record_free(nq->rec);
	nq->rec = NULL;
	nq->rec_state = REC_UNKNOWN;
	qs_mark_dirty(c, nq);
	return (nq);
}

/* scratch_clean - a span as valid UTF-8 in c->scratch at *off, which
 * advances; the room was reserved by scratch_reserve(). */
static char *
scratch_clean(struct correlate *c, size_t *off, struct span s)
{
	char   *p = c->scratch + *off;

	*off += utf8_clean_to(p, s.p, s.len) + 1;
	return (p);
}

/* scratch_reserve - room for the cleaned copies of spans of n bytes in
 * all (each may triple, plus its NUL: count nspans). */
static void
scratch_reserve(struct correlate *c, size_t n, size_t nspans)
{
	size_t  need = n * 3 + nspans;

	if (need > c->scratch_cap) {
		free(c->scratch);
		c->scratch_cap = need > 4096 ? need : 4096;
		c->scratch = xmalloc(c->scratch_cap);
	}
}

static void waiting_release(struct correlate *c, struct qstate *qs);

#define SSL_FROM_SESSION	(-2)	/* on_delivery: ask session_ssl() */

/*
 * on_delivery - a delivery line: one recipient's attempt.  ssl is its
 * sent_with_ssl when it was read earlier, else SSL_FROM_SESSION.
 */
static void
on_delivery(struct correlate *c, struct qstate *qs, const struct log_line *l,
	    const struct log_pos *pos, double when, int ssl)
{
	struct qstate *nq;
	struct delivery_event ev;
	struct deferral *d;
	struct attempt a;
	enum event_type type;
	char   *to, *program;
	size_t  off = 0;

	switch (l->status) {
	case DS_SENT:
		type = EV_MESSAGE_SENT;
		break;
	case DS_DEFERRED:
	case DS_SOFTBOUNCE:
		type = EV_MESSAGE_DELAYED;
		break;
	case DS_BOUNCED:
		type = EV_MESSAGE_DELIVERY_FAILED;
		break;
	default:
		/* Address probes, and lines cut before status=. */
		return;
	}
	/* The line's fields, cleaned, in one reused buffer. */
	scratch_reserve(c, l->to.len + l->program.len + l->relay.len
			+ l->dsn.len + l->text.len, 5);
	to = scratch_clean(c, &off, l->to);
	program = scratch_clean(c, &off, l->program);
	if (ssl == SSL_FROM_SESSION)
		ssl = line_ssl(c, l, program, qs->qid);
	if (type == EV_MESSAGE_SENT && l->queued_as.len > 0
	    && (qs_find(c, l->queued_as.p, l->queued_as.len) != NULL
		|| is_hop_relay(c, l))) {
		if ((d = deferral_take(qs, to)) != NULL) {
			deferral_free(d);
			qs_mark_dirty(c, qs);
		}
		hop_relay_learn(c, l);
		qs->pinned++;
		nq = link_hop(c, qs, l->queued_as, when);
		/* Lines of the new id that came first are its now. */
		if (nq != qs && nq->waiting != NULL)
			waiting_release(c, nq);
		qs->pinned--;
		return;
	}
	if (type != EV_MESSAGE_DELAYED && (d = deferral_take(qs, to)) != NULL) {
		deferral_free(d);
		qs_mark_dirty(c, qs);
	}
	if (type != EV_MESSAGE_DELAYED && !in_scope(c, qs))
		return;
	a.program = program;
	a.relay = scratch_clean(c, &off, l->relay);
	a.to = to;
	a.dsn = scratch_clean(c, &off, l->dsn);
	a.text = scratch_clean(c, &off, l->text);
	if (type == EV_MESSAGE_DELAYED) {
		deferral_add(qs, &a, l->delay, when,
			     l->has_delays ? l->delays[2] + l->delays[3] : -1, ssl);
		qs_mark_dirty(c, qs);
	}
	if (in_scope(c, qs)) {
		delivery_event_init(&ev, type);
		fill_message(c, qs, to, &ev.message);
		ev.timestamp = when;
		ev.time = l->has_delays ? l->delays[2] + l->delays[3] : -1;
		ev.sent_with_ssl = ssl;
		describe(&a, &ev);
		emit(c, qs, pos, to, &ev);
	}
}

/* format_age - see correlate.h. */
void
format_age(double seconds, char *out, size_t outlen)
{
	long long s = seconds > 0 ? (long long) (seconds + 0.5) : 0;

	if (s < 60)
		snprintf(out, outlen, "%llds", s);
	else if (s < 3600)
		snprintf(out, outlen, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, outlen, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, outlen, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

/* on_expired - every recipient still deferred failed for good. */
static void
on_expired(struct correlate *c, struct qstate *qs, const struct log_pos *pos,
	   double when)
{
	struct deferral *d, *next;
	struct delivery_event ev;
	struct attempt a;
	char    age[64];
	int     report = in_scope(c, qs);

	for (d = qs->deferred; d != NULL; d = next) {
		next = d->next;
		if (report) {
			char   *inner;

			delivery_event_init(&ev, EV_MESSAGE_DELIVERY_FAILED);
			fill_message(c, qs, d->rcpt, &ev.message);
			ev.timestamp = when;
			/* The attempt the classification comes from. */
			ev.time = d->time;
			ev.sent_with_ssl = d->ssl;
			a.program = d->program;
			a.relay = d->relay;
			a.to = d->rcpt;
			a.dsn = d->dsn;
			a.text = d->text;
			describe(&a, &ev);
			format_age(qs->first_seen > 0 ? when - qs->first_seen
				   : d->delay + (when - d->when), age, sizeof(age));
			inner = ev.details;
			ev.details = xasprintf("Message expired after %s in the "
					       "queue: %s", age, inner);
			free(inner);
			emit(c, qs, pos, d->rcpt, &ev);
		}
		deferral_free(d);
	}
	qs->deferred = NULL;
	qs_mark_dirty(c, qs);
}

/*
 * held_emit - Held for each recipient of the message (from the milter's
 * record; without one, the recipient the hold line names).
 */
static void
held_emit(struct correlate *c, struct qstate *qs, const struct held *h)
{
	struct message_record *rec;
	struct delivery_event ev;
	char  **rcpts, *single[2];

	if (!in_scope(c, qs))
		return;
	rec = qs_record(c, qs);
	if (rec != NULL && rec->recipients != NULL && rec->recipients[0] != NULL) {
		rcpts = rec->recipients;
	} else {
		single[0] = h->to;
		single[1] = NULL;
		rcpts = single;
	}
	for (; *rcpts != NULL; rcpts++) {
		delivery_event_init(&ev, EV_MESSAGE_HELD);
		fill_message(c, qs, *rcpts, &ev.message);
		ev.timestamp = h->when;
		ev.details = xasprintf("Message held: %s", h->reason);
		ev.output = xstrdup(h->output);
		emit_key(c, qs, xasprintf("%s/%s", h->keybase, *rcpts), &ev);
	}
}

/*
 * held_flush - the waiting hold events of a message go out: all of them
 * (wait = 0), or (wait = 1) only once the record is there.  Returns the
 * number of hold lines handled.
 */
static int
held_flush(struct correlate *c, struct qstate *qs, int wait)
{
	struct held *h;
	int     n = 0;

	if (qs->held == NULL)
		return (0);
	if (wait && qs_record(c, qs) == NULL)
		return (0);
	while ((h = qs->held) != NULL) {
		qs->held = h->next;
		held_emit(c, qs, h);
		held_free(h);
		n++;
	}
	pend_update(c, qs);
	qs_mark_dirty(c, qs);
	return (n);
}

/* held_add - a hold line waits for the record; kept in the saved state. */
static void
held_add(struct correlate *c, struct qstate *qs, char *keybase, char *to,
	 char *reason, char *output, double when, double deadline)
{
	struct held *h = xcalloc(1, sizeof(*h)), **pp;

	h->keybase = keybase;
	h->to = to;
	h->reason = reason;
	h->output = output;
	h->when = when;
	h->deadline = deadline;
	for (pp = &qs->held; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = h;
	pend_link(c, qs);
	qs_mark_dirty(c, qs);
}

/* on_hold - the message is on hold: Held for each recipient. */
static void
on_hold(struct correlate *c, struct qstate *qs, const struct log_line *l,
	const struct log_pos *pos, double when)
{
	struct held h;

	if (qs->from == NULL && l->has_from) {
		qs->from = span_dup(l->from);
		qs_mark_dirty(c, qs);
	}
	/*
	 * No record yet: cleanup may be still reading the headers, before the
	 * milter commits it.  Wait for it (bounded).  Without a clock to bound
	 * the wait (hold_wait 0), wait only for cleanup's message-id line,
	 * which comes when it reaches that header or the headers' end.
	 */
	if (qs_record(c, qs) == NULL && qs->rec_state == REC_UNKNOWN
	    && (c->opts.hold_wait > 0 || qs->message_id == NULL)) {
		held_add(c, qs, key_base(pos), span_dup(l->to),
			 span_dup(l->hold_reason), span_dup(l->msg), when,
			 c->clock > 0 && c->opts.hold_wait > 0
			 ? c->clock + c->opts.hold_wait : 0);
		return;
	}
	if (qs->held != NULL) {
		/* Keep the order: earlier holds first. */
		held_flush(c, qs, 0);
	}
	h.next = NULL;
	h.keybase = key_base(pos);
	h.to = span_dup(l->to);
	h.reason = span_dup(l->hold_reason);
	h.output = span_dup(l->msg);
	h.when = when;
	held_emit(c, qs, &h);
	free(h.keybase);
	free(h.to);
	free(h.reason);
	free(h.output);
}

/*
 * may_be_hop - might this message be a hop's NEWQID whose linking line is
 * still to come?  It came from a loopback smtpd client (a content filter
 * re-injecting, a second instance) with no record of its own, nothing has
 * linked it yet, and this log has shown a hop relay before: sites without
 * hops never wait.
 */
static int
may_be_hop(struct correlate *c, struct qstate *qs)
{
	if (c->opts.hop_wait <= 0 || c->nhop_relay == 0 || !qs->loopback
	    || qs->origin != NULL)
		return (0);
	return (qs_record(c, qs) == NULL);
}

/* waiting_add - a delivery line waits for a hop's linking line; kept in the
 * saved state. */
static void
waiting_add(struct correlate *c, struct qstate *qs, const struct log_line *l,
	    const struct log_pos *pos, double when)
{
	struct waiting *w = xcalloc(1, sizeof(*w)), **pp;

	w->source = pos->source ? xstrdup(pos->source) : NULL;
	w->offset = pos->offset;
	w->cursor = pos->cursor ? xstrdup(pos->cursor) : NULL;
	w->program = span_dup(l->program);
	w->pid = l->pid;
	w->msg = span_dup(l->msg);
	/* The session is known now; later the process may have a new one. */
	w->ssl = line_ssl(c, l, w->program, qs->qid);
	w->when = when;
	w->deadline = c->clock > 0 ? c->clock + c->opts.hop_wait : 0;
	for (pp = &qs->waiting; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = w;
	pend_link(c, qs);
	qs_mark_dirty(c, qs);
}

/* waiting_replay_all - the waiting lines are read again, in order, as what
 * the message is now (linked to its original, or its own). */
static void
waiting_replay_all(struct correlate *c, struct qstate *qs)
{
	struct waiting *w;

	if (qs->waiting == NULL)
		return;
	qs->pinned++;
	while ((w = qs->waiting) != NULL) {
		struct log_pos pos = { w->source, w->offset, w->cursor };
		struct log_line l;

		qs->waiting = w->next;
		memset(&l, 0, sizeof(l));
		l.pid = w->pid;
		l.program = (struct span) { w->program, strlen(w->program) };
		l.queue_id = (struct span) { qs->qid, strlen(qs->qid) };
		l.msg = (struct span) { w->msg, strlen(w->msg) };
		parse_message(&l);
		if (l.kind == LK_DELIVERY)
			on_delivery(c, qs, &l, &pos, w->when, w->ssl);
		waiting_free(w);
	}
	qs->pinned--;
	pend_update(c, qs);
	qs_mark_dirty(c, qs);
}

/* waiting_release - replay the waiting lines; a message qmgr has removed
 * meanwhile is forgotten then. */
static void
waiting_release(struct correlate *c, struct qstate *qs)
{
	waiting_replay_all(c, qs);
	if (qs->removed && !qs->pinned)
		qs_forget(c, qs);
}

/*
 * release_due - waiting lines whose wait is over: by the log's time
 * (log_now, 0: not known) or by the clock (wall_now, 0: not known).
 * Returns how many messages were released.
 */
static int
release_due(struct correlate *c, double log_now, double wall_now)
{
	struct qstate *qs;
	int     n = 0;

again:
	for (qs = c->pending; qs != NULL; qs = qs->pnext) {
		const struct waiting *w = qs->waiting;

		if (w == NULL)
			continue;
		if ((log_now > 0 && log_now >= w->when + c->opts.hop_wait)
		    || (wall_now > 0 && w->deadline > 0 && wall_now >= w->deadline)) {
			/* Releasing may link or forget others: start over. */
			waiting_release(c, qs);
			n++;
			goto again;
		}
	}
	return (n);
}

/* correlate_tick - see correlate.h. */
int
correlate_tick(struct correlate *c, double now)
{
	struct qstate *qs, *next;
	int     n = 0;

	c->clock = now;
	for (qs = c->pending; qs != NULL; qs = qs->pnext)
		for (struct waiting *w = qs->waiting; w != NULL; w = w->next)
			if (w->deadline <= 0)
				w->deadline = now + c->opts.hop_wait;
	n += release_due(c, 0, now);
	for (qs = c->pending; qs != NULL; qs = next) {
		int     late = 1;

		next = qs->pnext;
		for (struct held *h = qs->held; h != NULL; h = h->next) {
			if (h->deadline <= 0)
				h->deadline = now + c->opts.hold_wait;
			if (now < h->deadline)
				late = 0;
		}
		if (qs->rec_state == REC_UNKNOWN)
			n += held_flush(c, qs, !late);
		else
			n += held_flush(c, qs, 0);
	}
	return (n);
}

/* correlate_drain - see correlate.h. */
void
correlate_drain(struct correlate *c)
{
	struct qstate *qs;

	while ((qs = c->pending) != NULL) {
		held_flush(c, qs, 0);
		waiting_release(c, qs);
	}
}

/* correlate_pending - see correlate.h. */
size_t
correlate_pending(const struct correlate *c)
{
	return (c->npending);
}

/*
 * on_requeue - postsuper -r put the message back through pickup as qs
 * ("orig_id=OLD"): it is OLD going on, no new submission, and OLD gets
 * no "removed" line.  qs takes OLD's identity and deferrals, and OLD is
 * forgotten; an OLD this log did not show is only remembered as the
 * origin, where the milter's record may be found.
 */
static void
on_requeue(struct correlate *c, struct qstate *qs, struct span orig_id,
	   double when)
{
	struct qstate *old = qs_find(c, orig_id.p, orig_id.len);
	struct deferral **pp;

	if (old == qs)
		return;
	if (old == NULL) {
		free(qs->origin);
		qs->origin = xstrndup(orig_id.p, orig_id.len);
		qs_mark_dirty(c, qs);
		return;
	}
	qs->pinned++;
	(void) link_hop(c, old, (struct span) { qs->qid, strlen(qs->qid) },
			when);
	for (pp = &qs->deferred; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = old->deferred;
	old->deferred = NULL;
	qs_forget(c, old);
	qs->pinned--;
}

/* correlate_feed - see correlate.h. */
void
correlate_feed(struct correlate *c, const struct log_line *l,
	       const struct log_pos *pos)
{
	struct qstate *qs;
	double  when;

	if (l->kind == LK_TLS_ESTABLISHED) {
		on_tls(c, l);
		return;
	}
	if (l->kind == LK_NONE || l->kind == LK_OTHER || l->queue_id.len == 0)
		return;
	when = line_time(c, &l->stamp);
	/* Waits end by the log's time too (a log read at once, --print). */
	if (c->npending > 0 && (when >= c->log_checked + LOG_CHECK_S
				|| when < c->log_checked)) {
		c->log_checked = when;
		release_due(c, when, 0);
	}
	if (l->kind == LK_QMGR_REMOVED) {
		if ((qs = qs_find(c, l->queue_id.p, l->queue_id.len)) == NULL)
			return;
		if (qs->waiting != NULL) {
			/* Kept until its lines know whose they are. */
			qs->removed = 1;
			qs_mark_dirty(c, qs);
		} else {
			qs_forget(c, qs);
		}
		return;
	}
	qs = qs_get(c, l->queue_id, when);
	if (qs->held != NULL && c->opts.hold_wait <= 0) {
		/* Only the message-id line was waited for (on_hold). */
		if (l->kind != LK_CLEANUP_MESSAGE_ID && l->kind != LK_HOLD)
			held_flush(c, qs, 0);
	} else if (qs->held != NULL) {
		/*
		 * A later line of a message with holds waiting: look for the
		 * record again; once the message is queued (qmgr) or being
		 * delivered, there will be none, and the holds go first.
		 */
		held_flush(c, qs, !(l->kind == LK_QMGR_FROM
				    || l->kind == LK_QMGR_EXPIRED
				    || l->kind == LK_DELIVERY));
	}
	switch (l->kind) {
	case LK_SMTPD_CLIENT:
		if (l->sasl_username.len > 0
		    || internal_host(c, l->client_addr)) {
			qs->submitted = 1;
			qs_mark_dirty(c, qs);
		}
		if (l->sasl_username.len == 0 && is_loopback(l->client_addr)) {
			qs->loopback = 1;
			qs_mark_dirty(c, qs);
		}
		break;
	case LK_PICKUP:
		if (l->orig_id.len > 0) {
			on_requeue(c, qs, l->orig_id, when);
			break;
		}
		qs->submitted = 1;
		if (qs->from == NULL && l->has_from)
			qs->from = span_dup(l->from);
		qs_mark_dirty(c, qs);
		break;
	case LK_CLEANUP_MESSAGE_ID:
		free(qs->message_id);
		qs->message_id = span_dup(l->message_id);
		qs_mark_dirty(c, qs);
		if (qs->held != NULL && c->opts.hold_wait <= 0)
			held_flush(c, qs, 0);
		break;
	case LK_QMGR_FROM:
		if (qs->from == NULL || !span_eq(l->from, qs->from)) {
			free(qs->from);
			qs->from = span_dup(l->from);
			qs_mark_dirty(c, qs);
		}
		/* The message is queued: a record, if any, exists now. */
		if (qs_record(c, qs) == NULL)
			qs->rec_state = REC_NONE;
		break;
	case LK_QMGR_EXPIRED:
		if (qs->from == NULL)
			qs->from = span_dup(l->from);
		/* Its deferrals first, whoever's they are. */
		waiting_replay_all(c, qs);
		on_expired(c, qs, pos, when);
		break;
	case LK_HOLD:
		on_hold(c, qs, l, pos, when);
		break;
	case LK_DELIVERY:
		if (qs->waiting != NULL || may_be_hop(c, qs))
			waiting_add(c, qs, l, pos, when);
		else
			on_delivery(c, qs, l, pos, when, SSL_FROM_SESSION);
		break;
	default:
		break;
	}
}

/* json_str - a string member, or NULL. */
static const char *
json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

/* json_num - a number member, or 0. */
static double
json_num(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return (0);
	return (json_object_get_double(v));
}

/* json_flag - a boolean member, or 0. */
static int
json_flag(json_object *o, const char *key)
{
	json_object *v;

	return (json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v));
}

/* add_str - a string member when s is set. */
static void
add_str(json_object *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_object_add(o, key, json_object_new_string(s));
}

/* qs_to_json - what must survive a restart. */
static json_object *
qs_to_json(const struct qstate *qs)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();

	add_str(o, "from", qs->from);
	add_str(o, "message_id", qs->message_id);
	add_str(o, "origin", qs->origin);
	json_object_object_add(o, "first_seen", json_double_new(qs->first_seen, 6));
	json_object_object_add(o, "submitted", json_object_new_boolean(qs->submitted));
	if (qs->loopback)
		json_object_object_add(o, "loopback", json_object_new_boolean(1));
	if (qs->removed)
		json_object_object_add(o, "removed", json_object_new_boolean(1));
	for (const struct deferral *d = qs->deferred; d != NULL; d = d->next) {
		json_object *e = json_object_new_object();

		add_str(e, "to", d->rcpt);
		add_str(e, "program", d->program);
		add_str(e, "relay", d->relay);
		add_str(e, "dsn", d->dsn);
		add_str(e, "text", d->text);
		json_object_object_add(e, "delay", json_double_new(d->delay, 3));
		json_object_object_add(e, "when", json_double_new(d->when, 6));
		if (d->time >= 0)
			json_object_object_add(e, "time", json_double_new(d->time, 3));
		if (d->ssl != SSL_UNKNOWN)
			json_object_object_add(e, "ssl", json_object_new_boolean(d->ssl));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "deferred", arr);
	if (qs->held != NULL) {
		arr = json_object_new_array();
		for (const struct held *h = qs->held; h != NULL; h = h->next) {
			json_object *e = json_object_new_object();

			add_str(e, "key", h->keybase);
			add_str(e, "to", h->to);
			add_str(e, "reason", h->reason);
			add_str(e, "output", h->output);
			json_object_object_add(e, "when", json_double_new(h->when, 6));
			json_object_object_add(e, "deadline",
					       json_double_new(h->deadline, 3));
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "held", arr);
	}
	if (qs->waiting != NULL) {
		arr = json_object_new_array();
		for (const struct waiting *w = qs->waiting; w != NULL; w = w->next) {
			json_object *e = json_object_new_object();

			add_str(e, "source", w->source);
			json_object_object_add(e, "offset",
					       json_object_new_int64((int64_t) w->offset));
			add_str(e, "cursor", w->cursor);
			add_str(e, "program", w->program);
			json_object_object_add(e, "pid", json_object_new_int64(w->pid));
			add_str(e, "msg", w->msg);
			json_object_object_add(e, "ssl", json_object_new_int(w->ssl));
			json_object_object_add(e, "when", json_double_new(w->when, 6));
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "waiting", arr);
	}
	return (o);
}

/* tls_to_json - the open TLS sessions, [{"pid","addr","port","qid"}]. */
static json_object *
tls_to_json(const struct correlate *c)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < TLS_SLOTS; i++) {
		const struct tls_sess *t = &c->tls[i];
		json_object *o;

		if (t->pid == 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int64(t->pid));
		add_str(o, "addr", t->addr);
		add_str(o, "port", t->port);
		add_str(o, "qid", t->qid);
		json_object_array_add(arr, o);
	}
	return (arr);
}

/* tls_restore - take back what tls_to_json() wrote; 0 or -1. */
static int
tls_restore(struct correlate *c, json_object *state)
{
	size_t  n;

	if (!json_object_is_type(state, json_type_array))
		return (-1);
	n = json_object_array_length(state);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(state, i);
		long    pid = (long) json_num(e, "pid");
		struct tls_sess *t;

		if (pid <= 0)
			continue;
		t = tls_slot(c, pid);
		t->pid = pid;
		snprintf(t->addr, sizeof(t->addr), "%s",
			 json_str(e, "addr") ? json_str(e, "addr") : "");
		snprintf(t->port, sizeof(t->port), "%s",
			 json_str(e, "port") ? json_str(e, "port") : "");
		snprintf(t->qid, sizeof(t->qid), "%s",
			 json_str(e, "qid") ? json_str(e, "qid") : "");
	}
	return (0);
}

/* correlate_flush_dirty - see correlate.h. */
void
correlate_flush_dirty(struct correlate *c, correlate_state_fn fn, void *ctx)
{
	for (size_t i = 0; i < c->gone.n; i++)
		fn(c->gone.v[i], NULL, ctx);
	strvec_clear(&c->gone);
	for (size_t i = 0; i < c->dirty.n; i++) {
		const char *qid = c->dirty.v[i];
		struct qstate *qs = qs_find(c, qid, strlen(qid));
		json_object *o;

		if (qs == NULL || !qs->dirty)
			continue;
		o = qs_to_json(qs);
		fn(qid, o, ctx);
		json_object_put(o);
		qs->dirty = 0;
		qs->persisted = 1;
	}
	strvec_clear(&c->dirty);
	if (c->tls_dirty) {
		json_object *o = tls_to_json(c);

		fn(TLS_STATE_KEY, o, ctx);
		json_object_put(o);
		c->tls_dirty = 0;
	}
	if (c->hop_dirty) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < c->nhop_relay; i++)
			json_object_array_add(arr, json_object_new_string(c->hop_relay[i]));
		json_object_object_add(o, "relays", arr);
		fn(HOP_STATE_KEY, o, ctx);
		json_object_put(o);
		c->hop_dirty = 0;
	}
}

/* hop_restore - take back the learned hop relays; 0 or -1. */
static int
hop_restore(struct correlate *c, json_object *state)
{
	json_object *arr;
	size_t  n;

	if (!json_object_is_type(state, json_type_object)
	    || !json_object_object_get_ex(state, "relays", &arr)
	    || !json_object_is_type(arr, json_type_array))
		return (-1);
	n = json_object_array_length(arr);
	c->nhop_relay = 0;
	for (size_t i = 0; i < n && c->nhop_relay < HOP_RELAYS; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		if (s != NULL && *s != 0 && strlen(s) < sizeof(c->hop_relay[0]))
			memcpy(c->hop_relay[c->nhop_relay++], s, strlen(s) + 1);
	}
	return (0);
}

/*
 * waiting_restore - the waiting lines of a saved state.  Their wait starts
 * again (from the next tick): the line that links them may be the next
 * one in the log.
 */
static void
waiting_restore(struct correlate *c, struct qstate *qs, json_object *arr)
{
	size_t  n = json_object_array_length(arr);
	struct waiting **pp = &qs->waiting;

	while (*pp != NULL)
		pp = &(*pp)->next;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i), *v;
		const char *program = json_str(e, "program"), *msg = json_str(e, "msg");
		struct waiting *w;

		if (program == NULL || msg == NULL)
			continue;
		w = xcalloc(1, sizeof(*w));
		w->source = json_str(e, "source") ? xstrdup(json_str(e, "source")) : NULL;
		w->offset = json_object_object_get_ex(e, "offset", &v)
		    ? (uint64_t) json_object_get_int64(v) : 0;
		w->cursor = json_str(e, "cursor") ? xstrdup(json_str(e, "cursor")) : NULL;
		w->program = xstrdup(program);
		w->pid = json_object_object_get_ex(e, "pid", &v)
		    ? (long) json_object_get_int64(v) : -1;
		w->msg = xstrdup(msg);
		w->ssl = json_object_object_get_ex(e, "ssl", &v)
		    ? json_object_get_int(v) : SSL_UNKNOWN;
		if (w->ssl != 0 && w->ssl != 1)
			w->ssl = SSL_UNKNOWN;
		w->when = json_num(e, "when");
		*pp = w;
		pp = &w->next;
	}
	pend_update(c, qs);
}

/* correlate_restore - see correlate.h. */
int
correlate_restore(struct correlate *c, const char *qid, json_object *state)
{
	struct span q = { qid, strlen(qid) };
	struct qstate *qs;
	json_object *arr;
	const char *s;

	if (strcmp(qid, TLS_STATE_KEY) == 0)
		return (tls_restore(c, state));
	if (strcmp(qid, HOP_STATE_KEY) == 0)
		return (hop_restore(c, state));
	if (!is_queue_id(qid, q.len) || !json_object_is_type(state, json_type_object))
		return (-1);
	qs = qs_get(c, q, json_num(state, "first_seen"));
	if ((s = json_str(state, "from")) != NULL) {
		free(qs->from);
		qs->from = xstrdup(s);
	}
	if ((s = json_str(state, "message_id")) != NULL) {
		free(qs->message_id);
		qs->message_id = xstrdup(s);
	}
	if ((s = json_str(state, "origin")) != NULL) {
		free(qs->origin);
		qs->origin = xstrdup(s);
	}
	qs->first_seen = json_num(state, "first_seen");
	qs->submitted = json_flag(state, "submitted");
	qs->loopback = json_flag(state, "loopback");
	qs->removed = json_flag(state, "removed");
	if (json_object_object_get_ex(state, "deferred", &arr)
	    && json_object_is_type(arr, json_type_array)) {
		size_t  n = json_object_array_length(arr);

		for (size_t i = n; i-- > 0;) {
			json_object *e = json_object_array_get_idx(arr, i);
			struct attempt a;

			if ((a.to = json_str(e, "to")) == NULL)
				continue;
			a.program = json_str(e, "program") ? json_str(e, "program") : "smtp";
			a.relay = json_str(e, "relay") ? json_str(e, "relay") : "none";
			a.dsn = json_str(e, "dsn") ? json_str(e, "dsn") : "";
			a.text = json_str(e, "text") ? json_str(e, "text") : "";
			deferral_add(qs, &a, json_num(e, "delay"), json_num(e, "when"),
				     json_object_object_get_ex(e, "time", NULL)
				     ? json_num(e, "time") : -1,
				     json_object_object_get_ex(e, "ssl", NULL)
				     ? json_flag(e, "ssl") : SSL_UNKNOWN);
		}
	}
	if (json_object_object_get_ex(state, "held", &arr)
	    && json_object_is_type(arr, json_type_array)) {
		size_t  n = json_object_array_length(arr);

		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(arr, i);
			const char *key = json_str(e, "key");

			if (key == NULL)
				continue;
			held_add(c, qs, xstrdup(key),
				 xstrdup(json_str(e, "to") ? json_str(e, "to") : ""),
				 xstrdup(json_str(e, "reason") ? json_str(e, "reason") : ""),
				 xstrdup(json_str(e, "output") ? json_str(e, "output") : ""),
				 json_num(e, "when"), json_num(e, "deadline"));
		}
	}
	if (json_object_object_get_ex(state, "waiting", &arr)
	    && json_object_is_type(arr, json_type_array))
		waiting_restore(c, qs, arr);
	qs->persisted = 1;
	qs->dirty = 0;
	return (0);
}
