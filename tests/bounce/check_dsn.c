/*
 * check_dsn.c - the bounce parser on the test messages of tests/bounce/dsn/ (one
 * per form: RFC 3464, qmail, Exim, Sendmail, Exchange, Gmail, Yahoo, ARF,
 * auto-replies), on hostile input made here (deep nesting, a 50 MiB part,
 * a million recipients, garbage), and the bounce intake on a real store:
 * linking, one event per recipient, redelivery, Postfix's own notices,
 * unmatched bounces and complaints kept (check_complaint.c: the complaints
 * that match).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce/bounce_intake.h"
#include "store/bounce_record.h"
#include "bounce/dsn.h"
#include "store/message.h"
#include "store/outbox.h"
#include "util/util.h"

#include "testlib.h"

/* read_msg - a file of tests/bounce/dsn/ */
static char *
read_msg(const char *name, size_t *len)
{
	const char *srcdir = getenv("srcdir");
	char *path = xasprintf("%s/bounce/dsn/%s", srcdir ? srcdir : ".", name);
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	free(path);
	*len = b.len;
	return buf_take(&b);
}

/* What each test message must give. */
struct expect {
	const char *file;
	enum dsn_kind kind;
	enum dsn_format format;
	size_t nrcpt;
	const char *rcpt;   /* first recipient */
	const char *status; /* its status */
	int permanent;
	const char *diag_part;	/* a piece of its diagnostic */
	const char *token;	/* returned token */
	const char *message_id; /* returned Message-ID */
};

