/*
 * mime.c - the bounce parser's MIME walk: header blocks, Content-Type,
 * multipart boundaries and transfer decodings.  Each part is handed by
 * its type to the report readers (dsn_report.c) or kept as text for the
 * plain-text forms (dsn_text.c).  Bounds as in dsn.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce/dsn.h"
#include "bounce/dsn_int.h"
#include "util/base64.h"
#include "util/util.h"

/* ------------------------------------------------------------- headers */

/* dsn_hdrs_clear - free the values of a header block */
void
dsn_hdrs_clear(struct dsn_hdrs *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->h[i].value);
	h->n = 0;
}

/* dsn_hdrs_free - free a header block and its values */
void
dsn_hdrs_free(struct dsn_hdrs *h)
{
	dsn_hdrs_clear(h);
	free(h->h);
	free(h);
}

/* dsn_hdr_get - the first value of name */
const char *
dsn_hdr_get(const struct dsn_hdrs *h, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < h->n; i++)
		if (h->h[i].nlen == n && strncasecmp(h->h[i].name, name, n) == 0)
			return h->h[i].value;
	return NULL;
}

/* header_name_len - length of "Name" when line is "Name: ...", else 0 */
static size_t
header_name_len(const char *line, size_t len, size_t *colon)
{
	size_t i, n;

	for (i = 0; i < len && i < 128; i++) {
		unsigned char ch = (unsigned char) line[i];

		if (ch == ':')
			break;
		if (ch <= 0x20 || ch >= 0x7f)
			break;
	}
	n = i;
	while (i < len && i < 128 && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (n == 0 || i >= len || line[i] != ':')
		return 0;
	*colon = i;
	return n;
}

/* append_value - add bytes to a header value, keeping within the cap */
static void
append_value(struct dsn_hdr *h, const char *s, size_t n)
{
	if (h->vlen >= DSN_FIELD_MAX)
		return;
	if (n > DSN_FIELD_MAX - h->vlen)
		n = DSN_FIELD_MAX - h->vlen;
	h->value = xrealloc(h->value, h->vlen + n + 1);
	memcpy(h->value + h->vlen, s, n);
	h->vlen += n;
	h->value[h->vlen] = 0;
}

/* dsn_parse_headers - read one header block (see dsn_int.h) */
size_t
dsn_parse_headers(struct dsn_ctx *c, const char *p, size_t len, struct dsn_hdrs *out)
{
	size_t pos = 0, next, ll, colon, nl, start;
	const char *line, *nlp;
	struct dsn_hdr *last = NULL;

	dsn_hdrs_clear(out);
	/* An mbox "From " line before the headers. */
	if (len > 5 && memcmp(p, "From ", 5) == 0) {
		nlp = memchr(p, '\n', len);
		pos = nlp ? (size_t) (nlp - p) + 1 : len;
	}
	start = pos;
	while (pos < len) {
		line = p + pos;
		nlp = memchr(line, '\n', len - pos);
		ll = nlp ? (size_t) (nlp - line) : len - pos;
		next = nlp ? pos + ll + 1 : len;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			return next;
		if (pos - start > DSN_HDR_BYTES_MAX) {
			c->d->warnings |= DSN_WARN_HEADER_CAP;
			return pos;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			if (out->n == 0 && last == NULL)
				return start == 0 ? 0 : pos;
			if (last != NULL) {
				size_t s = 0;

				while (s < ll && (line[s] == ' ' || line[s] == '\t'))
					s++;
				if (s < ll) {
					append_value(last, " ", 1);
					append_value(last, line + s, ll - s);
				}
			}
			pos = next;
			continue;
		}
		nl = header_name_len(line, ll, &colon);
		if (nl == 0) /* not a header: the body starts here */
			return out->n == 0 && last == NULL ? 0 : pos;
		if (out->n < DSN_HDR_MAX) {
			size_t vs = colon + 1;

			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 16;
				out->h = xrealloc(out->h, out->cap * sizeof(*out->h));
			}
			last = &out->h[out->n++];
			last->name = line;
			last->nlen = nl;
			last->value = xstrdup("");
			last->vlen = 0;
			while (vs < ll && (line[vs] == ' ' || line[vs] == '\t'))
				vs++;
			append_value(last, line + vs, ll - vs);
		} else {
			c->d->warnings |= DSN_WARN_HEADER_CAP;
			last = NULL;
		}
		pos = next;
	}
	return len;
}

