/*
 * fuzz_classify.c - libFuzzer harness for the classifier: the input is a
 * line as posthookctl classify reads it, "TEXT" or "X.Y.Z<TAB>TEXT", and
 * also a classify_rules_file whose rules, when valid, then read it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct classify_result res;
	char *text = malloc(size + 1);
	char *tab, out[1024], err[256] = "";
	struct classify_local *local;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	tab = strchr(text, '\t');
	if (tab != NULL) {
		*tab = '\0';
		classify(text, tab + 1, &res);
	} else {
		classify(NULL, text, &res);
	}
	if (res.classification != CLASS_NONE
	    && classification_name(res.classification) == NULL)
		abort();
	if (memchr(res.smtp_enhanced_code, '\0', sizeof(res.smtp_enhanced_code)) == NULL
	    || memchr(res.remote_host, '\0', sizeof(res.remote_host)) == NULL)
		abort();
	classify_reply_text(text, out, sizeof(out));
	if (memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	if (tab != NULL)
		*tab = '\t';
	local = classify_local_parse(text, "fuzz", err, sizeof(err));
	if (local == NULL && memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (local != NULL) {
		classify_local_use(local);
		classify(NULL, text, &res);
		classify_local_use(NULL);
	}
	free(text);
	return 0;
}
