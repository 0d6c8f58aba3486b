/*
 * check_correlate.c - unit tests of logtail/correlate.c: log lines in,
 * the payloads of the events they make out, field by field, and the
 * tenant of each.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "store/message.h"
#include "util/util.h"
#include "../logtail/correlate.h"

#include "testlib.h"

#define MAXEV 64

struct sink {
	int n;
	json_object *payload[MAXEV];
	char *key[MAXEV];
	enum event_type type[MAXEV];
	char *tenant[MAXEV];	    /* NULL: the default tenant's */
	struct message_record *rec; /* returned for queue id rec_qid */
	const char *rec_qid;
	int lookups;
};

static struct sink S;
static struct correlate *C;
static uint64_t offset;

/* on_event - keep the payload and key of each event. */
static void
on_event(struct correlate_event *ce, void *ctx)
{
	struct sink *s = ctx;

	ck_assert_int_lt(s->n, MAXEV);
	s->payload[s->n] = delivery_event_payload(&ce->ev);
	s->key[s->n] = strdup(ce->key);
	s->type[s->n] = ce->ev.type;
	s->tenant[s->n] = ce->tenant ? strdup(ce->tenant) : NULL;
	s->n++;
}

/* on_record - the milter's record, for one queue id. */
static struct message_record *
on_record(const char *qid, void *ctx)
{
	struct sink *s = ctx;
	struct message_record *r;

	s->lookups++;
	if (s->rec == NULL || s->rec_qid == NULL || strcmp(qid, s->rec_qid) != 0)
		return (NULL);
	{
		json_object *o = message_record_to_json(s->rec);

		r = message_record_from_json(o);
		json_object_put(o);
	}
	return (r);
}

/* sink_reset - forget collected events. */
static void
sink_reset(void)
{
	for (int i = 0; i < S.n; i++) {
		json_object_put(S.payload[i]);
		free(S.key[i]);
		free(S.tenant[i]);
	}
	S.n = 0;
}

static double hold_wait; /* for the next start() */
static double hop_wait;	 /* for the next start() */

/* start - a correlator with the given scope. */
static void
start(int report)
{
	static char *internal[] = { "127.0.0.0/8", "::1", "10.1.0.0/16", NULL };
	static char *hops[] = { "[127.0.0.1]:10026", NULL };
	struct correlate_opts o = { 0 };

	o.report = report;
	o.internal_hosts = internal;
	o.hop_relays = hops;
	o.hold_wait = hold_wait;
	o.hop_wait = hop_wait;
	sink_reset();
	C = correlate_new(&o, on_event, on_record, &S);
	correlate_set_now(C, 1795725634); /* 2026-11-26 */
	offset = 0;
}

static void
stop(void)
{
	correlate_free(C);
	C = NULL;
	sink_reset();
	if (S.rec) {
		message_record_free(S.rec);
		S.rec = NULL;
	}
	S.rec_qid = NULL;
}

/* F - feed one line, at the next offset. */
static void
F(const char *line)
{
	struct log_line l;
	struct log_pos pos = { "fp1", offset, NULL };

	parse_line(line, strlen(line), &l);
	correlate_feed(C, &l, &pos);
	offset += strlen(line) + 1;
}

/* str - a string at a path of keys ("message.to"), or NULL for null. */
static const char *
str(int i, const char *path)
{
	json_object *o = S.payload[i];
	char buf[128], *p, *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; (dot = strchr(p, '.')) != NULL; p = dot + 1) {
		*dot = 0;
		ck_assert_msg(json_object_object_get_ex(o, p, &o), "no %s", p);
	}
	ck_assert_msg(json_object_object_get_ex(o, p, &o), "no %s", p);
	return (o ? json_object_get_string(o) : NULL);
}

/* ck_str - the value at path is want (NULL: null). */
static void
ck_str(int i, const char *path, const char *want)
{
	const char *got = str(i, path);

	if (want == NULL)
		ck_assert_msg(got == NULL, "%s: want null, got %s", path, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
			      "%s: want '%s', got '%s'", path, want, got ? got : "null");
}

#define PFX "Nov 23 14:02:11 mx1 "

/* qmgr_active - qmgr's line for q entering the active queue. */
static void
qmgr_active(const char *q, const char *from, int size, int nrcpt)
{
	char line[512];

	snprintf(line, sizeof(line),
		 PFX "postfix/qmgr[12]: %s: from=<%s>, "
		     "size=%d, nrcpt=%d (queue active)",
		 q, from, size, nrcpt);
	F(line);
}

/* smtp_sent - smtp[pid]'s line for q sent to rcpt through relay. */
static void
smtp_sent(int pid, const char *q, const char *to, const char *relay, const char *delays,
	  const char *reply)
{
	char line[512];

	snprintf(line, sizeof(line),
		 PFX "postfix/smtp[%d]: %s: to=<%s>, "
		     "relay=%s, delay=1, delays=%s, dsn=2.0.0, status=sent (%s)",
		 pid, q, to, relay, delays, reply);
	F(line);
}

/* record_for - the milter's record of a message with two recipients. */
static void
record_for(const char *q)
{
	S.rec = message_record_new();
	S.rec->id = 42;
	S.rec->token = strdup("tok42");
	S.rec->tag = strdup("welcome");
	message_record_add_recipient(S.rec, "one@example.net");
	message_record_add_recipient(S.rec, "two@example.net");
	S.rec_qid = q;
}

START_TEST(sent_over_tls)
{
	start(REPORT_OUTGOING);
	F(PFX "postfix/smtpd[10]: 4BDD63F45: client=app[203.0.113.5], "
	      "sasl_method=PLAIN, sasl_username=app");
	F(PFX "postfix/cleanup[11]: 4BDD63F45: message-id=<m1@app.example>");
	qmgr_active("4BDD63F45", "app@example.com", 900, 1);
	F(PFX "postfix/smtp[13]: Untrusted TLS connection established to "
	      "mx.example.net[192.0.2.7]:25: TLSv1.3 with cipher X");
	F("Nov 23 14:02:12 mx1 postfix/smtp[13]: 4BDD63F45: to=<u@example.net>, "
	  "relay=mx.example.net[192.0.2.7]:25, delay=1.2, "
	  "delays=0.1/0.1/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: "
	  "queued as 99AA88BB)");
	F(PFX "postfix/qmgr[12]: 4BDD63F45: removed");
	ck_assert_int_eq(S.n, 1);
	ck_assert_int_eq(S.type[0], EV_MESSAGE_SENT);
	ck_str(0, "status", "Sent");
	ck_str(0, "details",
	       "Message for u@example.net accepted by "
	       "192.0.2.7:25 (mx.example.net)");
	ck_str(0, "output", "250 2.0.0 Ok: queued as 99AA88BB");
	ck_str(0, "sent_with_ssl", "true");
	ck_str(0, "time", "1.0");
	ck_str(0, "message.to", "u@example.net");
	ck_str(0, "message.from", "app@example.com");
	ck_str(0, "message.message_id", "m1@app.example");
	ck_str(0, "message.direction", "outgoing");
	ck_str(0, "message.spam_status", "NotChecked");
	ck_str(0, "message.token", NULL);
	ck_str(0, "message.tag", NULL);
	ck_assert(!json_object_object_get_ex(S.payload[0], "classification", NULL));
	{
		json_object *ts;

		ck_assert(json_object_object_get_ex(S.payload[0], "timestamp", &ts));
		ck_assert_double_eq_tol(json_object_get_double(ts), 1795442532.0, 1e-6);
	}
	ck_assert_uint_eq(correlate_count(C), 0);
	stop();
}
END_TEST

