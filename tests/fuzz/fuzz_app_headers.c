/*
 * fuzz_app_headers.c - libFuzzer harness for the milter's header parsers:
 * the input is one header value, given to the tag, metadata, Message-ID,
 * spam and RFC 2047 parsers in turn.  What they accept must keep its
 * limits and be valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "app_headers.h"
#include "rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = malloc(size + 1);
	json_object *meta = NULL;
	const char *why = NULL;
	char *tag = NULL, *s;

	if (raw == NULL)
		return 0;
	memcpy(raw, data, size);
	raw[size] = '\0';

	if (app_tag_parse(raw, &tag, &why) == APP_OK) {
		if (strlen(tag) > APP_TAG_MAX || !utf8_valid(tag, strlen(tag)))
			abort();
		free(tag);
	} else if (why == NULL) {
		abort();
	}
	why = NULL;
	if (app_metadata_parse(raw, &meta, &why) == APP_OK) {
		if (!json_object_is_type(meta, json_type_object)
		    || json_object_object_length(meta) > APP_META_MAX_KEYS)
			abort();
		json_object_put(meta);
	}
	s = message_id_strip(raw);
	free(s);
	s = header_value_clean(raw);
	if (s != NULL && (strchr(s, '\r') != NULL || strchr(s, '\n') != NULL))
		abort();
	free(s);
	(void) spam_status_from_header("X-Spam-Status", raw);
	s = rfc2047_decode(raw, 200);
	if (s != NULL && !utf8_valid(s, strlen(s)))
		abort();
	free(s);
	free(raw);
	return 0;
}
