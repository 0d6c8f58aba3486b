/*
 * check_parse_line.c - unit tests of logtail/parse_line.c and
 * parse_message.c: every prefix form, both queue id forms, every message
 * kind the tailer reads, year
 * inference, and bad input; and of what feeds it: linereader.c (offsets,
 * partial and over-long lines) and fingerprint.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "logfile/fingerprint.h"
#include "../logtail/linereader.h"
#include "../logtail/parse_line.h"

#include "testlib.h"

static struct log_line L;

/* P - parse a NUL-terminated line into L, returning parse_line's value. */
static int
P(const char *line)
{
	return (parse_line(line, strlen(line), &L));
}

#define ck_span(s, str)                                                                  \
	ck_assert_msg(span_eq((s), (str)), "expected '%s', got '%.*s'", (str),           \
		      (int) (s).len, (s).p)

/* The stamp memo: every line parses as parse_line() parses it alone. */
START_TEST(stamp_memo)
{
	static const char *const lines[] = {
		"Nov  3 14:02:11 mx1 postfix/smtp[1]: 4BDD63F45: to=<a@b>",
		"Nov  3 14:02:11 mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"Nov  3 14:02:11.250 mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"Nov  3 14:02:11.5 mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"Nov  3 14:02:12 mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"2026-11-23T21:40:34.123456+01:00 host postfix/qmgr[2]: 4BDD63F45: removed",
		"Nov  3 14:02:12 mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"Nov  3 14:02:12",
		"Nov  3 14:02:12 ",
		"Nov 03 14:02:12 mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"Dec 31 23:59:60 mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"Dec 31 23:59:6x mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"Dec 31 23:59:60 mx1 postfix/qmgr[2]: 4BDD63F45: removed",
		"Nov  3 14:02:12 mx1 other[2]: 4BDD63F45: removed",
	};
	struct stamp_memo memo;
	struct log_line want, got;
	size_t i;
	int rw, rg;

	memset(&memo, 0, sizeof(memo));
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		rw = parse_line(lines[i], strlen(lines[i]), &want);
		rg = parse_line_memo(lines[i], strlen(lines[i]), &got, &memo);
		ck_assert_msg(rw == rg, "line %zu: %d, %d", i, rw, rg);
		if (rw != 0)
			continue;
		ck_assert_msg(memcmp(&want.stamp, &got.stamp, sizeof(want.stamp)) == 0,
			      "line %zu", i);
		ck_assert_int_eq(want.kind, got.kind);
		ck_assert_int_eq(want.msg.len, got.msg.len);
	}
	/* The memo is used: a line with the same stamp gets the memo's. */
	memo.stamp.hour = 7;
	ck_assert_int_eq(parse_line_memo(lines[6], strlen(lines[6]), &got, &memo), 0);
	ck_assert_int_eq(got.stamp.hour, 7);
}
END_TEST

START_TEST(classic_syslog_prefix)
{
	ck_assert_int_eq(P("Nov  3 14:02:11 mx1 postfix/smtp[123]: 4BDD63F45: "
			   "to=<a@example.com>, relay=none, delay=1, "
			   "delays=0/0/1/0, dsn=4.4.1, status=deferred (x)"),
			 0);
	ck_assert_int_eq(L.stamp.mon, 11);
	ck_assert_int_eq(L.stamp.mday, 3);
	ck_assert_int_eq(L.stamp.hour, 14);
	ck_assert_int_eq(L.stamp.min, 2);
	ck_assert_int_eq(L.stamp.sec, 11);
	ck_assert_int_eq(L.stamp.year, 0);
	ck_assert_int_eq(L.stamp.frac_digits, 0);
	ck_span(L.host, "mx1");
	ck_span(L.program, "smtp");
	ck_span(L.syslog_name, "postfix");
	ck_assert_int_eq(L.pid, 123);
	ck_span(L.queue_id, "4BDD63F45");
	ck_assert_int_eq(L.kind, LK_DELIVERY);
}
END_TEST

