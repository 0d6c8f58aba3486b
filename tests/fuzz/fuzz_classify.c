/*
 * fuzz_classify.c - libFuzzer harness for the classifier: the input is a
 * line as posthookctl classify reads it, "TEXT" or "X.Y.Z<TAB>TEXT".
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
	char *tab, out[1024];

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
	if (res.classification != CLASS_NONE && classification_name(res.classification) == NULL)
		abort();
	if (memchr(res.smtp_enhanced_code, '\0', sizeof(res.smtp_enhanced_code)) == NULL
	    || memchr(res.remote_host, '\0', sizeof(res.remote_host)) == NULL)
		abort();
	classify_reply_text(text, out, sizeof(out));
	if (memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	free(text);
	return 0;
}
