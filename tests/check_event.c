/*
 * check_event.c - the event model against the seed documents: names,
 * statuses, the 13 classifications, payloads field by field, envelope.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "util.h"

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

/* seed_event - the event seed 003 shows, built through the model */
static void
seed_event(struct delivery_event *ev, enum event_type t)
{
	delivery_event_init(ev, t);
	ev->message.id = 12345;
	ev->message.token = xstrdup("abc123");
	ev->message.direction = xstrdup("outgoing");
	ev->message.message_id = xstrdup("d00368d9-8ce9-40d2-96fc-0f0c10a43d00@rp.arkhq.io");
	ev->message.to = xstrdup("user@example.com");
	ev->message.from = xstrdup("hello@yourdomain.com");
	ev->message.subject = xstrdup("Welcome!");
	ev->message.timestamp = 1705312190.123456;
	ev->details = xstrdup("Message for user@example.com accepted by 1.2.3.4:25 (mx.example.com)");
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
	json_object_object_foreach(o, key, val) {
		(void) val;
		buf_printf(&b, "%s%s", b.len ? "," : "", key);
	}
	return buf_take(&b);
}

START_TEST(names_and_statuses)
{
	static const char *const names[] = {
		"MessageSent", "MessageDelayed", "MessageDeliveryFailed", "MessageBounced",
		"MessageHeld", "MessageLoaded", "MessageLinkClicked", "DomainDNSError",
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
		{ "invalid_recipient", 10 }, { "inactive_mailbox", 11 }, { "mailbox_full", 12 },
		{ "invalid_domain", 20 }, { "dns_failure", 21 }, { "routing_error", 22 },
		{ "spam_block", 30 }, { "spam_content", 31 }, { "policy_rejection", 32 },
		{ "connection_error", 40 }, { "protocol_error", 41 },
		{ "transient_failure", 42 }, { "unclassified", 99 },
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
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string(got), "1705312200.123456"));
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
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "status")), "HardFail");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "classification")),
			 "invalid_recipient");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(got, "classification_code")), 10);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "smtp_enhanced_code")),
			 "5.1.1");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "remote_host")),
			 "mx1.gmail.com");
	ck_assert(json_object_object_get_ex(got, "sent_with_ssl", &v) && v == NULL);
	ck_assert(json_object_object_get_ex(got, "time", &v) && v == NULL);
	v = json_object_object_get(json_object_object_get(got, "message"), "metadata");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v, "user_id")), "usr_123456");
	json_object_put(got);
	delivery_event_clear(&ev);

	/* A delay with no classification known is unclassified, 99. */
	seed_event(&ev, EV_MESSAGE_DELAYED);
	got = delivery_event_payload(&ev);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "status")), "SoftFail");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(got, "classification_code")), 99);
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
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got, "status")), "Held");
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
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "direction")), "outgoing");
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
	ck_assert_str_eq(json_object_get_string(json_object_object_get(env, "event")), "MessageSent");
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string(env), "1704672000.123456"));
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

int
main(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("event");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, names_and_statuses);
	tcase_add_test(tc, classifications_of_seed_002);
	tcase_add_test(tc, sent_payload_matches_seed_003);
	tcase_add_test(tc, failure_payload_has_classification);
	tcase_add_test(tc, sent_and_held_have_no_classification);
	tcase_add_test(tc, unknown_message_fields_are_null);
	tcase_add_test(tc, envelope_of_seed_000);
	tcase_add_test(tc, uuids_are_v4_and_differ);
	tcase_add_test(tc, json_parse_len_is_exact);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