START_TEST(deferred_bounced_and_relay_none)
{
	start(REPORT_ALL);
	qmgr_active("5C0FFEE01", "app@example.com", 900, 2);
	F(PFX "postfix/smtp[13]: 5C0FFEE01: to=<full@example.net>, "
	      "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.25, "
	      "dsn=4.2.2, status=deferred (host mx.example.net[192.0.2.7] said: "
	      "452 4.2.2 Mailbox full (in reply to RCPT TO command))");
	F(PFX "postfix/smtp[13]: 5C0FFEE01: to=<nobody@example.net>, "
	      "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.25, "
	      "dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.7] said: "
	      "550 5.1.1 <nobody@example.net>: User unknown (in reply to RCPT TO "
	      "command))");
	F(PFX "postfix/smtp[14]: 5C0FFEE01: to=<x@down.example>, relay=none, "
	      "delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to "
	      "down.example[127.0.0.1]:2525: Connection refused)");
	ck_assert_int_eq(S.n, 3);

	ck_assert_int_eq(S.type[0], EV_MESSAGE_DELAYED);
	ck_str(0, "status", "SoftFail");
	ck_str(0, "details",
	       "452 mailbox_full: Delivery to full@example.net "
	       "failed at 192.0.2.7:25 (mx.example.net)");
	ck_str(0, "output", "452 4.2.2 Mailbox full");
	ck_str(0, "classification", "mailbox_full");
	ck_str(0, "classification_code", "12");
	ck_str(0, "smtp_enhanced_code", "4.2.2");
	ck_str(0, "remote_host", "mx.example.net");
	ck_str(0, "sent_with_ssl", "false");

	ck_assert_int_eq(S.type[1], EV_MESSAGE_DELIVERY_FAILED);
	ck_str(1, "status", "HardFail");
	ck_str(1, "details",
	       "550 invalid_recipient: Delivery to "
	       "nobody@example.net failed at 192.0.2.7:25 (mx.example.net)");
	ck_str(1, "output", "550 5.1.1 <nobody@example.net>: User unknown");
	ck_str(1, "classification_code", "10");
	ck_str(1, "smtp_enhanced_code", "5.1.1");

	ck_str(2, "status", "SoftFail");
	ck_str(2, "details",
	       "Connection error: Could not connect to any mail "
	       "server for down.example");
	ck_str(2, "output",
	       "connect to down.example[127.0.0.1]:2525: "
	       "Connection refused");
	ck_str(2, "classification", "connection_error");
	ck_str(2, "smtp_enhanced_code", NULL);
	ck_str(2, "remote_host", NULL);
	ck_str(2, "time", "30.0");
	stop();
}
END_TEST

/*
 * Postfix's own statuses carry no enhanced code of the remote's; a relay=none
 * failure that is no connection failure says where it failed; an LMTP
 * socket has no port; Postfix 3.11's tls= says when TLS was not used.
 */
START_TEST(own_statuses_and_odd_relays)
{
	start(REPORT_ALL);
	qmgr_active("6D0FFEE01", "app@example.com", 900, 5);
	F(PFX "postfix/smtp[13]: 6D0FFEE01: to=<a@example.net>, "
	      "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.25, "
	      "dsn=4.4.2, status=deferred (conversation with mx.example.net"
	      "[192.0.2.7] timed out while receiving the initial server greeting)");
	F(PFX "postfix/smtp[13]: 6D0FFEE01: to=<b@example.net>, "
	      "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.25, "
	      "dsn=5.0.0, status=bounced (host mx.example.net[192.0.2.7] said: "
	      "550 User unknown (in reply to RCPT TO command))");
	F(PFX "postfix/error[15]: 6D0FFEE01: to=<c@example.net>, relay=none, "
	      "delay=1, delays=0/0/0/0, dsn=5.4.6, status=bounced (mail for "
	      "example.net loops back to myself)");
	F(PFX "postfix/lmtp[16]: 6D0FFEE01: to=<d@example.net>, "
	      "relay=mail.example.net[private/dovecot-lmtp], delay=1, "
	      "delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <d@example.net> "
	      "Saved)");
	F(PFX "postfix/smtp[13]: 6D0FFEE01: to=<e@example.net>, "
	      "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.25, "
	      "tls=may/none, dsn=2.0.0, status=sent (250 ok)");
	F(PFX "postfix/smtp[13]: 6D0FFEE01: to=<f@example.net>, "
	      "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.25, "
	      "tls=dane/may, dsn=2.0.0, status=sent (250 ok)");
	ck_assert_int_eq(S.n, 6);
	ck_str(0, "classification", "connection_error");
	ck_str(0, "smtp_enhanced_code", NULL);
	ck_str(0, "remote_host", "mx.example.net");
	ck_str(1, "classification", "invalid_recipient");
	ck_str(1, "smtp_enhanced_code", NULL);
	ck_str(1, "details",
	       "550 invalid_recipient: Delivery to "
	       "b@example.net failed at 192.0.2.7:25 (mx.example.net)");
	ck_str(2, "details",
	       "routing_error: Delivery to c@example.net failed "
	       "at error");
	ck_str(2, "output", "mail for example.net loops back to myself");
	ck_str(2, "smtp_enhanced_code", NULL);
	ck_str(2, "remote_host", NULL);
	ck_str(3, "details",
	       "Message for d@example.net accepted by "
	       "private/dovecot-lmtp (mail.example.net)");
	ck_str(4, "sent_with_ssl", "false");
	ck_str(5, "sent_with_ssl", "true");
	stop();
}
END_TEST

START_TEST(expiry_uses_last_deferral)
{
	start(REPORT_ALL);
	F("Nov 20 10:00:00 mx1 postfix/qmgr[12]: 6D00D00D1: from=<a@example.com>, "
	  "size=900, nrcpt=2 (queue active)");
	F("Nov 20 10:00:01 mx1 postfix/smtp[13]: 6D00D00D1: to=<b@example.net>, "
	  "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.5, "
	  "dsn=4.7.0, status=deferred (host mx.example.net[192.0.2.7] said: "
	  "421 4.7.0 Try again later (in reply to MAIL FROM command))");
	F("Nov 20 10:00:01 mx1 postfix/smtp[13]: 6D00D00D1: to=<ok@example.net>, "
	  "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.5, "
	  "dsn=2.0.0, status=sent (250 ok)");
	F("Nov 23 10:00:00 mx1 postfix/smtp[13]: 6D00D00D1: to=<b@example.net>, "
	  "relay=none, delay=259200, delays=259199/0/1/0, dsn=4.4.1, "
	  "status=deferred (connect to mx.example.net[192.0.2.7]:25: Connection "
	  "timed out)");
	F("Nov 25 10:00:00 mx1 postfix/qmgr[12]: 6D00D00D1: from=<a@example.com>, "
	  "status=expired, returned to sender");
	ck_assert_int_eq(S.n, 4);
	ck_assert_int_eq(S.type[3], EV_MESSAGE_DELIVERY_FAILED);
	ck_str(3, "message.to", "b@example.net");
	ck_str(3, "details",
	       "Message expired after 5d 0h in the queue: "
	       "Connection error: Could not connect to any mail server for "
	       "example.net");
	ck_str(3, "output",
	       "connect to mx.example.net[192.0.2.7]:25: "
	       "Connection timed out");
	ck_str(3, "classification", "connection_error");
	/* The attempt the classification came from: its delays c + d, and
	 * its connection (none: no TLS). */
	ck_str(3, "time", "1.0");
	ck_str(3, "sent_with_ssl", "false");
	stop();
}
END_TEST

static json_object *saved;
static char qid[32];

/* capture - keep the last state written for a queue id (not "#tls"). */
static void
capture(const char *q, json_object *st, void *ctx)
{
	(void) ctx;
	if (q[0] == '#')
		return;
	snprintf(qid, sizeof(qid), "%s", q);
	json_object_put(saved);
	saved = st ? json_object_get(st) : NULL;
}