static const struct expect expects[] = {
	{ "rfc3464-postfix.eml", DSN_KIND_BOUNCE, DSN_FORMAT_RFC3464, 1,
	  "nobody@remote.test", "5.1.1", 1, "User unknown in local recipient table",
	  "k3vq9x2m7p", "order-1234.5678@sender.test" },
	{ "rfc3464-multi.eml", DSN_KIND_BOUNCE, DSN_FORMAT_RFC3464, 2,
	  "alice@remote.test", "5.2.2", 1, "over quota. Please direct", "aa11bb22cc",
	  "news-2026-03@sender.test" },
	{ "rfc3464-delayed.eml", DSN_KIND_DELAYED, DSN_FORMAT_RFC3464, 1,
	  "carol@slow.test", "4.4.1", 0, "Connection timed out", "dd44ee55ff",
	  "slow-1@sender.test" },
	{ "rfc3464-relayed.eml", DSN_KIND_DELIVERED, DSN_FORMAT_RFC3464, 2,
	  "dave@remote.test", "2.0.0", 0, "queued as", NULL, NULL },
	{ "rfc3464-base64.eml", DSN_KIND_BOUNCE, DSN_FORMAT_RFC3464, 1,
	  "frank@remote.test", "5.1.1", 1, "Mailbox does not exist", "bb64qpxx01",
	  "bestellung-9@sender.test" },
	{ "broken-boundaries.eml", DSN_KIND_BOUNCE, DSN_FORMAT_RFC3464, 1,
	  "xena@remote.test", "5.7.1", 1, "blocked using", "br0ken0000",
	  "broken-1@sender.test" },
	{ "qmail.eml", DSN_KIND_BOUNCE, DSN_FORMAT_QMAIL, 2, "gone@remote.test", "5.1.1",
	  1, "550 5.1.1 <gone@remote.test>... No such user here", "qm12ab34cd",
	  "qm-original-1@sender.test" },
	{ "no-headers.eml", DSN_KIND_BOUNCE, DSN_FORMAT_QMAIL, 1, "yuri@remote.test",
	  "5.1.2", 1, "couldn't find any host", "nohdr00001", "nohdr-1@sender.test" },
	{ "exim.eml", DSN_KIND_BOUNCE, DSN_FORMAT_EXIM, 3, "henry@remote.test", "5.1.1",
	  1, "Recipient address rejected", "ex99zz88yy", "ex-original-7@sender.test" },
	{ "exim-delay.eml", DSN_KIND_DELAYED, DSN_FORMAT_EXIM, 1, "kim@slow.test",
	  "4.3.0", 0, "451 4.3.0 Temporary lookup failure", NULL, NULL },
	{ "sendmail.eml", DSN_KIND_BOUNCE, DSN_FORMAT_SENDMAIL, 1, "liam@remote.test",
	  "5.1.1", 1, "User unknown", "sm55tt66uu", "sm-original-3@sender.test" },
	{ "sendmail-old.eml", DSN_KIND_BOUNCE, DSN_FORMAT_SENDMAIL, 1, "mia@remote.test",
	  "", 1, "550 <mia@remote.test>... User unknown", NULL, "sm-old-9@sender.test" },
	{ "exchange-o365.eml", DSN_KIND_BOUNCE, DSN_FORMAT_EXCHANGE, 1,
	  "noah@remote.test", "5.1.10", 1, "RESOLVER.ADR.RecipientNotFound", "o365aaa111",
	  "q-figures-2026@sender.test" },
	{ "exchange2007.eml", DSN_KIND_BOUNCE, DSN_FORMAT_EXCHANGE, 1,
	  "olivia@remote.test", "5.1.1", 1,
	  "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", NULL,
	  "plan-77@sender.test" },
	{ "exchange2003.eml", DSN_KIND_BOUNCE, DSN_FORMAT_EXCHANGE, 1,
	  "peter@remote.test", "5.1.1", 1, "does not exist", NULL, NULL },
	{ "gmail.eml", DSN_KIND_BOUNCE, DSN_FORMAT_GMAIL, 1, "quinn@remote.test", "5.1.1",
	  1, "Recipient address rejected", "gm00old111", "gm-old-1@sender.test" },
	{ "gmail-new.eml", DSN_KIND_BOUNCE, DSN_FORMAT_GMAIL, 1, "rose@remote.test",
	  "5.1.1", 1, "does not exist", NULL, NULL },
	{ "yahoo.eml", DSN_KIND_BOUNCE, DSN_FORMAT_YAHOO, 1, "sam@remote.test", "5.7.9",
	  1, "not accepted for policy reasons", "yh33yy44zz", "yh-orig-4@sender.test" },
	{ "arf.eml", DSN_KIND_FEEDBACK, DSN_FORMAT_ARF, 0, NULL, NULL, 0, NULL,
	  "arf7788990", "deals-week10@sender.test" },
	{ "arf-headers.eml", DSN_KIND_FEEDBACK, DSN_FORMAT_ARF, 0, NULL, NULL, 0, NULL,
	  NULL, "march-news-17@sender.test" },
	{ "autoreply-rfc3834.eml", DSN_KIND_AUTOREPLY, DSN_FORMAT_AUTOREPLY, 0, NULL,
	  NULL, 0, NULL, NULL, NULL },
	{ "autoreply-subject.eml", DSN_KIND_AUTOREPLY, DSN_FORMAT_AUTOREPLY, 0, NULL,
	  NULL, 0, NULL, NULL, NULL },
	{ "unknown.eml", DSN_KIND_UNKNOWN, DSN_FORMAT_NONE, 0, NULL, NULL, 0, NULL, NULL,
	  NULL },
};

/* str_eq - NULL-aware string equality for the messages below */
static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

START_TEST(each_form)
{
	const struct expect *e = &expects[_i];
	struct dsn *d;
	size_t len;
	char *msg = read_msg(e->file, &len);

	d = dsn_parse(msg, len, NULL);
	ck_assert_msg(d->kind == e->kind, "%s: kind %s", e->file, dsn_kind_name(d->kind));
	ck_assert_msg(d->format == e->format, "%s: format %s", e->file,
		      dsn_format_name(d->format));
	ck_assert_msg(d->nrcpt == e->nrcpt, "%s: %zu recipients", e->file, d->nrcpt);
	if (e->nrcpt > 0) {
		const struct dsn_recipient *r = &d->rcpt[0];

		ck_assert_msg(str_eq(r->final_recipient, e->rcpt), "%s: recipient %s",
			      e->file, r->final_recipient);
		ck_assert_msg(strcmp(r->status, e->status) == 0, "%s: status %s", e->file,
			      r->status);
		ck_assert_msg(r->permanent == e->permanent, "%s: permanent %d", e->file,
			      r->permanent);
		ck_assert_msg(r->diagnostic != NULL
				  && strstr(r->diagnostic, e->diag_part),
			      "%s: diagnostic \"%s\"", e->file, r->diagnostic);
	}
	ck_assert_msg(str_eq(d->returned.token, e->token), "%s: token %s", e->file,
		      d->returned.token);
	ck_assert_msg(str_eq(d->returned.message_id, e->message_id), "%s: message-id %s",
		      e->file, d->returned.message_id);
	dsn_free(d);
	free(msg);
}
END_TEST

