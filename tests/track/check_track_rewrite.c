/*
 * check_track_rewrite.c - the tracking rewriters (lib/track/html_track.c,
 * mime_track.c): which links are taken, that every other byte stays, and
 * that hostile input is survived.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "track/html_track.h"
#include "track/mime_track.h"

#include "testlib.h"

#define PIXEL "https://t.example/o/PIX"

/* What the link callback saw. */
struct seen {
	char urls[16][512];
	unsigned n;
	int refuse; /* answer -1 */
};

/* link_cb - hand out https://t.example/c/N, noting the URL. */
static int
link_cb(void *ctx, const char *url, char *out, size_t outlen)
{
	struct seen *s = ctx;
	unsigned i = s->n++;

	if (s->refuse)
		return -1;
	if (i < 16)
		snprintf(s->urls[i], sizeof(s->urls[i]), "%s", url);
	snprintf(out, outlen, "https://t.example/c/%u", i);
	return 0;
}

/* opts - clicks on, the pixel as asked. */
static struct html_track_opts
opts(struct seen *s, const char *pixel)
{
	struct html_track_opts o;

	memset(&o, 0, sizeof(o));
	memset(s, 0, sizeof(*s));
	o.clicks = 1;
	o.pixel_url = pixel;
	o.link = link_cb;
	o.ctx = s;
	return o;
}

/* rewrite - html_track over a C string; the result, or NULL: unchanged. */
static char *
rewrite(const char *in, const struct html_track_opts *o, struct html_track_result *r)
{
	ck_assert_int_eq(html_track(in, strlen(in), o, r), 0);
	if (r->out != NULL)
		ck_assert_uint_eq(strlen(r->out), r->len);
	return r->out;
}

START_TEST(test_html_quoting)
{
	struct seen s;
	struct html_track_opts o = opts(&s, NULL);
	struct html_track_result r;
	char *out;

	out = rewrite("<p>x<a href=\"https://a.example/1\">1</a> "
		      "<A  HREF = 'HTTP://b.example/2?x=1&amp;y=&#50;&#x33;'>2</A>"
		      "<a class=z href=https://c.example/3>3</a>"
		      "<a\nhref\n=\n\"  https://d.example/4  \">4</a></p>",
		      &o, &r);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "<p>x<a href=\"https://t.example/c/0\">1</a> "
			      "<A  HREF = 'https://t.example/c/1'>2</A>"
			      "<a class=z href=\"https://t.example/c/2\">3</a>"
			      "<a\nhref\n=\n\"https://t.example/c/3\">4</a></p>");
	ck_assert_uint_eq(r.links, 4);
	ck_assert_int_eq(r.pixel, 0);
	ck_assert_str_eq(s.urls[0], "https://a.example/1");
	ck_assert_str_eq(s.urls[1], "HTTP://b.example/2?x=1&y=23");
	ck_assert_str_eq(s.urls[2], "https://c.example/3");
	ck_assert_str_eq(s.urls[3], "https://d.example/4");
	free(out);
}
END_TEST

START_TEST(test_html_skipped)
{
	const char *const excluded[] = { "skip.example", NULL };
	struct seen s;
	struct html_track_opts o = opts(&s, NULL);
	struct html_track_result r;
	const char *in =
	    "<a href=\"mailto:a@b.example\">m</a><a href='tel:+1'>t</a>"
	    "<a href=\"#top\">#</a><a href=\"ftp://x.example/\">f</a>"
	    "<a href=\"https://skip.example/\">s</a>"
	    "<a href=\"https://www.SKIP.example./x\">s2</a>"
	    "<a data-posthook-notrack href=\"https://n.example/\">n</a>"
	    "<a href=\"https://u.example/unsub?a=1&amp;b=2\">u</a>"
	    "<!-- <a href=\"https://comment.example/\"> -->"
	    "<script>var s = '<a href=\"https://script.example/\">';</script>"
	    "<abbr href=\"https://abbr.example/\">no</abbr>"
	    "<a href=\"https://x.example/\n/newline\">nl</a>"
	    "<a href=\"\">empty</a><a href>bare</a>"
	    "<a href=\"https://noskip.example/\">ok</a>";

	o.excluded_domains = excluded;
	o.unsubscribe_url = "https://u.example/unsub?a=1&b=2";
	ck_assert_int_eq(html_track(in, strlen(in), &o, &r), 0);
	ck_assert_uint_eq(r.links, 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.urls[0], "https://noskip.example/");
	ck_assert_uint_eq(r.len, strlen(in) - strlen("https://noskip.example/")
				     + strlen("https://t.example/c/0"));
	ck_assert_int_eq(memcmp(r.out, in, strstr(in, "https://noskip") - in), 0);
	free(r.out);

	/* A lookalike is not below the excluded domain. */
	ck_assert_int_eq(html_url_host_excluded("https://noskip.example/", excluded), 0);
	ck_assert_int_eq(
	    html_url_host_excluded("https://u:p@a.skip.example:8080/", excluded), 1);
	ck_assert_int_eq(html_url_host_excluded("https://skip.example.evil/", excluded),
			 0);
}
END_TEST