/* --------------------------------------------------------------- MIME */

struct ctype {
	char type[64]; /* "multipart/report", lowercase */
	char boundary[128];
	char report_type[64];
};

/* parse_ctype - a Content-Type value; NULL or empty gives text/plain */
static void
parse_ctype(const char *v, struct ctype *ct)
{
	size_t n = 0;
	const char *p;

	memset(ct, 0, sizeof(*ct));
	strcpy(ct->type, "text/plain");
	if (v == NULL)
		return;
	while (*v == ' ' || *v == '\t')
		v++;
	for (p = v;
	     *p && *p != ';' && *p != ' ' && *p != '\t' && n + 1 < sizeof(ct->type); p++)
		ct->type[n++] = (char) tolower((unsigned char) *p);
	ct->type[n] = 0;
	if (n == 0 || strchr(ct->type, '/') == NULL)
		strcpy(ct->type, "text/plain");
	while (*p) {
		char name[32], *dst;
		size_t dlen, k = 0;

		p = strchr(p, ';');
		if (p == NULL)
			break;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		while (*p && *p != '=' && *p != ';' && k + 1 < sizeof(name))
			name[k++] = (char) tolower((unsigned char) *p++);
		while (k > 0 && (name[k - 1] == ' ' || name[k - 1] == '\t'))
			k--;
		name[k] = 0;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strcmp(name, "boundary") == 0) {
			dst = ct->boundary;
			dlen = sizeof(ct->boundary);
		} else if (strcmp(name, "report-type") == 0) {
			dst = ct->report_type;
			dlen = sizeof(ct->report_type);
		} else {
			dst = NULL;
			dlen = 0;
		}
		k = 0;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				if (dst && k + 1 < dlen)
					dst[k++] = *p;
				p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ';' && *p != ' ' && *p != '\t') {
				if (dst && k + 1 < dlen)
					dst[k++] = *p;
				p++;
			}
		}
		if (dst) {
			dst[k] = 0;
			if (dst == ct->report_type)
				for (k = 0; dst[k]; k++)
					dst[k] = (char) tolower((unsigned char) dst[k]);
		}
	}
}

/* hex_value - the value of a hex digit, -1 for others */
static int
hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (unsigned char) tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/*
 * decode_body - the body per its Content-Transfer-Encoding into out, at
 * most cap bytes; reads only as much input as that takes.
 */
static void
decode_body(struct dsn_ctx *c, const char *p, size_t len, const char *cte,
	    struct buf *out, size_t cap)
{
	char enc[32] = "";
	size_t i = 0, k = 0;

	buf_reset(out);
	if (cte != NULL) {
		while (*cte == ' ' || *cte == '\t')
			cte++;
		while (cte[k] && cte[k] != ' ' && cte[k] != ';' && k + 1 < sizeof(enc)) {
			enc[k] = (char) tolower((unsigned char) cte[k]);
			k++;
		}
		enc[k] = 0;
	}
	if (strcmp(enc, "base64") == 0) {
		/* len characters decode to at most len / 4 * 3 + 2 bytes. */
		size_t room = len / 4 * 3 + 3 < cap ? len / 4 * 3 + 3 : cap;
		unsigned char *bytes = xmalloc(room + 1);
		int junk = 0;
		ssize_t n = base64_decode(p, len, bytes, room, BASE64_MIME, &junk, &i);

		if (junk > 0)
			c->d->warnings |= DSN_WARN_ENCODING;
		buf_append(out, bytes, (size_t) n);
		free(bytes);
	} else if (strcmp(enc, "quoted-printable") == 0) {
		char chunk[4096];
		size_t cn = 0;
		int h1, h2;

		for (i = 0; i < len && out->len + cn < cap; i++) {
			char ch = p[i];

			if (ch == '=') {
				if (i + 1 < len && p[i + 1] == '\n') {
					i++;
					continue;
				}
				if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n') {
					i += 2;
					continue;
				}
				if (i + 2 < len
				    && (h1 = hex_value((unsigned char) p[i + 1])) >= 0
				    && (h2 = hex_value((unsigned char) p[i + 2])) >= 0) {
					ch = (char) (h1 * 16 + h2);
					i += 2;
				} else
					c->d->warnings |= DSN_WARN_ENCODING;
			}
			chunk[cn++] = ch;
			if (cn == sizeof(chunk)) {
				buf_append(out, chunk, cn);
				cn = 0;
			}
		}
		buf_append(out, chunk, cn);
	} else {
		i = len < cap ? len : cap;
		buf_append(out, p, i);
	}
	if (i < len)
		c->d->warnings |= DSN_WARN_PART_CAP;
}

