/*
 * dsn_int.h - what the bounce parser's files share: the parse context,
 * header blocks, and the helpers that add a recipient.  Private to dsn.c
 * (the entry and the verdict), mime.c (the MIME walk), dsn_report.c
 * (RFC 3464, ARF, the headers) and dsn_text.c (the non-standard
 * plain-text forms); nothing else includes it.
 */
#ifndef PH_DSN_INT_H
#define PH_DSN_INT_H

#include <stddef.h>

#include "bounce/dsn.h"
#include "util/util.h"

#define DSN_FIELD_MAX 8192	       /* longest string kept */
#define DSN_HDR_MAX 256		       /* headers kept per block */
#define DSN_HDR_BYTES_MAX (256u << 10) /* bytes of a header block read */

/* One header: name points into the input, value is unfolded and owned. */
struct dsn_hdr {
	const char *name;
	size_t nlen;
	char *value;
	size_t vlen;
};

struct dsn_hdrs {
	struct dsn_hdr *h; /* grown as needed, up to DSN_HDR_MAX */
	size_t n;
	size_t cap;
};

struct dsn_ctx {
	struct dsn *d;
	const char *token_header;
	size_t max_part;
	size_t max_rcpts;
	int max_depth;
	struct buf plain; /* text/plain parts, capped at max_part */
	struct buf html;  /* text/html parts with tags removed */
	int saw_status;	  /* a message/delivery-status part */
	int saw_feedback; /* a message/feedback-report part */
	int autoreply;	  /* RFC 3834 headers on the top level */
};

/* In mime.c: */
/*
 * dsn_walk - one MIME entity at nesting depth: its headers, then its body
 * by type, into the report readers or c->plain and c->html.
 */
void dsn_walk(struct dsn_ctx *c, const char *p, size_t len, int depth);

/*
 * dsn_parse_headers - read a header block at p; return the offset of what
 * follows it (after the empty line).  With no header at all, returns 0.
 */
size_t dsn_parse_headers(struct dsn_ctx *c, const char *p, size_t len,
			 struct dsn_hdrs *out);
void dsn_hdrs_clear(struct dsn_hdrs *h);
/* dsn_hdrs_free - clear, then free the block itself (from xcalloc). */
void dsn_hdrs_free(struct dsn_hdrs *h);
/* dsn_hdr_get - the first value of a header, or NULL. */
const char *dsn_hdr_get(const struct dsn_hdrs *h, const char *name);

/* In dsn_report.c: */
/* dsn_take_top - the fields of the message's own (top-level) headers. */
void dsn_take_top(struct dsn_ctx *c, const struct dsn_hdrs *h);

/* dsn_take_returned - fill d->returned from a header block; 1 if it had a
 * Message-ID or token. */
int dsn_take_returned(struct dsn_ctx *c, const struct dsn_hdrs *h);

/* dsn_parse_delivery_status - the fields of a message/delivery-status part. */
void dsn_parse_delivery_status(struct dsn_ctx *c, const char *p, size_t len);
/* dsn_parse_feedback - the fields of a message/feedback-report part. */
void dsn_parse_feedback(struct dsn_ctx *c, const char *p, size_t len);
/* dsn_parse_returned - the headers of the returned message (or its copy). */
void dsn_parse_returned(struct dsn_ctx *c, const char *p, size_t len);

/*
 * dsn_add_recipient - one recipient from a plain-text form; diag and
 * remote may be NULL.  Counts it even when the cap drops it.
 */
void dsn_add_recipient(struct dsn_ctx *c, const char *addr, size_t alen, const char *diag,
		       size_t dlen, const char *remote, size_t rlen,
		       enum dsn_action action);

/* In dsn.c: */
/* dsn_clean - a sanitized copy (UTF-8, no controls, trimmed, capped). */
char *dsn_clean(struct dsn_ctx *c, const char *s, size_t len);

/* dsn_find_address - the first address-like token in s[0..len). */
int dsn_find_address(const char *s, size_t len, const char **a, size_t *alen);

/* dsn_recipient_clear - free what r holds and empty it. */
void dsn_recipient_clear(struct dsn_recipient *r);

/* dsn_ci_find - case-insensitive strstr. */
const char *dsn_ci_find(const char *hay, const char *needle);

/* In dsn_text.c: */
/* dsn_text_forms - recognise a non-standard form; 1 if one was found. */
int dsn_text_forms(struct dsn_ctx *c, const char *text);
/* dsn_text_generic - a bounce-like notice with a reply code in it. */
int dsn_text_generic(struct dsn_ctx *c, const char *text);
/* dsn_text_returned - the returned headers quoted inside the text. */
void dsn_text_returned(struct dsn_ctx *c, const char *text);

#endif
