/*
 * check_milter_parsers.c - unit tests of the milter's pure parsers: tag,
 * metadata, spam verdict, Message-ID, header cleaning, RFC 2047 subjects
 * and tokens.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../milter/app_headers.h"
#include "util/utf8.h"
#include "../milter/rfc2047.h"
#include "../milter/token.h"

#include "testlib.h"

/* tag_ok - parse a tag that must be valid and compare. */
static void
tag_ok(const char *raw, const char *want)
{
	char *out = NULL;
	const char *why = NULL;

	ck_assert_int_eq(app_tag_parse(raw, &out, &why), APP_OK);
	ck_assert_str_eq(out, want);
	free(out);
}

/* tag_bad - parse a tag that must be invalid with this reason. */
static void
tag_bad(const char *raw, const char *want_why)
{
	char *out = NULL;
	const char *why = NULL;

	ck_assert_int_eq(app_tag_parse(raw, &out, &why), APP_INVALID);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(why, want_why);
}

START_TEST(test_tag)
{
	char big[300];

	tag_ok("onboarding", "onboarding");
	tag_ok("  welcome mail \r\n", "welcome mail");
	tag_ok("folded\r\n\tvalue", "folded value");
	tag_ok("caf\xc3\xa9", "caf\xc3\xa9");
	tag_ok("a\rb", "a b");
	tag_bad("", "tag is empty");
	tag_bad("  \r\n ", "tag is empty");
	tag_bad("caf\xe9", "tag is not UTF-8");
	tag_bad("\xc0\xaf", "tag is not UTF-8");
	memset(big, 'x', 256);
	big[256] = 0;
	tag_bad(big, "tag is longer than 255 bytes");
	big[255] = 0;
	tag_ok(big, big);
}
END_TEST

/* meta_bad - metadata that must be refused for this reason. */
static void
meta_bad(const char *raw, const char *want_why)
{
	json_object *out = NULL;
	const char *why = NULL;

	ck_assert_int_eq(app_metadata_parse(raw, &out, &why), APP_INVALID);
	ck_assert_ptr_null(out);
	ck_assert_msg(strcmp(why, want_why) == 0, "%s: got \"%s\", want \"%s\"", raw, why,
		      want_why);
}

START_TEST(test_metadata_good)
{
	json_object *out = NULL, *v;
	const char *why = NULL;

	ck_assert_int_eq(
	    app_metadata_parse(
		"{\"user_id\": \"usr_123456\",\r\n \"campaign_id\":\"camp_789\"}", &out,
		&why),
	    APP_OK);
	ck_assert_int_eq(json_object_object_length(out), 2);
	ck_assert(json_object_object_get_ex(out, "user_id", &v));
	ck_assert_str_eq(json_object_get_string(v), "usr_123456");
	ck_assert(json_object_object_get_ex(out, "campaign_id", &v));
	ck_assert_str_eq(json_object_get_string(v), "camp_789");
	json_object_put(out);

	ck_assert_int_eq(app_metadata_parse("{}", &out, &why), APP_OK);
	ck_assert_int_eq(json_object_object_length(out), 0);
	json_object_put(out);

	/* Numbers and booleans as their JSON text, nulls dropped. */
	ck_assert_int_eq(
	    app_metadata_parse("{\"n\": 42, \"x\": -1.50, \"e\": 1e3, "
			       "\"t\": true, \"f\": false, \"z\": null, \"s\": \"v\"}",
			       &out, &why),
	    APP_OK);
	ck_assert_str_eq(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
			 "{\"n\":\"42\",\"x\":\"-1.50\",\"e\":\"1e3\",\"t\":\"true\","
			 "\"f\":\"false\",\"s\":\"v\"}");
	json_object_put(out);

	ck_assert_int_eq(
	    app_metadata_parse("{\"k\":\"caf\\u00e9 \xc3\xa9\"}", &out, &why), APP_OK);
	ck_assert(json_object_object_get_ex(out, "k", &v));
	ck_assert_str_eq(json_object_get_string(v), "caf\xc3\xa9 \xc3\xa9");
	json_object_put(out);
}
END_TEST