START_TEST(rfc3464_details)
{
	size_t len;
	char *msg = read_msg("rfc3464-postfix.eml", &len);
	struct dsn *d = dsn_parse(msg, len, NULL);

	ck_assert_str_eq(d->reporting_mta, "relay.remote.test");
	ck_assert_str_eq(d->postfix_queue_id, "4Xb1C2Dq3z9aB");
	ck_assert_str_eq(d->rcpt[0].original_recipient, "nobody@remote.test");
	ck_assert_str_eq(d->rcpt[0].remote_mta, "inbox.remote.test");
	ck_assert_str_eq(d->rcpt[0].diagnostic_type, "smtp");
	ck_assert_int_eq(d->rcpt[0].smtp_code, 550);
	/* The continuation line is unfolded into one. */
	ck_assert_str_eq(d->rcpt[0].diagnostic,
			 "550 5.1.1 <nobody@remote.test>: Recipient address rejected: "
			 "User unknown in local recipient table");
	ck_assert_str_eq(d->self.message_id,
			 "20260302100005.4Xb1C2Dq3z9aB@relay.remote.test");
	ck_assert_str_eq(d->auto_submitted, "auto-replied");
	dsn_free(d);
	free(msg);

	msg = read_msg("rfc3464-multi.eml", &len);
	d = dsn_parse(msg, len, NULL);
	ck_assert_int_eq(d->nrcpt, 2);
	ck_assert_str_eq(d->rcpt[0].original_recipient, "Alice@Remote.test");
	ck_assert_str_eq(d->rcpt[0].last_attempt_date, "Tue, 3 Mar 2026 08:14:59 +0100");
	ck_assert_int_eq(d->rcpt[1].action, DSN_ACTION_DELAYED);
	ck_assert_str_eq(d->rcpt[1].diagnostic_type, "x-gateway");
	ck_assert_str_eq(d->arrival_date, "Tue, 3 Mar 2026 08:00:00 +0100");
	ck_assert_str_eq(d->received_from_mta, "mx.sender.test");
	dsn_free(d);
	free(msg);

	msg = read_msg("arf.eml", &len);
	d = dsn_parse(msg, len, NULL);
	ck_assert_str_eq(d->feedback.feedback_type, "abuse");
	ck_assert_str_eq(d->feedback.user_agent, "ExampleFBL/2.1");
	ck_assert_str_eq(d->feedback.original_rcpt_to, "tina@isp.test");
	ck_assert_str_eq(d->feedback.original_mail_from,
			 "b+arf7788990@bounces.sender.test");
	ck_assert_str_eq(d->feedback.source_ip, "198.51.100.7");
	ck_assert_str_eq(d->feedback.arrival_date, "Sat, 7 Mar 2026 17:55:00 +0000");
	dsn_free(d);
	free(msg);
}
END_TEST

START_TEST(token_header_prefix)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@x.test\nSubject: Undelivered Mail\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=Z\n\n"
	    "--Z\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; x.test\n\nFinal-Recipient: rfc822; a@b.test\n"
	    "Action: failed\nStatus: 5.1.1\n\n"
	    "--Z\nContent-Type: text/rfc822-headers\n\n"
	    "X-Acme-Token: AbC123\nX-Posthook-Token: wrong\nMessage-Id: <m@x>\n--Z--\n";
	struct dsn_options opt = { .token_header = "X-Acme-Token" };
	struct dsn *d = dsn_parse(msg, sizeof(msg) - 1, &opt);

	ck_assert_str_eq(d->returned.token, "AbC123");
	ck_assert_str_eq(d->returned.message_id, "m@x");
	dsn_free(d);
}
END_TEST