START_TEST(maillog_file_prefix)
{
	/* Postfix 3.7 postlogd writes strftime("%b %d %H:%M:%S "). */
	ck_assert_int_eq(P("Nov 03 09:05:07 mx1 postfix/qmgr[77]: 4BDD63F45: "
			   "removed"),
			 0);
	ck_assert_int_eq(L.stamp.mday, 3);
	ck_assert_int_eq(L.stamp.hour, 9);
	ck_assert_int_eq(L.kind, LK_QMGR_REMOVED);
	ck_assert_int_eq(P("Dec 24 23:59:59 h postfix/qmgr[77]: 4BDD63F45: removed"), 0);
	ck_assert_int_eq(L.stamp.mday, 24);
	ck_assert_int_eq(L.stamp.mon, 12);
	/* postsuper -d */
	ck_assert_int_eq(P("Nov 03 09:05:07 mx1 postfix/postsuper[78]: 4BDD63F45: "
			   "removed"),
			 0);
	ck_assert_int_eq(L.kind, LK_QMGR_REMOVED);
	ck_assert_int_eq(P("Nov 03 09:05:07 mx1 postfix/postsuper[78]: 4BDD63F45: "
			   "requeued"),
			 0);
	ck_assert_int_eq(L.kind, LK_OTHER);
}
END_TEST

START_TEST(rfc3339_prefix)
{
	ck_assert_int_eq(P("2026-11-23T21:40:34.123456+01:00 host "
			   "postfix/smtp[123]: 4BDD63F45: removed"),
			 0);
	ck_assert_int_eq(L.stamp.year, 2026);
	ck_assert_int_eq(L.stamp.mon, 11);
	ck_assert_int_eq(L.stamp.mday, 23);
	ck_assert_int_eq(L.stamp.usec, 123456);
	ck_assert_int_eq(L.stamp.frac_digits, 6);
	ck_assert_int_eq(L.stamp.has_offset, 1);
	ck_assert_int_eq(L.stamp.offset_sec, 3600);

	double t;

	ck_assert_int_eq(log_stamp_resolve(&L.stamp, 0, &t), 0);
	/* 2026-11-23T20:40:34Z */
	ck_assert_double_eq_tol(t, 1795466434.123456, 1e-6);

	ck_assert_int_eq(P("2026-11-23T21:40:34Z host postfix/smtp[1]: x"), 0);
	ck_assert_int_eq(L.stamp.frac_digits, 0);
	ck_assert_int_eq(log_stamp_resolve(&L.stamp, 0, &t), 0);
	ck_assert_double_eq_tol(t, 1795470034, 1e-6);

	ck_assert_int_eq(P("2026-11-23T21:40:34.5-05:30 host postfix/smtp[1]: x"), 0);
	ck_assert_int_eq(L.stamp.frac_digits, 1);
	ck_assert_int_eq(L.stamp.usec, 500000);
	ck_assert_int_eq(L.stamp.offset_sec, -(5 * 3600 + 30 * 60));
}
END_TEST

START_TEST(journal_fields)
{
	const char *msg = "4BDD63F45: removed";

	ck_assert_int_eq(parse_journal_fields("postfix/qmgr", 12, "77", 2, msg,
					      strlen(msg), 1795466434123456ULL, "h", 1,
					      &L),
			 0);
	ck_span(L.program, "qmgr");
	ck_assert_int_eq(L.pid, 77);
	ck_span(L.queue_id, "4BDD63F45");
	ck_assert_int_eq(L.kind, LK_QMGR_REMOVED);

	double t;

	ck_assert_int_eq(log_stamp_resolve(&L.stamp, 0, &t), 0);
	ck_assert_double_eq_tol(t, 1795466434.123456, 1e-6);
	ck_assert_int_eq(parse_journal_fields("sshd", 4, "1", 1, "x", 1, 1, NULL, 0, &L),
			 -1);
}
END_TEST

START_TEST(syslog_name_paths)
{
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/submission/smtpd[9]: "
			   "3F2F1A0: client=app[10.0.0.5], sasl_method=PLAIN, "
			   "sasl_username=app@example.com"),
			 0);
	ck_span(L.program, "smtpd");
	ck_span(L.syslog_name, "postfix/submission");
	ck_assert_int_eq(L.kind, LK_SMTPD_CLIENT);
	ck_span(L.client_name, "app");
	ck_span(L.client_addr, "10.0.0.5");
	ck_span(L.sasl_username, "app@example.com");

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix-out/smtp[9]: 3F2F1A0: "
			   "to=<a@b.c>, relay=none, delay=0, delays=0/0/0/0, "
			   "dsn=4.4.1, status=deferred (x)"),
			 0);
	ck_span(L.program, "smtp");
	ck_span(L.syslog_name, "postfix-out");

	/* Other programs' lines are not ours. */
	ck_assert_int_eq(P("Nov  3 14:02:11 h dovecot[1]: imap-login: Login"), -1);
	ck_assert_int_eq(L.kind, LK_NONE);
	ck_assert_int_eq(P("Nov  3 14:02:11 h amavis[1]: (01234-01) Passed CLEAN"), -1);
	ck_assert_int_eq(P("Nov  3 14:02:11 h kernel: [1.2] eth0 up"), -1);
}
END_TEST

