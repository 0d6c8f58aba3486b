/*
 * html_track.c - find the <a href> values of an HTML text by byte offset,
 * replace the tracked ones and add the open pixel (see html_track.h).
 *
 * The tokenizer knows only what finding links needs: comments, <!...>
 * and <?...> declarations, tags with attributes in any quoting, and the
 * raw text of <script> and <style>.  Anything it cannot close (a tag or
 * a quote left open at the end) is left as it is.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "track/html_track.h"

#define PIXEL_FMT                                                                        \
	"<img src=\"%s\" width=\"1\" height=\"1\" alt=\"\" "                             \
	"style=\"border:0;width:1px;height:1px\" />"

/* One change: bytes [start, end) of the input become repl. */
struct edit {
	size_t start, end;
	char *repl;
};

struct edits {
	struct edit *v;
	size_t n, cap;
	int oom;
};

/* A tag's attributes that matter here. */
struct tag {
	size_t href_start, href_end; /* the value's bytes */
	int href, href_quoted, notrack;
};

/* is_space - HTML white space. */
static int
is_space(int c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f');
}

/* edit_add - note a change; repl is owned from here on. */
static void
edit_add(struct edits *e, size_t start, size_t end, char *repl)
{
	struct edit *v;

	if (repl == NULL) {
		e->oom = 1;
		return;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;

		if ((v = realloc(e->v, cap * sizeof(*v))) == NULL) {
			free(repl);
			e->oom = 1;
			return;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n].start = start;
	e->v[e->n].end = end;
	e->v[e->n].repl = repl;
	e->n++;
}

/* escape_attr - s as a double-quoted attribute value; NULL when OOM. */
static char *
escape_attr(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *o;

	for (p = s; *p; p++)
		n += (*p == '&' || *p == '"' || *p == '\'' || *p == '<' || *p == '>') ? 6
										      : 1;
	if ((out = malloc(n + 1)) == NULL)
		return (NULL);
	for (o = out, p = s; *p; p++) {
		const char *ent = *p == '&'    ? "&amp;"
				  : *p == '"'  ? "&#34;"
				  : *p == '\'' ? "&#39;"
				  : *p == '<'  ? "&lt;"
				  : *p == '>'  ? "&gt;"
					       : NULL;

		if (ent == NULL)
			*o++ = *p;
		else {
			memcpy(o, ent, strlen(ent));
			o += strlen(ent);
		}
	}
	*o = 0;
	return (out);
}

/* utf8_put - code point cp as UTF-8 at o; the bytes written, 0 if invalid. */
static size_t
utf8_put(unsigned long cp, char *o)
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return (0);
	if (cp < 0x80) {
		o[0] = (char) cp;
		return (1);
	}
	if (cp < 0x800) {
		o[0] = (char) (0xC0 | (cp >> 6));
		o[1] = (char) (0x80 | (cp & 0x3F));
		return (2);
	}
	if (cp < 0x10000) {
		o[0] = (char) (0xE0 | (cp >> 12));
		o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char) (0x80 | (cp & 0x3F));
		return (3);
	}
	o[0] = (char) (0xF0 | (cp >> 18));
	o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char) (0x80 | (cp & 0x3F));
	return (4);
}

/*
 * char_ref - decode the reference at v[0] == '&' into o; the input bytes
 * it took (0: not a reference, copy the '&') and *olen the output bytes.
 */
static size_t
char_ref(const char *v, size_t n, char *o, size_t *olen)
{
	static const struct {
		const char *name;
		char c;
	} named[] = { { "amp;", '&' },	 { "lt;", '<' },     { "gt;", '>' },
		      { "quot;", '"' },	 { "apos;", '\'' },  { "sol;", '/' },
		      { "colon;", ':' }, { "equals;", '=' }, { "quest;", '?' },
		      { "num;", '#' },	 { "percnt;", '%' }, { "amp", '&' } };
	unsigned long cp = 0;
	size_t i, k, len;
	int hex;

	if (n > 1 && v[1] == '#') {
		hex = n > 2 && (v[2] == 'x' || v[2] == 'X');
		for (i = hex ? 3 : 2, k = 0; i < n && k < 8; i++, k++) {
			int c = (unsigned char) v[i];

			if (hex && isxdigit(c))
				cp = cp * 16
				     + (unsigned long) (isdigit(c)
							    ? c - '0'
							    : tolower(c) - 'a' + 10);
			else if (!hex && isdigit(c))
				cp = cp * 10 + (unsigned long) (c - '0');
			else
				break;
		}
		if (k == 0 || (*olen = utf8_put(cp, o)) == 0)
			return (0);
		return (i < n && v[i] == ';' ? i + 1 : i);
	}
	for (k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
		len = strlen(named[k].name);
		if (n - 1 >= len && strncmp(v + 1, named[k].name, len) == 0) {
			*o = named[k].c;
			*olen = 1;
			return (len + 1);
		}
	}
	return (0);
}

