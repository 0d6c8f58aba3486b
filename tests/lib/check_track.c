/*
 * check_track.c - the tracking server's pure parts and its record: tokens
 * (made and parsed back, every changed byte refused, another key refused,
 * bad lengths), paths, the client's address behind trusted proxies, the
 * bot flags, the payloads' members in the seed's order, and a message's
 * activity in the store (kept, listed oldest first, summed up, purged).
 */
#include <check.h>
#include <string.h>

#include "store/activity.h"
#include "testlib.h"
#include "track/hit.h"
#include "track/token.h"
#include "track/track_event.h"
#include "util/cidr.h"

static const unsigned char key1[TRACK_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const unsigned char key2[TRACK_KEY_LEN] = "0123456789abcdef0123456789abcdX";

START_TEST(token_round_trip)
{
	struct track_ref ref = { 1234567890123ULL, TRACK_CLICK, 65535 }, back;
	enum track_kind kinds[] = { TRACK_OPEN, TRACK_CLICK, TRACK_UNSUBSCRIBE };
	char tok[TRACK_TOKEN_SIZE];
	size_t i;

	ck_assert_int_eq(track_token_make(key1, &ref, tok), 0);
	ck_assert_uint_eq(strlen(tok), TRACK_TOKEN_LEN);
	ck_assert_int_eq(track_token_parse(key1, tok, &back), 0);
	ck_assert(back.message_id == ref.message_id);
	ck_assert_int_eq(back.kind, TRACK_CLICK);
	ck_assert_uint_eq(back.link, 65535);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		ref.kind = kinds[i];
		ref.link = kinds[i] == TRACK_CLICK ? 7 : 0;
		ck_assert_int_eq(track_token_make(key1, &ref, tok), 0);
		ck_assert_int_eq(track_token_parse(key1, tok, &back), 0);
		ck_assert_int_eq(back.kind, kinds[i]);
		ck_assert_str_eq(track_path(kinds[i]), kinds[i] == TRACK_OPEN	 ? "o"
						       : kinds[i] == TRACK_CLICK ? "c"
										 : "u");
	}
	/* not encodable: a link past 65535, an unknown kind */
	ref.kind = TRACK_CLICK;
	ref.link = 65536;
	ck_assert_int_eq(track_token_make(key1, &ref, tok), -1);
	ref.kind = (enum track_kind) 'x';
	ref.link = 0;
	ck_assert_int_eq(track_token_make(key1, &ref, tok), -1);
}
END_TEST

START_TEST(token_every_change_refused)
{
	struct track_ref ref = { 42, TRACK_CLICK, 3 }, back;
	char tok[TRACK_TOKEN_SIZE], bad[TRACK_TOKEN_SIZE];
	const char alphabet[] = "0123456789abcdefABCDEF-z";
	size_t i, j;

	ck_assert_int_eq(track_token_make(key1, &ref, tok), 0);
	for (i = 0; i < TRACK_TOKEN_LEN; i++) {
		for (j = 0; j < sizeof(alphabet) - 1; j++) {
			if (alphabet[j] == tok[i])
				continue;
			memcpy(bad, tok, sizeof(bad));
			bad[i] = alphabet[j];
			ck_assert_msg(track_token_parse(key1, bad, &back) == -1,
				      "byte %zu changed to %c accepted", i, alphabet[j]);
		}
	}
	/* another site's key */
	ck_assert_int_eq(track_token_parse(key2, tok, &back), -1);
}
END_TEST

START_TEST(token_bad_lengths)
{
	struct track_ref ref = { 42, TRACK_OPEN, 0 }, back;
	char tok[TRACK_TOKEN_SIZE], longer[TRACK_TOKEN_SIZE + 2];

	ck_assert_int_eq(track_token_make(key1, &ref, tok), 0);
	ck_assert_int_eq(track_token_parse(key1, "", &back), -1);
	tok[TRACK_TOKEN_LEN - 1] = 0;
	ck_assert_int_eq(track_token_parse(key1, tok, &back), -1);
	ck_assert_int_eq(track_token_make(key1, &ref, tok), 0);
	snprintf(longer, sizeof(longer), "%s0", tok);
	ck_assert_int_eq(track_token_parse(key1, longer, &back), -1);
}
END_TEST