/* nested - depth levels of multipart/mixed around a DSN */
static char *
nested(int depth, size_t *len)
{
	struct buf b;
	int i;

	buf_init(&b);
	buf_puts(&b, "From: MAILER-DAEMON@deep.test\nSubject: Undeliverable\n");
	for (i = 0; i < depth; i++)
		buf_printf(&b,
			   "Content-Type: multipart/mixed; boundary=\"L%d\"\n\n--L%d\n",
			   i, i);
	buf_puts(
	    &b,
	    "Content-Type: message/delivery-status\n\n"
	    "Final-Recipient: rfc822; deep@deep.test\nAction: failed\nStatus: 5.1.1\n\n");
	for (i = depth - 1; i >= 0; i--)
		buf_printf(&b, "--L%d--\n", i);
	*len = b.len;
	return buf_take(&b);
}

START_TEST(deep_nesting)
{
	size_t len;
	char *msg = nested(100, &len);
	struct dsn *d = dsn_parse(msg, len, NULL);

	/* Cut at 20 levels: nothing found, and said so. */
	ck_assert(d->warnings & DSN_WARN_DEPTH);
	ck_assert_int_eq(d->nrcpt, 0);
	dsn_free(d);
	free(msg);

	/* Within the cap the report is found. */
	msg = nested(10, &len);
	d = dsn_parse(msg, len, NULL);
	ck_assert_int_eq(d->kind, DSN_KIND_BOUNCE);
	ck_assert_int_eq(d->nrcpt, 1);
	ck_assert(!(d->warnings & DSN_WARN_DEPTH));
	dsn_free(d);
	free(msg);
}
END_TEST

/* A base64 part read to its end warns of nothing; a stray byte is bad encoding. */
START_TEST(base64_part_warnings)
{
	static const char head[] =
	    "From: MAILER-DAEMON@b64.test\nSubject: Undelivered Mail\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"Q\"\n\n"
	    "--Q\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n";
	/* "Final-Recipient: rfc822; x@b64.test\nAction: failed\nStatus: 5.1.1\n" */
	static const char body[] =
	    "RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IHhAYjY0LnRlc3QKQWN0aW9uOiBmYWlsZWQK\n"
	    "U3RhdHVzOiA1LjEuMQo=\n";
	char *msg;
	struct dsn *d;

	msg = xasprintf("%s%s--Q--\n", head, body);
	d = dsn_parse(msg, strlen(msg), NULL);
	ck_assert_int_eq(d->nrcpt, 1);
	ck_assert_str_eq(d->rcpt[0].status, "5.1.1");
	ck_assert_uint_eq(d->warnings & (DSN_WARN_PART_CAP | DSN_WARN_ENCODING), 0);
	dsn_free(d);
	free(msg);

	msg = xasprintf("%s*%s--Q--\n", head, body);
	d = dsn_parse(msg, strlen(msg), NULL);
	ck_assert_int_eq(d->nrcpt, 1);
	ck_assert(d->warnings & DSN_WARN_ENCODING);
	ck_assert(!(d->warnings & DSN_WARN_PART_CAP));
	dsn_free(d);
	free(msg);
}
END_TEST

