/*
 * check_event.c - the event model against the seed documents: names,
 * statuses, the 13 classifications, payloads field by field, envelope.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "util/jsonw.h"
#include "util/util.h"

#include "testlib.h"

/* Seed 003's request.payload, verbatim in structure and values. */
static const char seed_payload[] =
    "{\"message\": {\"id\": 12345, \"token\": \"abc123\", \"direction\": \"outgoing\","
    " \"message_id\": \"d00368d9-8ce9-40d2-96fc-0f0c10a43d00@rp.arkhq.io\","
    " \"to\": \"user@example.com\", \"from\": \"hello@yourdomain.com\","
    " \"subject\": \"Welcome!\", \"timestamp\": 1705312190.123456,"
    " \"spam_status\": \"NotChecked\", \"tag\": null, \"metadata\": null},"
    " \"status\": \"Sent\","
    " \"details\": \"Message for user@example.com accepted by 1.2.3.4:25 (mx.example.com)\","
    " \"output\": \"250 2.0.0 OK\", \"sent_with_ssl\": true,"
    " \"timestamp\": 1705312200.123456, \"time\": 2.11}";

/* seed_event - seed_payload built through the model (docs/events.md) */
static void
seed_event(struct delivery_event *ev, enum event_type t)
{
	delivery_event_init(ev, t);
	ev->message.id = 12345;
	ev->message.token = xstrdup("abc123");
	ev->message.direction = xstrdup("outgoing");
	ev->message.message_id =
	    xstrdup("d00368d9-8ce9-40d2-96fc-0f0c10a43d00@rp.arkhq.io");
	ev->message.to = xstrdup("user@example.com");
	ev->message.from = xstrdup("hello@yourdomain.com");
	ev->message.subject = xstrdup("Welcome!");
	ev->message.timestamp = 1705312190.123456;
	ev->details = xstrdup(
	    "Message for user@example.com accepted by 1.2.3.4:25 (mx.example.com)");
	ev->output = xstrdup("250 2.0.0 OK");
	ev->sent_with_ssl = 1;
	ev->timestamp = 1705312200.123456;
	ev->time = 2.11;
}

/* keys_in_order - the member names of an object, comma-joined */
static char *
keys_in_order(json_object *o)
{
	struct buf b;

	buf_init(&b);
	json_object_object_foreach(o, key, val)
	{
		(void) val;
		buf_printf(&b, "%s%s", b.len ? "," : "", key);
	}
	return buf_take(&b);
}

START_TEST(names_and_statuses)
{
	static const char *const names[] = {
		"MessageSent",	      "MessageDelayed",	     "MessageDeliveryFailed",
		"MessageBounced",     "MessageHeld",	     "MessageLoaded",
		"MessageLinkClicked", "DomainDNSError",	     "SendLimit",
		"DomainDNSOK",	      "MessageUnsubscribed", "MessageComplained",
	};
	enum event_type t;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_int_eq(event_type_from_name(names[i], &t), 0);
		ck_assert_str_eq(event_type_name(t), names[i]);
	}
	ck_assert_int_eq(event_type_from_name("MessageExploded", &t), -1);
	ck_assert_str_eq(event_status_name(EV_MESSAGE_SENT), "Sent");
	ck_assert_str_eq(event_status_name(EV_MESSAGE_DELAYED), "SoftFail");
	ck_assert_str_eq(event_status_name(EV_MESSAGE_DELIVERY_FAILED), "HardFail");
	ck_assert_str_eq(event_status_name(EV_MESSAGE_HELD), "Held");
}
END_TEST

START_TEST(classifications_of_seed_002)
{
	static const struct {
		const char *name;
		int code;
	} seed[] = {
		{ "invalid_recipient", 10 }, { "inactive_mailbox", 11 },
		{ "mailbox_full", 12 },	     { "invalid_domain", 20 },
		{ "dns_failure", 21 },	     { "routing_error", 22 },
		{ "spam_block", 30 },	     { "spam_content", 31 },
		{ "policy_rejection", 32 },  { "connection_error", 40 },
		{ "protocol_error", 41 },    { "transient_failure", 42 },
		{ "unclassified", 99 },
	};
	enum classification c;
	size_t i;

	for (i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		ck_assert_int_eq(classification_from_name(seed[i].name, &c), 0);
		ck_assert_int_eq((int) c, seed[i].code);
		ck_assert_str_eq(classification_name(c), seed[i].name);
	}
	ck_assert_ptr_null(classification_name(CLASS_NONE));
}
END_TEST