/* append_text - add a part's text to a capped buffer */
static void
append_text(struct dsn_ctx *c, struct buf *dst, const char *p, size_t len)
{
	size_t room = c->max_part > dst->len ? c->max_part - dst->len : 0;

	if (room == 0)
		return;
	if (len > room) {
		len = room;
		c->d->warnings |= DSN_WARN_PART_CAP;
	}
	if (dst->len > 0)
		buf_append(dst, "\n", 1);
	buf_append(dst, p, len);
}

/* tag_is - whether the tag text at p (n bytes) starts with name, then ends */
static int
tag_is(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n >= k && strncasecmp(p, name, k) == 0
	       && (n == k || p[k] == ' ' || p[k] == '/' || p[k] == '>' || p[k] == '\t');
}

/* strip_html - crude text of an HTML part: tags out, line breaks kept */
static void
strip_html(struct dsn_ctx *c, const char *p, size_t len)
{
	static const struct {
		const char *ent;
		char ch;
	} ents[] = { { "&nbsp;", ' ' }, { "&lt;", '<' },   { "&gt;", '>' },
		     { "&amp;", '&' },	{ "&quot;", '"' }, { "&#39;", '\'' } };
	struct buf t;
	size_t i = 0, j, n;

	buf_init(&t);
	while (i < len) {
		if (p[i] == '<') {
			const char *gt = memchr(p + i, '>', len - i);

			n = (gt ? (size_t) (gt - p) : len) - i - 1;
			if (tag_is(p + i + 1, n, "br") || tag_is(p + i + 1, n, "p")
			    || tag_is(p + i + 1, n, "/p") || tag_is(p + i + 1, n, "/div")
			    || tag_is(p + i + 1, n, "div") || tag_is(p + i + 1, n, "/tr")
			    || tag_is(p + i + 1, n, "/li") || tag_is(p + i + 1, n, "/h1")
			    || tag_is(p + i + 1, n, "/h2") || tag_is(p + i + 1, n, "/h3"))
				buf_append(&t, "\n", 1);
			i = gt ? (size_t) (gt - p) + 1 : len;
			continue;
		}
		if (p[i] == '&') {
			for (j = 0; j < sizeof(ents) / sizeof(ents[0]); j++) {
				size_t el = strlen(ents[j].ent);

				if (len - i >= el
				    && strncasecmp(p + i, ents[j].ent, el) == 0)
					break;
			}
			if (j < sizeof(ents) / sizeof(ents[0])) {
				buf_append(&t, &ents[j].ch, 1);
				i += strlen(ents[j].ent);
				continue;
			}
		}
		if (p[i] != '\r')
			buf_append(&t, p + i, 1);
		i++;
	}
	append_text(c, &c->html, t.data, t.len);
	buf_free(&t);
}

/* ---------------------------------------------------------------- walk */

/* line_start - whether pos begins a line of p */
static int
line_start(const char *p, size_t pos)
{
	return pos == 0 || p[pos - 1] == '\n';
}

/*
 * walk_multipart - each part between the boundaries.  A missing closing
 * boundary ends the last part at the end; repeated boundaries give empty
 * parts, which are skipped.
 */
