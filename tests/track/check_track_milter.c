/*
 * check_track_milter.c - tracking in the milter's callbacks (milter/track.c)
 * through a fake struct mfi_ops over a real store: what is negotiated with
 * tracking off and on, the body replaced and the links recorded under
 * tokens that name them, List-Unsubscribe, and the messages left alone
 * (incoming, opted out, signed, a 50 MB body), and a tenant's settings.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../milter/callbacks.h"
#include "../milter/settings.h"
#include "config/config.h"
#include "store/message.h"
#include "store/store.h"
#include "tenant/tenant.h"
#include "track/token.h"
#include "track/track_key.h"
#include "util/util.h"

#include "testlib.h"

#define TRACK "https://t.example"

/* What the fake MTA saw. */
struct fake {
	void *priv;
	const char *qid;
	char added[8][600]; /* "NAME: VALUE" */
	int nadded;
	char *body; /* what replacebody got */
	unsigned long pf0, pf1;
};

static struct fake fk;
static struct milter_app app;
static char statedir[TEST_DIR_MAX];
static SMFICTX *const CTX = (SMFICTX *) &fk;

static char *
fake_getsymval(SMFICTX *ctx, char *name)
{
	(void) ctx;
	return strcmp(name, "i") == 0 ? (char *) fk.qid : NULL;
}

static int
fake_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	(void) ctx;
	(void) name;
	(void) idx;
	(void) value;
	return MI_SUCCESS;
}

static int
fake_addheader(SMFICTX *ctx, char *name, char *value)
{
	(void) ctx;
	ck_assert_int_lt(fk.nadded, 8);
	snprintf(fk.added[fk.nadded++], 600, "%s: %s", name, value);
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
fake_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
	(void) ctx;
	(void) stage;
	(void) macros;
	return MI_SUCCESS;
}

static int
fake_replacebody(SMFICTX *ctx, unsigned char *body, int len)
{
	(void) ctx;
	ck_assert_ptr_null(fk.body);
	fk.body = strndup((const char *) body, (size_t) len);
	return MI_SUCCESS;
}

static const struct mfi_ops fake_ops = {
	.getsymval = fake_getsymval,
	.chgheader = fake_chgheader,
	.addheader = fake_addheader,
	.setpriv = fake_setpriv,
	.getpriv = fake_getpriv,
	.setsymlist = fake_setsymlist,
	.replacebody = fake_replacebody,
};

/* setup_app - settings from key/value pairs, a fresh store and cache. */
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
	ck_assert_msg(app.settings != NULL, "%s", err);
	app.mfi = &fake_ops;
	app.store = test_store_make(statedir, sizeof(statedir), "check_track_milter");
	app.tenants = tenant_cache_new();
	ck_assert_int_eq(tenant_cache_refresh(app.tenants, app.store, 1), 0);
	callbacks_init(&app);
}

static void
teardown_app(void)
{
	free(fk.body);
	tenant_cache_free(app.tenants);
	test_store_remove(app.store, statedir);
	settings_release(app.settings);
	pthread_mutex_destroy(&app.lock);
}

/* connect_from - negotiate (everything offered) and connect from ip. */
static void
connect_from(const char *ip)
{
	struct sockaddr_in sin;
	unsigned long f2, f3;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	ck_assert_int_eq(
	    cb_negotiate(CTX, SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY,
			 SMFIP_NOBODY | SMFIP_NOHELO | SMFIP_SKIP | SMFIP_NR_HDR, 0, 0,
			 &fk.pf0, &fk.pf1, &f2, &f3),
	    SMFIS_CONTINUE);
	cb_connect(CTX, "app.example", (struct sockaddr *) &sin);
}

/* send_msg - one message with headers (name, value, ..., NULL) and a body in
 * chunks of 7 bytes; the body callback's last answer in *body_rc. */