START_TEST(queue_id_forms)
{
	ck_assert(is_queue_id("4BDD63F45", 9));
	ck_assert(is_queue_id("3Pr6zt1V9vz8Rz1", 15));
	ck_assert(is_queue_id("4Qj5Jb6sHKz9vkJ", 15));
	ck_assert(!is_queue_id("NOQUEUE", 7));
	ck_assert(!is_queue_id("warning", 7));
	ck_assert(!is_queue_id("connect", 7));
	ck_assert(!is_queue_id("abc", 3));

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/qmgr[7]: 4Qj5Jb6sHKz9vkJ: "
			   "from=<a@b.c>, size=1234, nrcpt=2 (queue active)"),
			 0);
	ck_span(L.queue_id, "4Qj5Jb6sHKz9vkJ");
	ck_assert_int_eq(L.kind, LK_QMGR_FROM);
	ck_span(L.from, "a@b.c");
	ck_assert_int_eq(L.size, 1234);
	ck_assert_int_eq(L.nrcpt, 2);

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtpd[7]: NOQUEUE: reject: "
			   "RCPT from x[1.2.3.4]: 554 5.7.1 denied"),
			 0);
	ck_assert_int_eq(L.noqueue, 1);
	ck_assert_int_eq(L.queue_id.len, 0);
	ck_assert_int_eq(L.kind, LK_OTHER);
	ck_assert(strncmp(L.msg.p, "reject: ", 8) == 0);
}
END_TEST

START_TEST(cleanup_message_id)
{
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: "
			   "message-id=<20261103.abc@app.example.com>"),
			 0);
	ck_assert_int_eq(L.kind, LK_CLEANUP_MESSAGE_ID);
	ck_span(L.message_id, "20261103.abc@app.example.com");
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: "
			   "message-id="),
			 0);
	ck_assert_int_eq(L.kind, LK_CLEANUP_MESSAGE_ID);
	ck_assert_int_eq(L.message_id.len, 0);
	/* cleanup logs the header's value from two bytes after its name:
	 * "Message-ID:<x>" loses its '<', a folded one keeps its blank. */
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: "
			   "message-id=20261103.abc@app.example.com>"),
			 0);
	ck_span(L.message_id, "20261103.abc@app.example.com");
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: "
			   "message-id=\t<20261103.abc@app.example.com>"),
			 0);
	ck_span(L.message_id, "20261103.abc@app.example.com");
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: "
			   "message-id=no-brackets@x"),
			 0);
	ck_span(L.message_id, "no-brackets@x");
}
END_TEST

/* The hold lines: what is read from each (NULL, ANY: not checked). */
#define ANY (-1)