static void
walk_multipart(struct dsn_ctx *c, const char *p, size_t len, const char *boundary,
	       int depth)
{
	char delim[132];
	size_t dl, pos = 0, part_start = 0, end;
	int in_part = 0, closed = 0;
	const char *hit;

	dl = (size_t) snprintf(delim, sizeof(delim), "--%s", boundary);
	while (pos < len && (hit = memmem(p + pos, len - pos, delim, dl)) != NULL) {
		size_t at = (size_t) (hit - p);
		const char *nl;

		pos = at + dl;
		if (!line_start(p, at)
		    || (pos < len && p[pos] != '-' && p[pos] != '\r' && p[pos] != '\n'
			&& p[pos] != ' ' && p[pos] != '\t'))
			continue;
		if (in_part) {
			end = at;
			if (end > part_start && p[end - 1] == '\n')
				end--;
			if (end > part_start && p[end - 1] == '\r')
				end--;
			if (end > part_start) {
				dsn_walk(c, p + part_start, end - part_start, depth + 1);
				if (c->d->parts > DSN_MAX_PARTS)
					return;
			}
		}
		if (pos + 1 < len && p[pos] == '-' && p[pos + 1] == '-') {
			closed = 1;
			break;
		}
		nl = memchr(p + pos, '\n', len - pos);
		part_start = nl ? (size_t) (nl - p) + 1 : len;
		pos = part_start;
		in_part = 1;
	}
	if (!in_part) {
		/* No boundary at all: read the body as text. */
		c->d->warnings |= DSN_WARN_BOUNDARY;
		append_text(c, &c->plain, p, len < c->max_part ? len : c->max_part);
		return;
	}
	if (!closed) {
		c->d->warnings |= DSN_WARN_BOUNDARY;
		if (part_start < len)
			dsn_walk(c, p + part_start, len - part_start, depth + 1);
	}
}

/* dsn_walk - one MIME entity: its headers, then its body by type */
void
dsn_walk(struct dsn_ctx *c, const char *p, size_t len, int depth)
{
	struct dsn_hdrs *h;
	struct ctype ct;
	struct buf body;
	size_t off;
	const char *cte;

	if (++c->d->parts > DSN_MAX_PARTS) {
		c->d->warnings |= DSN_WARN_PARTS_CAP;
		return;
	}
	h = xcalloc(1, sizeof(*h));
	off = dsn_parse_headers(c, p, len, h);
	if (depth == 0)
		dsn_take_top(c, h);
	parse_ctype(dsn_hdr_get(h, "Content-Type"), &ct);
	cte = dsn_hdr_get(h, "Content-Transfer-Encoding");
	p += off;
	len -= off;
	buf_init(&body);

	if (strncmp(ct.type, "multipart/", 10) == 0) {
		if (depth >= c->max_depth)
			c->d->warnings |= DSN_WARN_DEPTH;
		else if (ct.boundary[0] == 0) {
			c->d->warnings |= DSN_WARN_BOUNDARY;
			append_text(c, &c->plain, p,
				    len < c->max_part ? len : c->max_part);
		} else
			walk_multipart(c, p, len, ct.boundary, depth);
	} else if (strcmp(ct.type, "message/delivery-status") == 0
		   || strcmp(ct.type, "message/global-delivery-status") == 0) {
		decode_body(c, p, len, cte, &body, c->max_part);
		dsn_parse_delivery_status(c, body.data, body.len);
	} else if (strcmp(ct.type, "message/feedback-report") == 0) {
		decode_body(c, p, len, cte, &body, c->max_part);
		dsn_parse_feedback(c, body.data, body.len);
	} else if (strcmp(ct.type, "message/rfc822") == 0
		   || strcmp(ct.type, "message/global") == 0
		   || strcmp(ct.type, "text/rfc822-headers") == 0
		   || strcmp(ct.type, "message/rfc822-headers") == 0
		   || strcmp(ct.type, "message/global-headers") == 0) {
		decode_body(c, p, len, cte, &body, c->max_part);
		dsn_parse_returned(c, body.data, body.len);
	} else if (strcmp(ct.type, "text/html") == 0) {
		decode_body(c, p, len, cte, &body, c->max_part);
		strip_html(c, body.data, body.len);
	} else if (strncmp(ct.type, "text/", 5) == 0) {
		decode_body(c, p, len, cte, &body, c->max_part);
		append_text(c, &c->plain, body.data, body.len);
	}
	buf_free(&body);
	dsn_hdrs_free(h);
}