static void
send_msg(const char *sender, const char *const *hdrs, const char *body, sfsistat *body_rc)
{
	char *from[] = { (char *) sender, NULL };
	char *rcpt[] = { "<r@dest.test>", NULL };
	size_t off, n, len = strlen(body);

	fk.nadded = 0;
	free(fk.body);
	fk.body = NULL;
	cb_envfrom(CTX, from);
	cb_envrcpt(CTX, rcpt);
	for (; hdrs != NULL && hdrs[0] != NULL; hdrs += 2)
		cb_header(CTX, (char *) hdrs[0], (char *) hdrs[1]);
	*body_rc = SMFIS_CONTINUE;
	for (off = 0; off < len && *body_rc == SMFIS_CONTINUE; off += n) {
		n = len - off < 7 ? len - off : 7;
		*body_rc = cb_body(CTX, (unsigned char *) body + off, n);
	}
	ck_assert_int_eq(cb_eom(CTX), SMFIS_CONTINUE);
}

/* added - the value of an added header, or NULL. */
static const char *
added(const char *name)
{
	int i;
	size_t n = strlen(name);

	for (i = 0; i < fk.nadded; i++)
		if (strncmp(fk.added[i], name, n) == 0 && fk.added[i][n] == ':')
			return fk.added[i] + n + 2;
	return NULL;
}

static int
key_cb(struct store_txn *txn, void *key)
{
	return track_key_get(txn, key);
}

/* token_ref - the reference the token after prefix in s names. */
static struct track_ref
token_ref(const char *s, const char *prefix)
{
	unsigned char key[TRACK_KEY_LEN];
	char token[TRACK_TOKEN_SIZE];
	struct track_ref ref;
	const char *p = strstr(s, prefix);

	ck_assert_msg(p != NULL, "%s not in %s", prefix, s);
	snprintf(token, sizeof(token), "%s", p + strlen(prefix));
	ck_assert_int_eq(store_run(app.store, key_cb, key, 0), STORE_OK);
	ck_assert_int_eq(track_token_parse(key, token, &ref), 0);
	return ref;
}

static const char *const html_hdrs[] = { "Content-Type", "text/html; charset=utf-8",
					 NULL };
static const char html[] = "<html><body><a href=\"https://a.example/x?a=1&amp;b=2\">a</a>"
			   "<a href='https://b.example/'>b</a></body></html>\r\n";