static const struct {
	const char *line;
	int kind;
	int milter_hold;
	const char *from;
	const char *to;
	const char *reason;
} holds[] = {
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: hold: "
	  "header Subject: hello from localhost[127.0.0.1]; "
	  "from=<app@example.com> to=<u@example.net> proto=ESMTP "
	  "helo=<app>: review needed",
	  LK_HOLD, 0, "app@example.com", "u@example.net", "review needed" },
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: hold: "
	  "header Subject: hello from localhost[127.0.0.1]; "
	  "from=<app@example.com> to=<u@example.net> proto=ESMTP "
	  "helo=<app>",
	  ANY, ANY, NULL, NULL, "header Subject: hello" },
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: "
	  "milter-hold: END-OF-MESSAGE from localhost[127.0.0.1]: "
	  "milter triggers HOLD action; from=<a@b.c> "
	  "to=<d@e.f> proto=ESMTP helo=<x>",
	  LK_HOLD, 1, NULL, "d@e.f", "milter triggers HOLD action" },
	{ "Nov  3 14:02:11 h postfix/smtpd[8]: 4BDD63F45: hold: "
	  "RCPT from x[192.0.2.1]: <d@e.f>: Recipient address "
	  "triggers HOLD action; from=<a@b.c> to=<d@e.f> "
	  "proto=ESMTP helo=<x>",
	  LK_HOLD, ANY, NULL, NULL, "<d@e.f>: Recipient address triggers HOLD action" },
	/* A header value with "]: " in it: the origin is the last " from ". */
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: hold: "
	  "header Subject: Re: [ops]: disk full from app[192.0.2.10]; "
	  "from=<app@example.com> to=<u@example.net> proto=ESMTP "
	  "helo=<app>",
	  LK_HOLD, 0, "app@example.com", "u@example.net",
	  "header Subject: Re: [ops]: disk full" },
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: hold: "
	  "body see [1]: x from y from app[192.0.2.10]; "
	  "from=<app@example.com> to=<u@example.net> proto=ESMTP "
	  "helo=<app>",
	  LK_HOLD, 0, NULL, NULL, "body see [1]: x from y" },
	/* A client that sent no HELO: proto= without helo=, then the text. */
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: hold: "
	  "header Subject: hello from app[192.0.2.10]; "
	  "from=<app@example.com> to=<u@example.net> proto=SMTP: "
	  "needs review",
	  LK_HOLD, 0, "app@example.com", "u@example.net", "needs review" },
	/* sendmail(1): origin "local", no proto, no helo; and a text. */
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: hold: "
	  "header Subject: cron: [x]: y from local; "
	  "from=<root@h.example> to=<u@example.net>",
	  LK_HOLD, 0, "root@h.example", "u@example.net", "header Subject: cron: [x]: y" },
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: hold: "
	  "header Subject: hi from local; "
	  "from=<root@h.example> to=<u@example.net>: quarantine",
	  LK_HOLD, 0, "root@h.example", "u@example.net", "quarantine" },
	/* A Subject that imitates the envelope: the last "; from=<" is it. */
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: hold: "
	  "header Subject: a; from=<evil@x> to=<evil@y> from app[192.0.2.10]; "
	  "from=<app@example.com> to=<u@example.net> proto=ESMTP "
	  "helo=<app>",
	  LK_HOLD, 0, "app@example.com", "u@example.net",
	  "header Subject: a; from=<evil@x> to=<evil@y>" },
	/* milter-hold whose client name is unknown. */
	{ "Nov  3 14:02:11 h postfix/cleanup[8]: 4BDD63F45: "
	  "milter-hold: END-OF-MESSAGE from unknown[192.0.2.1]: "
	  "milter triggers HOLD action; from=<a@b.c> "
	  "to=<d@e.f> proto=ESMTP helo=<x>",
	  LK_HOLD, 1, "a@b.c", "d@e.f", "milter triggers HOLD action" },
};

START_TEST(hold_lines)
{
	ck_assert_int_eq(P(holds[_i].line), 0);
	if (holds[_i].kind != ANY)
		ck_assert_int_eq(L.kind, holds[_i].kind);
	if (holds[_i].milter_hold != ANY)
		ck_assert_int_eq(L.milter_hold, holds[_i].milter_hold);
	if (holds[_i].from != NULL)
		ck_span(L.from, holds[_i].from);
	if (holds[_i].to != NULL)
		ck_span(L.to, holds[_i].to);
	ck_span(L.hold_reason, holds[_i].reason);
}
END_TEST

START_TEST(qmgr_lines)
{
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/qmgr[7]: 4BDD63F45: "
			   "from=<>, size=2000, nrcpt=1 (queue active)"),
			 0);
	ck_assert_int_eq(L.kind, LK_QMGR_FROM);
	ck_assert_int_eq(L.has_from, 1);
	ck_assert_int_eq(L.from.len, 0);

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/qmgr[7]: 4BDD63F45: "
			   "from=<a@b.c>, status=expired, returned to sender"),
			 0);
	ck_assert_int_eq(L.kind, LK_QMGR_EXPIRED);
	ck_assert_int_eq(L.force_expired, 0);
	ck_span(L.from, "a@b.c");

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/qmgr[7]: 4BDD63F45: "
			   "from=<a@b.c>, status=force-expired, returned to sender"),
			 0);
	ck_assert_int_eq(L.kind, LK_QMGR_EXPIRED);
	ck_assert_int_eq(L.force_expired, 1);
}
END_TEST