START_TEST(expiry_after_restart)
{

	start(REPORT_OUTGOING);
	F("Nov 20 10:00:00 mx1 postfix/pickup[9]: 7E00E00E1: uid=1000 from=<app>");
	F("Nov 20 10:00:00 mx1 postfix/cleanup[9]: 7E00E00E1: message-id=<x@y>");
	F("Nov 20 10:00:00 mx1 postfix/qmgr[12]: 7E00E00E1: from=<app@h.example>, "
	  "size=900, nrcpt=1 (queue active)");
	F("Nov 20 10:00:01 mx1 postfix/smtp[13]: Verified TLS connection "
	  "established to mx.example.net[192.0.2.7]:25: TLSv1.3");
	F("Nov 20 10:00:01 mx1 postfix/smtp[13]: 7E00E00E1: to=<b@example.net>, "
	  "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.5, "
	  "dsn=4.2.2, status=deferred (host mx.example.net[192.0.2.7] said: "
	  "452 4.2.2 Mailbox full (in reply to RCPT TO command))");
	ck_assert_int_eq(S.n, 1);
	correlate_flush_dirty(C, capture, NULL);
	ck_assert_ptr_nonnull(saved);
	ck_assert_str_eq(qid, "7E00E00E1");
	stop();

	/* A new process: only the saved state knows the message. */
	start(REPORT_OUTGOING);
	ck_assert_int_eq(correlate_restore(C, "7E00E00E1", saved), 0);
	json_object_put(saved);
	F("Nov 25 10:00:00 mx1 postfix/qmgr[12]: 7E00E00E1: from=<app@h.example>, "
	  "status=expired, returned to sender");
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "status", "HardFail");
	ck_str(0, "message.from", "app@h.example");
	ck_str(0, "message.message_id", "x@y");
	ck_str(0, "classification", "mailbox_full");
	ck_str(0, "details",
	       "Message expired after 5d 0h in the queue: 452 "
	       "mailbox_full: Delivery to b@example.net failed at 192.0.2.7:25 "
	       "(mx.example.net)");
	ck_str(0, "time", "1.0");
	ck_str(0, "sent_with_ssl", "true");

	/* removed: the saved state is deleted at the next flush. */
	saved = NULL;
	snprintf(qid, sizeof(qid), "none");
	F("Nov 25 10:00:00 mx1 postfix/qmgr[12]: 7E00E00E1: removed");
	correlate_flush_dirty(C, capture, NULL);
	ck_assert_str_eq(qid, "7E00E00E1");
	ck_assert_ptr_null(saved);
	stop();
}
END_TEST

static int old_deleted;

/* capture_old - note that 9B0000001's saved state is deleted. */
static void
capture_old(const char *q, json_object *st, void *ctx)
{
	(void) ctx;
	if (strcmp(q, "9B0000001") == 0 && st == NULL)
		old_deleted = 1;
}

/*
 * postsuper -r: the message comes back through pickup with a new queue id
 * ("orig_id=OLD"), and OLD gets no "removed".  It is OLD going on: no new
 * submission, the same record and identity.
 */
START_TEST(requeued_message)
{
	/* Incoming mail requeued stays incoming. */
	start(REPORT_OUTGOING);
	F(PFX "postfix/smtpd[10]: 9A0000001: client=mail.example.org[198.51.100.7]");
	qmgr_active("9A0000001", "someone@example.org", 900, 1);
	F(PFX "postfix/lmtp[16]: 9A0000001: to=<u@example.com>, "
	      "relay=mail.example.com[private/dovecot-lmtp], delay=1, "
	      "delays=0/0/0/0.1, dsn=4.2.0, status=deferred (451 4.2.0 try later)");
	F(PFX "postfix/pickup[9]: 9A0000002: uid=0 from=<someone@example.org> "
	      "orig_id=9A0000001");
	qmgr_active("9A0000002", "someone@example.org", 1000, 1);
	F(PFX "postfix/lmtp[16]: 9A0000002: to=<u@example.com>, "
	      "relay=mail.example.com[private/dovecot-lmtp], delay=1, "
	      "delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Saved)");
	ck_assert_int_eq(S.n, 0);
	ck_assert_uint_eq(correlate_count(C), 1);
	stop();

	/* Outgoing mail: the old id's record, Message-ID and deferrals. */
	start(REPORT_RECORDED);
	record_for("9B0000001");
	F(PFX "postfix/smtpd[10]: 9B0000001: client=app[10.1.2.3]");
	F(PFX "postfix/cleanup[11]: 9B0000001: message-id=<rq@app>");
	qmgr_active("9B0000001", "app@example.com", 900, 1);
	F(PFX "postfix/smtp[14]: 9B0000001: to=<one@example.net>, relay=none, "
	      "delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to "
	      "mx.example.net[192.0.2.7]:25: Connection refused)");
	ck_assert_int_eq(S.n, 1);
	correlate_flush_dirty(C, capture, NULL);
	F(PFX "postfix/pickup[9]: 9B0000002: uid=0 from=<app@example.com> "
	      "orig_id=9B0000001");
	qmgr_active("9B0000002", "app@example.com", 1000, 1);
	F("Nov 25 14:02:11 mx1 postfix/qmgr[12]: 9B0000002: from=<app@example.com>, "
	  "status=expired, returned to sender");
	ck_assert_int_eq(S.n, 2);
	ck_str(1, "status", "HardFail");
	ck_str(1, "message.token", "tok42");
	ck_str(1, "message.message_id", "rq@app");
	ck_str(1, "classification", "connection_error");
	ck_str(1, "details",
	       "Message expired after 2d 0h in the queue: "
	       "Connection error: Could not connect to any mail server for "
	       "example.net");
	/* The old id is forgotten, its saved state deleted. */
	old_deleted = 0;
	correlate_flush_dirty(C, capture_old, NULL);
	ck_assert_int_eq(old_deleted, 1);
	ck_assert_uint_eq(correlate_count(C), 1);
	json_object_put(saved);
	saved = NULL;
	stop();
}
END_TEST

#define HOLD_LINE(q)                                                                     \
	PFX "postfix/cleanup[11]: " q ": hold: header Subject: "                         \
	    "promo from localhost[127.0.0.1]; from=<a@example.com> "                     \
	    "to=<one@example.net> proto=ESMTP helo=<app>: needs review"

START_TEST(held_with_and_without_record)
{
	start(REPORT_ALL);
	F(PFX "postfix/cleanup[11]: 8F00F00F1: hold: header Subject: promo from "
	      "localhost[127.0.0.1]; from=<a@example.com> to=<u@example.net> "
	      "proto=ESMTP helo=<app>: needs review");
	/* cleanup logs the Message-ID when it reaches it: wait for it. */
	ck_assert_int_eq(S.n, 0);
	F(PFX "postfix/cleanup[11]: 8F00F00F1: message-id=<later@app>");
	ck_assert_int_eq(S.n, 1);
	ck_assert_int_eq(S.type[0], EV_MESSAGE_HELD);
	ck_str(0, "status", "Held");
	ck_str(0, "details", "Message held: needs review");
	ck_str(0, "message.to", "u@example.net");
	ck_str(0, "message.from", "a@example.com");
	ck_str(0, "message.message_id", "later@app");
	ck_str(0, "sent_with_ssl", NULL);
	/* Known before the hold: at once.  Never logged: at the end. */
	F(PFX "postfix/cleanup[11]: 8F00F00F4: message-id=<first@app>");
	F(HOLD_LINE("8F00F00F4"));
	ck_assert_int_eq(S.n, 2);
	ck_str(1, "message.message_id", "first@app");
	F(HOLD_LINE("8F00F00F5"));
	ck_assert_int_eq(S.n, 2);
	correlate_drain(C);
	ck_assert_int_eq(S.n, 3);
	ck_str(2, "message.message_id", NULL);
	stop();

	start(REPORT_RECORDED);
	S.rec = message_record_new();
	S.rec->id = 42;
	S.rec->token = strdup("tok42");
	S.rec->from = strdup("app@example.com");
	S.rec->message_id = strdup("rec@example.com");
	S.rec->tag = strdup("welcome");
	S.rec->subject = strdup("Hi");
	message_record_add_recipient(S.rec, "one@example.net");
	message_record_add_recipient(S.rec, "two@example.net");
	S.rec_qid = "8F00F00F2";
	F(PFX "postfix/cleanup[11]: 8F00F00F2: milter-hold: END-OF-MESSAGE from "
	      "localhost[127.0.0.1]: milter triggers HOLD action; "
	      "from=<bounce@example.com> to=<one@example.net> proto=ESMTP helo=<x>");
	ck_assert_int_eq(S.n, 2);
	ck_str(0, "details", "Message held: milter triggers HOLD action");
	ck_str(0, "message.to", "one@example.net");
	ck_str(1, "message.to", "two@example.net");
	ck_str(1, "message.from", "app@example.com");
	ck_str(1, "message.token", "tok42");
	ck_str(1, "message.tag", "welcome");
	ck_str(1, "message.subject", "Hi");
	ck_str(1, "message.message_id", "rec@example.com");
	ck_str(1, "message.id", "42");
	ck_assert_str_ne(S.key[0], S.key[1]);
	stop();
}
END_TEST