START_TEST(test_off_negotiates_as_before)
{
	setup_app(NULL);
	connect_from("127.0.0.1");
	ck_assert_uint_eq(fk.pf0, SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	ck_assert(fk.pf1 & SMFIP_NOBODY);
	ck_assert(!(fk.pf1 & SMFIP_SKIP));
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_tracked)
{
	static const char *const kv[] = { "tracking_url", TRACK "/", "unsubscribe", "yes",
					  NULL };
	struct message_record *r;
	struct track_ref ref;
	sfsistat rc;

	setup_app(kv);
	connect_from("127.0.0.1");
	ck_assert(fk.pf0 & SMFIF_CHGBODY);
	ck_assert(!(fk.pf1 & SMFIP_NOBODY));
	ck_assert(fk.pf1 & SMFIP_SKIP);
	fk.qid = "TRACKED00001";
	send_msg("<app@app.test>", html_hdrs, html, &rc);
	ck_assert_int_eq(rc, SMFIS_CONTINUE);
	ck_assert_ptr_nonnull(fk.body);
	r = test_message_find(app.store, message_get_by_queue_id, fk.qid);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->track, "all");
	ck_assert_str_eq(r->links[0], "https://a.example/x?a=1&b=2");
	ck_assert_str_eq(r->links[1], "https://b.example/");
	ck_assert_ptr_null(r->links[2]);
	/* Each token names this record and its link. */
	ref = token_ref(fk.body, "href='" TRACK "/c/");
	ck_assert(ref.message_id == r->id && ref.kind == TRACK_CLICK && ref.link == 1);
	ref = token_ref(fk.body, "<img src=\"" TRACK "/o/");
	ck_assert(ref.message_id == r->id && ref.kind == TRACK_OPEN);
	ref = token_ref(added("List-Unsubscribe"), "<" TRACK "/u/");
	ck_assert(ref.message_id == r->id && ref.kind == TRACK_UNSUBSCRIBE);
	ck_assert_str_eq(added("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
	message_record_free(r);

	/* Plain text: no HTML, so no body kept. */
	fk.qid = "PLAIN0000001";
	send_msg("<app@app.test>", NULL, "See https://a.example/\r\n", &rc);
	ck_assert_int_eq(rc, SMFIS_SKIP);
	ck_assert_ptr_null(fk.body);
	ck_assert_ptr_nonnull(added("List-Unsubscribe"));

	/* Incoming: not parsed, not replaced, the MTA told to skip the body. */
	fk.qid = "INCOMING0001";
	cb_close(CTX);
	connect_from("198.51.100.9");
	send_msg("<x@elsewhere.test>", html_hdrs, html, &rc);
	ck_assert_int_eq(rc, SMFIS_SKIP);
	ck_assert_ptr_null(fk.body);
	ck_assert_ptr_null(added("List-Unsubscribe"));
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_left_alone)
{
	static const char *const kv[] = {
		"tracking_url", TRACK, "track_max_body", "40", "unsubscribe", "yes", NULL
	};
	static const char *const none[] = { "X-Posthook-Track", "none", "Content-Type",
					    "text/html", NULL };
	static const char *const opens[] = { "X-Posthook-Track", " Opens ",
					     "Content-Type", "text/html", NULL };
	static const char *const dkim[] = { "DKIM-Signature", "v=1; d=app.test",
					    "Content-Type", "text/html", NULL };
	static const char *const own[] = {
		"List-Unsubscribe", "<mailto:u@app.test>, <https://app.test/u?x=1>",
		"Content-Type", "text/html", NULL
	};
	const char small[] = "<a href=\"https://app.test/u?x=1\">u</a>";
	struct message_record *r;
	sfsistat rc;

	setup_app(kv);
	connect_from("127.0.0.1");
	fk.qid = "NONE00000001";
	send_msg("<app@app.test>", none, html, &rc);
	ck_assert_int_eq(rc, SMFIS_SKIP);
	ck_assert_ptr_null(fk.body);
	ck_assert_ptr_nonnull(
	    added("List-Unsubscribe")); /* opting out of tracking only */
	fk.qid = "SIGNED000001";
	send_msg("<app@app.test>", dkim, html, &rc);
	ck_assert_int_eq(rc, SMFIS_SKIP);
	ck_assert_ptr_null(fk.body);
	ck_assert_ptr_null(added("List-Unsubscribe"));
	fk.qid = "TOOBIG000001";
	send_msg("<app@app.test>", html_hdrs, html, &rc);
	ck_assert_int_eq(rc, SMFIS_SKIP);
	ck_assert_ptr_null(fk.body);
	r = test_message_find(app.store, message_get_by_queue_id, fk.qid);
	ck_assert_ptr_null(r->track);
	ck_assert_ptr_null(r->links[0]);
	message_record_free(r);
	/* Only the pixel; the application's own unsubscribe link stays. */
	fk.qid = "OPENS0000001";
	send_msg("<app@app.test>", opens, small, &rc);
	ck_assert_ptr_nonnull(
	    strstr(fk.body, "<a href=\"https://app.test/u?x=1\">u</a><img"));
	fk.qid = "OWNUNSUB0001";
	send_msg("<app@app.test>", own, small, &rc);
	ck_assert_ptr_null(added("List-Unsubscribe"));
	ck_assert_ptr_nonnull(
	    strstr(fk.body, "<a href=\"https://app.test/u?x=1\">u</a><img"));
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_huge_body)
{
	static const char *const kv[] = { "tracking_url", TRACK, NULL };
	size_t total = 50 * 1024 * 1024, chunk = 65536, off;
	char *from[] = { "<app@app.test>", NULL };
	char *rcpt[] = { "<r@dest.test>", NULL };
	unsigned char *buf = malloc(chunk);
	sfsistat rc = SMFIS_CONTINUE;
	int calls = 0;

	/* 50 MB of links: kept up to track_max_body, then skipped, untouched. */
	for (off = 0; off + 40 <= chunk; off += 40)
		memcpy(buf + off, "<a href=\"https://a.example/\">x</a>\r\n   ", 40);
	setup_app(kv);
	connect_from("127.0.0.1");
	fk.qid = "HUGE00000001";
	cb_envfrom(CTX, from);
	cb_envrcpt(CTX, rcpt);
	cb_header(CTX, "Content-Type", "text/html");
	for (off = 0; off < total && rc == SMFIS_CONTINUE; off += chunk, calls++)
		rc = cb_body(CTX, buf, chunk);
	ck_assert_int_eq(rc, SMFIS_SKIP);
	ck_assert_int_eq(calls, 10 * 1024 * 1024 / 65536 + 1);
	ck_assert_int_eq(cb_eom(CTX), SMFIS_CONTINUE);
	ck_assert_ptr_null(fk.body);
	free(buf);
	cb_close(CTX);
	teardown_app();
}
END_TEST

static int
put_tenant_cb(struct store_txn *txn, void *arg)
{
	char err[200];

	return tenant_put(txn, arg, err, sizeof(err));
}

START_TEST(test_tenant_settings)
{
	struct tenant *t = tenant_new("news");
	struct message_record *r;
	char err[200];
	sfsistat rc;

	setup_app(NULL);
	ck_assert_int_eq(
	    tenant_rule_add(t, TENANT_RULE_SENDER_DOMAIN, "news.test", err, sizeof(err)),
	    0);
	t->settings = json_tokener_parse("{\"tracking_url\": \"" TRACK "\","
					 " \"track_opens\": false,"
					 " \"excluded_click_domains\": [\"b.example\"]}");
	ck_assert_int_eq(store_run(app.store, put_tenant_cb, t, 0), STORE_OK);
	tenant_free(t);
	ck_assert_int_eq(tenant_cache_refresh(app.tenants, app.store, 1), 0);

	/* Tracking on for one tenant: bodies are asked for everywhere. */
	connect_from("127.0.0.1");
	ck_assert(fk.pf0 & SMFIF_CHGBODY);
	fk.qid = "TENANT000001";
	send_msg("<app@news.test>", html_hdrs, html, &rc);
	ck_assert_ptr_nonnull(fk.body);
	ck_assert_ptr_null(strstr(fk.body, "<img"));
	ck_assert_ptr_nonnull(strstr(fk.body, "href='https://b.example/'"));
	r = test_message_find(app.store, message_get_by_queue_id, fk.qid);
	ck_assert_str_eq(r->track, "clicks");
	ck_assert_str_eq(r->tenant, "news");
	message_record_free(r);
	/* The default tenant has no tracking_url. */
	fk.qid = "DEFAULT00001";
	send_msg("<app@app.test>", html_hdrs, html, &rc);
	ck_assert_int_eq(rc, SMFIS_SKIP);
	ck_assert_ptr_null(fk.body);
	cb_close(CTX);
	teardown_app();
}
END_TEST

START_TEST(test_bad_tracking_url)
{
	struct config *cfg = config_new();
	char err[256];

	ck_assert_int_eq(
	    config_set(cfg, "tracking_url", "ftp://x.example", err, sizeof(err)), 0);
	ck_assert_ptr_null(settings_new(cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "tracking_url"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("track_milter");
	TCase *tc = tcase_create("track_milter");

	tcase_add_test(tc, test_off_negotiates_as_before);
	tcase_add_test(tc, test_tracked);
	tcase_add_test(tc, test_left_alone);
	tcase_add_test(tc, test_tenant_settings);
	tcase_add_test(tc, test_huge_body);
	tcase_add_test(tc, test_bad_tracking_url);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