START_TEST(delivery_sent_all_fields)
{
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[123]: 4BDD63F45: "
			   "to=<u@example.net>, orig_to=<alias@example.net>, "
			   "relay=mx.example.net[192.0.2.7]:25, conn_use=2, "
			   "delay=1.5, delays=0.1/0.02/0.3/1.08, "
			   "tls=TLSv1.3, dsn=2.0.0, status=sent "
			   "(250 2.0.0 Ok: queued as 9A8B7C6D5)"),
			 0);
	ck_assert_int_eq(L.kind, LK_DELIVERY);
	ck_span(L.to, "u@example.net");
	ck_assert_int_eq(L.has_orig_to, 1);
	ck_span(L.orig_to, "alias@example.net");
	ck_span(L.relay, "mx.example.net[192.0.2.7]:25");
	ck_span(L.relay_host, "mx.example.net");
	ck_span(L.relay_addr, "192.0.2.7");
	ck_span(L.relay_port, "25");
	ck_assert_int_eq(L.conn_use, 2);
	ck_assert_double_eq_tol(L.delay, 1.5, 1e-9);
	ck_assert_int_eq(L.has_delays, 1);
	ck_assert_double_eq_tol(L.delays[0], 0.1, 1e-9);
	ck_assert_double_eq_tol(L.delays[1], 0.02, 1e-9);
	ck_assert_double_eq_tol(L.delays[2], 0.3, 1e-9);
	ck_assert_double_eq_tol(L.delays[3], 1.08, 1e-9);
	ck_span(L.tls, "TLSv1.3");
	ck_span(L.dsn, "2.0.0");
	ck_assert_int_eq(L.status, DS_SENT);
	ck_span(L.text, "250 2.0.0 Ok: queued as 9A8B7C6D5");
	ck_span(L.queued_as, "9A8B7C6D5");
}
END_TEST

START_TEST(delivery_minimal_and_statuses)
{
	/* The other statuses Postfix logs. */
	static const struct {
		const char *line;
		enum delivery_status status;
	} statuses[] = {
		{ "Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: "
		  "to=<u@x.y>, relay=none, delay=0, delays=0/0/0/0, "
		  "dsn=4.7.0, status=SOFTBOUNCE (x)",
		  DS_SOFTBOUNCE },
		{ "Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: "
		  "to=<u@x.y>, relay=mx[1.2.3.4]:25, delay=0, "
		  "delays=0/0/0/0, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)",
		  DS_DELIVERABLE },
		{ "Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: "
		  "to=<u@x.y>, relay=mx[1.2.3.4]:25, delay=0, "
		  "delays=0/0/0/0, dsn=5.1.1, status=undeliverable (x)",
		  DS_UNDELIVERABLE },
	};
	size_t i;

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: "
			   "to=<u@example.net>, relay=none, delay=30, "
			   "delays=0.01/0/30/0, dsn=4.4.1, status=deferred "
			   "(connect to 127.0.0.1[127.0.0.1]:2525: Connection refused)"),
			 0);
	ck_assert_int_eq(L.status, DS_DEFERRED);
	ck_span(L.relay, "none");
	ck_span(L.relay_host, "none");
	ck_assert_int_eq(L.relay_addr.len, 0);
	ck_assert_int_eq(L.has_orig_to, 0);
	ck_assert_int_eq(L.conn_use, 0);
	ck_assert_int_eq(L.tls.len, 0);
	ck_span(L.text, "connect to 127.0.0.1[127.0.0.1]:2525: Connection refused");

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: "
			   "to=<u@example.net>, relay=mx[192.0.2.1]:25, delay=1, "
			   "delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host "
			   "mx[192.0.2.1] said: 550 5.1.1 <u@example.net>: User "
			   "unknown (in reply to RCPT TO command))"),
			 0);
	ck_assert_int_eq(L.status, DS_BOUNCED);
	ck_span(L.text, "host mx[192.0.2.1] said: 550 5.1.1 <u@example.net>: User "
			"unknown (in reply to RCPT TO command)");
	ck_assert_int_eq(L.queued_as.len, 0);

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/local[1]: 4BDD63F45: "
			   "to=<root@h.example>, orig_to=<root>, relay=local, "
			   "delay=0.02, delays=0/0/0/0.01, dsn=2.0.0, status=sent "
			   "(delivered to mailbox)"),
			 0);
	ck_span(L.program, "local");
	ck_span(L.relay, "local");
	ck_span(L.text, "delivered to mailbox");

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		ck_assert_int_eq(P(statuses[i].line), 0);
		ck_assert_int_eq(L.status, statuses[i].status);
	}

	/* IPv6 relay */
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/lmtp[1]: 4BDD63F45: "
			   "to=<u@x.y>, relay=mx[2001:db8::1]:24, delay=0, "
			   "delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)"),
			 0);
	ck_span(L.relay_addr, "2001:db8::1");
	ck_span(L.relay_port, "24");
}
END_TEST