START_TEST(test_metadata_bad)
{
	struct buf_s {
		char s[8192];
	} *b = calloc(1, sizeof(*b));
	size_t n;
	int i;

	meta_bad("", "metadata is not valid JSON");
	meta_bad("not json", "metadata is not valid JSON");
	meta_bad("[\"a\"]", "metadata is not a JSON object");
	meta_bad("\"a\"", "metadata is not a JSON object");
	meta_bad("{\"a\": {\"b\": \"c\"}}", "metadata value is an object or array");
	meta_bad("{\"a\": [\"b\"]}", "metadata value is an object or array");
	meta_bad("{\"a\": 1, \"b\": []}", "metadata value is an object or array");
	meta_bad("{\"a\": \"b\"} trailing", "metadata is not valid JSON");
	meta_bad("{\"a\": \"b\"}{}", "metadata is not valid JSON");
	meta_bad("{\"a\": \"b\"", "metadata is not valid JSON");
	meta_bad("{'a': 'b'}", "metadata is not valid JSON");
	meta_bad("{\"a\": \"\\u0000x\"}", "metadata value holds a NUL character");
	meta_bad("{\"a\": \"caf\xe9\"}", "metadata is not valid JSON");
	meta_bad("{\"\": \"x\"}", "metadata has an empty key");

	/* 21 keys. */
	n = (size_t) sprintf(b->s, "{");
	for (i = 0; i < 21; i++)
		n += (size_t) sprintf(b->s + n, "%s\"k%d\":\"v\"", i ? "," : "", i);
	sprintf(b->s + n, "}");
	meta_bad(b->s, "metadata has more than 20 keys");

	/* A 41-byte key. */
	sprintf(b->s, "{\"%041d\":\"v\"}", 0);
	meta_bad(b->s, "metadata key is longer than 40 bytes");

	/* A 501-byte value. */
	n = (size_t) sprintf(b->s, "{\"k\":\"");
	memset(b->s + n, 'v', 501);
	sprintf(b->s + n + 501, "\"}");
	meta_bad(b->s, "metadata value is longer than 500 bytes");

	/* Over 4 KiB in all, each part within limits. */
	n = (size_t) sprintf(b->s, "{");
	for (i = 0; i < 9; i++) {
		n += (size_t) sprintf(b->s + n, "%s\"k%d\":\"", i ? "," : "", i);
		memset(b->s + n, 'v', 480);
		n += 480;
		b->s[n++] = '"';
	}
	sprintf(b->s + n, "}");
	meta_bad(b->s, "metadata is larger than 4 KiB");
	free(b);
}
END_TEST

START_TEST(test_metadata_limits_exact)
{
	char s[4200];
	json_object *out = NULL;
	const char *why = NULL;
	size_t n;
	int i;

	/* 20 keys of 40 bytes, with 500-byte values would pass 4 KiB: use small. */
	n = (size_t) sprintf(s, "{");
	for (i = 0; i < 20; i++)
		n += (size_t) sprintf(s + n, "%s\"%040d\":\"v\"", i ? "," : "", i);
	sprintf(s + n, "}");
	ck_assert_int_eq(app_metadata_parse(s, &out, &why), APP_OK);
	ck_assert_int_eq(json_object_object_length(out), 20);
	json_object_put(out);

	n = (size_t) sprintf(s, "{\"k\":\"");
	memset(s + n, 'v', 500);
	sprintf(s + n + 500, "\"}");
	ck_assert_int_eq(app_metadata_parse(s, &out, &why), APP_OK);
	json_object_put(out);
}
END_TEST

START_TEST(test_spam)
{
	ck_assert_int_eq(spam_status_from_header("X-Spam-Flag", "YES"), SPAM_SPAM);
	ck_assert_int_eq(spam_status_from_header("x-spam-flag", " no"), SPAM_NOT_SPAM);
	ck_assert_int_eq(spam_status_from_header("X-Spam-Status",
						 "Yes, score=7.1 required=5.0 tests=X"),
			 SPAM_SPAM);
	ck_assert_int_eq(
	    spam_status_from_header("X-Spam-Status", "No, score=-0.1 required=5.0"),
	    SPAM_NOT_SPAM);
	ck_assert_int_eq(spam_status_from_header("X-Spam-Status", "Nope"),
			 SPAM_NOT_CHECKED);
	ck_assert_int_eq(spam_status_from_header("Subject", "YES"), SPAM_NOT_CHECKED);
	ck_assert_str_eq(spam_status_name(SPAM_SPAM), "Spam");
	ck_assert_str_eq(spam_status_name(SPAM_NOT_SPAM), "NotSpam");
	ck_assert_str_eq(spam_status_name(SPAM_NOT_CHECKED), "NotChecked");
}
END_TEST

/* mid - check message_id_strip. */
static void
mid(const char *raw, const char *want)
{
	char *got = message_id_strip(raw);

	if (want == NULL) {
		ck_assert_ptr_null(got);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_message_id)
{
	mid("<abc@example.com>", "abc@example.com");
	mid("  <abc@example.com> (comment)", "abc@example.com");
	mid("\r\n <x.y@z>", "x.y@z");
	mid("bare@example.com", "bare@example.com");
	mid("", NULL);
	mid("<>", NULL);
	mid("two words", NULL);
}
END_TEST

START_TEST(test_clean)
{
	char *s;

	s = header_value_clean("a\r\n b\nc\0ignored");
	ck_assert_str_eq(s, "a b c");
	free(s);
	s = header_value_clean("x\x01y\x7fz\tw");
	ck_assert_str_eq(s, "x y z w");
	free(s);
	s = header_value_clean("\xff\xfe junk");
	ck_assert_str_eq(s, "\xff\xfe junk");
	free(s);
}
END_TEST

/* subj - check rfc2047_decode with a 200-character limit. */
static void
subj(const char *raw, const char *want)
{
	char *got = rfc2047_decode(raw, 200);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"", raw, got,
		      want);
	free(got);
}