START_TEST(content_filter_hop)
{
	start(REPORT_OUTGOING);
	F(PFX "postfix/smtpd[10]: A1B2C3D4E5: client=app[10.1.2.3]");
	F(PFX "postfix/cleanup[11]: A1B2C3D4E5: message-id=<orig@app>");
	qmgr_active("A1B2C3D4E5", "app@example.com", 9, 1);
	/* The filter re-injects before it answers. */
	F(PFX "postfix/smtpd[20]: F1F2F3F4F5: client=localhost[127.0.0.1]");
	F(PFX "postfix/cleanup[11]: F1F2F3F4F5: message-id=<orig@app>");
	qmgr_active("F1F2F3F4F5", "app@example.com", 99, 1);
	smtp_sent(13, "A1B2C3D4E5", "u@example.net", "127.0.0.1[127.0.0.1]:10024",
		  "0/0/0/1",
		  "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): "
		  "250 2.0.0 Ok: queued as F1F2F3F4F5");
	F(PFX "postfix/qmgr[12]: A1B2C3D4E5: removed");
	ck_assert_int_eq(S.n, 0);
	smtp_sent(14, "F1F2F3F4F5", "u@example.net", "mx.example.net[192.0.2.7]:25",
		  "0/0/0/1", "250 2.0.0 Ok: queued as 0000ABCDEF");
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "message.message_id", "orig@app");
	ck_str(0, "details",
	       "Message for u@example.net accepted by "
	       "192.0.2.7:25 (mx.example.net)");

	/* A hop named in hop_relays, before the new id shows up. */
	qmgr_active("B1B2C3D4E5", "app@example.com", 9, 1);
	F(PFX "postfix/pickup[9]: B1B2C3D4E5: uid=33 from=<app>");
	smtp_sent(13, "B1B2C3D4E5", "v@example.net", "127.0.0.1[127.0.0.1]:10026",
		  "0/0/0/1", "250 2.0.0 Ok: queued as C9C9C9C9C9");
	ck_assert_int_eq(S.n, 1);
	qmgr_active("C9C9C9C9C9", "app@example.com", 9, 1);
	F(PFX "postfix/smtp[14]: C9C9C9C9C9: to=<v@example.net>, "
	      "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0/1, "
	      "dsn=5.7.1, status=bounced (host mx.example.net[192.0.2.7] said: "
	      "554 5.7.1 Message rejected as spam (in reply to end of DATA command))");
	ck_assert_int_eq(S.n, 2);
	ck_str(1, "status", "HardFail");
	ck_str(1, "message.to", "v@example.net");

	/* queued as an id this log never shows: a real delivery. */
	qmgr_active("D1D2D3D4D5", "app@example.com", 9, 1);
	F(PFX "postfix/pickup[9]: D1D2D3D4D5: uid=33 from=<app>");
	smtp_sent(13, "D1D2D3D4D5", "w@example.net", "127.0.0.1[127.0.0.1]:2525",
		  "0/0/0/1", "250 2.0.0 Ok: queued as 7777777777");
	ck_assert_int_eq(S.n, 3);
	ck_str(2, "status", "Sent");
	stop();
}
END_TEST

/*
 * A remote MX's "queued as ID" whose ID happens to be one of this log's own
 * queue ids (both are short hex on Postfix) is a delivery, not a hop: only
 * a configured or learned hop, a local address, links queue ids.
 */
START_TEST(remote_queued_as_is_no_hop)
{
	start(REPORT_OUTGOING);
	qmgr_active("E1E2E3E4E5", "app@example.com", 9, 1);
	F(PFX "postfix/pickup[9]: E1E2E3E4E5: uid=33 from=<app>");
	qmgr_active("A0A0A0A0A0", "app@example.com", 9, 1);
	F(PFX "postfix/pickup[9]: A0A0A0A0A0: uid=33 from=<app>");
	smtp_sent(13, "E1E2E3E4E5", "x@example.net", "mx.example.net[192.0.2.7]:25",
		  "0/0/0/1", "250 2.0.0 Ok: queued as A0A0A0A0A0");
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "status", "Sent");
	ck_str(0, "message.to", "x@example.net");
	/* The local message of that id is still its own. */
	smtp_sent(14, "A0A0A0A0A0", "y@example.net", "mx.example.net[192.0.2.7]:25",
		  "0/0/0/1", "250 2.0.0 Ok: queued as 1234567890");
	ck_assert_int_eq(S.n, 2);
	ck_str(1, "message.to", "y@example.net");
	stop();
}
END_TEST

/*
 * With the milter on the re-injecting smtpd too, it moves the record to the
 * new queue id (message_rekey) at the re-injection: the final delivery
 * finds it there, not under the original's id.
 */
START_TEST(hop_record_moved_to_new_qid)
{
	start(REPORT_RECORDED);
	S.rec = message_record_new();
	S.rec->id = 7;
	S.rec->token = strdup("tok7");
	S.rec->tag = strdup("filter");
	S.rec_qid = "A1B2C3D4E5";
	F(PFX "postfix/smtpd[10]: A1B2C3D4E5: client=app[10.1.2.3]");
	qmgr_active("A1B2C3D4E5", "app@example.com", 9, 1);
	/* The re-injection: the milter rekeys the record. */
	F(PFX "postfix/smtpd[20]: F1F2F3F4F5: client=localhost[127.0.0.1]");
	S.rec_qid = "F1F2F3F4F5";
	qmgr_active("F1F2F3F4F5", "app@example.com", 99, 1);
	smtp_sent(13, "A1B2C3D4E5", "u@example.net", "127.0.0.1[127.0.0.1]:10024",
		  "0/0/0/1", "250 2.0.0 Ok: queued as F1F2F3F4F5");
	F(PFX "postfix/qmgr[12]: A1B2C3D4E5: removed");
	ck_assert_int_eq(S.n, 0);
	smtp_sent(14, "F1F2F3F4F5", "u@example.net", "mx.example.net[192.0.2.7]:25",
		  "0/0/0/1", "250 2.0.0 Ok: queued as 0000ABCDEF");
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "message.id", "7");
	ck_str(0, "message.token", "tok7");
	ck_str(0, "message.tag", "filter");
	stop();

	/* Without the milter there: the original's id still finds it. */
	start(REPORT_RECORDED);
	S.rec = message_record_new();
	S.rec->token = strdup("tok8");
	S.rec_qid = "A1B2C3D4E6";
	qmgr_active("A1B2C3D4E6", "app@example.com", 9, 1);
	qmgr_active("F1F2F3F4F6", "app@example.com", 99, 1);
	smtp_sent(13, "A1B2C3D4E6", "u@example.net", "127.0.0.1[127.0.0.1]:10024",
		  "0/0/0/1", "250 2.0.0 Ok: queued as F1F2F3F4F6");
	smtp_sent(14, "F1F2F3F4F6", "u@example.net", "mx.example.net[192.0.2.7]:25",
		  "0/0/0/1", "250 ok");
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "message.token", "tok8");
	stop();
}
END_TEST