START_TEST(huge_part)
{
	static const char head[] =
	    "From: MAILER-DAEMON@big.test\nSubject: Undelivered Mail\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"Q\"\n\n"
	    "--Q\nContent-Type: message/delivery-status\n\n"
	    "Final-Recipient: rfc822; big@big.test\nAction: failed\nStatus: 5.2.2\n"
	    "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n\n"
	    "--Q\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n";
	size_t big = 50u << 20, len = sizeof(head) - 1 + big + 8, i;
	char *msg = xmalloc(len);
	struct timespec t0, t1;
	struct dsn *d;
	double secs;

	memcpy(msg, head, sizeof(head) - 1);
	for (i = 0; i < big; i++)
		msg[sizeof(head) - 1 + i] = (i % 77 == 76) ? '\n' : "QUJD"[i % 4];
	memcpy(msg + sizeof(head) - 1 + big, "\n--Q--\n", 8);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	d = dsn_parse(msg, len, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs =
	    (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_int_eq(d->kind, DSN_KIND_BOUNCE);
	ck_assert_int_eq(d->nrcpt, 1);
	ck_assert_str_eq(d->rcpt[0].status, "5.2.2");
	ck_assert(d->warnings & DSN_WARN_TRUNCATED);
	ck_assert_msg(secs < 10.0, "took %.2f s", secs);
	dsn_free(d);
	free(msg);
}
END_TEST

START_TEST(million_recipients)
{
	struct buf b;
	struct dsn *d;
	int i;

	buf_init(&b);
	buf_puts(
	    &b,
	    "From: MAILER-DAEMON@many.test\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=M\n\n"
	    "--M\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; many.test\n\n");
	for (i = 0; i < 1000000; i++)
		buf_printf(&b,
			   "Final-Recipient: rfc822; u%d@many.test\nAction: failed\n"
			   "Status: 5.1.1\n\n",
			   i);
	buf_puts(&b, "--M--\n");
	d = dsn_parse(b.data, b.len, NULL);
	ck_assert_int_eq(d->kind, DSN_KIND_BOUNCE);
	ck_assert_int_eq(d->nrcpt, DSN_MAX_RECIPIENTS);
	ck_assert(d->rcpt_seen > DSN_MAX_RECIPIENTS);
	ck_assert(d->warnings & DSN_WARN_RCPT_CAP);
	ck_assert_str_eq(d->rcpt[999].final_recipient, "u999@many.test");
	dsn_free(d);
	buf_free(&b);
}
END_TEST

START_TEST(garbage)
{
	static const char nul[] = "\0\0\0From: x\n\n\0";
	static const char unclosed[] =
	    "Content-Type: multipart/report; boundary=\"U\"\n\n--U\n"
	    "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; u@u.test\n"
	    "Action: failed\nStatus: 5.0.0\n";
	static const char no_boundary[] =
	    "Content-Type: multipart/report\nFrom: mailer-daemon@x.test\n\n"
	    "<who@x.test>: 550 5.1.1 no such user\n";
	unsigned char *junk;
	unsigned seed = 12345;
	struct dsn *d;
	size_t i, round;

	d = dsn_parse(NULL, 0, NULL);
	ck_assert_int_eq(d->kind, DSN_KIND_UNKNOWN);
	dsn_free(d);
	d = dsn_parse(nul, sizeof(nul) - 1, NULL);
	ck_assert_int_eq(d->kind, DSN_KIND_UNKNOWN);
	dsn_free(d);

	d = dsn_parse(unclosed, sizeof(unclosed) - 1, NULL);
	ck_assert_int_eq(d->kind, DSN_KIND_BOUNCE);
	ck_assert(d->warnings & DSN_WARN_BOUNDARY);
	dsn_free(d);

	d = dsn_parse(no_boundary, sizeof(no_boundary) - 1, NULL);
	ck_assert(d->warnings & DSN_WARN_BOUNDARY);
	ck_assert_int_eq(d->kind, DSN_KIND_BOUNCE);
	ck_assert_str_eq(d->rcpt[0].final_recipient, "who@x.test");
	dsn_free(d);

	/* Random bytes: every string out is clean UTF-8 without controls. */
	junk = xmalloc(65536);
	for (round = 0; round < 50; round++) {
		json_object *o;
		const char *s;

		for (i = 0; i < 65536; i++) {
			seed = seed * 1103515245 + 12345;
			junk[i] = (unsigned char) (seed >> 16);
			if (junk[i] < 0x20 && (seed & 0x100))
				junk[i] = '\n';
		}
		memcpy(junk, "Subject: \xff\xfe\x01 x\nContent-Type: text/plain\n\n", 40);
		d = dsn_parse(junk, 65536, NULL);
		if (d->self.subject != NULL)
			for (s = d->self.subject; *s; s++)
				ck_assert((unsigned char) *s >= 0x20);
		o = dsn_to_json(d);
		ck_assert_ptr_nonnull(json_object_to_json_string(o));
		json_object_put(o);
		dsn_free(d);
	}
	free(junk);
}
END_TEST

START_TEST(verp_tokens)
{
	char t[64];

	ck_assert(bounce_verp_token("b+k3vq9x2m7p@bounces.sender.test",
				    "bounces.sender.test", t, sizeof(t)));
	ck_assert_str_eq(t, "k3vq9x2m7p");
	/* Servers that change case: still found, lowercased. */
	ck_assert(bounce_verp_token("<B+K3VQ9X2M7P@Bounces.Sender.TEST>",
				    "bounces.sender.test", t, sizeof(t)));
	ck_assert_str_eq(t, "k3vq9x2m7p");
	ck_assert(bounce_verp_token("b+abc@any.test", "", t, sizeof(t)));
	ck_assert(
	    !bounce_verp_token("b+abc@other.test", "bounces.sender.test", t, sizeof(t)));
	ck_assert(!bounce_verp_token("postmaster@bounces.sender.test",
				     "bounces.sender.test", t, sizeof(t)));
	ck_assert(!bounce_verp_token("b+@bounces.sender.test", NULL, t, sizeof(t)));
	ck_assert(!bounce_verp_token("b+a;b@bounces.sender.test", NULL, t, sizeof(t)));
	ck_assert(!bounce_verp_token(NULL, NULL, t, sizeof(t)));
}
END_TEST

/* ---------------------------------------------------- intake on a store */

struct put_ctx {
	const char *qid;
	const char *token;
	const char *mid;
	const char *rcpt2; /* a second recipient, or NULL */
};

/* put_message - a message record of the order mail, stored */
static int
put_message(const struct put_ctx *p)
{
	struct message_record *r = message_record_new();
	int status;

	r->queue_id = xstrdup(p->qid);
	r->token = xstrdup(p->token);
	r->message_id = xstrdup(p->mid);
	r->from = xstrdup("orders@sender.test");
	r->subject = xstrdup("Your order #1234");
	r->timestamp = 1772445600.5;
	r->tag = xstrdup("orders");
	r->metadata = json_tokener_parse("{\"order\":\"1234\"}");
	message_record_add_recipient(r, "nobody@remote.test");
	if (p->rcpt2 != NULL) {
		message_record_add_recipient(r, p->rcpt2);
		message_record_add_recipient(r, "full@remote.test");
	}
	status = test_message_put(test_store, r);
	message_record_free(r);
	return status;
}

static void
put2(const char *qid, const char *token, const char *mid, const char *rcpt2)
{
	struct put_ctx p = { qid, token, mid, rcpt2 };

	ck_assert_int_eq(put_message(&p), STORE_OK);
}

static void
put(const char *qid, const char *token, const char *mid)
{
	struct put_ctx p = { qid, token, mid, NULL };

	ck_assert_int_eq(put_message(&p), STORE_OK);
}

struct take_ctx {
	struct outbox_event **evs;
	int n;
};

/* take - what the intake queued */
static int
take(struct take_ctx *t)
{
	return test_outbox_take(test_store, 100, &t->evs, &t->n);
}

/* intake - parse a test message and run the intake on it */
static void
intake(const char *file, const char *rcpt, const char *const *own,
       struct bounce_intake *b, struct dsn **d, char **msg)
{
	size_t len;

	*msg = read_msg(file, &len);
	*d = dsn_parse(*msg, len, NULL);
	memset(b, 0, sizeof(*b));
	b->data = *msg;
	b->len = len;
	b->dsn = *d;
	b->recipient = rcpt;
	b->sender = "";
	b->return_path_domain = "bounces.sender.test";
	b->own_hostnames = own;
	b->now = 1772446000.0;
	ck_assert_int_eq(store_run(test_store, bounce_intake_run, b, 0), STORE_OK);
}

START_TEST(intake_reports_once)
{
	struct bounce_intake b;
	struct take_ctx t = { NULL, 0 };
	struct dsn *d;
	char *msg;
	json_object *p = NULL, *v, *om;

	put("4Xb1C2Dq3z9aB", "k3vq9x2m7p", "order-1234.5678@sender.test");
	/* A remote's bounce (its queue id is not ours) via the VERP address. */
	intake("rfc3464-postfix.eml", "b+K3VQ9X2M7P@bounces.sender.test", NULL, &b, &d,
	       &msg);
	/* The record's queue id equals X-Postfix-Queue-ID here: own notice. */
	ck_assert_int_eq(b.outcome, BOUNCE_OWN_NDR);
	ck_assert_int_eq(b.reported, 0);
	dsn_free(d);
	free(msg);

	/* The same message recorded under another queue id: a remote bounce. */
	put("7QQQQQQQQQ", "k3vq9x2m7p", "order-1234.5678@sender.test");
	intake("rfc3464-postfix.eml", "b+K3VQ9X2M7P@bounces.sender.test", NULL, &b, &d,
	       &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_REPORTED);
	ck_assert_int_eq(b.reported, 1);
	ck_assert_str_eq(b.linked_by, "verp");
	ck_assert_int_eq(take(&t), STORE_OK);
	ck_assert_int_eq(t.n, 1);
	ck_assert_int_eq(t.evs[0]->type, EV_MESSAGE_BOUNCED);
	p = t.evs[0]->payload;
	ck_assert(json_object_object_get_ex(p, "status", &v));
	ck_assert_str_eq(json_object_get_string(v), "HardFail");
	ck_assert(json_object_object_get_ex(p, "classification", &v));
	ck_assert_str_eq(json_object_get_string(v), "invalid_recipient");
	ck_assert(json_object_object_get_ex(p, "classification_code", &v));
	ck_assert_int_eq(json_object_get_int(v), 10);
	ck_assert(json_object_object_get_ex(p, "smtp_enhanced_code", &v));
	ck_assert_str_eq(json_object_get_string(v), "5.1.1");
	ck_assert(json_object_object_get_ex(p, "remote_host", &v));
	ck_assert_str_eq(json_object_get_string(v), "inbox.remote.test");
	ck_assert(json_object_object_get_ex(p, "recipient", &v));
	ck_assert_str_eq(json_object_get_string(v), "nobody@remote.test");
	ck_assert(json_object_object_get_ex(p, "diagnostic", &v));
	ck_assert_ptr_nonnull(strstr(json_object_get_string(v), "User unknown"));
	ck_assert(json_object_object_get_ex(p, "original_message", &om));
	ck_assert(json_object_object_get_ex(om, "token", &v));
	ck_assert_str_eq(json_object_get_string(v), "k3vq9x2m7p");
	ck_assert(json_object_object_get_ex(om, "tag", &v));
	ck_assert_str_eq(json_object_get_string(v), "orders");
	ck_assert(json_object_object_get_ex(om, "metadata", &v));
	ck_assert_ptr_nonnull(v);
	ck_assert(json_object_object_get_ex(p, "bounce", &om));
	ck_assert(json_object_object_get_ex(om, "message_id", &v));
	ck_assert_str_eq(json_object_get_string(v),
			 "20260302100005.4Xb1C2Dq3z9aB@relay.remote.test");
	ck_assert(json_object_object_get_ex(om, "subject", &v));
	ck_assert_str_eq(json_object_get_string(v),
			 "Undelivered Mail Returned to Sender");
	outbox_events_free(t.evs, t.n);
	dsn_free(d);
	free(msg);

	/* Redelivered by Postfix (another Received on top): nothing new. */
	{
		size_t len;
		char *orig = read_msg("rfc3464-postfix.eml", &len);
		char *again =
		    xasprintf("Received: from relay.remote.test by us; now\n%s", orig);

		d = dsn_parse(again, strlen(again), NULL);
		memset(&b, 0, sizeof(b));
		b.data = again;
		b.len = strlen(again);
		b.dsn = d;
		b.recipient = "b+k3vq9x2m7p@bounces.sender.test";
		b.return_path_domain = "bounces.sender.test";
		b.now = 1772446100.0;
		ck_assert_int_eq(store_run(test_store, bounce_intake_run, &b, 0),
				 STORE_OK);
		ck_assert_int_eq(b.outcome, BOUNCE_DUPLICATE);
		ck_assert_int_eq(b.duplicates, 1);
		dsn_free(d);
		free(again);
		free(orig);
	}
}
END_TEST

START_TEST(intake_links_by_header_and_message_id)
{
	static const char *const own[] = { "mx.sender.test", NULL };
	struct bounce_intake b;
	struct take_ctx t = { NULL, 0 };
	struct dsn *d;
	char *msg;

	put2("QM1", "qm12ab34cd", "qm-original-1@sender.test", "GONE@remote.test");
	put("EX7", "other-token", "plan-77@sender.test");
	/* No VERP address: the token header of the quoted message. */
	intake("qmail.eml", "postmaster@bounces.sender.test", own, &b, &d, &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_REPORTED);
	ck_assert_int_eq(b.reported, 2);
	ck_assert_str_eq(b.linked_by, "header");
	dsn_free(d);
	free(msg);
	/* No token anywhere: the Message-ID.  The notice names an address the
	 * message was not sent to: reported, but no more often than the
	 * message had recipients. */
	intake("exchange2007.eml", NULL, own, &b, &d, &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_REPORTED);
	ck_assert_int_eq(b.reported, 1);
	ck_assert_str_eq(b.linked_by, "message-id");
	ck_assert_str_eq(b.queue_id, "EX7");
	dsn_free(d);
	free(msg);
	ck_assert_int_eq(take(&t), STORE_OK);
	ck_assert_int_eq(t.n, 3);
	outbox_events_free(t.evs, t.n);
}
END_TEST

struct list_ctx {
	json_object **recs;
	int n;
};

static int
list(struct store_txn *txn, void *arg)
{
	struct list_ctx *l = arg;

	bounce_records_free(l->recs, l->n);
	l->recs = NULL;
	l->n = 0;
	return bounce_record_list(txn, 0, 100, &l->recs, &l->n);
}

START_TEST(intake_keeps_unmatched_and_complaints)
{
	static const char *const own[] = { "relay.remote.test.", NULL };
	struct bounce_intake b;
	struct take_ctx t = { NULL, 0 };
	struct list_ctx l = { NULL, 0 };
	struct dsn *d;
	char *msg;

	/* Nothing recorded: kept, not dropped. */
	intake("yahoo.eml", "b+yh33yy44zz@bounces.sender.test", NULL, &b, &d, &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_UNMATCHED);
	dsn_free(d);
	free(msg);
	intake("arf.eml", "b+arf7788990@bounces.sender.test", NULL, &b, &d, &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_FEEDBACK);
	dsn_free(d);
	free(msg);
	intake("autoreply-rfc3834.eml", "b+ar11112222@bounces.sender.test", NULL, &b, &d,
	       &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_NOT_BOUNCE);
	dsn_free(d);
	free(msg);
	intake("rfc3464-delayed.eml", NULL, NULL, &b, &d, &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_NOT_BOUNCE);
	dsn_free(d);
	free(msg);
	/* Our own Reporting-MTA (trailing dot and case aside): skipped. */
	put("OTHER", "k3vq9x2m7p", "order-1234.5678@sender.test");
	intake("rfc3464-postfix.eml", "b+k3vq9x2m7p@bounces.sender.test", own, &b, &d,
	       &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_OWN_NDR);
	dsn_free(d);
	free(msg);

	ck_assert_int_eq(take(&t), STORE_OK);
	ck_assert_int_eq(t.n, 0);
	outbox_events_free(t.evs, t.n);
	ck_assert_int_eq(store_run(test_store, list, &l, 0), STORE_OK);
	ck_assert_int_eq(l.n, 2);
	bounce_records_free(l.recs, l.n);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dsn");
	TCase *tc = tcase_create("parser");
	TCase *ti = tcase_create("intake");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, each_form, 0,
			    (int) (sizeof(expects) / sizeof(expects[0])));
	tcase_add_test(tc, rfc3464_details);
	tcase_add_test(tc, token_header_prefix);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, base64_part_warnings);
	tcase_add_test(tc, huge_part);
	tcase_add_test(tc, million_recipients);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, verp_tokens);
	suite_add_tcase(s, tc);
	test_store_fixture(ti, "check_dsn");
	tcase_set_timeout(ti, 120);
	tcase_add_test(ti, intake_reports_once);
	tcase_add_test(ti, intake_links_by_header_and_message_id);
	tcase_add_test(ti, intake_keeps_unmatched_and_complaints);
	suite_add_tcase(s, ti);
	return test_run_suite(s);
}
