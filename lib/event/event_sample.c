/*
 * event_sample.c - sample payloads of every event type (see
 * event_sample.h).  Delivery events go through delivery_event_payload()
 * and MessageBounced through bounce_event_payload(), the functions real
 * events are built with, so a sample has exactly the shape of a real one.
 */
#include <string.h>

#include "event/event_ops.h"
#include "event/bounce_event.h"
#include "event/event_sample.h"
#include "util/json.h"
#include "util/util.h"

/* sample_message - the test events' message (docs/events.md, Test events). */
static void
sample_message(struct event_message *m, double now)
{
	memset(m, 0, sizeof(*m));
	m->id = 12345;
	m->token = xstrdup("abc123");
	m->direction = xstrdup("outgoing");
	m->message_id = xstrdup("test-message@posthook.invalid");
	m->to = xstrdup("user@example.com");
	m->from = xstrdup("hello@example.com");
	m->subject = xstrdup("posthook test event");
	m->timestamp = now - 10;
	m->spam_status = xstrdup("NotChecked");
	m->tag = xstrdup("test");
}

/* delivery_sample - MessageSent, MessageDelayed, MessageDeliveryFailed, MessageHeld. */
static json_object *
delivery_sample(enum event_type t, double now)
{
	struct delivery_event ev;
	json_object *p;

	delivery_event_init(&ev, t);
	sample_message(&ev.message, now);
	ev.timestamp = now;
	ev.time = 0.42;
	ev.sent_with_ssl = 1;
	switch (t) {
	case EV_MESSAGE_DELAYED:
		ev.details =
		    xstrdup("421 transient_failure: Delivery to user@example.com "
			    "failed at 192.0.2.25:25 (mx.example.com)");
		ev.output = xstrdup("421 4.3.0 Try again later");
		ev.classification = CLASS_TRANSIENT_FAILURE;
		ev.smtp_enhanced_code = xstrdup("4.3.0");
		ev.remote_host = xstrdup("mx.example.com");
		break;
	case EV_MESSAGE_DELIVERY_FAILED:
		ev.details =
		    xstrdup("550 invalid_recipient: Delivery to user@example.com "
			    "failed at 192.0.2.25:25 (mx.example.com)");
		ev.output = xstrdup("550 5.1.1 No such user");
		ev.classification = CLASS_INVALID_RECIPIENT;
		ev.smtp_enhanced_code = xstrdup("5.1.1");
		ev.remote_host = xstrdup("mx.example.com");
		break;
	case EV_MESSAGE_HELD:
		ev.details = xstrdup("Message held for review");
		ev.sent_with_ssl = SSL_UNKNOWN;
		ev.time = -1;
		break;
	default:
		ev.details = xstrdup("Message for user@example.com accepted by "
				     "192.0.2.25:25 (mx.example.com)");
		ev.output = xstrdup("250 2.0.0 OK");
		break;
	}
	p = delivery_event_payload(&ev);
	delivery_event_clear(&ev);
	return p;
}

/* bounce_sample - MessageBounced, as the bounce intake builds it. */
static json_object *
bounce_sample(double now)
{
	struct bounce_event ev;
	json_object *p;

	memset(&ev, 0, sizeof(ev));
	sample_message(&ev.original, now);
	ev.bounce.direction = xstrdup("incoming");
	ev.bounce.message_id = xstrdup("bounce-test@mx.example.com");
	ev.bounce.to = xstrdup("b+abc123@bounces.example.com");
	ev.bounce.from = xstrdup("MAILER-DAEMON@mx.example.com");
	ev.bounce.subject = xstrdup("Undelivered Mail Returned to Sender");
	ev.bounce.timestamp = now;
	ev.permanent = 1;
	ev.classification = CLASS_INVALID_RECIPIENT;
	ev.smtp_enhanced_code = "5.1.1";
	ev.remote_host = "mx.example.com";
	ev.diagnostic = "smtp; 550 5.1.1 <user@example.com>: No such user";
	ev.recipient = "user@example.com";
	p = bounce_event_payload(&ev);
	event_message_clear(&ev.original);
	event_message_clear(&ev.bounce);
	return p;
}

/* message_json - the sample message as JSON. */
static json_object *
message_json(double now)
{
	struct event_message m;
	json_object *o;

	sample_message(&m, now);
	o = event_message_to_json(&m);
	event_message_clear(&m);
	return o;
}