/*
 * A content filter's re-injection delivered before the filter's answer to
 * the original is logged ("queued as" comes last).
 */

/* hop_in_order - a first hop, logged in the usual order: the log has now
 * shown that this site has one. */
static void
hop_in_order(void)
{
	F(PFX "postfix/smtpd[10]: A0A0A0A0A0: client=app[10.1.2.3]");
	qmgr_active("A0A0A0A0A0", "app@example.com", 9, 1);
	F(PFX "postfix/smtpd[20]: B0B0B0B0B0: client=localhost[127.0.0.1]");
	qmgr_active("B0B0B0B0B0", "app@example.com", 99, 1);
	smtp_sent(13, "A0A0A0A0A0", "u@example.net", "127.0.0.1[127.0.0.1]:10024",
		  "0/0/0/1", "250 2.0.0 Ok: queued as B0B0B0B0B0");
}

/* race_to_link - C1 goes to the filter, which re-injects it as D1; D1 is
 * delivered and removed before C1's "queued as D1" line. */
static void
race_to_link(void)
{
	F(PFX "postfix/smtpd[10]: C1C1C1C1C1: client=app[10.1.2.3]");
	F(PFX "postfix/cleanup[11]: C1C1C1C1C1: message-id=<race@app>");
	qmgr_active("C1C1C1C1C1", "app@example.com", 9, 1);
	F(PFX "postfix/smtpd[20]: D1D1D1D1D1: client=localhost[127.0.0.1]");
	F(PFX "postfix/cleanup[11]: D1D1D1D1D1: message-id=<race@app>");
	qmgr_active("D1D1D1D1D1", "app@example.com", 99, 1);
	F(PFX "postfix/smtp[14]: Untrusted TLS connection established to "
	      "mx.example.net[192.0.2.7]:25: TLSv1.3 with cipher X");
	smtp_sent(14, "D1D1D1D1D1", "u@example.net", "mx.example.net[192.0.2.7]:25",
		  "0/0/0.5/0.5", "250 2.0.0 Ok: queued as 0000ABCDEF");
	F(PFX "postfix/qmgr[12]: D1D1D1D1D1: removed");
}

/* the_link - the filter's answer to C1 names D1. */
static void
the_link(void)
{
	smtp_sent(13, "C1C1C1C1C1", "u@example.net", "127.0.0.1[127.0.0.1]:10024",
		  "0/0/0/1",
		  "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): "
		  "250 2.0.0 Ok: queued as D1D1D1D1D1");
}

START_TEST(hop_delivered_before_its_link)
{
	char *key;

	hop_wait = 2;
	/* Only C1 has a record: without the wait its delivery was lost. */
	start(REPORT_RECORDED);
	record_for("C1C1C1C1C1");
	hop_in_order();
	race_to_link();
	ck_assert_int_eq(S.n, 0);
	ck_assert_uint_eq(correlate_pending(C), 1);
	the_link();
	ck_assert_int_eq(S.n, 1);
	ck_assert_uint_eq(correlate_pending(C), 0);
	ck_str(0, "status", "Sent");
	ck_str(0, "message.token", "tok42");
	ck_str(0, "message.message_id", "race@app");
	ck_str(0, "sent_with_ssl", "true");
	ck_str(0, "details",
	       "Message for u@example.net accepted by "
	       "192.0.2.7:25 (mx.example.net)");
	key = strdup(S.key[0]);
	/* D1 was removed: forgotten once its line was read. */
	F(PFX "postfix/qmgr[12]: C1C1C1C1C1: removed");
	ck_assert_uint_eq(correlate_count(C), 2);
	stop();

	/* Reported as D1's own until now (report = outgoing: loopback is
	 * internal), it is C1's now, under the same key. */
	start(REPORT_OUTGOING);
	hop_in_order();
	race_to_link();
	ck_assert_int_eq(S.n, 0);
	the_link();
	ck_assert_int_eq(S.n, 1);
	ck_assert_str_eq(S.key[0], key);
	free(key);
	stop();

	/* A site whose log has shown no hop does not wait. */
	start(REPORT_OUTGOING);
	race_to_link();
	ck_assert_int_eq(S.n, 1);
	ck_assert_uint_eq(correlate_pending(C), 0);
	stop();
	hop_wait = 0;
}
END_TEST

START_TEST(hop_wait_is_bounded)
{
	hop_wait = 2;
	/* By the log's time: a line 2 s later ends the wait. */
	start(REPORT_OUTGOING);
	hop_in_order();
	race_to_link();
	F("Nov 23 14:02:12 mx1 postfix/smtpd[10]: E1E1E1E1E1: client=app[10.1.2.3]");
	ck_assert_int_eq(S.n, 0);
	F("Nov 23 14:02:13 mx1 postfix/smtpd[10]: E2E2E2E2E2: client=app[10.1.2.3]");
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "message.to", "u@example.net");
	ck_str(0, "sent_with_ssl", "true");
	/* A link that comes later does not make a second event. */
	the_link();
	ck_assert_int_eq(S.n, 1);
	stop();

	/* By the clock, for a log gone quiet. */
	start(REPORT_OUTGOING);
	correlate_tick(C, 1000);
	hop_in_order();
	race_to_link();
	ck_assert_int_eq(correlate_tick(C, 1001.9), 0);
	ck_assert_int_eq(S.n, 0);
	ck_assert_int_eq(correlate_tick(C, 1002.1), 1);
	ck_assert_int_eq(S.n, 1);
	ck_assert_uint_eq(correlate_pending(C), 0);
	stop();

	/* At the end of the input (--print). */
	start(REPORT_OUTGOING);
	hop_in_order();
	race_to_link();
	correlate_drain(C);
	ck_assert_int_eq(S.n, 1);
	stop();
	hop_wait = 0;
}
END_TEST

static json_object *hop_saved, *d1_saved;

/* capture_hop - keep what is written for "#hop" and for D1. */
static void
capture_hop(const char *q, json_object *st, void *ctx)
{
	(void) ctx;
	if (strcmp(q, "#hop") == 0) {
		json_object_put(hop_saved);
		hop_saved = st ? json_object_get(st) : NULL;
	} else if (strcmp(q, "D1D1D1D1D1") == 0) {
		json_object_put(d1_saved);
		d1_saved = st ? json_object_get(st) : NULL;
	}
}

START_TEST(hop_wait_survives_restart)
{
	char *key;

	hop_wait = 2;
	/* The key the event has without a restart. */
	start(REPORT_RECORDED);
	record_for("C1C1C1C1C1");
	hop_in_order();
	race_to_link();
	the_link();
	ck_assert_int_eq(S.n, 1);
	key = strdup(S.key[0]);
	stop();

	start(REPORT_RECORDED);
	hop_in_order();
	race_to_link();
	correlate_flush_dirty(C, capture_hop, NULL);
	ck_assert_ptr_nonnull(hop_saved);
	ck_assert_ptr_nonnull(d1_saved);
	ck_assert(json_object_object_get_ex(d1_saved, "waiting", NULL));
	stop();

	/* A new process, restarted long after: the wait starts again. */
	start(REPORT_RECORDED);
	record_for("C1C1C1C1C1");
	ck_assert_int_eq(correlate_restore(C, "#hop", hop_saved), 0);
	ck_assert_int_eq(correlate_restore(C, "D1D1D1D1D1", d1_saved), 0);
	ck_assert_uint_eq(correlate_pending(C), 1);
	ck_assert_int_eq(correlate_tick(C, 5000), 0);
	F(PFX "postfix/smtpd[10]: C1C1C1C1C1: client=app[10.1.2.3]");
	qmgr_active("C1C1C1C1C1", "app@example.com", 9, 1);
	the_link();
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "message.token", "tok42");
	ck_str(0, "sent_with_ssl", "true");
	ck_assert_str_eq(S.key[0], key);
	free(key);
	/* D1 is gone now: its saved state is deleted. */
	correlate_flush_dirty(C, capture_hop, NULL);
	ck_assert_ptr_null(d1_saved);
	json_object_put(hop_saved);
	hop_saved = NULL;
	stop();
	hop_wait = 0;
}
END_TEST

