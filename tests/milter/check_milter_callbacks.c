/*
 * check_milter_callbacks.c - the milter's callbacks driven through a fake
 * struct mfi_ops (no socket, no MTA) over a real store in a scratch
 * directory: sendmail(1) detection, header removal order, on_bad_metadata
 * replies, no-reply negotiation, failing open when the store is missing
 * or locked past milter_store_timeout, the VERP return path
 * (return_path_domain): set, unset, null sender, re-entry, refused, the
 * tenant each record names, from the rules read into the cache, and the
 * send limit's hold (quarantine) and defer (451 4.7.1) with its events.
 */
#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../milter/callbacks.h"
#include "../milter/record.h"
#include "../milter/settings.h"
#include "bounce/bounce_intake.h"
#include "config/config.h"
#include "store/message.h"
#include "store/outbox.h"
#include "store/store.h"
#include "tenant/tenant.h"
#include "util/util.h"

#include "testlib.h"

#define MAX_EDITS 32

/* What the fake MTA saw and serves. */
struct fake {
	void *priv;
	const char *daemon_name;
	const char *auth;
	const char *qid;
	int nedits;
	char edits[MAX_EDITS][128]; /* "del NAME IDX", "add NAME VALUE" */
	char reply[128];
	unsigned long actions; /* offered; 0: ADDHDRS|CHGHDRS|CHGFROM */
	unsigned long pf0;     /* what the milter asked for */
	unsigned long pf1;     /* the steps it skips or leaves unanswered */
	int chgfrom_fail;      /* smfi_chgfrom returns MI_FAILURE */
	int nchgfrom;
	char chgfrom[300]; /* last sender set */
	int nquarantine;   /* smfi_quarantine calls */
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

static int
fake_chgfrom(SMFICTX *ctx, char *mail, char *args)
{
	(void) ctx;
	ck_assert_ptr_null(args);
	fk.nchgfrom++;
	snprintf(fk.chgfrom, sizeof(fk.chgfrom), "%s", mail);
	return fk.chgfrom_fail ? MI_FAILURE : MI_SUCCESS;
}

static int
fake_quarantine(SMFICTX *ctx, char *reason)
{
	(void) ctx;
	ck_assert_str_eq(reason, "posthook send limit");
	fk.nquarantine++;
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
	.chgfrom = fake_chgfrom,
	.quarantine = fake_quarantine,
};

static struct milter_app app;
static char statedir[TEST_DIR_MAX];
static SMFICTX *const CTX = (SMFICTX *) &fk;

/* setup_app - settings from key/value pairs, a fresh store. */
static void
setup_app(const char *const *kv)
{
	struct config *cfg = config_new();
	char err[256];

	for (; kv != NULL && kv[0] != NULL; kv += 2)
		ck_assert_msg(config_set(cfg, kv[0], kv[1], err, sizeof(err)) == 0, "%s",
			      err);
	memset(&fk, 0, sizeof(fk));
	memset(&app, 0, sizeof(app));
	pthread_mutex_init(&app.lock, NULL);
	app.settings = settings_new(cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(app.settings);
	app.mfi = &fake_ops;
	app.store = test_store_make(statedir, sizeof(statedir), "check_milter_cb");
	store_set_lock_timeout(app.store, cfg->milter_store_timeout_ms);
	callbacks_init(&app);
}

/* teardown_app - close everything, remove the store. */
static void
teardown_app(void)
{
	test_store_remove(app.store, statedir);
	settings_release(app.settings);
	pthread_mutex_destroy(&app.lock);
}

/* connect_from - negotiate and connect from ip:port as host. */
static void
connect_from(const char *host, const char *ip, int port, unsigned long offer)
{
	struct sockaddr_in sin;
	unsigned long f2, f3;
	unsigned long actions =
	    fk.actions ? fk.actions : SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short) port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	ck_assert_int_eq(
	    cb_negotiate(CTX, actions, offer, 0, 0, &fk.pf0, &fk.pf1, &f2, &f3),
	    SMFIS_CONTINUE);
	cb_connect(CTX, (char *) host, (struct sockaddr *) &sin);
}

/* send_from - MAIL FROM sender, one RCPT, the headers (name, value, ...,
 * NULL); EOM. */
static sfsistat
send_from(const char *sender, const char *const *hdrs)
{
	char *from[] = { (char *) sender, NULL };
	char *rcpt[] = { "<r@dest.test>", NULL };

	cb_envfrom(CTX, from);
	cb_envrcpt(CTX, rcpt);
	for (; hdrs != NULL && hdrs[0] != NULL; hdrs += 2)
		cb_header(CTX, (char *) hdrs[0], (char *) hdrs[1]);
	return cb_eom(CTX);
}

/* send_msg - send_from the application's usual sender. */
static sfsistat
send_msg(const char *const *hdrs)
{
	return send_from("<app@example.com>", hdrs);
}

/* has_edit - whether the fake saw this edit (prefix match). */
static int
has_edit(const char *prefix)
{
	int i;

	for (i = 0; i < fk.nedits; i++)
		if (strncmp(fk.edits[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

/* recorded - the record under qid, or NULL. */
static struct message_record *
recorded(const char *qid)
{
	return test_message_find(app.store, message_get_by_queue_id, qid);
}

START_TEST(test_sendmail_is_outgoing)
{
	static const char *const kv[] = { "internal_hosts", "10.0.0.0/8", NULL };
	static const char *const hdrs[] = { "X-Posthook-Tag", "cli", NULL };
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
	static const char *const hdrs[] = { "X-Posthook-Tag",
					    "a",
					    "x-posthook-tag",
					    "b",
					    "X-Posthook-Tag",
					    "c",
					    "X-Posthook-Token",
					    "zzzz",
					    NULL };

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
	static const char *const kv[] = { "header_prefix", "X-Postal", NULL };
	static const char *const hdrs[] = { "X-Postal-Tag", "postal", "X-Posthook-Tag",
					    "other", NULL };
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
	const char *const kv[] = { "on_bad_metadata", action, NULL };
	static const char *const hdrs[] = { "X-Posthook-Metadata", "{\"a\": [1]}", NULL };

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
	char *from[] = { "<a@b>", NULL };

	setup_app(NULL);
	connect_from("app.example", "127.0.0.1", 40004,
		     SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR
			 | SMFIP_NOBODY | SMFIP_NODATA | SMFIP_NR_DATA);
	ck_assert(fk.pf1 & SMFIP_NOBODY);
	/* DATA is answered: on inet: an unanswered DATA packet stalls 40 ms. */
	ck_assert(!(fk.pf1 & (SMFIP_NODATA | SMFIP_NR_DATA)));
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
	static const char *const hdrs[] = { "X-Posthook-Tag", "t", NULL };

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
	int rc = store_seq_next(txn, "message", &n);

	(void) arg;
	pthread_mutex_lock(&held_mu);
	held = 1;
	pthread_cond_signal(&held_cv);
	pthread_mutex_unlock(&held_mu);
	usleep(3000 * 1000);
	return rc;
}

/* holder - hold the store for 3 s; NULL when its transaction committed */
static void *
holder(void *arg)
{
	static char failed;

	(void) arg;
	if (store_run(app.store, hold_cb, NULL, 0) != STORE_OK)
		return &failed;
	return NULL;
}

START_TEST(test_locked_store_fails_open_fast)
{
	static const char *const kv[] = { "milter_store_timeout", "200ms", NULL };
	static const char *const hdrs[] = { "X-Posthook-Tag", "t", NULL };
	pthread_t t;
	void *held_rc;
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
	ck_assert_int_eq(pthread_join(t, &held_rc), 0);
	ck_assert_ptr_null(held_rc);
	ck_assert_ptr_null(recorded("LOCKED000001"));
	cb_close(CTX);
	teardown_app();
}
END_TEST

/* added_token - the token header the last message got ("" if none). */
static const char *
added_token(void)
{
	static const char add[] = "add X-Posthook-Token ";
	int i;

	for (i = fk.nedits - 1; i >= 0; i--)
		if (strncmp(fk.edits[i], add, strlen(add)) == 0)
			return fk.edits[i] + strlen(add);
	return "";
}

/* next_message - forget what the fake saw of the last message. */
static void
next_message(const char *qid)
{
	fk.nedits = 0;
	fk.nchgfrom = 0;
	fk.chgfrom[0] = 0;
	fk.qid = qid;
}

START_TEST(test_verp_set)
{
	static const char *const kv[] = { "return_path_domain", "Bounces.Example.COM.",
					  NULL };
	static const char *const hdrs[] = { "X-Posthook-Tag", "verp", NULL };
	struct message_record *r;
	char want[300], tok[80], upper[300];
	const char *token;
	size_t i;

	setup_app(kv);
	ck_assert_str_eq(app.settings->verp_domain, "bounces.example.com");
	connect_from("app.example", "127.0.0.1", 40010, 0);
	ck_assert(fk.pf0 & SMFIF_CHGFROM);
	next_message("VERPSET00001");
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	token = added_token();
	ck_assert_int_eq((int) strlen(token), 24);
	snprintf(want, sizeof(want), "<b+%s@bounces.example.com>", token);
	ck_assert_int_eq(fk.nchgfrom, 1);
	ck_assert_str_eq(fk.chgfrom, want);
	r = recorded("VERPSET00001");
	ck_assert_ptr_nonnull(r);
	/* from: the application's sender; the VERP address beside it. */
	ck_assert_str_eq(r->from, "app@example.com");
	ck_assert_str_eq(r->token, token);
	want[strlen(want) - 1] = 0;
	ck_assert_str_eq(r->verp_sender, want + 1);
	/* ... which the bounce intake reads back, whatever its case. */
	ck_assert(
	    bounce_verp_token(r->verp_sender, "bounces.example.com", tok, sizeof(tok)));
	ck_assert_str_eq(tok, token);
	for (i = 0; r->verp_sender[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char) toupper((unsigned char) r->verp_sender[i]);
	upper[i] = 0;
	ck_assert(bounce_verp_token(upper, "bounces.example.com", tok, sizeof(tok)));
	ck_assert_str_eq(tok, token);
	message_record_free(r);

	/* Postfix's own null-sender mail keeps <>. */
	next_message("VERPNULL0001");
	ck_assert_int_eq(send_from("<>", hdrs), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nchgfrom, 0);
	r = recorded("VERPNULL0001");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->from, "");
	ck_assert_ptr_null(r->verp_sender);
	message_record_free(r);

	/* Incoming mail is not touched. */
	cb_close(CTX);
	connect_from("mx.outside.test", "192.0.2.7", 40011, 0);
	next_message("VERPIN000001");
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nchgfrom, 0);
	ck_assert_ptr_null(recorded("VERPIN000001"));
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_verp_unset)
{
	static const char *const hdrs[] = { "X-Posthook-Tag", "plain", NULL };
	struct message_record *r;

	setup_app(NULL);
	ck_assert_ptr_null(app.settings->verp_domain);
	connect_from("app.example", "127.0.0.1", 40012, 0);
	/* Not asked for when not needed. */
	ck_assert(!(fk.pf0 & SMFIF_CHGFROM));
	next_message("VERPUNSET001");
	ck_assert_int_eq(send_msg(hdrs), SMFIS_CONTINUE);
	ck_assert(has_edit("add X-Posthook-Token "));
	ck_assert_int_eq(fk.nchgfrom, 0);
	r = recorded("VERPUNSET001");
	ck_assert_str_eq(r->from, "app@example.com");
	ck_assert_ptr_null(r->verp_sender);
	message_record_free(r);
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_verp_reentry)
{
	static const char *const kv[] = { "return_path_domain", "bounces.example.com",
					  NULL };
	const char *hdrs[] = { "X-Posthook-Token", NULL, NULL };
	struct message_record *r;
	char token[32], verp[300], bare[300], sender[310];

	setup_app(kv);
	connect_from("app.example", "127.0.0.1", 40013, 0);
	next_message("REENTRY00001");
	ck_assert_int_eq(send_msg(NULL), SMFIS_CONTINUE);
	snprintf(token, sizeof(token), "%s", added_token());
	snprintf(verp, sizeof(verp), "%s", fk.chgfrom);
	ck_assert_int_eq(fk.nchgfrom, 1);
	snprintf(bare, sizeof(bare), "%.*s", (int) strlen(verp) - 2, verp + 1);

	/* Back from a content filter: token header and VERP sender. */
	hdrs[1] = token;
	next_message("REENTRY00002");
	ck_assert_int_eq(send_from(verp, hdrs), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nchgfrom, 0); /* not wrapped twice */
	ck_assert_str_eq(added_token(), token);
	ck_assert_ptr_null(recorded("REENTRY00001"));
	r = recorded("REENTRY00002");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->from, "app@example.com");
	ck_assert_str_eq(r->token, token);
	ck_assert_str_eq(r->verp_sender, bare);
	message_record_free(r);

	/* Back again with the token header lost: the VERP sender says it. */
	snprintf(sender, sizeof(sender), "%s", verp);
	for (char *p = sender; *p; p++)
		*p = (char) toupper((unsigned char) *p);
	next_message("REENTRY00003");
	ck_assert_int_eq(send_from(sender, NULL), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nchgfrom, 0);
	ck_assert_str_eq(added_token(), token);
	r = recorded("REENTRY00003");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->from, "app@example.com");
	message_record_free(r);

	/* A VERP sender whose token this store never issued: rewrapped. */
	next_message("REENTRY00004");
	ck_assert_int_eq(
	    send_from("<b+aaaaaaaaaaaaaaaaaaaaaaaa@bounces.example.com>", NULL),
	    SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nchgfrom, 1);
	ck_assert_str_ne(added_token(), token);
	snprintf(verp, sizeof(verp), "<b+%s@bounces.example.com>", added_token());
	ck_assert_str_eq(fk.chgfrom, verp);
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_verp_fails_open)
{
	static const char *const kv[] = { "return_path_domain", "bounces.example.com",
					  NULL };
	struct message_record *r;

	/* smfi_chgfrom fails: logged, the message accepted with its token. */
	setup_app(kv);
	connect_from("app.example", "127.0.0.1", 40014, 0);
	fk.chgfrom_fail = 1;
	next_message("CHGFAIL00001");
	ck_assert_int_eq(send_msg(NULL), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nchgfrom, 1);
	ck_assert(has_edit("add X-Posthook-Token "));
	cb_close(CTX);

	/* An MTA that does not offer SMFIF_CHGFROM: no VERP, no call. */
	fk.actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
	fk.chgfrom_fail = 0;
	connect_from("app.example", "127.0.0.1", 40015, 0);
	ck_assert(!(fk.pf0 & SMFIF_CHGFROM));
	next_message("NOCHGFROM001");
	ck_assert_int_eq(send_msg(NULL), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nchgfrom, 0);
	ck_assert(has_edit("add X-Posthook-Token "));
	r = recorded("NOCHGFROM001");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(r->verp_sender);
	message_record_free(r);
	cb_close(CTX);

	/* No store: no token, so no VERP address either. */
	fk.actions = 0;
	store_close(app.store);
	app.store = NULL;
	connect_from("app.example", "127.0.0.1", 40016, 0);
	next_message("VERPNOSTORE1");
	ck_assert_int_eq(send_msg(NULL), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nchgfrom, 0);
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_verp_domain_checked)
{
	static const char *const bad[] = { "bounces.example.com bad",
					   "user@bounces.example.com",
					   "-x.example.com",
					   "x..example.com",
					   "x-.example.com",
					   "<bounces.example.com>",
					   NULL };
	const char *const *b;
	char err[256], addr[VERP_ADDR_MAX + 1];

	for (b = bad; *b != NULL; b++) {
		struct config *cfg = config_new();

		ck_assert_int_eq(
		    config_set(cfg, "return_path_domain", *b, err, sizeof(err)), 0);
		err[0] = 0;
		ck_assert_ptr_null(settings_new(cfg, err, sizeof(err)));
		ck_assert_msg(strncmp(err, "return_path_domain: ", 20) == 0, "%s: %s", *b,
			      err);
	}
	{
		struct config *cfg = config_new();

		/* A bad network is refused when the config is read. */
		ck_assert_int_eq(
		    config_set(cfg, "internal_hosts", "nonsense", err, sizeof(err)), -1);
		ck_assert_msg(strncmp(err, "internal_hosts: ", 16) == 0, "%s", err);
		config_free(cfg);
	}
	ck_assert_int_eq(verp_address("abc", "example.com", addr), 0);
	ck_assert_str_eq(addr, "b+abc@example.com");
}
END_TEST

/* put_tenant_cb - store the tenant given. */
static int
put_tenant_cb(struct store_txn *txn, void *arg)
{
	char err[256];
	int rc = tenant_put(txn, arg, err, sizeof(err));

	ck_assert_msg(rc == STORE_OK, "%s", err);
	return rc;
}

/* put_tenant - a tenant with one rule. */
static void
put_tenant(const char *name, enum tenant_rule_kind kind, const char *value)
{
	struct tenant *t = tenant_new(name);
	char err[256];

	ck_assert_int_eq(tenant_rule_add(t, kind, value, err, sizeof(err)), 0);
	ck_assert_int_eq(store_run(app.store, put_tenant_cb, t, 0), STORE_OK);
	tenant_free(t);
}

/* tenant_of_sent - send one message; the tenant its record names. */
static char *
tenant_of_sent(const char *ip, const char *auth, const char *daemon, const char *sender,
	       const char *qid)
{
	struct message_record *r;
	char *tenant;

	memset(&fk, 0, sizeof(fk));
	fk.daemon_name = daemon;
	connect_from("client.test", ip, 40000, 0);
	fk.auth = auth;
	fk.qid = qid;
	ck_assert_int_eq(send_from(sender, NULL), SMFIS_CONTINUE);
	cb_close(CTX);
	r = recorded(qid);
	ck_assert_ptr_nonnull(r);
	tenant = xstrdup(tenant_of(r->tenant));
	message_record_free(r);
	return tenant;
}

#define ck_tenant(expect, ip, auth, daemon, sender, qid)                                 \
	do {                                                                             \
		char *t_ = tenant_of_sent(ip, auth, daemon, sender, qid);                \
		ck_assert_str_eq(t_, expect);                                            \
		free(t_);                                                                \
	} while (0)

START_TEST(test_tenant_recorded)
{
	static const char *const kv[] = { "internal_hosts", "10.0.0.0/8",
					  "originating_daemons", "submission", NULL };
	struct message_record *r;

	setup_app(kv);
	put_tenant("bysasl", TENANT_RULE_SASL, "shop-app");
	put_tenant("bynet", TENANT_RULE_CLIENT, "10.1.0.0/16");
	put_tenant("bydaemon", TENANT_RULE_DAEMON, "submission");
	put_tenant("bydomain", TENANT_RULE_SENDER_DOMAIN, "blog.test");
	/* No cache: everything is the default tenant's, stored without one. */
	ck_tenant("default", "10.1.2.3", "shop-app", NULL, "<a@blog.test>", "TEN0");
	r = recorded("TEN0");
	ck_assert_ptr_null(r->tenant);
	message_record_free(r);

	app.tenants = tenant_cache_new();
	ck_tenant("default", "10.1.2.3", "shop-app", NULL, "<a@blog.test>", "TEN1");
	ck_assert_int_eq(tenant_cache_refresh(app.tenants, app.store, 0), 0);
	ck_tenant("bysasl", "10.1.2.3", "shop-app", NULL, "<a@blog.test>", "TEN2");
	ck_tenant("bynet", "10.1.2.3", NULL, "submission", "<a@blog.test>", "TEN3");
	ck_tenant("bydaemon", "10.2.2.3", NULL, "submission", "<a@blog.test>", "TEN4");
	ck_tenant("bydomain", "10.2.2.3", NULL, "smtpd", "<a@Blog.Test>", "TEN5");
	ck_tenant("default", "10.2.2.3", NULL, "smtpd", "<a@other.test>", "TEN6");

	/* A change is read at the next refresh, not before. */
	put_tenant("other", TENANT_RULE_SENDER_DOMAIN, "other.test");
	ck_tenant("default", "10.2.2.3", NULL, "smtpd", "<a@other.test>", "TEN7");
	ck_assert_int_eq(tenant_cache_refresh(app.tenants, app.store, 0), 0);
	ck_tenant("other", "10.2.2.3", NULL, "smtpd", "<a@other.test>", "TEN8");
	tenant_cache_free(app.tenants);
	teardown_app();
}
END_TEST

/* send_limit_events - how many SendLimit events were queued. */
static int
send_limit_events(void)
{
	struct outbox_event **evs = NULL;
	int n = 0, i, count = 0;

	ck_assert_int_eq(test_outbox_take(app.store, 100, &evs, &n), STORE_OK);
	for (i = 0; i < n; i++)
		count += evs[i]->type == EV_SEND_LIMIT;
	outbox_events_free(evs, n);
	return count;
}

START_TEST(test_send_limit_hold)
{
	static const char *const kv[] = { "send_limit", "2", "send_limit_action", "hold",
					  NULL };
	static const char *const qids[] = { "HOLD00000001", "HOLD00000002",
					    "HOLD00000003" };
	struct message_record *r;
	int i;

	setup_app(kv);
	fk.actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM | SMFIF_QUARANTINE;
	connect_from("app.example", "127.0.0.1", 40020, 0);
	ck_assert(fk.pf0 & SMFIF_QUARANTINE);
	for (i = 0; i < 3; i++) {
		next_message(qids[i]);
		ck_assert_int_eq(send_msg(NULL), SMFIS_CONTINUE);
		ck_assert_int_eq(fk.nquarantine, i < 2 ? 0 : 1);
		/* held or not, the message is recorded with its token */
		r = recorded(qids[i]);
		ck_assert_ptr_nonnull(r);
		message_record_free(r);
	}
	/* volume 2 of 2: exceeded, once; the held one changes nothing */
	ck_assert_int_eq(send_limit_events(), 1);
	cb_close(CTX);
	/* an MTA that allows no quarantine: the message goes on */
	fk.actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
	connect_from("app.example", "127.0.0.1", 40021, 0);
	next_message("HOLD00000004");
	ck_assert_int_eq(send_msg(NULL), SMFIS_CONTINUE);
	ck_assert_int_eq(fk.nquarantine, 1);
	ck_assert_int_eq(send_limit_events(), 0);
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_send_limit_defer)
{
	static const char *const kv[] = { "send_limit", "1", "send_limit_action", "defer",
					  NULL };

	setup_app(kv);
	connect_from("app.example", "127.0.0.1", 40022, 0);
	next_message("DEFER0000001");
	ck_assert_int_eq(send_msg(NULL), SMFIS_CONTINUE);
	ck_assert_str_eq(fk.reply, "");
	next_message("DEFER0000002");
	ck_assert_int_eq(send_msg(NULL), SMFIS_TEMPFAIL);
	ck_assert_str_eq(fk.reply, "451 4.7.1 Send limit reached, try again later");
	/* deferred: not recorded, no header edits */
	ck_assert_ptr_null(recorded("DEFER0000002"));
	ck_assert_int_eq(fk.nedits, 0);
	ck_assert_int_eq(send_limit_events(), 1);
	/* the retry is deferred again, with no second event */
	next_message("DEFER0000003");
	ck_assert_int_eq(send_msg(NULL), SMFIS_TEMPFAIL);
	ck_assert_int_eq(send_limit_events(), 0);
	cb_close(CTX);
	teardown_app();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("milter_callbacks");
	TCase *tc = tcase_create("callbacks");

	tcase_add_test(tc, test_sendmail_is_outgoing);
	tcase_add_test(tc, test_remove_last_first);
	tcase_add_test(tc, test_header_prefix);
	tcase_add_test(tc, test_on_bad_metadata);
	tcase_add_test(tc, test_noreply_negotiated);
	tcase_add_test(tc, test_no_store_fails_open);
	tcase_add_test(tc, test_locked_store_fails_open_fast);
	tcase_add_test(tc, test_verp_set);
	tcase_add_test(tc, test_verp_unset);
	tcase_add_test(tc, test_verp_reentry);
	tcase_add_test(tc, test_verp_fails_open);
	tcase_add_test(tc, test_verp_domain_checked);
	tcase_add_test(tc, test_tenant_recorded);
	tcase_add_test(tc, test_send_limit_hold);
	tcase_add_test(tc, test_send_limit_defer);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