START_TEST(smtpd_pickup_tls)
{
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtpd[5]: 4BDD63F45: "
			   "client=localhost[127.0.0.1]"),
			 0);
	ck_assert_int_eq(L.kind, LK_SMTPD_CLIENT);
	ck_span(L.client_addr, "127.0.0.1");
	ck_assert_int_eq(L.sasl_username.len, 0);

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/pickup[5]: 4BDD63F45: "
			   "uid=1000 from=<app>"),
			 0);
	ck_assert_int_eq(L.kind, LK_PICKUP);
	ck_assert_int_eq(L.uid, 1000);
	ck_span(L.from, "app");
	ck_assert_int_eq(L.orig_id.len, 0);
	/* postsuper -r (Postfix 3.7's log) */
	ck_assert_int_eq(P("Nov 24 04:25:20 mta postfix/pickup[11965]: "
			   "4jYV8w3q1Hz1f2TB: uid=102 from=<app@app.test> "
			   "orig_id=4jYV8v2yQcz1f2Wc"),
			 0);
	ck_assert_int_eq(L.kind, LK_PICKUP);
	ck_span(L.from, "app@app.test");
	ck_span(L.orig_id, "4jYV8v2yQcz1f2Wc");
	ck_assert_int_eq(P("Nov 24 04:25:20 mta postfix/pickup[11965]: "
			   "4jYV8w3q1Hz1f2TB: uid=102 from=<a> orig_id=n?t"),
			 0);
	ck_assert_int_eq(L.orig_id.len, 0);

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[123]: Untrusted TLS "
			   "connection established to mx.example.net[192.0.2.7]:25: "
			   "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
			 0);
	ck_assert_int_eq(L.kind, LK_TLS_ESTABLISHED);
	ck_span(L.relay_host, "mx.example.net");
	ck_span(L.relay_addr, "192.0.2.7");
	ck_span(L.relay_port, "25");
	ck_assert_int_eq(L.pid, 123);

	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[123]: Verified TLS "
			   "connection established to mx[192.0.2.7]:587: TLSv1.2"),
			 0);
	ck_assert_int_eq(L.kind, LK_TLS_ESTABLISHED);
	ck_span(L.relay_port, "587");

	/* A cached TLS connection taken up again (Postfix's smtp_reuse.c
	 * logs it with usage "reused"), in this process or another. */
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[124]: Untrusted TLS "
			   "connection reused to mx.example.net[192.0.2.7]:25: "
			   "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
			 0);
	ck_assert_int_eq(L.kind, LK_TLS_ESTABLISHED);
	ck_span(L.relay_host, "mx.example.net");
	ck_span(L.relay_addr, "192.0.2.7");
	ck_span(L.relay_port, "25");
	ck_assert_int_eq(L.pid, 124);
	/* The server side's lines are no client sessions. */
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtpd[9]: Anonymous TLS "
			   "connection reused from c[192.0.2.9]: TLSv1.3"),
			 0);
	ck_assert_int_eq(L.kind, LK_OTHER);
}
END_TEST

