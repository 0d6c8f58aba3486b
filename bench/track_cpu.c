/*
 * track_cpu.c - CPU time of the tracking rewrite of one message, in
 * process: mime_track() with a link callback that signs a token for each
 * link as the milter does (track_token_make), over the message in FILE
 * (headers, a blank line, the body), N times.
 *
 *	track_cpu FILE N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "track/mime_track.h"
#include "track/token.h"

static unsigned char key[TRACK_KEY_LEN];

/* link - a signed click URL, as milter/track.c makes it. */
static int
link(void *ctx, const char *url, char *out, size_t outlen)
{
	unsigned *n = ctx;
	struct track_ref ref = { 12345, TRACK_CLICK, (*n)++ };
	char token[TRACK_TOKEN_SIZE];

	(void) url;
	if (track_token_make(key, &ref, token) != 0)
		return (-1);
	snprintf(out, outlen, "https://track.example.com/c/%s", token);
	return (0);
}

/* cpu_ms - this process's CPU time so far. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

int
main(int argc, char **argv)
{
	static char buf[1 << 22];
	struct html_track_opts o;
	struct mime_track_result r;
	char *body, *ctype = NULL, *line, *save = NULL;
	size_t len;
	unsigned n = 0, links = 0;
	int i, iters;
	double t0, took;
	FILE *f;

	if (argc != 3 || (f = fopen(argv[1], "rb")) == NULL)
		return (2);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	iters = atoi(argv[2]);
	if ((body = strstr(buf, "\r\n\r\n")) == NULL)
		return (2);
	*body = 0;
	body += 4;
	len -= (size_t) (body - buf);
	for (line = strtok_r(buf, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save))
		if (strncasecmp(line, "Content-Type: ", 14) == 0)
			ctype = line + 14;
	memset(&o, 0, sizeof(o));
	o.clicks = 1;
	o.pixel_url = "https://track.example.com/o/0123456789abcdef";
	o.link = link;
	o.ctx = &n;
	/* The first run pays GMime's start-up: not counted. */
	if (mime_track(ctype, NULL, body, len, &o, &r) != MIME_TRACK_CHANGED)
		return (1);
	free(r.out);
	t0 = cpu_ms();
	for (i = 0; i < iters; i++) {
		n = 0;
		if (mime_track(ctype, NULL, body, len, &o, &r) != MIME_TRACK_CHANGED)
			return (1);
		links = r.links;
		free(r.out);
	}
	took = cpu_ms() - t0;
	printf("%zu bytes, %u links: %.3f ms CPU per rewrite (%d runs)\n", len, links,
	       took / iters, iters);
	return (0);
}
