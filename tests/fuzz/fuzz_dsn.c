/*
 * fuzz_dsn.c - libFuzzer harness for the bounce parser (lib/bounce/dsn.c,
 * mime.c, dsn_report.c, dsn_text.c): any bytes in, no crash, no leak, no
 * sanitizer report, and the invariants the intake relies on: at most
 * max_recipients kept, every string clean UTF-8 without control
 * characters, JSON printable.
 *
 * Built and run by "make -C tests fuzz-dsn" (see tests/bounce/bounce.am).  Small
 * limits here let the fuzzer reach the caps with small inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce/dsn.h"

/* clean - a parser output string: no byte under 0x20, no DEL */
static void
clean(const char *s)
{
	if (s == NULL)
		return;
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			abort();
}

static void
clean_headers(const struct dsn_headers *h)
{
	clean(h->message_id);
	clean(h->token);
	clean(h->from);
	clean(h->to);
	clean(h->subject);
	clean(h->date);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn_options small = {
		.token_header = "X-Posthook-Token",
		.max_input = 1 << 16,
		.max_part = 1 << 12,
		.max_depth = 8,
		.max_recipients = 16,
	};
	struct dsn *d;
	json_object *o;
	size_t i;

	/* Defaults, then small caps: both must hold up. */
	for (int pass = 0; pass < 2; pass++) {
		d = dsn_parse(data, size, pass ? &small : NULL);
		if (d->nrcpt > (pass ? small.max_recipients : DSN_MAX_RECIPIENTS)
		    || d->nrcpt > d->rcpt_seen)
			abort();
		clean_headers(&d->self);
		clean_headers(&d->returned);
		for (i = 0; i < d->nrcpt; i++) {
			clean(d->rcpt[i].final_recipient);
			clean(d->rcpt[i].diagnostic);
			clean(d->rcpt[i].remote_mta);
			if (strlen(d->rcpt[i].status) >= sizeof(d->rcpt[i].status))
				abort();
		}
		o = dsn_to_json(d);
		if (json_object_to_json_string(o) == NULL)
			abort();
		json_object_put(o);
		dsn_free(d);
	}
	return 0;
}