START_TEST(test_html_pixel)
{
	struct seen s;
	struct html_track_opts o = opts(&s, PIXEL);
	struct html_track_result r;
	const char *img = "<img src=\"" PIXEL "\" width=\"1\" height=\"1\" alt=\"\" "
			  "style=\"border:0;width:1px;height:1px\" />";
	char want[512];

	o.clicks = 0;
	rewrite("<html><body>Hi <a href=\"https://a.example/\">a</a>"
		"<!-- </body> --></BODY></html>\r\n",
		&o, &r);
	snprintf(want, sizeof(want),
		 "<html><body>Hi <a href=\"https://a.example/\">a</a>"
		 "<!-- </body> -->%s</BODY></html>\r\n",
		 img);
	ck_assert_str_eq(r.out, want);
	ck_assert_int_eq(r.pixel, 1);
	ck_assert_uint_eq(r.links, 0);
	free(r.out);

	/* No </body>: at the end; links after it and before it both taken. */
	o.clicks = 1;
	rewrite("<p><a href=https://a.example/>a</a>", &o, &r);
	snprintf(want, sizeof(want), "<p><a href=\"https://t.example/c/0\">a</a>%s", img);
	ck_assert_str_eq(r.out, want);
	free(r.out);
	s.n = 0;
	rewrite(
	    "<a href=\"https://a.example/\"></a></body><a href=\"https://b.example/\">",
	    &o, &r);
	snprintf(want, sizeof(want),
		 "<a href=\"https://t.example/c/0\"></a>%s</body>"
		 "<a href=\"https://t.example/c/1\">",
		 img);
	ck_assert_str_eq(r.out, want);
	free(r.out);

	/* Nothing asked: nothing changes. */
	o.pixel_url = NULL;
	o.clicks = 0;
	ck_assert_ptr_null(rewrite("<a href=\"https://a.example/\">a</a>", &o, &r));
}
END_TEST

START_TEST(test_html_hostile)
{
	struct seen s;
	struct html_track_opts o = opts(&s, PIXEL);
	struct html_track_result r;
	const char unclosed[] =
	    "<a href=\"https://a.example/\">ok</a><a href=\"https://b";
	const char nul[] = "<a href=\"https://a.example/\0x\">a</a><a\0 href=x>";
	size_t n = 10000, i, len;
	char *big, *p;

	/* An unclosed tag: the rest stays; the pixel still goes at the end. */
	ck_assert_int_eq(html_track(unclosed, sizeof(unclosed) - 1, &o, &r), 0);
	ck_assert_uint_eq(r.links, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "<a href=\"https://b<img"));
	free(r.out);
	ck_assert_int_eq(html_track(nul, sizeof(nul) - 1, &o, &r), 0);
	ck_assert_uint_eq(r.links, 0);
	ck_assert_int_eq(memcmp(r.out, nul, sizeof(nul) - 1), 0);
	free(r.out);
	ck_assert_int_eq(html_track("<", 1, &o, &r), 0);
	ck_assert_str_eq(r.out + 1, strstr(r.out, "<img"));
	free(r.out);
	ck_assert_int_eq(html_track("<a href='", 9, &o, &r), 0);
	free(r.out);
	ck_assert_int_eq(html_track("<!--", 4, &o, &r), 0);
	free(r.out);

	/* 10,000 links: each handed out, in order. */
	big = malloc(n * 40 + 1);
	for (p = big, i = 0; i < n; i++)
		p += sprintf(p, "<a href=\"https://x.example/%05zu\">", i);
	len = (size_t) (p - big);
	o.pixel_url = NULL;
	s.n = 0;
	ck_assert_int_eq(html_track(big, len, &o, &r), 0);
	ck_assert_uint_eq(r.links, n);
	ck_assert_ptr_nonnull(strstr(r.out, "https://t.example/c/9999\""));
	free(r.out);

	/* A callback that refuses leaves every link. */
	s.refuse = 1;
	ck_assert_int_eq(html_track(big, len, &o, &r), 0);
	ck_assert_ptr_null(r.out);
	free(big);
}
END_TEST