/*
 * cleanup logs "hold: header" while it reads the headers, before the
 * milter's end-of-message commits the record: the Held events wait for it.
 */
START_TEST(hold_waits_for_record)
{
	char *key0;

	hold_wait = 2;
	start(REPORT_RECORDED);
	ck_assert_int_eq(correlate_tick(C, 1000), 0);
	F(PFX "postfix/smtpd[10]: 8F00F00F3: client=app[10.1.2.3]");
	F(HOLD_LINE("8F00F00F3"));
	ck_assert_int_eq(S.n, 0);
	ck_assert_uint_eq(correlate_pending(C), 1);
	ck_assert_int_eq(correlate_tick(C, 1000.5), 0);
	ck_assert_int_eq(S.n, 0);
	/* The milter's end-of-message: the record is there. */
	record_for("8F00F00F3");
	ck_assert_int_eq(correlate_tick(C, 1000.6), 1);
	ck_assert_int_eq(S.n, 2);
	ck_assert_uint_eq(correlate_pending(C), 0);
	ck_assert_int_eq(S.type[0], EV_MESSAGE_HELD);
	ck_str(0, "message.to", "one@example.net");
	ck_str(1, "message.to", "two@example.net");
	ck_str(1, "message.token", "tok42");
	ck_str(1, "message.tag", "welcome");
	ck_str(1, "message.id", "42");
	ck_str(1, "details", "Message held: needs review");
	key0 = strdup(S.key[0]);
	ck_assert_int_eq(correlate_tick(C, 1010), 0);
	ck_assert_int_eq(S.n, 2);
	stop();

	/* The same line with the record already there: the same events and
	 * keys, at once. */
	start(REPORT_RECORDED);
	record_for("8F00F00F3");
	correlate_tick(C, 1000);
	F(PFX "postfix/smtpd[10]: 8F00F00F3: client=app[10.1.2.3]");
	F(HOLD_LINE("8F00F00F3"));
	ck_assert_int_eq(S.n, 2);
	ck_assert_uint_eq(correlate_pending(C), 0);
	ck_assert_str_eq(S.key[0], key0);
	free(key0);
	stop();
	hold_wait = 0;
}
END_TEST

START_TEST(hold_wait_is_bounded)
{
	hold_wait = 2;
	/* No record ever (the milter was down): after the wait, Held for the
	 * recipient the line names. */
	start(REPORT_OUTGOING);
	correlate_tick(C, 1000);
	F(PFX "postfix/smtpd[10]: 8F00F00F4: client=app[10.1.2.3]");
	F(HOLD_LINE("8F00F00F4"));
	ck_assert_int_eq(correlate_tick(C, 1001.9), 0);
	ck_assert_int_eq(S.n, 0);
	ck_assert_int_eq(correlate_tick(C, 1002.1), 1);
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "message.to", "one@example.net");
	ck_str(0, "message.token", NULL);
	ck_assert_uint_eq(correlate_pending(C), 0);
	stop();

	/* A later qmgr line (released with postsuper -H): the Held goes out
	 * before anything the release makes. */
	start(REPORT_OUTGOING);
	correlate_tick(C, 1000);
	F(PFX "postfix/smtpd[10]: 8F00F00F5: client=app[10.1.2.3]");
	F(HOLD_LINE("8F00F00F5"));
	F(PFX "postfix/cleanup[11]: 8F00F00F5: message-id=<m@app>");
	ck_assert_int_eq(S.n, 0);
	qmgr_active("8F00F00F5", "a@example.com", 9, 1);
	smtp_sent(13, "8F00F00F5", "one@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	ck_assert_int_eq(S.n, 2);
	ck_assert_int_eq(S.type[0], EV_MESSAGE_HELD);
	ck_str(0, "message.message_id", "m@app");
	ck_assert_int_eq(S.type[1], EV_MESSAGE_SENT);
	stop();

	/* Deleted while held (postsuper -d): removed sends it out too. */
	start(REPORT_OUTGOING);
	correlate_tick(C, 1000);
	F(PFX "postfix/smtpd[10]: 8F00F00F6: client=app[10.1.2.3]");
	F(HOLD_LINE("8F00F00F6"));
	F(PFX "postfix/qmgr[12]: 8F00F00F6: removed");
	ck_assert_int_eq(S.n, 1);
	ck_assert_uint_eq(correlate_count(C), 0);
	ck_assert_uint_eq(correlate_pending(C), 0);
	stop();
	hold_wait = 0;
}
END_TEST

/* A waiting hold is part of the saved state: a restart finds it, and its
 * events keep the keys of the line they came from. */
START_TEST(hold_wait_survives_restart)
{
	char *key;

	hold_wait = 2;
	start(REPORT_RECORDED);
	correlate_tick(C, 1000);
	F(PFX "postfix/smtpd[10]: 8F00F00F7: client=app[10.1.2.3]");
	F(HOLD_LINE("8F00F00F7"));
	ck_assert_int_eq(S.n, 0);
	correlate_flush_dirty(C, capture, NULL);
	ck_assert_ptr_nonnull(saved);
	ck_assert_str_eq(qid, "8F00F00F7");
	stop();

	/* What the same line would give at once. */
	start(REPORT_RECORDED);
	record_for("8F00F00F7");
	F(PFX "postfix/smtpd[10]: 8F00F00F7: client=app[10.1.2.3]");
	F(HOLD_LINE("8F00F00F7"));
	ck_assert_int_eq(S.n, 2);
	key = strdup(S.key[1]);
	stop();

	start(REPORT_RECORDED);
	ck_assert_int_eq(correlate_restore(C, "8F00F00F7", saved), 0);
	json_object_put(saved);
	saved = NULL;
	ck_assert_uint_eq(correlate_pending(C), 1);
	record_for("8F00F00F7");
	ck_assert_int_eq(correlate_tick(C, 1000.1), 1);
	ck_assert_int_eq(S.n, 2);
	ck_str(1, "message.token", "tok42");
	ck_assert_str_eq(S.key[1], key);
	free(key);
	/* And the state written next has no waiting hold. */
	correlate_flush_dirty(C, capture, NULL);
	ck_assert_ptr_nonnull(saved);
	ck_assert(!json_object_object_get_ex(saved, "held", NULL));
	json_object_put(saved);
	saved = NULL;
	stop();
	hold_wait = 0;
}
END_TEST

