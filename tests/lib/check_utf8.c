/*
 * check_utf8.c - UTF-8 (lib/util/utf8.c): the strict reading, and the
 * three cleaned copies.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/util.h"

#include "testlib.h"

/* The one UTF-8 module: the strict reading, and the three cleaned copies. */
START_TEST(test_utf8)
{
	static const struct {
		const char *in;
		size_t len;
		int valid;
		const char *clean;
	} cases[] = {
		{ "plain", 5, 1, "plain" },
		{ "a\0b", 3, 1,
		  "a\xef\xbf\xbd"
		  "b" },
		{ "\x01\x1f\x7f", 3, 1, "\x01\x1f\x7f" },
		{ "caf\xc3\xa9", 5, 1, "caf\xc3\xa9" },
		{ "\xf0\x9f\x98\x80", 4, 1, "\xf0\x9f\x98\x80" },
		{ "\xf4\x8f\xbf\xbf", 4, 1, "\xf4\x8f\xbf\xbf" },
		{ "\xc0\xaf", 2, 0, "\xef\xbf\xbd\xef\xbf\xbd" }, /* overlong */
		{ "\xe0\x80\xaf", 3, 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", 3, 0,
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0,
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
		{ "ab\xe2\x82", 4, 0, "ab\xef\xbf\xbd\xef\xbf\xbd" },	/* cut short */
		{ "\xff"
		  "abcdefghij",
		  11, 0,
		  "\xef\xbf\xbd"
		  "abcdefghij" },
		{ "", 0, 1, "" },
	};
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		char *dup;
		struct buf b;

		ck_assert_int_eq(utf8_valid(cases[i].in, cases[i].len), cases[i].valid);
		n = utf8_clean_to(out, cases[i].in, cases[i].len);
		ck_assert_uint_eq(n, strlen(cases[i].clean));
		ck_assert_str_eq(out, cases[i].clean);
		dup = utf8_clean_dup(cases[i].in, cases[i].len);
		ck_assert_str_eq(dup, cases[i].clean);
		free(dup);
		buf_init(&b);
		buf_puts(&b, ">");
		utf8_clean_append(&b, cases[i].in, cases[i].len);
		ck_assert_str_eq(b.data + 1, cases[i].clean);
		buf_free(&b);
	}
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *) "\0", 1), 0);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *) "\xc3\xa9", 2), 2);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *) "\xc3\xa9", 1), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("utf8");

	tcase_add_test(tc, test_utf8);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