START_TEST(test_rfc2047)
{
	subj("Welcome to our service", "Welcome to our service");
	subj("=?UTF-8?B?V2lsbGtvbW1lbiBiZWkgw5xiZXI=?=", "Willkommen bei \xc3\x9c"
							 "ber");
	subj("=?utf-8?q?caf=C3=A9_cr=c3=a8me?=", "caf\xc3\xa9 cr\xc3\xa8me");
	subj("=?ISO-8859-1?Q?Gr=FC=DFe?=", "Gr\xc3\xbc\xc3\x9f"
					   "e");
	subj("=?iso-8859-15?Q?=A4uro?=", "\xe2\x82\xac"
					 "uro");
	subj("=?windows-1252?Q?=93quoted=94?=", "\xe2\x80\x9cquoted\xe2\x80\x9d");
	subj("=?us-ascii?Q?plain?=", "plain");
	subj("=?us-ascii?Q?bad=FF?=", "bad\xef\xbf\xbd");
	/* White space between adjacent encoded words is dropped. */
	subj("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab");
	subj("=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?= c", "ab c");
	/* A character split across two words survives. */
	subj("=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=", "\xc3\xa9\xc3\xa9");
	subj("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "\xc3\xa9");
	/* Text around encoded words keeps its spaces. */
	subj("Re: =?UTF-8?Q?caf=C3=A9?= now", "Re: caf\xc3\xa9 now");
	/* RFC 2231 language tag. */
	subj("=?UTF-8*en?Q?hello?=", "hello");
	/* iconv charset. */
	subj("=?KOI8-R?B?8NLJ18XU?=", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	/* Unknown charset: raw bytes, invalid ones replaced. */
	subj("=?x-unknown?Q?abc?=", "abc");
	/* Broken encoded words stay literal. */
	subj("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	subj("=?UTF-8?B?###?=", "=?UTF-8?B?###?=");
	subj("=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated");
	/* Raw 8-bit junk is read as Windows-1252; valid UTF-8 is kept. */
	subj("caf\xe9 \x93x\x94", "caf\xc3\xa9 \xe2\x80\x9cx\xe2\x80\x9d");
	subj("caf\xc3\xa9", "caf\xc3\xa9");
	/* Control characters, encoded or not, become spaces. */
	subj("=?UTF-8?Q?a=0Ab=00c?=", "a b c");
}
END_TEST

START_TEST(test_rfc2047_truncate)
{
	char raw[1200], *got;
	size_t n = 0;
	int i;

	for (i = 0; i < 250; i++) {
		memcpy(raw + n, "\xc3\xa9", 2);
		n += 2;
	}
	raw[n] = 0;
	got = rfc2047_decode(raw, 200);
	ck_assert_uint_eq(strlen(got), 400);
	ck_assert(utf8_valid(got, strlen(got)));
	free(got);

	got = rfc2047_decode("abc\xe2\x82\xac"
			     "def",
			     4);
	ck_assert_str_eq(got, "abc\xe2\x82\xac");
	free(got);

	memset(raw, 'a', 1000);
	raw[1000] = 0;
	got = rfc2047_decode(raw, 200);
	ck_assert_uint_eq(strlen(got), 200);
	free(got);
}
END_TEST

START_TEST(test_token)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], enc[16];
	unsigned char zero[5] = { 0, 0, 0, 0, 0 },
		      ff[5] = { 0xff, 0xff, 0xff, 0xff, 0xff };

	ck_assert_int_eq(token_new(a), 0);
	ck_assert_int_eq(token_new(b), 0);
	ck_assert_uint_eq(strlen(a), TOKEN_LEN);
	ck_assert(TOKEN_LEN >= 20);
	ck_assert(token_looks_valid(a));
	ck_assert_str_ne(a, b);
	ck_assert(!token_looks_valid("ABCDEFGHIJKLMNOPQRSTUVWX"));
	ck_assert(!token_looks_valid("abc"));
	ck_assert(!token_looks_valid("abcdefghijklmnopqrstuvw1"));
	token_encode(zero, 5, enc);
	ck_assert_str_eq(enc, "aaaaaaaa");
	token_encode(ff, 5, enc);
	ck_assert_str_eq(enc, "77777777");
	token_encode((const unsigned char *) "f", 1, enc);
	ck_assert_str_eq(enc, "my");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("milter_parsers");
	TCase *tc = tcase_create("parsers");

	tcase_add_test(tc, test_tag);
	tcase_add_test(tc, test_metadata_good);
	tcase_add_test(tc, test_metadata_bad);
	tcase_add_test(tc, test_metadata_limits_exact);
	tcase_add_test(tc, test_spam);
	tcase_add_test(tc, test_message_id);
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_rfc2047);
	tcase_add_test(tc, test_rfc2047_truncate);
	tcase_add_test(tc, test_token);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