START_TEST(test_url_decode)
{
	char out[32];

	ck_assert_int_eq(
	    html_url_decode(" a&amp;b&#x2F;&#47;&lt;&amp ", 28, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a&b//<&");
	ck_assert_int_eq(html_url_decode("&#233;&unknown;&#0;", 19, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\xc3\xa9&unknown;&#0;");
	ck_assert_int_eq(html_url_decode("a\tb", 3, out, sizeof(out)), -1);
	ck_assert_int_eq(html_url_decode("0123456789", 10, out, 10), -1);
}
END_TEST

/* part_text - the decoded content of the index-th leaf (depth first). */
static char *
part_text(const char *body, size_t len, const char *ctype, int index)
{
	GMimeStream *st;
	GMimeParser *p;
	GMimeMessage *m;
	GMimePartIter *it;
	GMimeObject *obj;
	GMimeStream *mem;
	GByteArray *ba;
	char *hdr = NULL, *out = NULL;
	size_t hl;
	int i = 0;

	hl = (size_t) asprintf(&hdr, "MIME-Version: 1.0\r\nContent-Type: %s\r\n\r\n",
			       ctype);
	ck_assert_ptr_nonnull(hdr);
	hdr = realloc(hdr, hl + len);
	memcpy(hdr + hl, body, len);
	st = g_mime_stream_mem_new_with_buffer(hdr, hl + len);
	free(hdr);
	p = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(p, NULL);
	ck_assert_ptr_nonnull(m);
	it = g_mime_part_iter_new(GMIME_OBJECT(m));
	do {
		obj = g_mime_part_iter_get_current(it);
		if (obj == NULL || !GMIME_IS_PART(obj) || i++ != index)
			continue;
		mem = g_mime_stream_mem_new();
		ck_assert_int_ge(g_mime_data_wrapper_write_to_stream(
				     g_mime_part_get_content(GMIME_PART(obj)), mem),
				 0);
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		out = strndup((const char *) ba->data, ba->len);
		g_object_unref(mem);
		break;
	} while (g_mime_part_iter_next(it));
	g_mime_part_iter_free(it);
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
	return out;
}

#define NEWS_TYPE "multipart/mixed; boundary=\"MIX\""
static const char news[] =
    "--MIX\r\n"
    "Content-Type: multipart/alternative; boundary=\"ALT\"\r\n"
    "\r\n"
    "--ALT\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "SGVsbG8gaHR0cHM6Ly9hLmV4YW1wbGUvCg==\r\n"
    "--ALT\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<html><body><a href=3D\"https://a.example/p?x=3D1&amp;y=3D2#frag\">a</a>=\r\n"
    "<a href=3D\"https://b.example/=C3=A9t=C3=A9\">b</a></body></html>\r\n"
    "--ALT--\r\n"
    "\r\n"
    "--MIX\r\n"
    "Content-Type: image/png; name=\"x.png\"\r\n"
    "Content-Disposition: attachment; filename=\"x.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\r\n"
    "--MIX\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Disposition: attachment; filename=\"page.html\"\r\n"
    "\r\n"
    "<a href=\"https://attached.example/\">x</a>\r\n"
    "--MIX--\r\n";

START_TEST(test_mime_newsletter)
{
	struct seen s;
	struct html_track_opts o = opts(&s, PIXEL);
	struct mime_track_result r;
	const char *html_at, *img, *after;
	char *html;

	ck_assert_int_eq(mime_track(NEWS_TYPE, NULL, news, sizeof(news) - 1, &o, &r),
			 MIME_TRACK_CHANGED);
	ck_assert_uint_eq(r.links, 2);
	ck_assert_uint_eq(r.parts, 1);
	ck_assert_str_eq(s.urls[0], "https://a.example/p?x=1&y=2#frag");
	ck_assert_str_eq(s.urls[1], "https://b.example/\xc3\xa9t\xc3\xa9");
	/* Everything before and after the HTML part's content, byte for byte. */
	html_at = strstr(news, "<html>");
	after = strstr(news, "\r\n--ALT--");
	ck_assert_int_eq(memcmp(r.out, news, (size_t) (html_at - news)), 0);
	img = strstr(r.out, "\r\n--ALT--");
	ck_assert_ptr_nonnull(img);
	ck_assert_str_eq(img, after);
	html = part_text(r.out, r.len, NEWS_TYPE, 1);
	ck_assert_ptr_nonnull(html);
	ck_assert_ptr_nonnull(strstr(html, "<a href=\"https://t.example/c/0\">a</a>"
					   "<a href=\"https://t.example/c/1\">b</a>"
					   "<img src=\"" PIXEL "\""));
	free(html);
	free(r.out);
}
END_TEST

START_TEST(test_mime_single)
{
	struct seen s;
	struct html_track_opts o = opts(&s, NULL);
	struct mime_track_result r;
	const char b64[] = "PGEgaHJlZj0iaHR0cHM6Ly9hLmV4YW1wbGUvIj5hPC9hPgo=\r\n";
	const char latin[] = "<a href=\"https://a.example/caf\xe9\">a</a>\r\n";
	const char wide[] = "<\0a\0 \0h\0r\0e\0f\0=\0h\0t\0t\0p\0s\0:\0/\0/\0a\0>\0";
	const char *plain = "See https://a.example/\r\n";
	char *html;

	ck_assert_int_eq(mime_track("text/html; charset=utf-8", "base64", b64,
				    sizeof(b64) - 1, &o, &r),
			 MIME_TRACK_CHANGED);
	html = part_text(r.out, r.len,
			 "text/html; charset=utf-8\r\n"
			 "Content-Transfer-Encoding: base64",
			 0);
	ck_assert_str_eq(html, "<a href=\"https://t.example/c/0\">a</a>\n");
	ck_assert_int_eq(r.out[r.len - 1], '\n');
	free(html);
	free(r.out);

	/* A Latin-1 URL reaches the callback in UTF-8; the part stays Latin-1. */
	s.n = 0;
	ck_assert_int_eq(mime_track("text/html; charset=iso-8859-1", NULL, latin,
				    sizeof(latin) - 1, &o, &r),
			 MIME_TRACK_CHANGED);
	ck_assert_str_eq(s.urls[0], "https://a.example/caf\xc3\xa9");
	free(r.out);

	ck_assert_int_eq(mime_track("text/html; charset=utf-16le", NULL, wide,
				    sizeof(wide) - 1, &o, &r),
			 MIME_TRACK_UNCHANGED);
	ck_assert_int_eq(mime_track(NULL, NULL, plain, strlen(plain), &o, &r),
			 MIME_TRACK_UNCHANGED);
	ck_assert_int_eq(mime_track("text/plain", NULL, plain, strlen(plain), &o, &r),
			 MIME_TRACK_UNCHANGED);
}
END_TEST

START_TEST(test_mime_untouched)
{
	struct seen s;
	struct html_track_opts o = opts(&s, PIXEL);
	struct mime_track_result r;
	const char signed_body[] =
	    "--S\r\nContent-Type: text/html\r\n\r\n"
	    "<a href=\"https://a.example/\">a</a>\r\n"
	    "--S\r\nContent-Type: application/pkcs7-signature\r\n\r\n"
	    "MIIB\r\n--S--\r\n";
	const char rfc822[] = "--M\r\nContent-Type: message/rfc822\r\n\r\n"
			      "Subject: x\r\nContent-Type: text/html\r\n\r\n"
			      "<a href=\"https://a.example/\">a</a>\r\n--M--\r\n";
	char longline[1200];

	ck_assert_int_eq(
	    mime_track("multipart/signed; protocol=\"application/pkcs7-signature\";"
		       " boundary=\"S\"",
		       NULL, signed_body, sizeof(signed_body) - 1, &o, &r),
	    MIME_TRACK_UNCHANGED);
	ck_assert_int_eq(mime_track("multipart/mixed; boundary=\"M\"", NULL, rfc822,
				    sizeof(rfc822) - 1, &o, &r),
			 MIME_TRACK_UNCHANGED);
	/* 7bit with a line the rewrite would push past 998 octets. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "<a href=\"https://a.example/\">", 29);
	memcpy(longline + 993, "</a>\r\n", 7);
	ck_assert_int_eq(
	    mime_track("text/html", "7bit", longline, strlen(longline), &o, &r),
	    MIME_TRACK_UNCHANGED);
	ck_assert_uint_eq(s.n, 1); /* the link was asked for, the part left */
	ck_assert_ptr_null(r.out);
}
END_TEST

START_TEST(test_mime_hostile)
{
	struct seen s;
	struct html_track_opts o = opts(&s, PIXEL);
	struct mime_track_result r;
	const char broken[] = "--B\r\nContent-Type: text/html\r\n"
			      "Content-Transfer-Encoding: base64\r\n\r\n"
			      "PGEgaHJ***!!!lZj0iaHR0cHM6Ly9hL\r\n"
			      "--B\r\nContent-Type: text/html\r\n"
			      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			      "<a href=3D\"https://a.example/=ZZ=\"=\r\n>x</a>=";
	size_t depth = 200, i, len;
	char *nested, *p;
	int rc;

	/* Broken base64 and QP, and a boundary that never closes. */
	rc = mime_track("multipart/mixed; boundary=\"B\"", NULL, broken,
			sizeof(broken) - 1, &o, &r);
	ck_assert(rc == MIME_TRACK_CHANGED || rc == MIME_TRACK_UNCHANGED);
	free(r.out);

	/* 200 nested multiparts: the walk stops at its depth, nothing breaks. */
	nested = malloc(depth * 60 + 200);
	for (p = nested, i = 0; i < depth; i++)
		p += sprintf(
		    p,
		    "--b%zu\r\nContent-Type: multipart/mixed; boundary=\"b%zu\"\r\n\r\n",
		    i, i + 1);
	p += sprintf(
	    p,
	    "--b%zu\r\nContent-Type: text/html\r\n\r\n<a href=\"https://a.example/\">"
	    "\r\n",
	    depth);
	len = (size_t) (p - nested);
	ck_assert_int_eq(
	    mime_track("multipart/mixed; boundary=\"b0\"", NULL, nested, len, &o, &r),
	    MIME_TRACK_UNCHANGED);
	free(nested);

	/* NUL bytes and binary junk. */
	ck_assert_int_ge(
	    mime_track("text/html", NULL, "\0\0<a href=\0>\xff\xfe", 13, &o, &r), 0);
	free(r.out);
	ck_assert_int_eq(mime_track("multipart/mixed", NULL, "", 0, &o, &r),
			 MIME_TRACK_UNCHANGED);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("track_rewrite");
	TCase *tc = tcase_create("track_rewrite");

	tcase_add_test(tc, test_html_quoting);
	tcase_add_test(tc, test_html_skipped);
	tcase_add_test(tc, test_html_pixel);
	tcase_add_test(tc, test_html_hostile);
	tcase_add_test(tc, test_url_decode);
	tcase_add_test(tc, test_mime_newsletter);
	tcase_add_test(tc, test_mime_single);
	tcase_add_test(tc, test_mime_untouched);
	tcase_add_test(tc, test_mime_hostile);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
