/*
 * check_complaint.c - abuse reports (ARF) about our messages: the
 * MessageComplained payload and the recipient who complained, from the
 * parsed report alone (complaint.c, pure), and the bounce intake on a real
 * store: a report sent to the feedback-loop address linked by its
 * Original-Mail-From, the token header or the Message-ID, queued once, with
 * the message's tenant.  The reports are files of tests/bounce/dsn/.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce/bounce_intake.h"
#include "bounce/complaint.h"
#include "bounce/dsn.h"
#include "store/bounce_record.h"
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

/* str_member - o's member key as a string, or NULL (null or absent) */
static const char *
str_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

START_TEST(complaint_fields)
{
	static char *one[] = { "tina@isp.test", NULL };
	static char *two[] = { "a@isp.test", "TINA@isp.test", NULL };
	static char *others[] = { "a@isp.test", "b@isp.test", NULL };
	static const char empty[] =
	    "Content-Type: multipart/report; report-type=feedback-report; boundary=x\n"
	    "\n--x\nContent-Type: message/feedback-report\n\n\n--x--\n";
	struct event_message m;
	struct dsn *d;
	json_object *p, *om;
	size_t len;
	char *msg = read_msg("arf.eml", &len);

	d = dsn_parse(msg, len, NULL);
	/* Original-Rcpt-To when the message went there, whatever its case. */
	ck_assert_str_eq(complaint_recipient(d, two), "TINA@isp.test");
	ck_assert_str_eq(complaint_recipient(d, one), "tina@isp.test");
	ck_assert_str_eq(complaint_recipient(d, others), "tina@isp.test");
	memset(&m, 0, sizeof(m));
	m.id = 7;
	m.token = (char *) "arf7788990";
	m.message_id = (char *) "deals-week10@sender.test";
	m.to = (char *) "tina@isp.test";
	p = complaint_payload(d, &m);
	/* The members, in the order of the sample event and docs/events.md. */
	{
		static const char *const keys[] = { "original_message", "feedback_type",
						    "user_agent",	"source_ip",
						    "arrival_date",	"reporting_mta" };
		size_t i = 0;

		json_object_object_foreach(p, k, v)
		{
			(void) v;
			ck_assert_uint_lt(i, 6);
			ck_assert_str_eq(k, keys[i]);
			i++;
		}
		ck_assert_uint_eq(i, 6);
	}
	ck_assert_str_eq(str_member(p, "feedback_type"), "abuse");
	ck_assert_str_eq(str_member(p, "user_agent"), "ExampleFBL/2.1");
	ck_assert_str_eq(str_member(p, "source_ip"), "198.51.100.7");
	ck_assert_str_eq(str_member(p, "arrival_date"), "Sat, 7 Mar 2026 17:55:00 +0000");
	ck_assert_ptr_null(str_member(p, "reporting_mta"));
	ck_assert(json_object_object_get_ex(p, "original_message", &om));
	ck_assert_str_eq(str_member(om, "token"), "arf7788990");
	ck_assert_str_eq(str_member(om, "to"), "tina@isp.test");
	json_object_put(p);
	dsn_free(d);
	free(msg);

	/* Redacted: Received-Date, Reporting-MTA without its "dns;". */
	msg = read_msg("arf-headers.eml", &len);
	d = dsn_parse(msg, len, NULL);
	ck_assert_str_eq(complaint_recipient(d, one), "tina@isp.test");
	ck_assert_str_eq(complaint_recipient(d, others), "redacted@mailbox.test");
	ck_assert_str_eq(complaint_recipient(d, NULL), "redacted@mailbox.test");
	p = complaint_payload(d, &m);
	ck_assert_str_eq(str_member(p, "source_ip"), "2001:db8::25");
	ck_assert_str_eq(str_member(p, "arrival_date"), "Sun, 8 Mar 2026 09:10:00 +0000");
	ck_assert_str_eq(str_member(p, "reporting_mta"), "fbl.mailbox.test");
	json_object_put(p);
	dsn_free(d);
	free(msg);

	/* A report with no fields at all: every one null, never a crash. */
	d = dsn_parse(empty, strlen(empty), NULL);
	ck_assert_int_eq(d->kind, DSN_KIND_FEEDBACK);
	ck_assert_ptr_null(complaint_recipient(d, others));
	p = complaint_payload(d, &m);
	ck_assert_ptr_null(str_member(p, "feedback_type"));
	ck_assert_ptr_null(str_member(p, "user_agent"));
	ck_assert_ptr_null(str_member(p, "reporting_mta"));
	json_object_put(p);
	dsn_free(d);
}
END_TEST

/* ---------------------------------------------------- intake on a store */

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

struct list_ctx {
	json_object **recs;
	int n;
};

/* list - the kept bounce records */
static int
list(struct store_txn *txn, void *arg)
{
	struct list_ctx *l = arg;

	bounce_records_free(l->recs, l->n);
	l->recs = NULL;
	l->n = 0;
	return bounce_record_list(txn, 0, 100, &l->recs, &l->n);
}

/* intake - parse a test message and run the intake on it */
static void
intake(const char *file, const char *rcpt, struct bounce_intake *b, struct dsn **d,
       char **msg)
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
	b->now = 1772906000.0;
	ck_assert_int_eq(store_run(test_store, bounce_intake_run, b, 0), STORE_OK);
}