START_TEST(sent_payload_matches_seed_003)
{
	struct delivery_event ev;
	json_object *want = json_tokener_parse(seed_payload);
	json_object *got;
	char *want_keys, *got_keys;

	seed_event(&ev, EV_MESSAGE_SENT);
	got = delivery_event_payload(&ev);
	ck_assert_msg(json_object_equal(want, got), "payload differs:\n%s\nwant\n%s",
		      json_object_to_json_string(got), json_object_to_json_string(want));
	/* Same keys in the same order, at both levels. */
	want_keys = keys_in_order(want);
	got_keys = keys_in_order(got);
	ck_assert_str_eq(got_keys, want_keys);
	free(want_keys);
	free(got_keys);
	want_keys = keys_in_order(json_object_object_get(want, "message"));
	got_keys = keys_in_order(json_object_object_get(got, "message"));
	ck_assert_str_eq(got_keys, want_keys);
	free(want_keys);
	free(got_keys);
	/* Six decimals on the wire, as the seed prints them. */
	ck_assert_ptr_nonnull(
	    strstr(json_object_to_json_string(got), "1705312200.123456"));
	json_object_put(want);
	json_object_put(got);
	delivery_event_clear(&ev);
}
END_TEST

START_TEST(failure_payload_has_classification)
{
	struct delivery_event ev;
	json_object *got, *v;

	seed_event(&ev, EV_MESSAGE_DELIVERY_FAILED);
	ev.classification = CLASS_INVALID_RECIPIENT;
	ev.smtp_enhanced_code = xstrdup("5.1.1");
	ev.remote_host = xstrdup("mx1.gmail.com");
	ev.sent_with_ssl = SSL_UNKNOWN;
	ev.time = -1;
	ev.message.metadata = json_tokener_parse("{\"user_id\": \"usr_123456\"}");
	ev.message.tag = xstrdup("onboarding");
	got = delivery_event_payload(&ev);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "status")),
			 "HardFail");
	ck_assert_str_eq(
	    json_object_get_string(json_object_object_get(got, "classification")),
	    "invalid_recipient");
	ck_assert_int_eq(
	    json_object_get_int(json_object_object_get(got, "classification_code")), 10);
	ck_assert_str_eq(
	    json_object_get_string(json_object_object_get(got, "smtp_enhanced_code")),
	    "5.1.1");
	ck_assert_str_eq(
	    json_object_get_string(json_object_object_get(got, "remote_host")),
	    "mx1.gmail.com");
	ck_assert(json_object_object_get_ex(got, "sent_with_ssl", &v) && v == NULL);
	ck_assert(json_object_object_get_ex(got, "time", &v) && v == NULL);
	v = json_object_object_get(json_object_object_get(got, "message"), "metadata");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v, "user_id")),
			 "usr_123456");
	json_object_put(got);
	delivery_event_clear(&ev);

	/* A delay with no classification known is unclassified, 99. */
	seed_event(&ev, EV_MESSAGE_DELAYED);
	got = delivery_event_payload(&ev);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "status")),
			 "SoftFail");
	ck_assert_int_eq(
	    json_object_get_int(json_object_object_get(got, "classification_code")), 99);
	ck_assert(json_object_object_get_ex(got, "smtp_enhanced_code", &v) && v == NULL);
	json_object_put(got);
	delivery_event_clear(&ev);
}
END_TEST

START_TEST(sent_and_held_have_no_classification)
{
	struct delivery_event ev;
	json_object *got;

	seed_event(&ev, EV_MESSAGE_HELD);
	got = delivery_event_payload(&ev);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "status")),
			 "Held");
	ck_assert(!json_object_object_get_ex(got, "classification", NULL));
	ck_assert(!json_object_object_get_ex(got, "remote_host", NULL));
	json_object_put(got);
	delivery_event_clear(&ev);
}
END_TEST

START_TEST(unknown_message_fields_are_null)
{
	struct event_message m;
	json_object *o, *v;

	memset(&m, 0, sizeof(m));
	o = event_message_to_json(&m);
	ck_assert(json_object_object_get_ex(o, "id", &v) && v == NULL);
	ck_assert(json_object_object_get_ex(o, "token", &v) && v == NULL);
	ck_assert(json_object_object_get_ex(o, "timestamp", &v) && v == NULL);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "direction")),
			 "outgoing");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "spam_status")),
			 "NotChecked");
	json_object_put(o);
}
END_TEST

