/*
 * html_track.h - rewrite the links of one HTML text to tracking URLs and
 * add the open pixel, leaving every other byte as it was.
 *
 * Pure: no I/O.  A small tokenizer finds <a> tags and their href values
 * by byte offset; only those values (and the pixel) change.  The caller
 * decides each tracked link's new URL (a token naming the stored link).
 */
#ifndef PH_TRACK_HTML_TRACK_H
#define PH_TRACK_HTML_TRACK_H

#include <stddef.h>

#include "util/util.h"

/* Longest URL taken for tracking; a longer one is left as it is. */
#define HTML_TRACK_URL_MAX 4096

/*
 * html_link_fn - the tracking URL for url (HTML entities decoded), into
 * out (outlen bytes).  0: use it; -1: leave this link as it is.
 */
typedef int (*html_link_fn)(void *ctx, const char *url, char *out, size_t outlen);

struct html_track_opts {
	int clicks;			     /* rewrite links */
	const char *pixel_url;		     /* add the pixel; NULL: no pixel */
	const char *const *excluded_domains; /* NULL-terminated, or NULL */
	const char *unsubscribe_url;	     /* never tracked; or NULL */
	html_link_fn link;		     /* required with clicks */
	void *ctx;
};

struct html_track_result {
	char *out; /* the rewritten HTML, malloc'd; NULL when nothing changed */
	size_t len;
	unsigned links; /* links rewritten */
	int pixel;	/* the pixel was added */
};

/*
 * html_track - rewrite html (len bytes, may hold NULs) as opts say.
 * Returns 0 with res set (res->out NULL when nothing changed), -1 when
 * out of memory.
 */
PH_MUST_CHECK int html_track(const char *html, size_t len,
			     const struct html_track_opts *opts,
			     struct html_track_result *res);

/*
 * html_url_decode - the URL an href value names: HTML character
 * references decoded (&amp; &#38; &#x26; and the few named ones URLs
 * carry), surrounding white space dropped.  Into out (outlen bytes);
 * -1 when it does not fit or holds a NUL or control character.
 */
PH_MUST_CHECK int html_url_decode(const char *v, size_t n, char *out, size_t outlen);

/* html_url_host_excluded - whether url's host is one of domains or below one. */
int html_url_host_excluded(const char *url, const char *const *domains);

#endif