START_TEST(paths)
{
	char tok[TRACK_TOKEN_SIZE], path[80];
	struct track_ref ref = { 9, TRACK_UNSUBSCRIBE, 0 };
	enum track_kind kind;
	const char *t;

	ck_assert_int_eq(track_token_make(key1, &ref, tok), 0);
	snprintf(path, sizeof(path), "/u/%s", tok);
	ck_assert_int_eq(track_path_split(path, &kind, &t), 0);
	ck_assert_int_eq(kind, TRACK_UNSUBSCRIBE);
	ck_assert_str_eq(t, tok);
	snprintf(path, sizeof(path), "/x/%s", tok);
	ck_assert_int_eq(track_path_split(path, &kind, &t), -1);
	snprintf(path, sizeof(path), "/o/%s/", tok);
	ck_assert_int_eq(track_path_split(path, &kind, &t), -1);
	snprintf(path, sizeof(path), "/oo/%s", tok);
	ck_assert_int_eq(track_path_split(path, &kind, &t), -1);
	ck_assert_int_eq(track_path_split("/o/", &kind, &t), -1);
	ck_assert_int_eq(track_path_split("/", &kind, &t), -1);
	ck_assert_int_eq(track_path_split("", &kind, &t), -1);
	ck_assert_int_eq(track_path_split(NULL, &kind, &t), -1);
}
END_TEST

START_TEST(client_address)
{
	char *nets[] = { "127.0.0.0/8", "10.0.0.0/8", NULL };
	char err[128], ip[64];
	struct cidr_list *trusted = cidr_list_new(nets, err, sizeof(err));

	ck_assert_ptr_nonnull(trusted);
	/* an untrusted peer: its own address, whatever it forwards */
	ck_assert_int_eq(
	    track_client_ip("198.51.100.1", "203.0.113.9", trusted, ip, sizeof(ip)), 0);
	ck_assert_str_eq(ip, "198.51.100.1");
	/* a trusted peer: the last hop that is not a trusted proxy */
	ck_assert_int_eq(track_client_ip("127.0.0.1", "1.2.3.4, 203.0.113.9, 10.1.1.1",
					 trusted, ip, sizeof(ip)),
			 0);
	ck_assert_str_eq(ip, "203.0.113.9");
	ck_assert_int_eq(
	    track_client_ip("127.0.0.1", " 2001:db8::5 ", trusted, ip, sizeof(ip)), 0);
	ck_assert_str_eq(ip, "2001:db8::5");
	/* all trusted: the first; no header: the peer */
	ck_assert_int_eq(
	    track_client_ip("127.0.0.1", "10.0.0.1,10.0.0.2", trusted, ip, sizeof(ip)),
	    0);
	ck_assert_str_eq(ip, "10.0.0.1");
	ck_assert_int_eq(track_client_ip("127.0.0.1", NULL, trusted, ip, sizeof(ip)), 0);
	ck_assert_str_eq(ip, "127.0.0.1");
	/* a hop that is no address stops at the last trusted one */
	ck_assert_int_eq(track_client_ip("127.0.0.1", "203.0.113.9, junk, 10.0.0.7",
					 trusted, ip, sizeof(ip)),
			 0);
	ck_assert_str_eq(ip, "10.0.0.7");
	ck_assert_int_eq(track_client_ip("127.0.0.1", ",,,", trusted, ip, sizeof(ip)), 0);
	ck_assert_str_eq(ip, "127.0.0.1");
	/* a bad peer, a small buffer */
	ck_assert_int_eq(track_client_ip("nope", NULL, trusted, ip, sizeof(ip)), -1);
	ck_assert_int_eq(track_client_ip("127.0.0.1", NULL, trusted, ip, 4), -1);
	cidr_list_free(trusted);
}
END_TEST

