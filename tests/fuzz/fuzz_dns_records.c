/*
 * fuzz_dns_records.c - libFuzzer harness for the DNS record parsing of
 * lib/dns: any bytes as a TXT record through the SPF selection, libspf2's
 * evaluation (every TXT lookup answers the same bytes, so includes and
 * redirects recurse into them), the DKIM record and key file parsers and
 * the DMARC parser: no crash, no leak, no sanitizer report, and a parsed
 * DKIM key is base64 without whitespace.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/records.h"
#include "dns/spf.h"

static const char *record;

/* answer - the input for every TXT, fixed answers for the rest */
static int
answer(void *ctx, const char *name, enum dns_type type, struct dns_answer *out)
{
	(void) ctx;
	(void) name;
	switch (type) {
	case DNS_T_TXT:
		dns_answer_add(out, record, 0);
		break;
	case DNS_T_A:
		dns_answer_add(out, "192.0.2.1", 0);
		break;
	case DNS_T_MX:
		dns_answer_add(out, "mx.fuzz.example", 10);
		break;
	default:
		out->result = DNS_R_NODATA;
		break;
	}
	return (0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_source src = { answer, NULL };
	struct dns_answer txt = { 0 };
	struct dkim_record dk;
	struct dmarc_record dm;
	struct spf_eval ev;
	const char *first, *p;
	char *text, *sel, err[200];

	if (size > 70000 || memchr(data, 0, size) != NULL)
		return (0); /* a TXT record holds no NUL (resolver.c) */
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;
	record = text;
	dns_answer_add(&txt, text, 0);
	if (spf_record_count(&txt, &first) == 1) {
		(void) spf_record_allows_all(first);
		if (spf_evaluate(&src, "fuzz.example", "192.0.2.1", &ev) == 0
		    && strlen(ev.reason) >= sizeof(ev.reason))
			abort();
	}
	dns_answer_clear(&txt);
	if (dkim_record_parse(text, &dk, err, sizeof(err)) == 0) {
		for (p = dk.p; *p; p++)
			if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				abort();
		dkim_record_clear(&dk);
	}
	if (dkim_keyfile_parse(text, &sel, &dk, err, sizeof(err)) == 0) {
		free(sel);
		dkim_record_clear(&dk);
	}
	(void) dmarc_record_parse(text, &dm, err, sizeof(err));
	free(text);
	return (0);
}