START_TEST(year_inference)
{
	struct log_stamp st;
	double t;
	struct tm tm;
	time_t now, tt;

	setenv("TZ", "UTC", 1);
	tzset();
	/* now: 2027-01-01 00:10:00 UTC; a Dec 31 stamp is last year's. */
	now = 1798762200;
	memset(&st, 0, sizeof(st));
	st.mon = 12;
	st.mday = 31;
	st.hour = 23;
	st.min = 59;
	st.sec = 58;
	ck_assert_int_eq(log_stamp_resolve(&st, now, &t), 0);
	tt = (time_t) t;
	gmtime_r(&tt, &tm);
	ck_assert_int_eq(tm.tm_year + 1900, 2026);
	ck_assert_double_eq_tol(t, 1798761598, 1e-6);

	/* A Jan 1 stamp read then is this year's. */
	st.mon = 1;
	st.mday = 1;
	st.hour = 0;
	st.min = 5;
	st.sec = 0;
	ck_assert_int_eq(log_stamp_resolve(&st, now, &t), 0);
	ck_assert_double_eq_tol(t, 1798761900, 1e-6);

	/* A line a few hours ahead (clock skew) stays in this year. */
	st.hour = 2;
	ck_assert_int_eq(log_stamp_resolve(&st, now, &t), 0);
	tt = (time_t) t;
	gmtime_r(&tt, &tm);
	ck_assert_int_eq(tm.tm_year + 1900, 2027);

	st.mon = 13;
	ck_assert_int_eq(log_stamp_resolve(&st, now, &t), -1);
}
END_TEST

START_TEST(bad_input)
{
	char *big;
	size_t n = 70000;

	ck_assert_int_eq(P(""), -1);
	ck_assert_int_eq(P("Nov"), -1);
	ck_assert_int_eq(P("Nov  3 14:02"), -1);
	ck_assert_int_eq(P("Nov  3 14:02:11 h"), -1);
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[12"), -1);
	ck_assert_int_eq(P("2026-13"), -1);

	/* Truncated delivery lines: no crash, what is there is read. */
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: to=<u@x"), 0);
	ck_assert_int_eq(L.kind, LK_DELIVERY);
	ck_assert_int_eq(L.status, DS_UNKNOWN);
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: to=<u@x.y>, "
			   "relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, "
			   "status=deferred (connect to"),
			 0);
	ck_assert_int_eq(L.status, DS_DEFERRED);
	ck_span(L.text, "connect to");
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: to=<u@x.y>, "
			   "relay=none, delays=0/0"),
			 0);
	ck_assert_int_eq(L.has_delays, 0);
	ck_assert_int_eq(P("Nov  3 14:02:11 h postfix/smtp[1]: Untrusted TLS "
			   "connection established to mx[1.2"),
			 0);
	ck_assert_int_eq(L.kind, LK_OTHER);

	/* A line of more than 64 KiB with NUL bytes and invalid UTF-8. */
	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	{
		const char *head =
		    "Nov  3 14:02:11 h postfix/smtp[1]: 4BDD63F45: "
		    "to=<u@x.y>, relay=mx[1.2.3.4]:25, delay=1, delays=0/0/1/0, "
		    "dsn=5.0.0, status=bounced (";
		size_t hl = strlen(head);

		memcpy(big, head, hl);
		for (size_t i = hl; i < n - 1; i++)
			big[i] = (char) (i % 7 == 0 ? 0 : (i % 5 == 0 ? 0xff : 'a'));
		big[n - 1] = ')';
		ck_assert_int_eq(parse_line(big, n, &L), 0);
		ck_assert_int_eq(L.status, DS_BOUNCED);
		ck_assert_uint_eq(L.text.len, n - hl - 1);
	}
	free(big);
}
END_TEST

/* pipe_with - a pipe whose read end holds len bytes of data. */
static int
pipe_with(const char *data, size_t len)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], data, len), (ssize_t) len);
	close(fds[1]);
	return (fds[0]);
}