/* html_url_decode - see html_track.h. */
int
html_url_decode(const char *v, size_t n, char *out, size_t outlen)
{
	size_t i = 0, o = 0, took, w;
	char tmp[4];

	while (n > 0 && is_space((unsigned char) v[0])) {
		v++;
		n--;
	}
	while (n > 0 && is_space((unsigned char) v[n - 1]))
		n--;
	while (i < n) {
		took = 0;
		w = 1;
		tmp[0] = v[i];
		if (v[i] == '&')
			took = char_ref(v + i, n - i, tmp, &w);
		if (took == 0) {
			took = 1;
			w = 1;
			tmp[0] = v[i];
		}
		if (o + w >= outlen)
			return (-1);
		memcpy(out + o, tmp, w);
		o += w;
		i += took;
	}
	out[o] = 0;
	for (i = 0; i < o; i++)
		if ((unsigned char) out[i] < 0x20 || out[i] == 0x7f)
			return (-1);
	return (0);
}

/* html_url_host_excluded - see html_track.h. */
int
html_url_host_excluded(const char *url, const char *const *domains)
{
	const char *h = strstr(url, "://"), *end, *at, *p;
	size_t hl, dl;

	if (h == NULL || domains == NULL)
		return (0);
	h += 3;
	end = h + strcspn(h, "/?#\\");
	for (at = NULL, p = h; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
		h = at + 1;
	if (*h == '[')
		return (0); /* an address, not a domain */
	for (p = h; p < end && *p != ':'; p++)
		;
	hl = (size_t) (p - h);
	while (hl > 0 && h[hl - 1] == '.')
		hl--;
	for (; *domains != NULL; domains++) {
		const char *d = *domains;

		dl = strlen(d);
		while (dl > 0 && d[dl - 1] == '.')
			dl--;
		if (dl == 0 || dl > hl)
			continue;
		if (strncasecmp(h + hl - dl, d, dl) == 0
		    && (hl == dl || h[hl - dl - 1] == '.'))
			return (1);
	}
	return (0);
}

/* find_ci - the first case-insensitive match of s at or after from. */
static size_t
find_ci(const char *h, size_t len, size_t from, const char *s)
{
	size_t n = strlen(s), i;

	for (i = from; i + n <= len; i++)
		if (strncasecmp(h + i, s, n) == 0)
			return (i);
	return (len);
}

/* name_is - whether bytes [a, b) are the name s, in any case. */
static int
name_is(const char *h, size_t a, size_t b, const char *s)
{
	return (b - a == strlen(s) && strncasecmp(h + a, s, b - a) == 0);
}

/*
 * parse_attrs - the attributes from j to the tag's '>'; its offset, or
 * len when the tag never closes.
 */
static size_t
parse_attrs(const char *h, size_t len, size_t j, struct tag *t)
{
	size_t ns, ne, vs, ve;
	int quoted;

	memset(t, 0, sizeof(*t));
	for (;;) {
		while (j < len && (is_space((unsigned char) h[j]) || h[j] == '/'))
			j++;
		if (j >= len || h[j] == '>')
			return (j);
		ns = j++; /* a leading '=' belongs to the name */
		while (j < len && !is_space((unsigned char) h[j]) && h[j] != '='
		       && h[j] != '>' && h[j] != '/')
			j++;
		ne = j;
		while (j < len && is_space((unsigned char) h[j]))
			j++;
		vs = ve = j;
		quoted = 0;
		if (j < len && h[j] == '=') {
			j++;
			while (j < len && is_space((unsigned char) h[j]))
				j++;
			if (j < len && (h[j] == '"' || h[j] == '\'')) {
				const char *q = memchr(h + j + 1, h[j], len - j - 1);

				if (q == NULL)
					return (len);
				quoted = 1;
				vs = j + 1;
				ve = (size_t) (q - h);
				j = ve + 1;
			} else {
				vs = j;
				while (j < len && !is_space((unsigned char) h[j])
				       && h[j] != '>')
					j++;
				ve = j;
			}
		}
		if (name_is(h, ns, ne, "href") && !t->href) {
			t->href = 1;
			t->href_start = vs;
			t->href_end = ve;
			t->href_quoted = quoted;
		} else if (name_is(h, ns, ne, "data-posthook-notrack"))
			t->notrack = 1;
	}
}

/* track_link - the edit for one <a href>, when it is tracked. */
static void
track_link(const char *h, const struct tag *t, const struct html_track_opts *o,
	   struct edits *e, unsigned *links)
{
	char url[HTML_TRACK_URL_MAX + 1], repl[HTML_TRACK_URL_MAX + 1];
	char *esc, *q;

	if (t->notrack || t->href_end == t->href_start
	    || html_url_decode(h + t->href_start, t->href_end - t->href_start, url,
			       sizeof(url))
		   != 0)
		return;
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return;
	if (html_url_host_excluded(url, o->excluded_domains)
	    || (o->unsubscribe_url != NULL && strcmp(url, o->unsubscribe_url) == 0))
		return;
	if (o->link(o->ctx, url, repl, sizeof(repl)) != 0)
		return;
	if ((esc = escape_attr(repl)) == NULL) {
		e->oom = 1;
		return;
	}
	if (t->href_quoted) {
		edit_add(e, t->href_start, t->href_end, esc);
	} else {
		q = malloc(strlen(esc) + 3);
		if (q != NULL)
			sprintf(q, "\"%s\"", esc);
		free(esc);
		edit_add(e, t->href_start, t->href_end, q);
	}
	(*links)++;
}

/* scan - every tag; tracked links become edits; *body_close the last </body>. */
static void
scan(const char *h, size_t len, const struct html_track_opts *o, struct edits *e,
     unsigned *links, size_t *body_close)
{
	size_t i = 0, j, ns, ne;
	struct tag t;
	const char *p;
	int closing;

	*body_close = len;
	while (i < len && !e->oom && (p = memchr(h + i, '<', len - i)) != NULL) {
		i = (size_t) (p - h);
		if (len - i >= 4 && memcmp(h + i, "<!--", 4) == 0) {
			j = find_ci(h, len, i + 4, "-->");
			i = j == len ? len : j + 3;
			continue;
		}
		if (i + 1 < len && (h[i + 1] == '!' || h[i + 1] == '?')) {
			p = memchr(h + i, '>', len - i);
			i = p == NULL ? len : (size_t) (p - h) + 1;
			continue;
		}
		closing = i + 1 < len && h[i + 1] == '/';
		ns = ne = i + 1 + (size_t) closing;
		while (ne < len && isalnum((unsigned char) h[ne]))
			ne++;
		if (ne == ns) {
			i++; /* text: a lone '<' */
			continue;
		}
		if (closing && name_is(h, ns, ne, "body"))
			*body_close = i;
		if ((j = parse_attrs(h, len, ne, &t)) >= len)
			return; /* a tag that never closes: leave the rest */
		if (!closing && o->clicks && t.href && name_is(h, ns, ne, "a"))
			track_link(h, &t, o, e, links);
		i = j + 1;
		/* Their text is no markup: a "<a" in a script is no link. */
		if (!closing && name_is(h, ns, ne, "script"))
			i = find_ci(h, len, i, "</script");
		else if (!closing && name_is(h, ns, ne, "style"))
			i = find_ci(h, len, i, "</style");
	}
}

/* html_track - see html_track.h. */
int
html_track(const char *html, size_t len, const struct html_track_opts *opts,
	   struct html_track_result *res)
{
	struct edits e = { NULL, 0, 0, 0 };
	size_t body_close, k, at, total, n;
	char *pixel, *esc;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (html == NULL || len == 0)
		html = ""; /* an empty part: the pixel alone */
	scan(html, len, opts, &e, &res->links, &body_close);
	if (!e.oom && opts->pixel_url != NULL) {
		if ((esc = escape_attr(opts->pixel_url)) == NULL)
			e.oom = 1;
		else {
			n = strlen(PIXEL_FMT) + strlen(esc);
			if ((pixel = malloc(n)) != NULL)
				snprintf(pixel, n, PIXEL_FMT, esc);
			free(esc);
			/* Edits are in order: the pixel goes before the first after it.
			 */
			for (k = 0; k < e.n && e.v[k].start < body_close; k++)
				;
			edit_add(&e, body_close, body_close, pixel);
			if (!e.oom) {
				struct edit px = e.v[e.n - 1];

				memmove(e.v + k + 1, e.v + k,
					(e.n - 1 - k) * sizeof(*e.v));
				e.v[k] = px;
				res->pixel = 1;
			}
		}
	}
	if (!e.oom && e.n > 0) {
		total = len;
		for (k = 0; k < e.n; k++)
			total += strlen(e.v[k].repl) - (e.v[k].end - e.v[k].start);
		if ((res->out = malloc(total + 1)) == NULL)
			e.oom = 1;
		else {
			char *o = res->out;

			for (at = 0, k = 0; k < e.n; k++) {
				memcpy(o, html + at, e.v[k].start - at);
				o += e.v[k].start - at;
				memcpy(o, e.v[k].repl, strlen(e.v[k].repl));
				o += strlen(e.v[k].repl);
				at = e.v[k].end;
			}
			memcpy(o, html + at, len - at);
			res->len = total;
			res->out[total] = 0;
		}
	}
	for (k = 0; k < e.n; k++)
		free(e.v[k].repl);
	free(e.v);
	if (e.oom) {
		free(res->out);
		memset(res, 0, sizeof(*res));
		rc = -1;
	}
	return (rc);
}
