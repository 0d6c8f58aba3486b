/*
 * mime_track.c - walk a message with GMime, rewrite its HTML parts and
 * splice them back into the original bytes (see mime_track.h).
 *
 * The parser keeps each leaf part's content as a window on the input
 * (persist_stream), so its encoded bytes are known by offset: only those
 * windows are replaced, with the rewritten text re-encoded in the part's
 * own transfer encoding.  The charset is never converted: the links and
 * the pixel are ASCII, and only ASCII-compatible charsets are rewritten.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "track/mime_track.h"

/* RFC 5322's line limit, which a 7bit or 8bit part must keep. */
#define LINE_MAX_OCTETS 998

struct splice {
	size_t start, end; /* the part's encoded bytes in the input */
	char *repl;
	size_t len;
};

struct walk {
	const unsigned char *in; /* the input: our headers, then the body */
	size_t inlen;
	size_t head; /* length of our headers */
	struct html_track_opts opts;
	const char *charset; /* the part being rewritten */
	html_link_fn user_link;
	void *user_ctx;
	struct splice *v;
	size_t n, cap;
	int oom;
	unsigned links, parts;
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

/* gmime_start - GMime's one-time set-up. */
static void
gmime_start(void)
{
	g_mime_init();
}

/* charset_ascii_compatible - whether ASCII bytes mean ASCII in charset. */
static int
charset_ascii_compatible(const char *cs)
{
	static const char *const wide[] = { "utf-16", "utf-32",	  "ucs-2", "ucs-4",
					    "utf-7",  "iso-2022", "hz-gb", "utf16",
					    "utf32",  NULL };
	size_t i;

	for (i = 0; cs != NULL && wide[i] != NULL; i++)
		if (strncasecmp(cs, wide[i], strlen(wide[i])) == 0)
			return (0);
	return (1);
}

/* link_utf8 - the caller's link function, given the URL in UTF-8. */
static int
link_utf8(void *ctx, const char *url, char *out, size_t outlen)
{
	struct walk *w = ctx;
	const char *p;
	char *u;
	int rc;

	for (p = url; *p && (unsigned char) *p < 0x80; p++)
		;
	if (*p == 0 || w->charset == NULL || strcasecmp(w->charset, "utf-8") == 0
	    || strcasecmp(w->charset, "utf8") == 0)
		return (w->user_link(w->user_ctx, url, out, outlen));
	u = g_convert(url, -1, "UTF-8", w->charset, NULL, NULL, NULL);
	if (u == NULL)
		return (-1); /* bytes the charset does not have: leave it */
	rc = w->user_link(w->user_ctx, u, out, outlen);
	g_free(u);
	return (rc);
}

/* crlf_to_lf - drop the CR of each CRLF, in place; the new length. */
static size_t
crlf_to_lf(char *s, size_t n)
{
	size_t i, o;

	for (i = o = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			s[o++] = s[i];
	return (o);
}

/* lf_to_crlf - a copy with every bare LF made CRLF; NULL when OOM. */
static char *
lf_to_crlf(const char *s, size_t n, size_t *outlen)
{
	size_t i, o, extra = 0;
	char *out;

	for (i = 0; i < n; i++)
		extra += s[i] == '\n' && (i == 0 || s[i - 1] != '\r');
	if ((out = malloc(n + extra + 1)) == NULL)
		return (NULL);
	for (i = o = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = s[i];
	}
	*outlen = o;
	return (out);
}

/* long_line - whether some line of s is longer than RFC 5322 allows. */
static int
long_line(const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			run = 0;
		else if (s[i] != '\r' && ++run > LINE_MAX_OCTETS)
			return (1);
	}
	return (0);
}

/*
 * encode - text (LF lines) in the part's transfer encoding, CRLF lines,
 * ending as the original window did; NULL when it cannot be (*why).
 */
static char *
encode(GMimeContentEncoding enc, const char *text, size_t n, int crlf_end, size_t *outlen,
       const char **why)
{
	GMimeEncoding st;
	char *buf, *out;
	size_t len;

	if (enc == GMIME_CONTENT_ENCODING_BASE64
	    || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
		g_mime_encoding_init_encode(&st, enc);
		if ((buf = malloc(g_mime_encoding_outlen(&st, n) + 8)) == NULL)
			return (NULL);
		len = g_mime_encoding_flush(&st, text, n, buf);
	} else if (enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		*why = "uuencoded HTML";
		return (NULL);
	} else {
		if ((buf = malloc(n + 1)) == NULL)
			return (NULL);
		memcpy(buf, text, n);
		len = n;
		if (enc != GMIME_CONTENT_ENCODING_BINARY && long_line(buf, len)) {
			free(buf);
			*why = "a line would pass 998 octets";
			return (NULL);
		}
	}
	out = lf_to_crlf(buf, len, outlen);
	free(buf);
	if (out == NULL)
		return (NULL);
	while (!crlf_end && *outlen >= 2 && out[*outlen - 2] == '\r'
	       && out[*outlen - 1] == '\n')
		*outlen -= 2;
	if (crlf_end && (*outlen < 2 || out[*outlen - 1] != '\n')) {
		char *grown = realloc(out, *outlen + 2);

		if (grown == NULL) {
			free(out);
			return (NULL);
		}
		out = grown;
		out[(*outlen)++] = '\r';
		out[(*outlen)++] = '\n';
	}
	return (out);
}

/* splice_add - note a replaced window; repl is owned from here on. */
static void
splice_add(struct walk *w, size_t start, size_t end, char *repl, size_t len)
{
	struct splice *v;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4;

		if ((v = realloc(w->v, cap * sizeof(*v))) == NULL) {
			free(repl);
			w->oom = 1;
			return;
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n].start = start;
	w->v[w->n].end = end;
	w->v[w->n].repl = repl;
	w->v[w->n].len = len;
	w->n++;
}

/* decoded - the part's content without its transfer encoding, LF lines. */
static GByteArray *
decoded(GMimeDataWrapper *content)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *ba;