START_TEST(report_scopes)
{
	/* Incoming mail delivered locally is not outgoing. */
	start(REPORT_OUTGOING);
	F(PFX "postfix/smtpd[10]: 1A1A1A1A1A: client=mail.other.example[198.51.100.9]");
	qmgr_active("1A1A1A1A1A", "x@other.example", 9, 1);
	F(PFX "postfix/local[15]: 1A1A1A1A1A: to=<me@mx1.example>, relay=local, "
	      "delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to "
	      "mailbox)");
	ck_assert_int_eq(S.n, 0);
	/* Postfix's own notification. */
	F(PFX "postfix/pickup[9]: 2B2B2B2B2B: uid=0 from=<>");
	qmgr_active("2B2B2B2B2B", "", 9, 1);
	F(PFX "postfix/smtp[13]: 2B2B2B2B2B: to=<a@example.net>, relay=none, "
	      "delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to x)");
	ck_assert_int_eq(S.n, 0);
	/* An address verification probe. */
	F(PFX "postfix/smtpd[10]: 3C3C3C3C3C: client=app[10.1.0.9]");
	F(PFX "postfix/smtp[13]: 3C3C3C3C3C: to=<a@example.net>, "
	      "relay=mx[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=2.1.5, "
	      "status=deliverable (250 2.1.5 Ok)");
	ck_assert_int_eq(S.n, 0);
	/* A local delivery of mail this site submitted. */
	F(PFX "postfix/smtpd[10]: 4D4D4D4D4D: client=app[10.1.0.9]");
	qmgr_active("4D4D4D4D4D", "app@example.com", 9, 1);
	F(PFX "postfix/local[15]: 4D4D4D4D4D: to=<me@mx1.example>, "
	      "orig_to=<me>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
	      "status=sent (delivered to mailbox)");
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "details", "Message for me@mx1.example delivered by local");
	ck_str(0, "output", "delivered to mailbox");
	ck_str(0, "sent_with_ssl", NULL);
	stop();

	start(REPORT_ALL);
	F(PFX "postfix/smtpd[10]: 1A1A1A1A1A: client=mail.other.example[198.51.100.9]");
	F(PFX "postfix/local[15]: 1A1A1A1A1A: to=<me@mx1.example>, relay=local, "
	      "delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered)");
	/* A queue id never seen before. */
	smtp_sent(13, "9F9F9F9F9F", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	ck_assert_int_eq(S.n, 2);
	ck_str(1, "message.from", NULL);
	stop();

	start(REPORT_RECORDED);
	S.rec = message_record_new();
	S.rec->from = strdup("rec@example.com");
	S.rec_qid = "5E5E5E5E5E";
	qmgr_active("5E5E5E5E5E", "verp+x@example.com", 9, 1);
	qmgr_active("6F6F6F6F6F", "other@example.com", 9, 1);
	F(PFX "postfix/pickup[9]: 6F6F6F6F6F: uid=0 from=<root>");
	smtp_sent(13, "5E5E5E5E5E", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	smtp_sent(13, "6F6F6F6F6F", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	ck_assert_int_eq(S.n, 1);
	ck_str(0, "message.from", "rec@example.com");
	stop();
}
END_TEST

/* tenants - the rules of tenant_from_the_log. */
static struct tenant_matcher *
tenants(int with_client_rules)
{
	struct tenant_matcher *m = tenant_matcher_new();
	char err[256];

	ck_assert_int_eq(tenant_matcher_add(m, "bydomain", TENANT_RULE_SENDER_DOMAIN,
					    "example.org", err, sizeof(err)),
			 0);
	ck_assert_int_eq(tenant_matcher_add(m, "bydaemon", TENANT_RULE_DAEMON,
					    "submission", err, sizeof(err)),
			 0);
	if (!with_client_rules)
		return (m);
	ck_assert_int_eq(
	    tenant_matcher_add(m, "bysasl", TENANT_RULE_SASL, "app", err, sizeof(err)),
	    0);
	ck_assert_int_eq(tenant_matcher_add(m, "bynet", TENANT_RULE_CLIENT, "10.1.0.0/16",
					    err, sizeof(err)),
			 0);
	return (m);
}

/* ck_tenant - the tenant of event i (NULL: the default's). */
static void
ck_tenant(int i, const char *want)
{
	ck_assert_int_lt(i, S.n);
	if (want == NULL)
		ck_assert_ptr_null(S.tenant[i]);
	else
		ck_assert_str_eq(S.tenant[i] ? S.tenant[i] : "(default)", want);
}

START_TEST(tenant_from_the_log)
{
	struct tenant_matcher *m = tenants(1), *few = tenants(0);

	start(REPORT_OUTGOING);
	F(PFX "postfix/smtpd[10]: 1A00000001: client=app[203.0.113.5], "
	      "sasl_method=PLAIN, sasl_username=app");
	qmgr_active("1A00000001", "app@example.org", 9, 1);
	correlate_set_tenants(C, m);
	F(PFX "postfix/smtpd[10]: 2A00000001: client=app[203.0.113.5], "
	      "sasl_method=PLAIN, sasl_username=app");
	qmgr_active("2A00000001", "app@example.org", 9, 1);
	F(PFX "postfix/smtpd[10]: 3A00000001: client=app[10.1.2.3]");
	qmgr_active("3A00000001", "x@example.org", 9, 1);
	F(PFX "postfix/pickup[9]: 4A00000001: uid=0 from=<news@Sub.Example.ORG>");
	qmgr_active("4A00000001", "news@Sub.Example.ORG", 9, 1);
	F(PFX "postfix/smtpd[10]: 5A00000001: client=app[203.0.113.6], "
	      "sasl_method=PLAIN, sasl_username=other");
	qmgr_active("5A00000001", "a@example.com", 9, 1);
	record_for("6A00000001");
	S.rec->tenant = strdup("rec");
	F(PFX "postfix/smtpd[10]: 6A00000001: client=app[10.1.2.3]");
	qmgr_active("6A00000001", "app@example.org", 9, 1);
	smtp_sent(13, "1A00000001", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	smtp_sent(13, "2A00000001", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	smtp_sent(13, "3A00000001", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	smtp_sent(13, "4A00000001", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	smtp_sent(13, "5A00000001", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	smtp_sent(13, "6A00000001", "one@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	ck_assert_int_eq(S.n, 6);
	/* Its client line came before the rules: only its sender is known. */
	ck_tenant(0, "bydomain");
	ck_tenant(1, "bysasl");
	ck_tenant(2, "bynet");
	ck_tenant(3, "bydomain");
	ck_tenant(4, NULL);
	/* A record names its tenant: the log's facts do not count. */
	ck_tenant(5, "rec");

	/* The client's facts survive a restart. */
	sink_reset();
	F(PFX "postfix/smtpd[10]: 7A00000001: client=app[10.1.2.3]");
	correlate_flush_dirty(C, capture, NULL);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(saved, "client")),
			 "10.1.2.3");
	stop();
	start(REPORT_OUTGOING);
	correlate_set_tenants(C, m);
	ck_assert_int_eq(correlate_restore(C, "7A00000001", saved), 0);
	qmgr_active("7A00000001", "a@example.com", 9, 1);
	smtp_sent(13, "7A00000001", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	ck_tenant(0, "bynet");
	stop();

	/* Without SASL or client rules, nothing more is kept than before. */
	start(REPORT_OUTGOING);
	correlate_set_tenants(C, few);
	F(PFX "postfix/smtpd[10]: 8A00000001: client=app[10.1.2.3], "
	      "sasl_method=PLAIN, sasl_username=app");
	correlate_flush_dirty(C, capture, NULL);
	ck_assert(!json_object_object_get_ex(saved, "client", NULL));
	ck_assert(!json_object_object_get_ex(saved, "sasl_username", NULL));
	qmgr_active("8A00000001", "a@example.org", 9, 1);
	smtp_sent(13, "8A00000001", "a@example.net", "mx[192.0.2.1]:25", "0/0/1/0",
		  "250 ok");
	ck_tenant(0, "bydomain");
	json_object_put(saved);
	saved = NULL;
	stop();
	tenant_matcher_free(m);
	tenant_matcher_free(few);
}
END_TEST

START_TEST(tls_sessions_and_field)
{
	static const char *const ssl[] = { "true",  "true",  "true",
					   "false", "false", "true" };
	int i;

	start(REPORT_ALL);
	F(PFX "postfix/smtp[13]: Untrusted TLS connection established to "
	      "mx[192.0.2.7]:25: TLSv1.3");
	smtp_sent(13, "1111111111", "a@x.example", "mx[192.0.2.7]:25", "0/0/1/0",
		  "250 ok");
	smtp_sent(13, "1111111111", "b@x.example", "mx[192.0.2.7]:25", "0/0/1/0",
		  "250 ok");
	/* Same connection, next message. */
	F(PFX "postfix/smtp[13]: 2222222222: to=<c@x.example>, "
	      "relay=mx[192.0.2.7]:25, conn_use=2, delay=1, delays=0/0/1/0, "
	      "dsn=2.0.0, status=sent (250 ok)");
	/* A new connection by that process, without TLS. */
	smtp_sent(13, "3333333333", "d@x.example", "mx[192.0.2.7]:25", "0/0/1/0",
		  "250 ok");
	/* Another process never said TLS. */
	smtp_sent(14, "4444444444", "e@x.example", "mx[192.0.2.7]:25", "0/0/1/0",
		  "250 ok");
	/* Postfix 3.11 says it itself. */
	F(PFX "postfix/smtp[14]: 5555555555: to=<f@x.example>, "
	      "relay=mx[192.0.2.7]:25, delay=1, delays=0/0/1/0, tls=TLSv1.3, "
	      "dsn=2.0.0, status=sent (250 ok)");
	ck_assert_int_eq(S.n, 6);
	for (i = 0; i < 6; i++)
		ck_str(i, "sent_with_ssl", ssl[i]);
	stop();
}
END_TEST

static json_object *tls_saved;

/* capture_tls - keep the TLS sessions' state, whatever else is written. */
static void
capture_tls(const char *q, json_object *st, void *ctx)
{
	(void) ctx;
	if (strcmp(q, "#tls") != 0)
		return;
	ck_assert_ptr_nonnull(st);
	json_object_put(tls_saved);
	tls_saved = json_object_get(st);
}

START_TEST(tls_session_survives_restart)
{
	start(REPORT_ALL);
	F(PFX "postfix/smtp[13]: Untrusted TLS connection established to "
	      "mx[192.0.2.7]:25: TLSv1.3");
	smtp_sent(13, "1111111111", "a@x.example", "mx[192.0.2.7]:25", "0/0/1/0",
		  "250 ok");
	correlate_flush_dirty(C, capture_tls, NULL);
	ck_assert_ptr_nonnull(tls_saved);
	ck_assert_int_eq(json_object_array_length(tls_saved), 1);
	stop();

	/* A new process: the connection opened before it is still TLS. */
	start(REPORT_ALL);
	ck_assert_int_eq(correlate_restore(C, "#tls", tls_saved), 0);
	json_object_put(tls_saved);
	tls_saved = NULL;
	F(PFX "postfix/smtp[13]: 2222222222: to=<c@x.example>, "
	      "relay=mx[192.0.2.7]:25, conn_use=2, delay=1, delays=0/0/1/0, "
	      "dsn=2.0.0, status=sent (250 ok)");
	/* Its next connection, without a TLS line, is not. */
	smtp_sent(13, "3333333333", "d@x.example", "mx[192.0.2.7]:25", "0/0/1/0",
		  "250 ok");
	ck_assert_int_eq(S.n, 2);
	ck_str(0, "sent_with_ssl", "true");
	ck_str(1, "sent_with_ssl", "false");
	/* Nothing changed since: nothing to write; a change is written. */
	correlate_flush_dirty(C, capture_tls, NULL);
	ck_assert_ptr_nonnull(tls_saved);
	ck_assert_int_eq(json_object_array_length(tls_saved), 0);
	json_object_put(tls_saved);
	tls_saved = NULL;
	correlate_flush_dirty(C, capture_tls, NULL);
	ck_assert_ptr_null(tls_saved);
	ck_assert_int_eq(correlate_restore(C, "#tls", NULL), -1);
	stop();
}
END_TEST

START_TEST(keys_come_from_position)
{
	struct log_line l;
	struct log_pos pos = { "fp9", 1234, NULL };
	const char *line =
	    PFX "postfix/smtp[13]: 1111111111: to=<a@x.example>, "
		"relay=mx[192.0.2.7]:25, delay=1, delays=0/0/1/0, dsn=2.0.0, "
		"status=sent (250 ok)";

	start(REPORT_ALL);
	parse_line(line, strlen(line), &l);
	correlate_feed(C, &l, &pos);
	correlate_feed(C, &l, &pos);
	pos.offset = 99;
	correlate_feed(C, &l, &pos);
	pos.cursor = "s=abc;i=1";
	correlate_feed(C, &l, &pos);
	ck_assert_int_eq(S.n, 4);
	ck_assert_str_eq(S.key[0], S.key[1]);
	ck_assert_str_ne(S.key[0], S.key[2]);
	ck_assert(strstr(S.key[0], "fp9") != NULL);
	ck_assert(strstr(S.key[0], "1234") != NULL);
	ck_assert(strstr(S.key[3], "s=abc;i=1") != NULL);
	stop();
}
END_TEST

START_TEST(memory_is_capped)
{
	struct correlate_opts o = { 0 };
	char line[256];

	o.report = REPORT_ALL;
	o.max_messages = 100;
	sink_reset();
	C = correlate_new(&o, on_event, NULL, &S);
	correlate_set_now(C, 1795466434);
	for (int i = 0; i < 5000; i++) {
		snprintf(line, sizeof(line),
			 PFX "postfix/qmgr[1]: %010X: "
			     "from=<a@b.c>, size=1, nrcpt=1 (queue active)",
			 i + 0x100000);
		F(line);
		ck_assert_uint_le(correlate_count(C), 100);
	}
	ck_assert_uint_eq(correlate_count(C), 100);
	stop();
}
END_TEST

START_TEST(age_format)
{
	char b[32];

	format_age(42, b, sizeof(b));
	ck_assert_str_eq(b, "42s");
	format_age(600, b, sizeof(b));
	ck_assert_str_eq(b, "10m");
	format_age(3 * 3600 + 300, b, sizeof(b));
	ck_assert_str_eq(b, "3h 5m");
	format_age(5 * 86400 + 7200, b, sizeof(b));
	ck_assert_str_eq(b, "5d 2h");
}
END_TEST

static Suite *
correlate_suite(void)
{
	Suite *s = suite_create("correlate");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sent_over_tls);
	tcase_add_test(tc, deferred_bounced_and_relay_none);
	tcase_add_test(tc, own_statuses_and_odd_relays);
	tcase_add_test(tc, expiry_uses_last_deferral);
	tcase_add_test(tc, expiry_after_restart);
	tcase_add_test(tc, requeued_message);
	tcase_add_test(tc, held_with_and_without_record);
	tcase_add_test(tc, content_filter_hop);
	tcase_add_test(tc, remote_queued_as_is_no_hop);
	tcase_add_test(tc, hop_record_moved_to_new_qid);
	tcase_add_test(tc, hop_delivered_before_its_link);
	tcase_add_test(tc, hop_wait_is_bounded);
	tcase_add_test(tc, hop_wait_survives_restart);
	tcase_add_test(tc, hold_waits_for_record);
	tcase_add_test(tc, hold_wait_is_bounded);
	tcase_add_test(tc, hold_wait_survives_restart);
	tcase_add_test(tc, report_scopes);
	tcase_add_test(tc, tenant_from_the_log);
	tcase_add_test(tc, tls_sessions_and_field);
	tcase_add_test(tc, tls_session_survives_restart);
	tcase_add_test(tc, keys_come_from_position);
	tcase_add_test(tc, memory_is_capped);
	tcase_add_test(tc, age_format);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	return test_run_suite(correlate_suite());
}