START_TEST(bots)
{
	struct track_facts f;

	memset(&f, 0, sizeof(f));
	f.click_window = 5;
	f.since_sent = 600;
	f.kind = TRACK_OPEN;
	ck_assert_ptr_null(track_bot(&f));
	f.apple = 1;
	ck_assert_str_eq(track_bot(&f), "apple_mpp");
	f.kind = TRACK_CLICK; /* a click from Apple's range is a person's */
	ck_assert_ptr_null(track_bot(&f));
	f.head = 1;
	ck_assert_str_eq(track_bot(&f), "scanner");
	f.head = 0;
	f.since_sent = 2;
	ck_assert_str_eq(track_bot(&f), "scanner");
	f.since_sent = 5;
	ck_assert_ptr_null(track_bot(&f));
	f.all_links_burst = 1;
	ck_assert_str_eq(track_bot(&f), "scanner");
	f.kind = TRACK_UNSUBSCRIBE;
	ck_assert_ptr_null(track_bot(&f));
}
END_TEST

/* keys_are - whether o's members are names, in order. */
static int
keys_are(json_object *o, const char *const *names)
{
	json_object_iter it;
	size_t i = 0;

	json_object_object_foreachC(o, it)
	{
		if (names[i] == NULL || strcmp(names[i], it.key) != 0)
			return 0;
		i++;
	}
	return names[i] == NULL;
}

START_TEST(payloads)
{
	static const char *const loaded[] = { "message", "ip_address", "user_agent",
					      "first",	 "bot",	       NULL };
	static const char *const clicked[] = { "message",    "url",	   "token",
					       "ip_address", "user_agent", "first",
					       "bot",	     NULL };
	static const char *const unsub[] = { "message", "ip_address", "user_agent",
					     NULL };
	struct message_record *rec = message_record_new();
	struct track_hit hit = { TRACK_OPEN, NULL, "tok", "192.0.2.1", "UA", 1, NULL };
	json_object *p;

	rec->id = 5;
	rec->token = xstrdup("abc");
	message_record_add_recipient(rec, "a@example.com");
	ck_assert_uint_eq(message_record_add_link(rec, "https://example.com/x?a=1&b=2"),
			  0);
	p = track_event_payload(rec, &hit);
	ck_assert(keys_are(p, loaded));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
			     json_object_object_get(p, "message"), "to")),
			 "a@example.com");
	ck_assert(json_object_get_boolean(json_object_object_get(p, "first")));
	json_object_put(p);
	hit.kind = TRACK_CLICK;
	hit.url = rec->links[0];
	hit.bot = "scanner";
	p = track_event_payload(rec, &hit);
	ck_assert(keys_are(p, clicked));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(p, "url")),
			 "https://example.com/x?a=1&b=2");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(p, "bot")),
			 "scanner");
	json_object_put(p);
	hit.kind = TRACK_UNSUBSCRIBE;
	p = track_event_payload(rec, &hit);
	ck_assert(keys_are(p, unsub));
	json_object_put(p);
	ck_assert_int_eq(track_event_type(TRACK_OPEN), EV_MESSAGE_LOADED);
	ck_assert_int_eq(track_event_type(TRACK_CLICK), EV_MESSAGE_LINK_CLICKED);
	ck_assert_int_eq(track_event_type(TRACK_UNSUBSCRIBE), EV_MESSAGE_UNSUBSCRIBED);
	message_record_free(rec);
}
END_TEST

struct act_job {
	double t;
	int n;
	char seen[8][64];
	int count;
};

/* add_cb - two hits of message 7 at one time, one of message 8. */
static int
add_cb(struct store_txn *txn, void *arg)
{
	struct act_job *j = arg;
	struct activity a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.time = j->t;
	a.kind = 'c';
	a.link = 1;
	a.url = "https://example.com/é";
	a.ip = "192.0.2.1";
	a.bot = "scanner";
	if ((rc = activity_add(txn, 7, &a)) != STORE_OK)
		return rc;
	a.kind = 'o';
	a.url = NULL;
	a.bot = NULL;
	if ((rc = activity_add(txn, 7, &a)) != STORE_OK)
		return rc;
	return activity_add(txn, 8, &a);
}

