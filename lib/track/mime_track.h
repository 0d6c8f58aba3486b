/*
 * mime_track.h - track a whole message body: walk its MIME structure with
 * GMime, rewrite each text/html part (html_track.h) and splice the parts
 * it changed back into the original bytes, so that every other header,
 * boundary and part stays byte for byte.
 *
 * Pure: no I/O.  Untouched: attachments, multipart/signed and encrypted
 * parts, message/rfc822 parts and anything that is not text/html.
 */
#ifndef PH_TRACK_MIME_TRACK_H
#define PH_TRACK_MIME_TRACK_H

#include <stddef.h>

#include "track/html_track.h"
#include "util/util.h"

/* Multipart nesting walked at most; parts deeper are left as they are. */
#define MIME_TRACK_DEPTH_MAX 16

enum mime_track_status {
	MIME_TRACK_UNCHANGED, /* nothing to track: the body stays */
	MIME_TRACK_CHANGED,   /* *out holds the new body */
	MIME_TRACK_UNPARSED,  /* not MIME we can rewrite safely: *why says why */
	MIME_TRACK_NOMEM,
};

struct mime_track_result {
	char *out; /* the new body (CRLF lines), malloc'd; NULL unless CHANGED */
	size_t len;
	unsigned links;	 /* links rewritten in all parts */
	unsigned parts;	 /* HTML parts rewritten */
	const char *why; /* static text for UNPARSED */
};

/*
 * mime_track - the message whose top-level Content-Type and
 * Content-Transfer-Encoding headers are ctype and cte (NULL: absent) and
 * whose body is body (len bytes, CRLF lines as an MTA sends them);
 * opts as for html_track(), the pixel going into the first HTML part
 * only.  Returns a mime_track_status with res set.
 */
PH_MUST_CHECK int mime_track(const char *ctype, const char *cte, const char *body,
			     size_t len, const struct html_track_opts *opts,
			     struct mime_track_result *res);

#endif