/* put_fbl - a message of the tenant "shop" to tina@isp.test */
static void
put_fbl(const char *qid, const char *token, const char *mid)
{
	struct message_record *r = message_record_new();

	r->queue_id = xstrdup(qid);
	r->token = xstrdup(token);
	r->message_id = xstrdup(mid);
	r->from = xstrdup("deals@sender.test");
	r->subject = xstrdup("Weekly deals");
	r->timestamp = 1772905000.25;
	r->tenant = xstrdup("shop");
	message_record_add_recipient(r, "tina@isp.test");
	ck_assert_int_eq(test_message_put(test_store, r), STORE_OK);
	message_record_free(r);
}

START_TEST(intake_complaints)
{
	struct bounce_intake b;
	struct take_ctx t = { NULL, 0 };
	struct list_ctx l = { NULL, 0 };
	struct dsn *d;
	char *msg, *key, *at;
	json_object *p, *om;

	put_fbl("FBL1", "arf7788990", "deals-week10@sender.test");
	put_fbl("FBL2", "mn17mn17mn", "march-news-17@sender.test");
	/* To the feedback-loop address: linked by the VERP address in its
	 * Original-Mail-From. */
	intake("arf.eml", "fbl@sender.test", &b, &d, &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_COMPLAINED);
	ck_assert_str_eq(bounce_outcome_name(b.outcome), "complained");
	ck_assert_int_eq(b.reported, 1);
	ck_assert_str_eq(b.linked_by, "verp");
	ck_assert_str_eq(b.queue_id, "FBL1");
	ck_assert_int_eq(take(&t), STORE_OK);
	ck_assert_int_eq(t.n, 1);
	ck_assert_int_eq(t.evs[0]->type, EV_MESSAGE_COMPLAINED);
	ck_assert_str_eq(t.evs[0]->tenant, "shop");
	key = xasprintf("complaint:%s", b.id);
	ck_assert_str_eq(t.evs[0]->key, key);
	free(key);
	p = t.evs[0]->payload;
	ck_assert_str_eq(str_member(p, "feedback_type"), "abuse");
	ck_assert_str_eq(str_member(p, "user_agent"), "ExampleFBL/2.1");
	ck_assert_str_eq(str_member(p, "source_ip"), "198.51.100.7");
	ck_assert(json_object_object_get_ex(p, "original_message", &om));
	ck_assert_str_eq(str_member(om, "token"), "arf7788990");
	ck_assert_str_eq(str_member(om, "message_id"), "deals-week10@sender.test");
	ck_assert_str_eq(str_member(om, "to"), "tina@isp.test");
	ck_assert_str_eq(str_member(om, "from"), "deals@sender.test");
	ck_assert_str_eq(str_member(om, "subject"), "Weekly deals");
	outbox_events_free(t.evs, t.n);
	t.evs = NULL;
	/* Delivered again: nothing new. */
	dsn_free(d);
	d = dsn_parse(msg, strlen(msg), NULL);
	b.dsn = d;
	ck_assert_int_eq(store_run(test_store, bounce_intake_run, &b, 0), STORE_OK);
	ck_assert_int_eq(b.outcome, BOUNCE_DUPLICATE);
	ck_assert_int_eq(b.reported, 0);

	/* Original-Mail-From names no message: the token header of the
	 * attached message. */
	at = strstr(msg, "b+arf7788990@");
	ck_assert_ptr_nonnull(at);
	memcpy(at, "b+zzzzzzzzzz@", 13);
	dsn_free(d);
	d = dsn_parse(msg, strlen(msg), NULL);
	b.dsn = d;
	b.id[0] = 0;
	ck_assert_int_eq(store_run(test_store, bounce_intake_run, &b, 0), STORE_OK);
	ck_assert_int_eq(b.outcome, BOUNCE_COMPLAINED);
	ck_assert_str_eq(b.linked_by, "header");
	dsn_free(d);
	free(msg);

	/* Redacted addresses, headers only: the Message-ID. */
	intake("arf-headers.eml", "fbl@sender.test", &b, &d, &msg);
	ck_assert_int_eq(b.outcome, BOUNCE_COMPLAINED);
	ck_assert_str_eq(b.linked_by, "message-id");
	ck_assert_str_eq(b.queue_id, "FBL2");
	ck_assert_int_eq(take(&t), STORE_OK);
	ck_assert_int_eq(t.n, 2);
	p = t.evs[1]->payload;
	ck_assert_str_eq(str_member(p, "reporting_mta"), "fbl.mailbox.test");
	ck_assert(json_object_object_get_ex(p, "original_message", &om));
	/* The only recipient, not the redacted address. */
	ck_assert_str_eq(str_member(om, "to"), "tina@isp.test");
	ck_assert_str_eq(str_member(om, "token"), "mn17mn17mn");
	outbox_events_free(t.evs, t.n);
	dsn_free(d);
	free(msg);

	/* Reported complaints are not kept as bounces. */
	ck_assert_int_eq(store_run(test_store, list, &l, 0), STORE_OK);
	ck_assert_int_eq(l.n, 0);
	bounce_records_free(l.recs, l.n);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("complaint");
	TCase *tc = tcase_create("payload");
	TCase *ti = tcase_create("intake");

	tcase_add_test(tc, complaint_fields);
	suite_add_tcase(s, tc);
	test_store_fixture(ti, "check_complaint");
	tcase_set_timeout(ti, 60);
	tcase_add_test(ti, intake_complaints);
	suite_add_tcase(s, ti);
	return test_run_suite(s);
}
