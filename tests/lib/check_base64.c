/*
 * check_base64.c - base64 (lib/util/base64.c): the encodings, and each
 * decoder's tolerance (strict, RFC 2047, MIME).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"

#include "testlib.h"

/* The one base64 module: encodings, and each decoder's tolerance. */
START_TEST(test_base64)
{
	unsigned char out[64];
	char *e;
	int junk = 0;
	size_t used = 0;

	e = base64_encode("", 0, 0);
	ck_assert_str_eq(e, "");
	free(e);
	e = base64_encode("f", 1, 0);
	ck_assert_str_eq(e, "Zg==");
	free(e);
	e = base64_encode("fo", 2, 0);
	ck_assert_str_eq(e, "Zm8=");
	free(e);
	e = base64_encode("foobar", 6, 0);
	ck_assert_str_eq(e, "Zm9vYmFy");
	free(e);
	e = base64_encode("\xfb\xff", 2, 0);
	ck_assert_str_eq(e, "+/8=");
	free(e);
	e = base64_encode("\xfb\xff", 2, BASE64_URL);
	ck_assert_str_eq(e, "-_8");
	free(e);

	/* Strict: padding only at the end, groups of four. */
	ck_assert_int_eq(base64_decode("Zm8=", 4, out, sizeof(out), 0, NULL, NULL), 2);
	ck_assert_int_eq(memcmp(out, "fo", 2), 0);
	ck_assert_int_eq(base64_decode("Zg==", 4, out, sizeof(out), 0, NULL, NULL), 1);
	ck_assert_int_eq(base64_decode("Zm9vYmFy", 8, out, sizeof(out), 0, NULL, NULL),
			 6);
	ck_assert_int_eq(base64_decode("Zm9", 3, out, sizeof(out), 0, NULL, NULL), -1);
	ck_assert_int_eq(base64_decode("Z===", 4, out, sizeof(out), 0, NULL, NULL), -1);
	ck_assert_int_eq(base64_decode("Zm=v", 4, out, sizeof(out), 0, NULL, NULL), -1);
	ck_assert_int_eq(base64_decode("Zm 8", 4, out, sizeof(out), 0, NULL, NULL), -1);
	ck_assert_int_eq(base64_decode("-_8=", 4, out, sizeof(out), 0, NULL, NULL), -1);

	/* RFC 2047: the first '=' ends the word, anything else is an error. */
	ck_assert_int_eq(
	    base64_decode("Zm8=xx", 6, out, sizeof(out), BASE64_TO_PAD, NULL, NULL), 2);
	ck_assert_int_eq(
	    base64_decode("Zm9", 3, out, sizeof(out), BASE64_TO_PAD, NULL, NULL), 2);
	ck_assert_int_eq(
	    base64_decode("Zm 8", 4, out, sizeof(out), BASE64_TO_PAD, NULL, NULL), -1);

	/* MIME: white space and '=' skipped, other junk counted, output capped. */
	ck_assert_int_eq(base64_decode("Zm9v\r\nYm=Fy", 11, out, sizeof(out), BASE64_MIME,
				       &junk, NULL),
			 6);
	ck_assert_int_eq(memcmp(out, "foobar", 6), 0);
	ck_assert_int_eq(junk, 0);
	ck_assert_int_eq(
	    base64_decode("Zm9v*YmFy", 9, out, sizeof(out), BASE64_MIME, &junk, NULL), 6);
	ck_assert_int_eq(junk, 1);
	junk = 0;
	ck_assert_int_eq(base64_decode("Zm9v*YmFy", 9, out, 3, BASE64_MIME, &junk, &used),
			 3);
	ck_assert_int_eq(junk, 0);
	ck_assert_uint_eq(used, 4);
	ck_assert_int_eq(base64_decode("Zm9vYmFy", 8, out, 6, BASE64_MIME, &junk, &used),
			 6);
	ck_assert_uint_eq(used, 8);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("base64");

	tcase_add_test(tc, test_base64);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