START_TEST(linereader_offsets_and_partial_lines)
{
	const char data[] = "one\ntwo\n\nthree-without-newline";
	int fd = pipe_with(data, sizeof(data) - 1);
	struct linereader *lr = linereader_new(fd, 100);
	const char *line;
	size_t len;
	uint64_t off;
	int cut;

	ck_assert_int_eq(linereader_next(lr, &line, &len, &off, &cut), 0);
	ck_assert_int_gt(linereader_fill(lr), 0);
	ck_assert_int_eq(linereader_next(lr, &line, &len, &off, &cut), 1);
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_eq(off, 100);
	ck_assert(memcmp(line, "one", 3) == 0);
	ck_assert_int_eq(linereader_next(lr, &line, &len, &off, &cut), 1);
	ck_assert_uint_eq(off, 104);
	ck_assert_int_eq(linereader_next(lr, &line, &len, &off, &cut), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(off, 108);
	/* Half a line is not handed out until it ends, or the file does. */
	ck_assert_int_eq(linereader_next(lr, &line, &len, &off, &cut), 0);
	ck_assert_uint_eq(linereader_offset(lr), 109);
	ck_assert_int_eq(linereader_fill(lr), 0);
	ck_assert_int_eq(linereader_finish(lr, &line, &len, &off, &cut), 1);
	ck_assert_uint_eq(len, strlen("three-without-newline"));
	ck_assert_uint_eq(off, 109);
	ck_assert_uint_eq(linereader_offset(lr), sizeof(data) - 1 + 100);
	linereader_free(lr);
	close(fd);
}
END_TEST

START_TEST(linereader_cuts_long_lines)
{
	size_t big = LINE_MAX_BYTES + 5000;
	char *data = malloc(big + 10);
	struct linereader *lr;
	const char *line;
	size_t len, total = 0;
	uint64_t off;
	int cut, fds[2], n = 0;

	ck_assert_ptr_nonnull(data);
	memset(data, 'x', big);
	memcpy(data + big, "\nok\n", 4);
	/* Through a pipe, in pieces, as a growing file would come. */
	ck_assert_int_eq(pipe(fds), 0);
	lr = linereader_new(fds[0], 0);
	for (size_t sent = 0; sent < big + 4;) {
		size_t chunk = big + 4 - sent < 60000 ? big + 4 - sent : 60000;

		ck_assert_int_eq(write(fds[1], data + sent, chunk), (ssize_t) chunk);
		sent += chunk;
		while (total < sent) {
			ssize_t r = linereader_fill(lr);

			ck_assert_int_gt(r, 0);
			total += (size_t) r;
		}
		while (linereader_next(lr, &line, &len, &off, &cut)) {
			if (n == 0) {
				ck_assert_int_eq(cut, 1);
				ck_assert_uint_eq(len, LINE_MAX_BYTES);
			} else {
				ck_assert_int_eq(cut, 0);
				ck_assert_uint_eq(len, 2);
				ck_assert_uint_eq(off, big + 1);
			}
			n++;
		}
	}
	ck_assert_int_eq(n, 2);
	linereader_free(lr);
	close(fds[0]);
	close(fds[1]);
	free(data);
}
END_TEST

START_TEST(fingerprints)
{
	char a[FINGERPRINT_LEN], b[FINGERPRINT_LEN];

	ck_assert_int_eq(fingerprint_bytes("first line\nsecond", 18, a), 1);
	ck_assert_int_eq(fingerprint_bytes("first line\nother", 17, b), 1);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(fingerprint_bytes("first lime\n", 11, b), 1);
	ck_assert_str_ne(a, b);
	/* No whole first line yet: not known. */
	ck_assert_int_eq(fingerprint_bytes("first li", 8, b), 0);
}
END_TEST

/* parse_line_suite - every test above. */
static Suite *
parse_line_suite(void)
{
	Suite *s = suite_create("parse_line");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, classic_syslog_prefix);
	tcase_add_test(tc, maillog_file_prefix);
	tcase_add_test(tc, rfc3339_prefix);
	tcase_add_test(tc, journal_fields);
	tcase_add_test(tc, syslog_name_paths);
	tcase_add_test(tc, queue_id_forms);
	tcase_add_test(tc, cleanup_message_id);
	tcase_add_loop_test(tc, hold_lines, 0, (int) (sizeof(holds) / sizeof(holds[0])));
	tcase_add_test(tc, qmgr_lines);
	tcase_add_test(tc, delivery_sent_all_fields);
	tcase_add_test(tc, delivery_minimal_and_statuses);
	tcase_add_test(tc, smtpd_pickup_tls);
	tcase_add_test(tc, year_inference);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);
	tc = tcase_create("linereader");
	tcase_add_test(tc, linereader_offsets_and_partial_lines);
	tcase_add_test(tc, linereader_cuts_long_lines);
	tcase_add_test(tc, fingerprints);
	tcase_add_test(tc, stamp_memo);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return test_run_suite(parse_line_suite());
}