	if (g_mime_data_wrapper_write_to_stream(content, mem) < 0) {
		g_object_unref(mem);
		return (NULL);
	}
	/* The array is ours: the stream would free it whatever its refs. */
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_object_unref(mem);
	ba->len = (guint) crlf_to_lf((char *) ba->data, ba->len);
	return (ba);
}

/* track_part - rewrite one text/html leaf part. */
static void
track_part(struct walk *w, GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *s;
	GByteArray *text;
	struct html_track_result hr;
	const char *why = NULL;
	size_t start, end, len;
	char *enc;
	int crlf_end;

	if (content == NULL || (s = g_mime_data_wrapper_get_stream(content)) == NULL)
		return;
	w->charset =
	    g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	if (!charset_ascii_compatible(w->charset) || s->bound_start < (gint64) w->head)
		return;
	start = (size_t) s->bound_start;
	end = s->bound_end < 0 ? w->inlen : (size_t) s->bound_end;
	if (end > w->inlen || end < start || (w->n > 0 && start < w->v[w->n - 1].end))
		return;
	if ((text = decoded(content)) == NULL)
		return;
	if (html_track((const char *) text->data, text->len, &w->opts, &hr) != 0) {
		g_byte_array_free(text, TRUE);
		w->oom = 1;
		return;
	}
	g_byte_array_free(text, TRUE);
	if (hr.out == NULL)
		return;
	crlf_end = end - start >= 2 && w->in[end - 1] == '\n';
	enc = encode(g_mime_part_get_content_encoding(part), hr.out, hr.len, crlf_end,
		     &len, &why);
	free(hr.out);
	if (enc == NULL) {
		w->oom |= why == NULL;
		return;
	}
	splice_add(w, start, end, enc, len);
	if (w->oom)
		return;
	w->links += hr.links;
	w->parts++;
	if (hr.pixel)
		w->opts.pixel_url = NULL; /* one pixel per message */
}

/* walk_object - a part and, for a multipart, its children. */
static void
walk_object(struct walk *w, GMimeObject *obj, int depth)
{
	GMimeContentType *ct;
	GMimeContentDisposition *cd;
	int i, n;

	if (obj == NULL || w->oom || depth > MIME_TRACK_DEPTH_MAX)
		return;
	if (GMIME_IS_MULTIPART_SIGNED(obj) || GMIME_IS_MULTIPART_ENCRYPTED(obj))
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n; i++)
			walk_object(w, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i),
				    depth + 1);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return; /* message/rfc822 and other containers: attachments */
	ct = g_mime_object_get_content_type(obj);
	if (ct == NULL || !g_mime_content_type_is_type(ct, "text", "html"))
		return;
	cd = g_mime_object_get_content_disposition(obj);
	if (cd != NULL && g_mime_content_disposition_is_attachment(cd))
		return;
	track_part(w, GMIME_PART(obj));
}