/* summary_cb - message 7's summary: stored, read back for 3 links, then 1. */
static int
summary_cb(struct store_txn *txn, void *arg)
{
	struct act_job *j = arg;
	struct activity_summary s;
	int rc;

	if ((rc = activity_summary_get(txn, 7, 3, &s)) != STORE_OK)
		return rc;
	if (s.opens != 0 || s.last_click[0] != 0 || s.last_click[2] != 0)
		return STORE_ERROR;
	s.opens = 2;
	s.last_click[1] = j->t;
	s.time = j->t;
	rc = activity_summary_put(txn, 7, &s);
	activity_summary_clear(&s);
	if (rc != STORE_OK)
		return rc;
	if ((rc = activity_summary_get(txn, 7, 3, &s)) != STORE_OK)
		return rc;
	j->count = s.opens == 2 && s.last_click[1] == j->t && s.last_click[0] == 0;
	activity_summary_clear(&s);
	if ((rc = activity_summary_get(txn, 7, 1, &s)) != STORE_OK)
		return rc;
	j->count += s.nlinks == 1 && s.opens == 2;
	activity_summary_clear(&s);
	return STORE_OK;
}

/* note_cb - remember what activity_each gives. */
static int
note_cb(const struct activity *a, void *ctx)
{
	struct act_job *j = ctx;

	if (j->n < 8)
		snprintf(j->seen[j->n], sizeof(j->seen[0]), "%c %u %s %s", a->kind,
			 a->link, a->url ? a->url : "-", a->bot ? a->bot : "-");
	j->n++;
	return 0;
}

/* list_cb - the hits of message 7. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct act_job *j = arg;

	j->n = 0;
	return activity_each(txn, 7, note_cb, j);
}

/* purge_cb - what is older than j->t. */
static int
purge_cb(struct store_txn *txn, void *arg)
{
	struct act_job *j = arg;

	return activity_purge(txn, j->t, 100, &j->count);
}

START_TEST(activity_kept)
{
	struct act_job j;

	memset(&j, 0, sizeof(j));
	j.t = 1700000000.5;
	ck_assert_int_eq(store_run(test_store, add_cb, &j, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, summary_cb, &j, 0), STORE_OK);
	ck_assert_int_eq(j.count, 2);
	/* the summary is no hit */
	ck_assert_int_eq(store_run(test_store, list_cb, &j, 0), STORE_OK);
	ck_assert_int_eq(j.n, 2);
	ck_assert_str_eq(j.seen[0], "c 1 https://example.com/é scanner");
	ck_assert_str_eq(j.seen[1], "o 0 - -");
	j.t = 1700000000.0;
	j.count = 0;
	ck_assert_int_eq(store_run(test_store, purge_cb, &j, 0), STORE_OK);
	ck_assert_int_eq(j.count, 0);
	j.t = 1700000001.0;
	ck_assert_int_eq(store_run(test_store, purge_cb, &j, 0), STORE_OK);
	ck_assert_int_eq(j.count, 4); /* three hits and the summary */
	ck_assert_int_eq(store_run(test_store, list_cb, &j, 0), STORE_OK);
	ck_assert_int_eq(j.n, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("track");
	TCase *tc = tcase_create("pure");
	TCase *st = tcase_create("store");

	tcase_add_test(tc, token_round_trip);
	tcase_add_test(tc, token_every_change_refused);
	tcase_add_test(tc, token_bad_lengths);
	tcase_add_test(tc, paths);
	tcase_add_test(tc, client_address);
	tcase_add_test(tc, bots);
	tcase_add_test(tc, payloads);
	suite_add_tcase(s, tc);
	test_store_fixture(st, "check_track");
	tcase_add_test(st, activity_kept);
	suite_add_tcase(s, st);
	return test_run_suite(s);
}
