/*
 * dsn.c - the bounce parser: MIME walking, RFC 3464 delivery status,
 * RFC 5965 feedback reports, the returned message's headers, and the
 * verdict (bounce, delay, delivery, auto-reply, complaint or unknown).
 * The non-standard plain-text forms are read by dsn_text.c.
 *
 * Bounds: the input is cut at max_input; a part is decoded up to max_part
 * bytes (base64 and quoted-printable decoding stop there, so a 50 MiB part
 * costs one pass over its start); nesting stops at max_depth; at most
 * DSN_MAX_PARTS parts and max_recipients recipients are kept; a header
 * block is read up to DSN_HDR_BYTES_MAX bytes and DSN_HDR_MAX headers.
 * Every search is bounded by the length of what it searches, so time is
 * linear in the input times the nesting depth.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce/dsn.h"
#include "bounce/dsn_int.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/utf8.h"
#include "util/util.h"

/* ---------------------------------------------------------------- text */

/* dsn_ci_find - case-insensitive strstr */
const char *
dsn_ci_find(const char *hay, const char *needle)
{
	size_t  n = strlen(needle);
	int     first = tolower((unsigned char) *needle);

	if (n == 0)
		return hay;
	for (; *hay; hay++)
		if (tolower((unsigned char) *hay) == first
		    && strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* dsn_clean - a sanitized, trimmed copy of at most DSN_FIELD_MAX bytes */
char   *
dsn_clean(struct dsn_ctx *c, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	char   *out;
	size_t  i = 0, o = 0, n;

	while (len > 0 && isspace(p[0]) && p[0] < 0x80) {
		p++;
		len--;
	}
	while (len > 0 && p[len - 1] < 0x80 && isspace(p[len - 1]))
		len--;
	if (len > DSN_FIELD_MAX)
		len = DSN_FIELD_MAX;
	out = xmalloc(len + 1);
	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			out[o++] = ' ';
			i++;
		} else if ((n = utf8_seq_len(p + i, len - i)) == 0) {
			out[o++] = '?';
			i++;
			if (c != NULL)
				c->d->warnings |= DSN_WARN_8BIT;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = 0;
	return out;
}

/* addr_char - may this byte be part of an address token */
static int
addr_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("<>()[],;:\"'", ch) == NULL;
}

/* dsn_find_address - the first local@domain token in s[0..len) */
int
dsn_find_address(const char *s, size_t len, const char **a, size_t *alen)
{
	const char *at, *b, *e, *end = s + len;

	for (at = memchr(s, '@', len); at != NULL;
	     at = memchr(at + 1, '@', (size_t) (end - at - 1))) {
		for (b = at; b > s && addr_char((unsigned char) b[-1]); b--)
			;
		for (e = at + 1; e < end && addr_char((unsigned char) *e); e++)
			;
		while (e > at + 1 && (e[-1] == '.' || e[-1] == '-'))
			e--;
		if (b < at && e > at + 1 && memchr(at + 1, '.', (size_t) (e - at - 1))
		    && memchr(at + 1, '@', (size_t) (e - at - 1)) == NULL) {
			*a = b;
			*alen = (size_t) (e - b);
			return 1;
		}
		if (at + 1 >= end)
			break;
	}
	return 0;
}

/* ------------------------------------------------------------- headers */

/* dsn_hdrs_clear - free the values of a header block */
void
dsn_hdrs_clear(struct dsn_hdrs *h)
{
	size_t  i;

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
	size_t  i, n = strlen(name);

	for (i = 0; i < h->n; i++)
		if (h->h[i].nlen == n && strncasecmp(h->h[i].name, name, n) == 0)
			return h->h[i].value;
	return NULL;
}

/* header_name_len - length of "Name" when line is "Name: ...", else 0 */
static size_t
header_name_len(const char *line, size_t len, size_t *colon)
{
	size_t  i, n;

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
dsn_parse_headers(struct dsn_ctx *c, const char *p, size_t len,
		  struct dsn_hdrs *out)
{
	size_t  pos = 0, next, ll, colon, nl, start;
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
		if (nl == 0)		/* not a header: the body starts here */
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

/* set_field - set *field from a value once (the first one wins) */
static void
set_field(struct dsn_ctx *c, char **field, const char *value)
{
	if (*field == NULL && value != NULL && *value != 0)
		*field = dsn_clean(c, value, strlen(value));
}

/* message_id_of - a Message-ID without angle brackets */
static char *
message_id_of(struct dsn_ctx *c, const char *v)
{
	const char *lt = strchr(v, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL && gt > lt + 1)
		return dsn_clean(c, lt + 1, (size_t) (gt - lt - 1));
	return dsn_clean(c, v, strlen(v));
}

/* take_headers - the fields of struct dsn_headers from a block */
static void
take_headers(struct dsn_ctx *c, const struct dsn_hdrs *h, struct dsn_headers *out)
{
	const char *v;

	if (out->message_id == NULL && (v = dsn_hdr_get(h, "Message-ID")) != NULL
	    && *v != 0)
		out->message_id = message_id_of(c, v);
	set_field(c, &out->token, dsn_hdr_get(h, c->token_header));
	set_field(c, &out->from, dsn_hdr_get(h, "From"));
	set_field(c, &out->to, dsn_hdr_get(h, "To"));
	set_field(c, &out->subject, dsn_hdr_get(h, "Subject"));
	set_field(c, &out->date, dsn_hdr_get(h, "Date"));
}

/* dsn_take_returned - fill d->returned from a block (see dsn_int.h) */
int
dsn_take_returned(struct dsn_ctx *c, const struct dsn_hdrs *h)
{
	if (dsn_hdr_get(h, "Message-ID") == NULL
	    && dsn_hdr_get(h, c->token_header) == NULL
	    && dsn_hdr_get(h, "From") == NULL && dsn_hdr_get(h, "Subject") == NULL)
		return 0;
	take_headers(c, h, &c->d->returned);
	return c->d->returned.message_id != NULL || c->d->returned.token != NULL;
}

/* --------------------------------------------------------------- MIME */

struct ctype {
	char    type[64];		/* "multipart/report", lowercase */
	char    boundary[128];
	char    report_type[64];
};

/* parse_ctype - a Content-Type value; NULL or empty gives text/plain */
static void
parse_ctype(const char *v, struct ctype *ct)
{
	size_t  n = 0;
	const char *p;

	memset(ct, 0, sizeof(*ct));
	strcpy(ct->type, "text/plain");
	if (v == NULL)
		return;
	while (*v == ' ' || *v == '\t')
		v++;
	for (p = v; *p && *p != ';' && *p != ' ' && *p != '\t' && n + 1 < sizeof(ct->type);
	     p++)
		ct->type[n++] = (char) tolower((unsigned char) *p);
	ct->type[n] = 0;
	if (n == 0 || strchr(ct->type, '/') == NULL)
		strcpy(ct->type, "text/plain");
	while (*p) {
		char    name[32], *dst;
		size_t  dlen, k = 0;

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
	char    enc[32] = "";
	size_t  i = 0, k = 0;

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
		size_t  room = len / 4 * 3 + 3 < cap ? len / 4 * 3 + 3 : cap;
		unsigned char *bytes = xmalloc(room + 1);
		int     junk = 0;
		ssize_t n = base64_decode(p, len, bytes, room, BASE64_MIME, &junk);

		if (junk > 0)
			c->d->warnings |= DSN_WARN_ENCODING;
		buf_append(out, bytes, (size_t) n);
		free(bytes);
	} else if (strcmp(enc, "quoted-printable") == 0) {
		char    chunk[4096];
		size_t  cn = 0;
		int     h1, h2;

		for (i = 0; i < len && out->len + cn < cap; i++) {
			char    ch = p[i];

			if (ch == '=') {
				if (i + 1 < len && p[i + 1] == '\n') {
					i++;
					continue;
				}
				if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n') {
					i += 2;
					continue;
				}
				if (i + 2 < len && (h1 = hex_value((unsigned char) p[i + 1])) >= 0
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
	size_t  room = c->max_part > dst->len ? c->max_part - dst->len : 0;

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
	size_t  k = strlen(name);

	return n >= k && strncasecmp(p, name, k) == 0
	       && (n == k || p[k] == ' ' || p[k] == '/' || p[k] == '>' || p[k] == '\t');
}

/* strip_html - crude text of an HTML part: tags out, line breaks kept */
static void
strip_html(struct dsn_ctx *c, const char *p, size_t len)
{
	static const struct {
		const char *ent;
		char    ch;
	} ents[] = {{"&nbsp;", ' '}, {"&lt;", '<'}, {"&gt;", '>'},
		    {"&amp;", '&'}, {"&quot;", '"'}, {"&#39;", '\''}};
	struct buf t;
	size_t  i = 0, j, n;

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
				size_t  el = strlen(ents[j].ent);

				if (len - i >= el && strncasecmp(p + i, ents[j].ent, el) == 0)
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

/* -------------------------------------------------- RFC 3464, RFC 5965 */

/* after_type - the value of "type; value" fields without the type */
static const char *
after_type(const char *v, char *type, size_t typelen)
{
	const char *semi = strchr(v, ';');
	size_t  n;

	if (type != NULL)
		*type = 0;
	if (semi == NULL || semi - v > 32)
		return v;
	if (type != NULL && typelen > 0) {
		n = (size_t) (semi - v);
		while (n > 0 && v[n - 1] == ' ')
			n--;
		if (n >= typelen)
			n = typelen - 1;
		memcpy(type, v, n);
		type[n] = 0;
		for (size_t i = 0; i < n; i++)
			type[i] = (char) tolower((unsigned char) type[i]);
	}
	semi++;
	while (*semi == ' ' || *semi == '\t')
		semi++;
	return semi;
}

/* address_field - "rfc822; <a@b>" as "a@b" */
static char *
address_field(struct dsn_ctx *c, const char *v)
{
	const char *a = after_type(v, NULL, 0);
	size_t  n = strlen(a);

	while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
		n--;
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		a++;
		n -= 2;
	}
	return dsn_clean(c, a, n);
}

/* enhanced_code - copy the first RFC 3463 code of s into out (16 bytes) */
static int
enhanced_code(const char *s, char out[16])
{
	const char *p;
	size_t  n1, n2;

	for (p = s; *p; p++) {
		if (*p < '2' || *p > '5' || p[1] != '.')
			continue;
		if (p > s && (isalnum((unsigned char) p[-1]) || p[-1] == '.'))
			continue;
		for (n1 = 0; isdigit((unsigned char) p[2 + n1]) && n1 < 4; n1++)
			;
		if (n1 == 0 || n1 > 3 || p[2 + n1] != '.')
			continue;
		for (n2 = 0; isdigit((unsigned char) p[3 + n1 + n2]) && n2 < 4; n2++)
			;
		if (n2 == 0 || n2 > 3 || isalnum((unsigned char) p[3 + n1 + n2])
		    || (p[3 + n1 + n2] == '.' && isdigit((unsigned char) p[4 + n1 + n2])))
			continue;
		memcpy(out, p, 3 + n1 + n2);
		out[3 + n1 + n2] = 0;
		return 1;
	}
	return 0;
}

/* code_at - an SMTP reply code at p (followed by space, '-' or end) */
static int
code_at(const char *p)
{
	if (p[0] < '2' || p[0] > '5' || !isdigit((unsigned char) p[1])
	    || !isdigit((unsigned char) p[2]))
		return 0;
	if (p[3] != 0 && p[3] != ' ' && p[3] != '-')
		return 0;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* reply_code - the SMTP reply code a diagnostic text gives, or 0 */
static int
reply_code(const char *s)
{
	static const char *const leads[] = {"said: ", "said:", "returned '", "#",
					    "Remote host said: ", "reply: "};
	const char *p;
	char    enh[16];
	size_t  i;
	int     code;

	while (*s == ' ' || *s == '\t' || *s == '\'' || *s == '#')
		s++;
	if ((code = code_at(s)) != 0)
		return code;
	for (i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
		if ((p = dsn_ci_find(s, leads[i])) != NULL
		    && (code = code_at(p + strlen(leads[i]))) != 0)
			return code;
	}
	/* "... 550 5.1.1 ...": a code that an enhanced code of its class follows */
	for (p = s; *p; p++) {
		if ((p == s || p[-1] == ' ' || p[-1] == '(' || p[-1] == ':')
		    && (code = code_at(p)) != 0 && p[3] != 0
		    && enhanced_code(p + 4, enh) && enh[0] == p[0]
		    && strncmp(p + 4, enh, strlen(enh)) == 0)
			return code;
	}
	return 0;
}

/* finish_recipient - derived fields: status, reply code, hard or soft */
static void
finish_recipient(struct dsn_recipient *r)
{
	char    enh[16];

	if (r->diagnostic != NULL)
		r->smtp_code = reply_code(r->diagnostic);
	if (r->status[0] == 0 && r->diagnostic != NULL && enhanced_code(r->diagnostic, enh))
		memcpy(r->status, enh, sizeof(enh));
	if (r->action == DSN_ACTION_NONE)
		r->action = r->status[0] == '2' ? DSN_ACTION_DELIVERED : DSN_ACTION_FAILED;
	if (r->status[0] == '5' || r->status[0] == '4')
		r->permanent = r->status[0] == '5';
	else if (r->smtp_code >= 400)
		r->permanent = r->smtp_code >= 500;
	else
		r->permanent = r->action == DSN_ACTION_FAILED;
}

/* recipient_clear - free what r holds and empty it */
static void
recipient_clear(struct dsn_recipient *r)
{
	free(r->final_recipient);
	free(r->original_recipient);
	free(r->diagnostic_type);
	free(r->diagnostic);
	free(r->remote_mta);
	free(r->last_attempt_date);
	memset(r, 0, sizeof(*r));
}

/* keep_recipient - append r to d->rcpt (or count and drop it at the cap) */
static void
keep_recipient(struct dsn_ctx *c, struct dsn_recipient *r)
{
	struct dsn *d = c->d;

	d->rcpt_seen++;
	if (d->nrcpt >= c->max_rcpts) {
		d->warnings |= DSN_WARN_RCPT_CAP;
		recipient_clear(r);
		return;
	}
	finish_recipient(r);
	if ((d->nrcpt & (d->nrcpt - 1)) == 0)	/* 0, 1, 2, 4, ...: grow */
		d->rcpt = xrealloc(d->rcpt, (d->nrcpt ? d->nrcpt * 2 : 1) * sizeof(*r));
	d->rcpt[d->nrcpt++] = *r;
	memset(r, 0, sizeof(*r));
}

/* dsn_add_recipient - a recipient read from a plain-text form */
void
dsn_add_recipient(struct dsn_ctx *c, const char *addr, size_t alen,
		  const char *diag, size_t dlen, const char *remote, size_t rlen,
		  enum dsn_action action)
{
	struct dsn_recipient r;

	memset(&r, 0, sizeof(r));
	if (addr != NULL && alen > 0) {
		if (alen >= 2 && addr[0] == '<' && addr[alen - 1] == '>') {
			addr++;
			alen -= 2;
		}
		r.final_recipient = dsn_clean(c, addr, alen);
	}
	if (diag != NULL && dlen > 0)
		r.diagnostic = dsn_clean(c, diag, dlen);
	if (remote != NULL && rlen > 0)
		r.remote_mta = dsn_clean(c, remote, rlen);
	r.action = action;
	keep_recipient(c, &r);
}

/* action_of - an Action field's value */
static enum dsn_action
action_of(const char *v)
{
	static const struct {
		const char *name;
		enum dsn_action a;
	} names[] = {{"failed", DSN_ACTION_FAILED}, {"failure", DSN_ACTION_FAILED},
		     {"delayed", DSN_ACTION_DELAYED}, {"delivered", DSN_ACTION_DELIVERED},
		     {"relayed", DSN_ACTION_RELAYED}, {"expanded", DSN_ACTION_EXPANDED}};
	size_t  i;

	while (*v == ' ')
		v++;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncasecmp(v, names[i].name, strlen(names[i].name)) == 0)
			return names[i].a;
	return DSN_ACTION_NONE;
}

/* has_recipient - whether r holds anything worth keeping */
static int
has_recipient(const struct dsn_recipient *r)
{
	return r->final_recipient || r->original_recipient || r->status[0]
	       || r->diagnostic || r->action != DSN_ACTION_NONE;
}

/* recipient_field - one per-recipient field into r; 0 if not one */
static int
recipient_field(struct dsn_ctx *c, struct dsn_recipient *r, const char *name,
		size_t nlen, const char *v)
{
	char    type[33];

#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
	if (IS("Final-Recipient")) {
		if (r->final_recipient != NULL)
			keep_recipient(c, r);
		r->final_recipient = address_field(c, v);
	} else if (IS("Original-Recipient")) {
		/* A field seen twice: the next recipient (no blank line between). */
		if (r->original_recipient != NULL)
			keep_recipient(c, r);
		r->original_recipient = address_field(c, v);
	} else if (IS("Action")) {
		if (r->action == DSN_ACTION_NONE)
			r->action = action_of(v);
	} else if (IS("Status")) {
		if (r->status[0] == 0)
			enhanced_code(v, r->status);
	} else if (IS("Diagnostic-Code")) {
		if (r->diagnostic == NULL) {
			const char *text = after_type(v, type, sizeof(type));

			r->diagnostic = dsn_clean(c, text, strlen(text));
			if (type[0])
				r->diagnostic_type = dsn_clean(c, type, strlen(type));
		}
	} else if (IS("Remote-MTA")) {
		if (r->remote_mta == NULL) {
			const char *h = after_type(v, NULL, 0);

			r->remote_mta = dsn_clean(c, h, strlen(h));
		}
	} else if (IS("Last-Attempt-Date")) {
		set_field(c, &r->last_attempt_date, v);
	} else
		return 0;
#undef IS
	return 1;
}

/* parse_delivery_status - the fields of a message/delivery-status part */
static void
parse_delivery_status(struct dsn_ctx *c, const char *p, size_t len)
{
	struct dsn_hdrs *h = xcalloc(1, sizeof(*h));
	struct dsn_recipient r;
	struct dsn *d = c->d;
	size_t  pos = 0, used, i;
	const char *nl, *v;

	memset(&r, 0, sizeof(r));
	c->saw_status = 1;
	while (pos < len) {
		/* Blank lines between blocks. */
		if (p[pos] == '\n' || (p[pos] == '\r' && pos + 1 < len && p[pos + 1] == '\n')) {
			pos += p[pos] == '\r' ? 2 : 1;
			continue;
		}
		used = dsn_parse_headers(c, p + pos, len - pos, h);
		if (used == 0) {	/* a line that is no field: skip it */
			nl = memchr(p + pos, '\n', len - pos);
			pos = nl ? (size_t) (nl - p) + 1 : len;
			continue;
		}
		pos += used;
		for (i = 0; i < h->n; i++) {
			const char *name = h->h[i].name;
			size_t  nlen = h->h[i].nlen;

			v = h->h[i].value;
			if (recipient_field(c, &r, name, nlen, v))
				continue;
#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
			if (IS("Reporting-MTA"))
				set_field(c, &d->reporting_mta, after_type(v, NULL, 0));
			else if (IS("Received-From-MTA"))
				set_field(c, &d->received_from_mta, after_type(v, NULL, 0));
			else if (IS("Arrival-Date"))
				set_field(c, &d->arrival_date, v);
			else if (IS("X-Postfix-Queue-ID"))
				set_field(c, &d->postfix_queue_id, v);
			else if (IS("X-Postfix-Sender"))
				set_field(c, &d->postfix_sender, after_type(v, NULL, 0));
#undef IS
		}
		/* A block without an address, action or status is no recipient. */
		if (has_recipient(&r))
			keep_recipient(c, &r);
		else
			recipient_clear(&r);
	}
	recipient_clear(&r);
	dsn_hdrs_free(h);
}

/* parse_feedback - the fields of a message/feedback-report part */
static void
parse_feedback(struct dsn_ctx *c, const char *p, size_t len)
{
	struct dsn_hdrs *h = xcalloc(1, sizeof(*h));
	struct dsn_feedback *f = &c->d->feedback;

	c->saw_feedback = 1;
	dsn_parse_headers(c, p, len, h);
	set_field(c, &f->feedback_type, dsn_hdr_get(h, "Feedback-Type"));
	set_field(c, &f->user_agent, dsn_hdr_get(h, "User-Agent"));
	set_field(c, &f->version, dsn_hdr_get(h, "Version"));
	if (f->original_mail_from == NULL && dsn_hdr_get(h, "Original-Mail-From") != NULL)
		f->original_mail_from = address_field(c, dsn_hdr_get(h, "Original-Mail-From"));
	if (f->original_rcpt_to == NULL && dsn_hdr_get(h, "Original-Rcpt-To") != NULL)
		f->original_rcpt_to = address_field(c, dsn_hdr_get(h, "Original-Rcpt-To"));
	set_field(c, &f->source_ip, dsn_hdr_get(h, "Source-IP"));
	set_field(c, &f->arrival_date, dsn_hdr_get(h, "Arrival-Date"));
	set_field(c, &f->arrival_date, dsn_hdr_get(h, "Received-Date"));
	set_field(c, &f->reported_domain, dsn_hdr_get(h, "Reported-Domain"));
	set_field(c, &f->reported_uri, dsn_hdr_get(h, "Reported-URI"));
	dsn_hdrs_free(h);
}

/* parse_returned - headers of the returned message (or of its copy) */
static void
parse_returned(struct dsn_ctx *c, const char *p, size_t len)
{
	struct dsn_hdrs *h = xcalloc(1, sizeof(*h));

	dsn_parse_headers(c, p, len, h);
	(void) dsn_take_returned(c, h);
	dsn_hdrs_free(h);
}

static void walk(struct dsn_ctx *c, const char *p, size_t len, int depth);

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
walk_multipart(struct dsn_ctx *c, const char *p, size_t len,
	       const char *boundary, int depth)
{
	char    delim[132];
	size_t  dl, pos = 0, part_start = 0, end;
	int     in_part = 0, closed = 0;
	const char *hit;

	dl = (size_t) snprintf(delim, sizeof(delim), "--%s", boundary);
	while (pos < len && (hit = memmem(p + pos, len - pos, delim, dl)) != NULL) {
		size_t  at = (size_t) (hit - p);
		const char *nl;

		pos = at + dl;
		if (!line_start(p, at) || (pos < len && p[pos] != '-' && p[pos] != '\r'
					   && p[pos] != '\n' && p[pos] != ' '
					   && p[pos] != '\t'))
			continue;
		if (in_part) {
			end = at;
			if (end > part_start && p[end - 1] == '\n')
				end--;
			if (end > part_start && p[end - 1] == '\r')
				end--;
			if (end > part_start) {
				walk(c, p + part_start, end - part_start, depth + 1);
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
			walk(c, p + part_start, len - part_start, depth + 1);
	}
}

/* walk - one MIME entity: its headers, then its body by type */
static void
walk(struct dsn_ctx *c, const char *p, size_t len, int depth)
{
	struct dsn_hdrs *h;
	struct ctype ct;
	struct buf body;
	size_t  off;
	const char *cte;

	if (++c->d->parts > DSN_MAX_PARTS) {
		c->d->warnings |= DSN_WARN_PARTS_CAP;
		return;
	}
	h = xcalloc(1, sizeof(*h));
	off = dsn_parse_headers(c, p, len, h);
	if (depth == 0) {
		const char *v;

		if (h->n == 0)
			c->d->warnings |= DSN_WARN_NO_HEADERS;
		take_headers(c, h, &c->d->self);
		/* The report's own token header would be ours: not the returned one. */
		free(c->d->self.token);
		c->d->self.token = NULL;
		set_field(c, &c->d->auto_submitted, dsn_hdr_get(h, "Auto-Submitted"));
		if ((v = dsn_hdr_get(h, "Auto-Submitted")) != NULL
		    && strncasecmp(v, "auto-replied", 12) == 0)
			c->autoreply = 1;
		if (dsn_hdr_get(h, "X-Autoreply") != NULL
		    || dsn_hdr_get(h, "X-Autorespond") != NULL)
			c->autoreply = 1;
		if ((v = dsn_hdr_get(h, "Precedence")) != NULL
		    && dsn_ci_find(v, "auto_reply") != NULL)
			c->autoreply = 1;
	}
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
			append_text(c, &c->plain, p, len < c->max_part ? len : c->max_part);
		} else
			walk_multipart(c, p, len, ct.boundary, depth);
	} else if (strcmp(ct.type, "message/delivery-status") == 0
		   || strcmp(ct.type, "message/global-delivery-status") == 0) {
		decode_body(c, p, len, cte, &body, c->max_part);
		parse_delivery_status(c, body.data, body.len);
	} else if (strcmp(ct.type, "message/feedback-report") == 0) {
		decode_body(c, p, len, cte, &body, c->max_part);
		parse_feedback(c, body.data, body.len);
	} else if (strcmp(ct.type, "message/rfc822") == 0
		   || strcmp(ct.type, "message/global") == 0
		   || strcmp(ct.type, "text/rfc822-headers") == 0
		   || strcmp(ct.type, "message/rfc822-headers") == 0
		   || strcmp(ct.type, "message/global-headers") == 0) {
		decode_body(c, p, len, cte, &body, c->max_part);
		parse_returned(c, body.data, body.len);
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

/* ------------------------------------------------------------- verdict */

/* text_of - a buffer as a C string: NULs and CRs out */
static char *
text_of(const struct buf *b)
{
	char   *t = xmalloc(b->len + 1);
	size_t  i, o = 0;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\r')
			continue;
		t[o++] = b->data[i] == 0 ? ' ' : b->data[i];
	}
	t[o] = 0;
	return t;
}

/* autoreply_subject - whether a subject says "Out of Office" and the like */
static int
autoreply_subject(const char *s)
{
	static const char *const words[] = {
		"out of office", "out of the office", "automatic reply",
		"auto reply", "auto-reply", "autoreply", "auto response",
		"auto-response", "autoresponse", "vacation", "abwesenheit",
		"automatische antwort", "r\xc3\xa9ponse automatique",
		"reponse automatique", "respuesta autom", "risposta automatica",
		"away from the office", "away from my", "on leave",
	};
	size_t  i;

	if (s == NULL)
		return 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (dsn_ci_find(s, words[i]) != NULL)
			return 1;
	return 0;
}

/* kind_of_recipients - bounce if one failed, else delay, else delivered */
static enum dsn_kind
kind_of_recipients(const struct dsn *d)
{
	size_t  i;
	int     delayed = 0, delivered = 0;

	for (i = 0; i < d->nrcpt; i++) {
		switch (d->rcpt[i].action) {
		case DSN_ACTION_FAILED:
		case DSN_ACTION_NONE:
			return DSN_KIND_BOUNCE;
		case DSN_ACTION_DELAYED:
			delayed = 1;
			break;
		default:
			delivered = 1;
			break;
		}
	}
	if (delayed)
		return DSN_KIND_DELAYED;
	if (delivered)
		return DSN_KIND_DELIVERED;
	return DSN_KIND_UNKNOWN;
}

/* scan_token - the token header on any line of the raw input */
static void
scan_token(struct dsn_ctx *c, const char *p, size_t len)
{
	size_t  tl = strlen(c->token_header), pos = 0, vs, ve;
	const char *nl;

	while (pos + tl < len) {
		if ((pos == 0 || p[pos - 1] == '\n')
		    && strncasecmp(p + pos, c->token_header, tl) == 0) {
			vs = pos + tl;
			while (vs < len && (p[vs] == ' ' || p[vs] == '\t'))
				vs++;
			if (vs < len && p[vs] == ':') {
				vs++;
				for (ve = vs; ve < len && p[ve] != '\n' && p[ve] != '\r'; ve++)
					;
				if (ve - vs > 0 && ve - vs < 256) {
					c->d->returned.token = dsn_clean(c, p + vs, ve - vs);
					if (*c->d->returned.token)
						return;
					free(c->d->returned.token);
					c->d->returned.token = NULL;
				}
			}
		}
		nl = memchr(p + pos, '\n', len - pos);
		if (nl == NULL)
			break;
		pos = (size_t) (nl - p) + 1;
	}
}

/* dsn_parse - see dsn.h */
struct dsn *
dsn_parse(const void *data, size_t len, const struct dsn_options *opt)
{
	struct dsn_ctx c;
	struct dsn *d = xcalloc(1, sizeof(*d));
	const char *p = data;
	char   *text;
	size_t  max_input = DSN_MAX_INPUT;

	memset(&c, 0, sizeof(c));
	c.d = d;
	c.token_header = DSN_TOKEN_HEADER;
	c.max_part = DSN_MAX_PART;
	c.max_rcpts = DSN_MAX_RECIPIENTS;
	c.max_depth = DSN_MAX_DEPTH;
	if (opt != NULL) {
		if (opt->token_header != NULL && *opt->token_header)
			c.token_header = opt->token_header;
		if (opt->max_input)
			max_input = opt->max_input;
		if (opt->max_part)
			c.max_part = opt->max_part;
		if (opt->max_recipients)
			c.max_rcpts = opt->max_recipients;
		if (opt->max_depth > 0)
			c.max_depth = opt->max_depth;
	}
	if (p == NULL)
		len = 0;
	if (len > max_input) {
		len = max_input;
		d->warnings |= DSN_WARN_TRUNCATED;
	}
	buf_init(&c.plain);
	buf_init(&c.html);
	if (len > 0)
		walk(&c, p, len, 0);
	else
		d->warnings |= DSN_WARN_NO_HEADERS;

	text = text_of(c.plain.len > 0 ? &c.plain : &c.html);
	if (c.saw_feedback) {
		d->kind = DSN_KIND_FEEDBACK;
		d->format = DSN_FORMAT_ARF;
	} else if (d->nrcpt > 0 || d->rcpt_seen > 0) {
		d->format = DSN_FORMAT_RFC3464;
		d->kind = kind_of_recipients(d);
	} else if (dsn_text_forms(&c, text)) {
		d->kind = kind_of_recipients(d);
	} else if (c.autoreply || autoreply_subject(d->self.subject)) {
		d->kind = DSN_KIND_AUTOREPLY;
		d->format = DSN_FORMAT_AUTOREPLY;
	} else if (c.saw_status) {
		d->format = DSN_FORMAT_RFC3464;
	} else if (dsn_text_generic(&c, text)) {
		d->format = DSN_FORMAT_GENERIC;
		d->kind = kind_of_recipients(d);
	}
	if (d->returned.message_id == NULL && d->returned.token == NULL)
		dsn_text_returned(&c, text);
	if (d->returned.token == NULL && len > 0)
		scan_token(&c, p, len);
	free(text);
	buf_free(&c.plain);
	buf_free(&c.html);
	return d;
}

/* ----------------------------------------------------------- the rest */

/* headers_free - free one header set */
static void
headers_free(struct dsn_headers *h)
{
	free(h->message_id);
	free(h->token);
	free(h->from);
	free(h->to);
	free(h->subject);
	free(h->date);
}

/* dsn_free - free a parse result */
void
dsn_free(struct dsn *d)
{
	size_t  i;

	if (d == NULL)
		return;
	headers_free(&d->self);
	headers_free(&d->returned);
	free(d->auto_submitted);
	free(d->reporting_mta);
	free(d->received_from_mta);
	free(d->arrival_date);
	free(d->postfix_queue_id);
	free(d->postfix_sender);
	for (i = 0; i < d->nrcpt; i++) {
		struct dsn_recipient *r = &d->rcpt[i];

		free(r->final_recipient);
		free(r->original_recipient);
		free(r->diagnostic_type);
		free(r->diagnostic);
		free(r->remote_mta);
		free(r->last_attempt_date);
	}
	free(d->rcpt);
	free(d->feedback.feedback_type);
	free(d->feedback.user_agent);
	free(d->feedback.version);
	free(d->feedback.original_mail_from);
	free(d->feedback.original_rcpt_to);
	free(d->feedback.source_ip);
	free(d->feedback.arrival_date);
	free(d->feedback.reported_domain);
	free(d->feedback.reported_uri);
	free(d);
}

/* dsn_recipient_failed - whether r bounced */
int
dsn_recipient_failed(const struct dsn_recipient *r)
{
	return r->action == DSN_ACTION_FAILED || r->action == DSN_ACTION_NONE;
}

/* dsn_kind_name - the name of a kind */
const char *
dsn_kind_name(enum dsn_kind k)
{
	static const char *const names[] = {"unknown", "bounce", "delayed",
					    "delivered", "autoreply", "feedback"};

	return (unsigned) k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

/* dsn_format_name - the name of a format */
const char *
dsn_format_name(enum dsn_format f)
{
	static const char *const names[] = {"none", "rfc3464", "arf", "qmail", "exim",
					    "sendmail", "exchange", "gmail", "yahoo",
					    "generic", "autoreply"};

	return (unsigned) f < sizeof(names) / sizeof(names[0]) ? names[f] : "none";
}

/* dsn_action_name - the name of an action, or NULL */
const char *
dsn_action_name(enum dsn_action a)
{
	static const char *const names[] = {NULL, "failed", "delayed", "delivered",
					    "relayed", "expanded"};

	return (unsigned) a < sizeof(names) / sizeof(names[0]) ? names[a] : NULL;
}

/* dsn_warnings_text - the flags as comma-separated words */
void
dsn_warnings_text(unsigned w, char *out, size_t outlen)
{
	static const char *const names[] = {"truncated", "part_cap", "depth",
					    "rcpt_cap", "no_headers", "boundary",
					    "parts_cap", "encoding", "8bit",
					    "header_cap"};
	size_t  i, o = 0;

	if (outlen == 0)
		return;
	out[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(w & (1u << i)))
			continue;
		o += (size_t) snprintf(out + o, o < outlen ? outlen - o : 0, "%s%s",
				       o ? "," : "", names[i]);
		if (o >= outlen) {
			out[outlen - 1] = 0;
			return;
		}
	}
}

/* dsn_headers_to_json - one header set */
json_object *
dsn_headers_to_json(const struct dsn_headers *h)
{
	json_object *o = json_object_new_object();

	json_add_string(o, "message_id", h->message_id);
	json_add_string(o, "token", h->token);
	json_add_string(o, "from", h->from);
	json_add_string(o, "to", h->to);
	json_add_string(o, "subject", h->subject);
	json_add_string(o, "date", h->date);
	return o;
}

/* dsn_to_json - the whole result */
json_object *
dsn_to_json(const struct dsn *d)
{
	json_object *o = json_object_new_object();
	json_object *rcpts = json_object_new_array();
	json_object *warn = json_object_new_array();
	char    wtext[256], *tok, *save = NULL;
	size_t  i;

	json_add_string(o, "kind", dsn_kind_name(d->kind));
	json_add_string(o, "format", dsn_format_name(d->format));
	json_object_object_add(o, "message", dsn_headers_to_json(&d->self));
	json_add_string(o, "auto_submitted", d->auto_submitted);
	json_add_string(o, "reporting_mta", d->reporting_mta);
	json_add_string(o, "received_from_mta", d->received_from_mta);
	json_add_string(o, "arrival_date", d->arrival_date);
	json_add_string(o, "postfix_queue_id", d->postfix_queue_id);
	json_add_string(o, "postfix_sender", d->postfix_sender);
	for (i = 0; i < d->nrcpt; i++) {
		const struct dsn_recipient *r = &d->rcpt[i];
		json_object *ro = json_object_new_object();

		json_add_string(ro, "final_recipient", r->final_recipient);
		json_add_string(ro, "original_recipient", r->original_recipient);
		json_add_string(ro, "action", dsn_action_name(r->action));
		json_add_string(ro, "status", r->status[0] ? r->status : NULL);
		json_add_string(ro, "diagnostic_type", r->diagnostic_type);
		json_add_string(ro, "diagnostic", r->diagnostic);
		json_add_string(ro, "remote_mta", r->remote_mta);
		json_add_string(ro, "last_attempt_date", r->last_attempt_date);
		json_object_object_add(ro, "smtp_code",
				       r->smtp_code ? json_object_new_int(r->smtp_code) : NULL);
		json_object_object_add(ro, "permanent", json_object_new_boolean(r->permanent));
		json_object_array_add(rcpts, ro);
	}
	json_object_object_add(o, "recipients", rcpts);
	json_object_object_add(o, "recipients_listed",
			       json_object_new_int64((int64_t) d->rcpt_seen));
	json_object_object_add(o, "returned", dsn_headers_to_json(&d->returned));
	if (d->kind == DSN_KIND_FEEDBACK) {
		json_object *f = json_object_new_object();

		json_add_string(f, "feedback_type", d->feedback.feedback_type);
		json_add_string(f, "user_agent", d->feedback.user_agent);
		json_add_string(f, "version", d->feedback.version);
		json_add_string(f, "original_mail_from", d->feedback.original_mail_from);
		json_add_string(f, "original_rcpt_to", d->feedback.original_rcpt_to);
		json_add_string(f, "source_ip", d->feedback.source_ip);
		json_add_string(f, "arrival_date", d->feedback.arrival_date);
		json_add_string(f, "reported_domain", d->feedback.reported_domain);
		json_add_string(f, "reported_uri", d->feedback.reported_uri);
		json_object_object_add(o, "feedback", f);
	}
	dsn_warnings_text(d->warnings, wtext, sizeof(wtext));
	for (tok = strtok_r(wtext, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_object_array_add(warn, json_object_new_string(tok));
	json_object_object_add(o, "warnings", warn);
	return o;
}
