/*
 * check_milter_callbacks.c - the milter's callbacks driven through a fake
 * struct mfi_ops (no socket, no MTA) over a real store in a scratch
 * directory: sendmail(1) detection, header removal order, on_bad_metadata
 * replies, no-reply negotiation, and failing open when the store is
 * missing or locked past milter_store_timeout.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../milter/callbacks.h"
#include "../milter/settings.h"
#include "config.h"
#include "message.h"
#include "store.h"
#include "util.h"

#define MAX_EDITS 32

/* What the fake MTA saw and serves. */
struct fake {
	void   *priv;
	const char *daemon_name;
	const char *auth;
	const char *qid;
	int     nedits;
	char    edits[MAX_EDITS][128];	/* "del NAME IDX", "add NAME VALUE" */
	char    reply[128];
};

static struct fake fk;

static char *
fake_getsymval(SMFICTX *ctx, char *name)
{
	(void) ctx;
	if (strcmp(name, "{daemon_name}") == 0)
		return (char *) fk.daemon_name;
	if (strcmp(name, "{auth_authen}") == 0)
		return (char *) fk.auth;
	if (strcmp(name, "i") == 0)
		return (char *) fk.qid;
	return NULL;
}

static int
fake_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	(void) ctx;
	ck_assert_ptr_null(value);
	ck_assert_int_lt(fk.nedits, MAX_EDITS);
	snprintf(fk.edits[fk.nedits++], 128, "del %s %d", name, idx);
	return MI_SUCCESS;
}

static int
fake_addheader(SMFICTX *ctx, char *name, char *value)
{
	(void) ctx;
	ck_assert_int_lt(fk.nedits, MAX_EDITS);
	snprintf(fk.edits[fk.nedits++], 128, "add %s %s", name, value);
	return MI_SUCCESS;
}

static int
fake_setpriv(SMFICTX *ctx, void *priv)
{
	(void) ctx;
	fk.priv = priv;
	return MI_SUCCESS;
}

static void *
fake_getpriv(SMFICTX *ctx)
{
	(void) ctx;
	return fk.priv;
}

static int
fake_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *msg)
{
	(void) ctx;
	snprintf(fk.reply, sizeof(fk.reply), "%s %s %s", rcode, xcode, msg);
	return MI_SUCCESS;
}

static int
fake_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
	(void) ctx;
	(void) stage;
	(void) macros;
	return MI_SUCCESS;
}

static const struct mfi_ops fake_ops = {
	.getsymval = fake_getsymval,
	.chgheader = fake_chgheader,
	.addheader = fake_addheader,
	.setpriv = fake_setpriv,
	.getpriv = fake_getpriv,
	.setreply = fake_setreply,
	.setsymlist = fake_setsymlist,
};

static struct milter_app app;
static char statedir[] = "/tmp/check_milter_cb.XXXXXX";
static SMFICTX *const CTX = (SMFICTX *) &fk;

/* setup_app - settings from key/value pairs, a fresh store. */
static void
setup_app(const char *const *kv)
{
	struct config *cfg = config_new();
	char    err[256];

	for (; kv != NULL && kv[0] != NULL; kv += 2)
		ck_assert_msg(config_set(cfg, kv[0], kv[1], err, sizeof(err)) == 0,
			      "%s", err);
	memset(&fk, 0, sizeof(fk));
	memset(&app, 0, sizeof(app));
	pthread_mutex_init(&app.lock, NULL);
	app.settings = settings_new(cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(app.settings);
	app.mfi = &fake_ops;
	ck_assert_ptr_nonnull(mkdtemp(statedir));
	app.store = store_open(statedir, 0);
	ck_assert_ptr_nonnull(app.store);
	store_set_lock_timeout(app.store, cfg->milter_store_timeout_ms);
	callbacks_init(&app);
}

/* teardown_app - close everything, remove the store. */
static void
teardown_app(void)
{
	char    cmd[128];

	if (app.store != NULL)
		store_close(app.store);
	settings_release(app.settings);
	pthread_mutex_destroy(&app.lock);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", statedir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(statedir, "/tmp/check_milter_cb.XXXXXX");
}

/* connect_from - negotiate and connect from ip:port as host. */
static void
connect_from(const char *host, const char *ip, int port, unsigned long offer)
{
	struct sockaddr_in sin;
	unsigned long a, p, f2, f3;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short) port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	ck_assert_int_eq(cb_negotiate(CTX, SMFIF_ADDHDRS | SMFIF_CHGHDRS, offer,
				      0, 0, &a, &p, &f2, &f3), SMFIS_CONTINUE);
	cb_connect(CTX, (char *) host, (struct sockaddr *) &sin);
}

