/*
 * logtail_json_bench.c - what one event's JSON costs: json-c (the
 * project's delivery_event_payload + event_envelope + serialising)
 * against a writer of our own that appends the same text to a buffer.
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

#include "event.h"
#include "util.h"

/* put_str - a JSON string: runs of plain bytes at once, escapes else. */
static void
put_str(struct buf *b, const char *s)
{
	const char *run;

	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_append(b, "\"", 1);
	for (run = s; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		buf_append(b, run, (size_t) (s - run));
		if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else {
			char    e[2] = { '\\', (char) c };

			buf_append(b, e, 2);
		}
		run = s + 1;
	}
	buf_append(b, run, (size_t) (s - run));
	buf_append(b, "\"", 1);
}

/* put_num - a number with up to six decimals, trailing zeros cut. */
static void
put_num(struct buf *b, double v, int decimals)
{
	char    t[64];
	int     n = snprintf(t, sizeof(t), "%.*f", decimals, v);

	while (n > 2 && t[n - 1] == '0' && t[n - 2] != '.')
		n--;
	buf_append(b, t, (size_t) n);
}

/* own_writer - the envelope of a Sent event, written by hand. */
static void
own_writer(struct buf *b, const struct delivery_event *ev, const char *uuid)
{
	buf_puts(b, "{\"event\":\"MessageSent\",\"timestamp\":");
	put_num(b, ev->timestamp, 6);
	buf_puts(b, ",\"uuid\":");
	put_str(b, uuid);
	buf_puts(b, ",\"payload\":{\"message\":{\"id\":null,\"token\":null,"
		 "\"direction\":\"outgoing\",\"message_id\":");
	put_str(b, ev->message.message_id);
	buf_puts(b, ",\"to\":");
	put_str(b, ev->message.to);
	buf_puts(b, ",\"from\":");
	put_str(b, ev->message.from);
	buf_puts(b, ",\"subject\":null,\"timestamp\":");
	put_num(b, ev->message.timestamp, 6);
	buf_puts(b, ",\"spam_status\":\"NotChecked\",\"tag\":null,\"metadata\":null},"
		 "\"status\":\"Sent\",\"details\":");
	put_str(b, ev->details);
	buf_puts(b, ",\"output\":");
	put_str(b, ev->output);
	buf_puts(b, ",\"sent_with_ssl\":true,\"timestamp\":");
	put_num(b, ev->timestamp, 6);
	buf_puts(b, ",\"time\":");
	put_num(b, ev->time, 3);
	buf_puts(b, "}}\n");
}

/* seconds - CPU time so far. */
static double
seconds(void)
{
	return ((double) clock() / CLOCKS_PER_SEC);
}

int
main(int argc, char **argv)
{
	long    n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *uuid = "1fa5298a-b933-4162-b167-7bff9fb3f6d6";
	struct delivery_event ev;
	struct buf b;
	size_t  bytes_a = 0, bytes_b = 0;
	double  t0, t1, t2;

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
	buf_init(&b);

	t0 = seconds();
	for (long i = 0; i < n; i++) {
		json_object *p = delivery_event_payload(&ev);
		json_object *e = event_envelope(ev.type, ev.timestamp, uuid, p);
		const char *s = json_object_to_json_string_ext(e,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		bytes_a += strlen(s) + 1;
		json_object_put(e);
		json_object_put(p);
	}
	t1 = seconds();
	for (long i = 0; i < n; i++) {
		buf_reset(&b);
		own_writer(&b, &ev, uuid);
		bytes_b += b.len;
	}
	t2 = seconds();
	printf("json-c:     %ld events in %.2f s CPU: %.2f us/event (%zu bytes)\n",
	       n, t1 - t0, (t1 - t0) * 1e6 / n, bytes_a);
	printf("own writer: %ld events in %.2f s CPU: %.2f us/event (%zu bytes)\n",
	       n, t2 - t1, (t2 - t1) * 1e6 / n, bytes_b);
	buf_free(&b);
	delivery_event_clear(&ev);
	return (0);
}