START_TEST(envelope_of_seed_000)
{
	json_object *payload = json_tokener_parse(seed_payload);
	json_object *env = event_envelope(EV_MESSAGE_SENT, 1704672000.123456,
					  "abc123-def456-ghi789", payload);
	char *keys = keys_in_order(env);

	ck_assert_str_eq(keys, "event,timestamp,uuid,payload");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(env, "event")),
			 "MessageSent");
	ck_assert_ptr_nonnull(
	    strstr(json_object_to_json_string(env), "1704672000.123456"));
	ck_assert(json_object_equal(json_object_object_get(env, "payload"), payload));
	free(keys);
	json_object_put(env);
	json_object_put(payload);
}
END_TEST

START_TEST(uuids_are_v4_and_differ)
{
	char a[37], b[37];

	event_uuid_new(a);
	event_uuid_new(b);
	ck_assert_int_eq(strlen(a), 36);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(a[14], '4');
	ck_assert(strchr("89ab", a[19]) != NULL);
	ck_assert(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
}
END_TEST

START_TEST(json_parse_len_is_exact)
{
	json_object *o = json_parse_len("{\"a\":1}garbage", 7);

	ck_assert_ptr_nonnull(o);
	json_object_put(o);
	ck_assert_ptr_null(json_parse_len("{\"a\":1}garbage", 14));
	ck_assert_ptr_null(json_parse_len("{\"a\":", 5));
	ck_assert_ptr_null(json_parse_len(NULL, 0));
}
END_TEST

/* A small deterministic generator for the tests below. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* printf_double - what json_double_new() printed before its own
 * formatter: "%.*f", trailing zeros cut to one (it printed into 64 bytes,
 * which cut numbers of 1e55 and more; now they are whole) */
static void
printf_double(char *text, size_t size, double v, int decimals)
{
	size_t len;

	snprintf(text, size, "%.*f", decimals, v);
	len = strlen(text);
	if (strchr(text, '.') != NULL) {
		while (len > 0 && text[len - 1] == '0')
			text[--len] = '\0';
		if (len > 0 && text[len - 1] == '.')
			text[len++] = '0', text[len] = '\0';
	}
}

/* check_double - json_double_new(v, decimals) prints as printf does */
static void
check_double(double v, int decimals)
{
	char want[512];
	json_object *o = json_double_new(v, decimals);

	printf_double(want, sizeof(want), v, decimals);
	ck_assert_msg(strcmp(json_object_to_json_string(o), want) == 0,
		      "%.17g with %d decimals: got %s, want %s", v, decimals,
		      json_object_to_json_string(o), want);
	json_object_put(o);
}

START_TEST(doubles_print_as_printf)
{
	static const double fixed[] = {
		0.0,
		-0.0,
		1.0,
		-1.0,
		0.5,
		1.5,
		2.5,
		0.0078125,
		0.0625,
		0.0005,
		1705312200.123456,
		1795219201.0,
		2.11,
		0.1,
		0.7,
		1e-7,
		5e-7,
		4.9999995e-1,
		9.9999995,
		999999.9999995,
		1e15,
		4503599627370496.0,
		9007199254740993.0,
		1e20,
		1e21,
		1e300,
		1e-300,
		5e-324,
		1.0 / 0.0,
		-1.0 / 0.0,
		0.0 / 0.0,
	};
	size_t i;
	int d;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		for (d = 0; d <= 9; d++)
			check_double(fixed[i], d);
	for (i = 0; i < 200000; i++) {
		uint64_t r = rng();
		double v;

		switch (i % 5) {
		case 0: /* a log timestamp with microseconds */
			v = 1.0e9 + (double) (r % 1000000000000000ULL) / 1e6;
			break;
		case 1: /* delays: a few decimals */
			v = (double) (r % 10000000) / 1000.0;
			break;
		case 2: /* exact ties at 3 and 6 decimals */
			v = (double) (r % 100000) + (double) ((r >> 20) % 128) / 128.0;
			break;
		case 3: /* any bit pattern */
			memcpy(&v, &r, sizeof(v));
			break;
		default: /* a random magnitude */
			v = (double) (r >> 11) / 9007199254740992.0
			    * (double) (1ULL << ((r >> 3) % 60));
			if (r & 1)
				v = -v;
			break;
		}
		check_double(v, 6);
		check_double(v, 3);
		check_double(v, (int) (r % 10));
	}
}
END_TEST

/* random_string - NULL or a string of the bytes that escaping must get
 * right: quotes, backslashes, slashes, control characters, DEL, UTF-8 */
static char *
random_string(void)
{
	static const char *const parts[] = {
		"a",
		"Z",
		"0",
		" ",
		"\"",
		"\\",
		"/",
		"\b",
		"\f",
		"\n",
		"\r",
		"\t",
		"\x01",
		"\x1f",
		"\x7f",
		"\xc3\xa9",
		"\xe2\x82\xac",
		"\xf0\x9d\x84\x9e",
		"<u@example.com>",
		"250 2.0.0 Ok",
		"\\u0041",
		"{}",
		"'",
	};
	struct buf b;
	size_t n, i;

	if (rng() % 5 == 0)
		return NULL;
	buf_init(&b);
	n = rng() % 12;
	for (i = 0; i < n; i++)
		buf_puts(&b, parts[rng() % (sizeof(parts) / sizeof(parts[0]))]);
	if (rng() % 7 == 0) { /* every control character */
		char c[2] = { 0, 0 };

		for (c[0] = 1; c[0] < 0x20; c[0]++)
			buf_puts(&b, c);
	}
	return buf_take(&b);
}

/* random_metadata - NULL or an object as the milter's record holds it */
static json_object *
random_metadata(void)
{
	static const char *const texts[] = {
		"{}",
		"{\"user_id\": \"usr_123456\"}",
		"{\"a\": 1, \"b\": 2.50, \"c\": [true, false, null], \"d\": {\"e\": \"f\"}}",
		"{\"url\": \"https:\\/\\/example.com\\/x\", \"q\": \"say \\\"hi\\\"\\n\"}",
		"{\"unicode\": \"caf\\u00e9 \\u20ac \\ud834\\udd1e\", \"ctl\": \"\\u0001\\u001f\"}",
		"{\"n\": -0.000001, \"big\": 18446744073709551615, \"e\": 1e300}",
	};
	json_object *o;

	switch (rng() % 8) {
	case 0:
	case 1:
		return NULL;
	case 2: /* built, not parsed: json-c's own number forms */
		o = json_object_new_object();
		json_object_object_add(o, "d", json_object_new_double(0.1));
		json_object_object_add(o, "i", json_object_new_int64(-42));
		json_object_object_add(o, "s", json_object_new_string("x\"y"));
		return o;
	default:
		o = json_tokener_parse(texts[rng() % (sizeof(texts) / sizeof(texts[0]))]);
		ck_assert_ptr_nonnull(o);
		return o;
	}
}

START_TEST(writer_matches_json_c)
{
	static const enum event_type types[] = {
		EV_MESSAGE_SENT, EV_MESSAGE_DELAYED, EV_MESSAGE_DELIVERY_FAILED,
		EV_MESSAGE_HELD, EV_MESSAGE_BOUNCED,
	};
	static const enum classification classes[] = {
		CLASS_NONE,	    CLASS_INVALID_RECIPIENT,
		CLASS_MAILBOX_FULL, CLASS_CONNECTION_ERROR,
		CLASS_UNCLASSIFIED,
	};
	struct delivery_event ev;
	struct buf b;
	int i;

	buf_init(&b);
	for (i = 0; i < 5000; i++) {
		json_object *payload, *env;
		const char *want;
		double ts;
		char uuid[37];
		unsigned char r[16];
		size_t k;

		delivery_event_init(&ev, types[rng() % 5]);
		ev.message.id =
		    rng() % 3 == 0 ? 0 : (rng() % 2 ? UINT64_MAX : rng() % 100000);
		ev.message.token = random_string();
		ev.message.direction = rng() % 2 ? NULL : random_string();
		ev.message.message_id = random_string();
		ev.message.to = random_string();
		ev.message.from = random_string();
		ev.message.subject = random_string();
		ev.message.timestamp =
		    rng() % 4 == 0 ? 0
				   : 1.7e9 + (double) (rng() % 100000000000000ULL) / 1e6;
		ev.message.spam_status = rng() % 2 ? NULL : random_string();
		ev.message.tag = random_string();
		ev.message.metadata = random_metadata();
		ev.details = random_string();
		ev.output = random_string();
		ev.sent_with_ssl = (int) (rng() % 3) - 1;
		ev.timestamp = 1.7e9 + (double) (rng() % 100000000000000ULL) / 1e6;
		ev.time = rng() % 4 == 0 ? -1 : (double) (rng() % 1000000) / 1000.0;
		ev.classification = classes[rng() % 5];
		ev.smtp_enhanced_code = random_string();
		ev.remote_host = random_string();
		for (k = 0; k < sizeof(r); k++)
			r[k] = (unsigned char) rng();
		event_uuid_format(r, uuid);
		ts = rng() % 2 ? ev.timestamp : 1.7e9 + (double) (rng() % 1000000) / 7.0;

		payload = delivery_event_payload(&ev);
		env = event_envelope(ev.type, ts, uuid, payload);
		want = json_object_to_json_string_ext(
		    env, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		buf_reset(&b);
		delivery_event_write_json(&b, ts, uuid, &ev);
		ck_assert_msg(strcmp(b.data, want) == 0,
			      "event %d differs:\n%s\nwant\n%s", i, b.data, want);
		ck_assert_uint_eq(b.len, strlen(want));
		json_object_put(env);
		json_object_put(payload);
		delivery_event_clear(&ev);
	}
	/* Appends to what the buffer holds. */
	buf_reset(&b);
	buf_puts(&b, "x");
	seed_event(&ev, EV_MESSAGE_SENT);
	delivery_event_write_json(&b, 1.5, "u", &ev);
	ck_assert_int_eq(strncmp(b.data,
				 "x{\"event\":\"MessageSent\",\"timestamp\":1.5,"
				 "\"uuid\":\"u\",\"payload\":{\"message\":{\"id\":12345,",
				 60),
			 0);
	delivery_event_clear(&ev);
	buf_free(&b);
}
END_TEST

/*
 * Every length up to 40 with each escaped byte at each position, and
 * without: jsonw_string() copies eight bytes at a time and its plain
 * tail in one piece, and must escape as json-c does wherever the byte
 * falls (the 8-byte words, the tail, a short string).
 */
START_TEST(jsonw_string_matches_json_c)
{
	static const char special[] = "\"\\\n\x01\x1f\t/\x7f\xc3";
	char s[48];
	struct buf b;

	buf_init(&b);
	for (size_t len = 0; len <= 40; len++) {
		for (size_t pos = 0; pos <= len; pos++) {
			for (size_t k = 0; k < sizeof(special) - 1; k++) {
				json_object *o;
				const char *want;

				for (size_t i = 0; i < len; i++)
					s[i] = (char) ('a' + i % 26);
				if (pos < len)
					s[pos] = special[k];
				s[len] = 0;
				o = json_object_new_string(s);
				want = json_object_to_json_string_ext(
				    o, JSON_C_TO_STRING_PLAIN
					   | JSON_C_TO_STRING_NOSLASHESCAPE);
				buf_reset(&b);
				jsonw_string(&b, s);
				jsonw_end(&b);
				ck_assert_msg(strcmp(b.data, want) == 0,
					      "len %zu pos %zu: %s want %s", len, pos,
					      b.data, want);
				json_object_put(o);
			}
		}
	}
	buf_reset(&b);
	jsonw_string(&b, NULL);
	jsonw_name(&b, NULL);
	jsonw_name(&b, "Sent");
	jsonw_end(&b);
	ck_assert_str_eq(b.data, "nullnull\"Sent\"");
	buf_free(&b);
}
END_TEST

START_TEST(uuid_format_sets_version)
{
	static const unsigned char ff[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	static const unsigned char zero[16];
	char out[37];

	event_uuid_format(ff, out);
	ck_assert_str_eq(out, "ffffffff-ffff-4fff-bfff-ffffffffffff");
	event_uuid_format(zero, out);
	ck_assert_str_eq(out, "00000000-0000-4000-8000-000000000000");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("event");

	tcase_add_test(tc, names_and_statuses);
	tcase_add_test(tc, classifications_of_seed_002);
	tcase_add_test(tc, sent_payload_matches_seed_003);
	tcase_add_test(tc, failure_payload_has_classification);
	tcase_add_test(tc, sent_and_held_have_no_classification);
	tcase_add_test(tc, unknown_message_fields_are_null);
	tcase_add_test(tc, envelope_of_seed_000);
	tcase_add_test(tc, uuids_are_v4_and_differ);
	tcase_add_test(tc, json_parse_len_is_exact);
	tcase_add_test(tc, doubles_print_as_printf);
	tcase_add_test(tc, writer_matches_json_c);
	tcase_add_test(tc, jsonw_string_matches_json_c);
	tcase_add_test(tc, uuid_format_sets_version);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
