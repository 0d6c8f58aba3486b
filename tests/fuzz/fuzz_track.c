/*
 * fuzz_track.c - libFuzzer harness for the tracking rewriters: the input
 * is an HTML text for html_track(), and the body of a multipart message
 * (boundary "b") for mime_track().  The HTML's bytes outside the links it
 * reports and the pixel must come back unchanged in length accounting,
 * and every URL handed out must be http(s).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "track/html_track.h"
#include "track/mime_track.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* link - a fixed tracking URL; the URL given must be http(s). */
static int
link(void *ctx, const char *url, char *out, size_t outlen)
{
	unsigned *n = ctx;

	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		abort();
	if (strlen(url) > HTML_TRACK_URL_MAX)
		abort();
	(*n)++;
	strncpy(out, "https://t.example/c/x", outlen);
	return (*n % 7 == 3 ? -1 : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const excluded[] = { "skip.example", NULL };
	struct html_track_opts o;
	struct html_track_result hr;
	struct mime_track_result mr;
	unsigned n = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.clicks = 1;
	o.pixel_url = size % 2 ? "https://t.example/o/x" : NULL;
	o.excluded_domains = excluded;
	o.unsubscribe_url = "https://u.example/";
	o.link = link;
	o.ctx = &n;
	if (html_track((const char *) data, size, &o, &hr) != 0)
		return 0;
	if (hr.out != NULL && hr.links == 0 && !hr.pixel)
		abort();
	if (hr.out == NULL && (hr.links > 0 || hr.pixel))
		abort();
	free(hr.out);
	rc = mime_track("multipart/mixed; boundary=\"b\"", size % 3 ? NULL : "7bit",
			(const char *) data, size, &o, &mr);
	if (rc == MIME_TRACK_CHANGED && mr.out == NULL)
		abort();
	if (rc != MIME_TRACK_CHANGED && mr.out != NULL)
		abort();
	free(mr.out);
	return 0;
}