/* send_msg - MAIL, one RCPT, the headers (name, value, ..., NULL); EOM. */
static sfsistat
send_msg(const char *const *hdrs)
{
	char   *from[] = {"<app@example.com>", NULL};
	char   *rcpt[] = {"<r@dest.test>", NULL};

	cb_envfrom(CTX, from);
	cb_envrcpt(CTX, rcpt);
	for (; hdrs != NULL && hdrs[0] != NULL; hdrs += 2)
		cb_header(CTX, (char *) hdrs[0], (char *) hdrs[1]);
	return cb_eom(CTX);
}

/* has_edit - whether the fake saw this edit (prefix match). */
static int
has_edit(const char *prefix)
{
	int     i;

	for (i = 0; i < fk.nedits; i++)
		if (strncmp(fk.edits[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

struct lookup {
	const char *qid;
	struct message_record *r;
};

static int
lookup_cb(struct store_txn *txn, void *arg)
{
	struct lookup *l = arg;

	message_record_free(l->r);
	l->r = NULL;
	return message_get_by_queue_id(txn, l->qid, &l->r);
}

/* recorded - the record under qid, or NULL. */
static struct message_record *
recorded(const char *qid)
{
	struct lookup l = {qid, NULL};
	int     rc = store_run(app.store, lookup_cb, &l, 0);

	ck_assert(rc == STORE_OK || rc == STORE_NOTFOUND);
	return l.r;
}

START_TEST(test_sendmail_is_outgoing)
{
	static const char *const kv[] = {"internal_hosts", "10.0.0.0/8", NULL};
	static const char *const hdrs[] = {"X-Posthook-Tag", "cli", NULL};
	struct message_record *r;

	setup_app(kv);
	/* cleanup's stand-in client for sendmail(1): localhost, port 0. */
	connect_from("localhost", "127.0.0.1", 0, 0);
	fk.qid = "SENDMAIL0001";
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	ck_assert(has_edit("del X-Posthook-Tag 1"));
	ck_assert(has_edit("add X-Posthook-Token "));
	r = recorded("SENDMAIL0001");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->tag, "cli");
	ck_assert_str_eq(r->from, "app@example.com");
	ck_assert_str_eq(r->recipients[0], "r@dest.test");
	message_record_free(r);
	cb_close(CTX);
	ck_assert_ptr_null(fk.priv);

	/* The same name over SMTP (a real port) is not sendmail(1). */
	memset(&fk, 0, sizeof(fk));
	connect_from("localhost", "127.0.0.1", 40000, 0);
	fk.qid = "SMTPLOCAL001";
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	ck_assert(has_edit("del X-Posthook-Tag 1"));
	ck_assert(!has_edit("add X-Posthook-Token"));
	ck_assert_ptr_null(recorded("SMTPLOCAL001"));
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_remove_last_first)
{
	static const char *const hdrs[] = {
		"X-Posthook-Tag", "a", "x-posthook-tag", "b", "X-Posthook-Tag", "c",
		"X-Posthook-Token", "zzzz", NULL};

	setup_app(NULL);
	connect_from("app.example", "127.0.0.1", 40001, 0);
	fk.qid = "ORDER0000001";
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nedits, 5);
	ck_assert_str_eq(fk.edits[0], "del X-Posthook-Tag 3");
	ck_assert_str_eq(fk.edits[1], "del X-Posthook-Tag 2");
	ck_assert_str_eq(fk.edits[2], "del X-Posthook-Tag 1");
	ck_assert_str_eq(fk.edits[3], "del X-Posthook-Token 1");
	ck_assert(strncmp(fk.edits[4], "add X-Posthook-Token ", 21) == 0);
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_header_prefix)
{
	static const char *const kv[] = {"header_prefix", "X-Postal", NULL};
	static const char *const hdrs[] = {"X-Postal-Tag", "postal",
		"X-Posthook-Tag", "other", NULL};
	struct message_record *r;

	setup_app(kv);
	connect_from("app.example", "127.0.0.1", 40002, 0);
	fk.qid = "PREFIX000001";
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	ck_assert(has_edit("del X-Postal-Tag 1"));
	ck_assert(!has_edit("del X-Posthook-Tag"));
	ck_assert(has_edit("add X-Postal-Token "));
	r = recorded("PREFIX000001");
	ck_assert_str_eq(r->tag, "postal");
	message_record_free(r);
	cb_close(CTX);
	teardown_app();
}
END_TEST

/* bad_metadata - run one bad message under an on_bad_metadata value. */
static void
bad_metadata(const char *action, sfsistat want, const char *want_reply)
{
	const char *const kv[] = {"on_bad_metadata", action, NULL};
	static const char *const hdrs[] = {"X-Posthook-Metadata", "{\"a\": 1}", NULL};

	setup_app(kv);
	connect_from("app.example", "127.0.0.1", 40003, 0);
	fk.qid = "BADMETA00001";
	ck_assert_int_eq(send_msg(hdrs), want);
	ck_assert_str_eq(fk.reply, want_reply);
	cb_close(CTX);
	teardown_app();
}

START_TEST(test_on_bad_metadata)
{
	bad_metadata("tempfail", SMFIS_TEMPFAIL,
		     "451 4.7.1 Invalid X-Posthook-Tag or X-Posthook-Metadata header");
	bad_metadata("reject", SMFIS_REJECT,
		     "550 5.7.1 Invalid X-Posthook-Tag or X-Posthook-Metadata header");
	bad_metadata("accept", SMFIS_CONTINUE, "");
}
END_TEST

START_TEST(test_noreply_negotiated)
{
	static char name[] = "Subject", value[] = "hi";
	char   *from[] = {"<a@b>", NULL};

	setup_app(NULL);
	connect_from("app.example", "127.0.0.1", 40004,
		     SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR
		     | SMFIP_NOBODY);
	ck_assert_int_eq(cb_envfrom(CTX, from), SMFIS_NOREPLY);
	ck_assert_int_eq(cb_envrcpt(CTX, from), SMFIS_NOREPLY);
	ck_assert_int_eq(cb_header(CTX, name, value), SMFIS_NOREPLY);
	ck_assert_int_eq(cb_abort(CTX), SMFIS_CONTINUE);
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_no_store_fails_open)
{
	static const char *const hdrs[] = {"X-Posthook-Tag", "t", NULL};

	setup_app(NULL);
	store_close(app.store);
	app.store = NULL;
	connect_from("app.example", "127.0.0.1", 40005, 0);
	fk.qid = "NOSTORE00001";
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	ck_assert(has_edit("del X-Posthook-Tag 1"));
	ck_assert(!has_edit("add X-Posthook-Token"));
	cb_close(CTX);
	teardown_app();
}
END_TEST

/* A transaction that holds the message sequence's lock for a while. */
static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held_cv = PTHREAD_COND_INITIALIZER;
static int held;

static int
hold_cb(struct store_txn *txn, void *arg)
{
	uint64_t n;
	int     rc = store_seq_next(txn, "message", &n);

	(void) arg;
	pthread_mutex_lock(&held_mu);
	held = 1;
	pthread_cond_signal(&held_cv);
	pthread_mutex_unlock(&held_mu);
	usleep(3000 * 1000);
	return rc;
}

static void *
holder(void *arg)
{
	(void) arg;
	store_run(app.store, hold_cb, NULL, 0);
	return NULL;
}

START_TEST(test_locked_store_fails_open_fast)
{
	static const char *const kv[] = {"milter_store_timeout", "200ms", NULL};
	static const char *const hdrs[] = {"X-Posthook-Tag", "t", NULL};
	pthread_t t;
	int64_t start, took;

	setup_app(kv);
	held = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, holder, NULL), 0);
	pthread_mutex_lock(&held_mu);
	while (!held)
		pthread_cond_wait(&held_cv, &held_mu);
	pthread_mutex_unlock(&held_mu);
	connect_from("app.example", "127.0.0.1", 40006, 0);
	fk.qid = "LOCKED000001";
	start = monotonic_ms();
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	took = monotonic_ms() - start;
	/* Bounded by milter_store_timeout (200 ms), not by the holder (3 s). */
	ck_assert_msg(took < 2500, "end of message took %lld ms", (long long) took);
	ck_assert(has_edit("del X-Posthook-Tag 1"));
	ck_assert(!has_edit("add X-Posthook-Token"));
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ptr_null(recorded("LOCKED000001"));
	cb_close(CTX);
	teardown_app();
}
END_TEST

int
main(void)
{
	Suite  *s = suite_create("milter_callbacks");
	TCase  *tc = tcase_create("callbacks");
	SRunner *sr;
	int     failed;

	tcase_add_test(tc, test_sendmail_is_outgoing);
	tcase_add_test(tc, test_remove_last_first);
	tcase_add_test(tc, test_header_prefix);
	tcase_add_test(tc, test_on_bad_metadata);
	tcase_add_test(tc, test_noreply_negotiated);
	tcase_add_test(tc, test_no_store_fails_open);
	tcase_add_test(tc, test_locked_store_fails_open_fast);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