/* input - our headers then the body, as GMime reads them. */
static GByteArray *
input(const char *ctype, const char *cte, const char *body, size_t len, size_t *head)
{
	GByteArray *ba = g_byte_array_sized_new((guint) (len + 256));
	const char *mv = "MIME-Version: 1.0\r\n";

	g_byte_array_append(ba, (const guint8 *) mv, (guint) strlen(mv));
	if (ctype != NULL) {
		g_byte_array_append(ba, (const guint8 *) "Content-Type: ", 14);
		g_byte_array_append(ba, (const guint8 *) ctype, (guint) strlen(ctype));
		g_byte_array_append(ba, (const guint8 *) "\r\n", 2);
	}
	if (cte != NULL) {
		g_byte_array_append(ba,
				    (const guint8 *) "Content-Transfer-Encoding: ", 27);
		g_byte_array_append(ba, (const guint8 *) cte, (guint) strlen(cte));
		g_byte_array_append(ba, (const guint8 *) "\r\n", 2);
	}
	g_byte_array_append(ba, (const guint8 *) "\r\n", 2);
	*head = ba->len;
	g_byte_array_append(ba, (const guint8 *) body, (guint) len);
	return (ba);
}

/* assemble - the body with every splice applied. */
static int
assemble(const struct walk *w, struct mime_track_result *res)
{
	size_t total = w->inlen - w->head, k, at;
	char *o;

	for (k = 0; k < w->n; k++)
		total = total - (w->v[k].end - w->v[k].start) + w->v[k].len;
	if ((res->out = malloc(total + 1)) == NULL)
		return (-1);
	o = res->out;
	for (at = w->head, k = 0; k < w->n; k++) {
		memcpy(o, w->in + at, w->v[k].start - at);
		o += w->v[k].start - at;
		memcpy(o, w->v[k].repl, w->v[k].len);
		o += w->v[k].len;
		at = w->v[k].end;
	}
	memcpy(o, w->in + at, w->inlen - at);
	res->len = total;
	return (0);
}

/* mime_track - see mime_track.h. */
int
mime_track(const char *ctype, const char *cte, const char *body, size_t len,
	   const struct html_track_opts *opts, struct mime_track_result *res)
{
	struct walk w;
	GByteArray *ba;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	size_t k;
	int rc = MIME_TRACK_UNCHANGED;

	memset(res, 0, sizeof(*res));
	if (len > G_MAXUINT - 4096) {
		res->why = "body too large";
		return (MIME_TRACK_UNPARSED);
	}
	if (pthread_once(&gmime_once, gmime_start) != 0)
		return (MIME_TRACK_NOMEM);
	memset(&w, 0, sizeof(w));
	ba = input(ctype, cte, body, len, &w.head);
	w.in = ba->data;
	w.inlen = ba->len;
	w.opts = *opts;
	w.user_link = opts->link;
	w.user_ctx = opts->ctx;
	w.opts.link = link_utf8;
	w.opts.ctx = &w;
	stream = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE); /* freed below */
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL) {
		res->why = "GMime could not parse it";
		rc = MIME_TRACK_UNPARSED;
	} else {
		walk_object(&w, g_mime_message_get_mime_part(msg), 0);
		if (w.oom)
			rc = MIME_TRACK_NOMEM;
		else if (w.n > 0)
			rc = assemble(&w, res) == 0 ? MIME_TRACK_CHANGED
						    : MIME_TRACK_NOMEM;
		res->links = w.links;
		res->parts = w.parts;
		g_object_unref(msg);
	}
	for (k = 0; k < w.n; k++)
		free(w.v[k].repl);
	free(w.v);
	g_object_unref(parser);
	g_object_unref(stream);
	g_byte_array_free(ba, TRUE);
	return (rc);
}
