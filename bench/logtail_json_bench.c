/*
 * logtail_json_bench.c - what one event's JSON costs: json-c (the
 * project's delivery_event_payload + event_envelope + serialising)
 * against delivery_event_write_json(), which appends the same bytes to a
 * buffer (posthook-logtail --print uses it).  Checks that both give the
 * same text, then times each on a Sent and a SoftFail event.
 *
 * Build and run from a build directory (see bench/README.md):
 *   cc -O2 -I$SRC/lib $(pkg-config --cflags json-c) \
 *      $SRC/bench/logtail_json_bench.c lib/libposthook.a \
 *      $(pkg-config --libs json-c) -ldb -lcrypto -lpthread -o json_bench
 *   ./json_bench 1000000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/event.h"
#include "util/util.h"

/* seconds - CPU time so far. */
static double
seconds(void)
{
	return ((double) clock() / CLOCKS_PER_SEC);
}

/* json_c - the body through json-c; the text is valid until the next call. */
static const char *
json_c(const struct delivery_event *ev, const char *uuid, json_object **keep)
{
	json_object *p = delivery_event_payload(ev);
	json_object *e = event_envelope(ev->type, ev->timestamp, uuid, p);

	json_object_put(p);
	if (*keep != NULL)
		json_object_put(*keep);
	*keep = e;
	return (json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN
						      | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* run - time n events of one kind both ways. */
static void
run(const char *name, const struct delivery_event *ev, long n)
{
	const char *uuid = "1fa5298a-b933-4162-b167-7bff9fb3f6d6";
	json_object *keep = NULL;
	struct buf b;
	size_t bytes_a = 0, bytes_b = 0;
	double t0, t1, t2;

	buf_init(&b);
	delivery_event_write_json(&b, ev->timestamp, uuid, ev);
	if (strcmp(b.data, json_c(ev, uuid, &keep)) != 0) {
		fprintf(stderr, "%s: the two differ:\n%s\n%s\n", name, b.data,
			json_c(ev, uuid, &keep));
		exit(1);
	}
	t0 = seconds();
	for (long i = 0; i < n; i++)
		bytes_a += strlen(json_c(ev, uuid, &keep)) + 1;
	t1 = seconds();
	for (long i = 0; i < n; i++) {
		buf_reset(&b);
		delivery_event_write_json(&b, ev->timestamp, uuid, ev);
		bytes_b += b.len + 1;
	}
	t2 = seconds();
	printf("%s, json-c:     %ld events in %.2f s CPU: %.2f us/event (%zu bytes)\n",
	       name, n, t1 - t0, (t1 - t0) * 1e6 / n, bytes_a);
	printf("%s, own writer: %ld events in %.2f s CPU: %.2f us/event (%zu bytes)\n",
	       name, n, t2 - t1, (t2 - t1) * 1e6 / n, bytes_b);
	json_object_put(keep);
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct delivery_event ev;

	delivery_event_init(&ev, EV_MESSAGE_SENT);
	ev.message.to = xstrdup("u12345@dest17.example");
	ev.message.from = xstrdup("app@example.com");
	ev.message.message_id = xstrdup("4jYMKl727mz1bnq8.27000000@app.example");
	ev.message.direction = xstrdup("outgoing");
	ev.message.timestamp = 1795442530.0;
	ev.details = xstrdup("Message for u12345@dest17.example accepted by "
			     "192.0.2.7:25 (mx.dest17.example)");
	ev.output = xstrdup("250 2.0.0 Ok: queued as 1234567890");
	ev.sent_with_ssl = 1;
	ev.timestamp = 1795442532.0;
	ev.time = 1.0;
	run("Sent", &ev, n);
	delivery_event_clear(&ev);

	ev.type = EV_MESSAGE_DELAYED;
	ev.message.to = xstrdup("u12345@dest17.example");
	ev.message.from = xstrdup("app@example.com");
	ev.message.message_id = xstrdup("4jYMKl727mz1bnq8.27000000@app.example");
	ev.message.timestamp = 1795442530.25;
	ev.details = xstrdup("452 mailbox_full: Delivery to u12345@dest17.example "
			     "failed at 192.0.2.7:25 (mx.dest17.example)");
	ev.output = xstrdup("452 4.2.2 <u12345@dest17.example>: Mailbox full");
	ev.sent_with_ssl = 0;
	ev.timestamp = 1795442532.5;
	ev.time = 2.0;
	ev.classification = CLASS_MAILBOX_FULL;
	ev.smtp_enhanced_code = xstrdup("4.2.2");
	ev.remote_host = xstrdup("mx.dest17.example");
	run("SoftFail", &ev, n);
	delivery_event_clear(&ev);
	return (0);
}