/* server_json - the server object of DomainDNSError and SendLimit. */
static json_object *
server_json(void)
{
	json_object *s = json_object_new_object();

	json_add_string(s, "uuid", "00000000-0000-4000-8000-000000000000");
	json_add_string(s, "name", "posthook test server");
	json_add_string(s, "permalink", "test");
	json_add_string(s, "organization", "posthook");
	return s;
}

/* event_sample_payload - see event_sample.h. */
json_object *
event_sample_payload(enum event_type t, double now)
{
	json_object *p;

	struct event_webhook w = { "1", "posthook test endpoint",
				   "https://hooks.example.com/posthook" };
	struct event_exhausted x = { 42,
				     "00000000-0000-4000-8000-000000000042",
				     "MessageSent",
				     6,
				     0,
				     "whr_00000000002a",
				     "HTTP 503" };

	switch (t) {
	case EV_MESSAGE_SENT:
	case EV_MESSAGE_DELAYED:
	case EV_MESSAGE_DELIVERY_FAILED:
	case EV_MESSAGE_HELD:
		return delivery_sample(t, now);
	case EV_WEBHOOK_DISABLED:
		return webhook_disabled_payload(&w, "failing", now - 5 * 86400,
						"HTTP 503");
	case EV_DELIVERY_EXHAUSTED:
		x.created = now - 36 * 60;
		return delivery_exhausted_payload(&w, &x);
	case EV_MESSAGE_BOUNCED:
		return bounce_sample(now);
	default:
		break;
	}
	p = json_object_new_object();
	switch (t) {
	case EV_MESSAGE_LINK_CLICKED:
	case EV_MESSAGE_LOADED:
	case EV_MESSAGE_UNSUBSCRIBED:
		/* the order and members the tracking server's events have */
		json_object_object_add(p, "message", message_json(now));
		if (t == EV_MESSAGE_LINK_CLICKED) {
			json_add_string(p, "url", "https://example.com/welcome");
			json_add_string(p, "token", "abc123def456");
		}
		json_add_string(p, "ip_address", "203.0.113.45");
		json_add_string(p, "user_agent", "Mozilla/5.0 (posthook test)");
		if (t != EV_MESSAGE_UNSUBSCRIBED) {
			json_object_object_add(p, "first", json_object_new_boolean(1));
			json_add_string(p, "bot", NULL);
		}
		break;
	case EV_DOMAIN_DNS_ERROR:
		json_object_object_add(p, "server", server_json());
		json_add_string(p, "domain", "example.com");
		json_add_string(p, "uuid", "a1b2c3d4-e5f6-7890");
		json_object_object_add(p, "dns_checked_at", json_double_new(now, 6));
		json_add_string(p, "spf_status", "Missing");
		json_add_string(p, "spf_error", "No SPF record exists for this domain");
		json_add_string(p, "dkim_status", "OK");
		json_add_string(p, "dkim_error", NULL);
		json_add_string(p, "mx_status", "OK");
		json_add_string(p, "mx_error", NULL);
		json_add_string(p, "return_path_status", "Missing");
		json_add_string(p, "return_path_error",
				"There is no return path record at rp.example.com");
		break;
	case EV_DOMAIN_DNS_OK:
		json_object_object_add(p, "server", server_json());
		json_add_string(p, "domain", "example.com");
		json_add_string(p, "uuid", "a1b2c3d4-e5f6-7890");
		json_object_object_add(p, "dns_checked_at", json_double_new(now, 6));
		json_add_string(p, "spf_status", "OK");
		json_add_string(p, "spf_error", NULL);
		json_add_string(p, "dkim_status", "OK");
		json_add_string(p, "dkim_error", NULL);
		json_add_string(p, "mx_status", "OK");
		json_add_string(p, "mx_error", NULL);
		json_add_string(p, "return_path_status", "OK");
		json_add_string(p, "return_path_error", NULL);
		break;
	case EV_MESSAGE_COMPLAINED:
		json_object_object_add(p, "original_message", message_json(now));
		json_add_string(p, "feedback_type", "abuse");
		json_add_string(p, "user_agent", "SomeMailbox-FBL/1.0");
		json_add_string(p, "source_ip", "192.0.2.25");
		json_add_string(p, "arrival_date", "Thu, 8 Mar 2026 14:00:00 +0000");
		json_add_string(p, "reporting_mta", "mail.example.net");
		break;
	case EV_SEND_LIMIT:
		json_object_object_add(p, "server", server_json());
		json_object_object_add(p, "volume", json_object_new_int(950));
		json_object_object_add(p, "limit", json_object_new_int(1000));
		break;
	default:
		break;
	}
	return p;
}
