/*
 * fuzz_parse_line.c - libFuzzer harness for the log line parser: every
 * line of the input is parsed, and every span it returns must lie inside
 * that line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_span - a span is empty or points into [line, line + len) */
static void
check_span(struct span s, const char *line, size_t len)
{
	if (s.len == 0)
		return;
	if (s.p < line || s.p + s.len > line + len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *) data;
	const char *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
		/* A copy of exactly len bytes, so ASan sees any overread. */
		char *line = malloc(len ? len : 1);
		struct log_line ll;
		double when;

		if (line == NULL)
			return 0;
		memcpy(line, p, len);
		if (parse_line(line, len, &ll) == 0) {
			check_span(ll.host, line, len);
			check_span(ll.program, line, len);
			check_span(ll.queue_id, line, len);
			check_span(ll.msg, line, len);
			check_span(ll.message_id, line, len);
			check_span(ll.from, line, len);
			check_span(ll.to, line, len);
			check_span(ll.orig_to, line, len);
			check_span(ll.relay, line, len);
			check_span(ll.relay_host, line, len);
			check_span(ll.relay_addr, line, len);
			check_span(ll.relay_port, line, len);
			check_span(ll.dsn, line, len);
			check_span(ll.text, line, len);
			check_span(ll.queued_as, line, len);
			check_span(ll.client_addr, line, len);
			check_span(ll.sasl_username, line, len);
			(void) log_stamp_resolve(&ll.stamp, 1795000000, &when);
		}
		free(line);
		p += len + 1;
	}
	return 0;
}
