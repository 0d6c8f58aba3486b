/*
 * check_cidr.c - network lists (the milter's internal_hosts), the longest
 * network holding an address and one spelling of a network (tenant
 * rules), and the addresses refuse_private_endpoints refuses
 * (lib/util/cidr.c).
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/cidr.h"

#include "testlib.h"

/* special - cidr_is_special() of an address in text. */
static int
special(const char *text)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, text, b) == 1)
		return cidr_is_special(AF_INET, b);
	ck_assert_int_eq(inet_pton(AF_INET6, text, b), 1);
	return cidr_is_special(AF_INET6, b);
}

START_TEST(test_cidr_special)
{
	static const char *const yes[] = {
		"0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.255", "127.0.0.1",
		"169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.8",
		"192.168.1.1", "198.18.0.1", "198.19.255.255", "224.0.0.1", "240.0.0.1",
		"255.255.255.255", "::", "::1", "::10.0.0.1", "fc00::1", "fd12:3456::1",
		"fe80::1", "fec0::1", "ff02::1", "64:ff9b:1::a00:1",
		/* IPv6 forms of private IPv4 addresses */
		"::ffff:127.0.0.1", "::ffff:10.1.2.3", "64:ff9b::10.0.0.1",
		"64:ff9b::127.0.0.1", "64:ff9b::192.168.0.1", "2002:a00:1::1",
		"2002:7f00:1::", "2002:c0a8:101::5", NULL
	};
	static const char *const no[] = { "1.1.1.1",	      "8.8.8.8",
					  "100.63.255.255",   "100.128.0.0",
					  "172.15.255.255",   "172.32.0.0",
					  "192.0.1.1",	      "192.169.0.1",
					  "198.17.255.255",   "198.20.0.0",
					  "223.255.255.255",  "2001:db8::1",
					  "2606:4700::1111",  "fbff::1",
					  "fe7f::1",	      "::ffff:8.8.8.8",
					  "64:ff9b::8.8.8.8", "2002:808:808::1",
					  "64:ff9b:2::1",     NULL };
	unsigned char any[16] = { 0 };
	int i;

	for (i = 0; yes[i] != NULL; i++)
		ck_assert_msg(special(yes[i]), "%s should be special", yes[i]);
	for (i = 0; no[i] != NULL; i++)
		ck_assert_msg(!special(no[i]), "%s should not be special", no[i]);
	ck_assert(cidr_is_special(AF_UNIX, any));
}
END_TEST

START_TEST(test_cidr)
{
	char *list[] = { "127.0.0.0/8", "::1",		 "10.1.0.0/16", "[2001:db8::]/32",
			 "192.168.1.7", "172.16.0.0/12", NULL };
	char *bad1[] = { "300.1.1.1", NULL }, *bad2[] = { "10.0.0.0/33", NULL };
	char *bad3[] = { "::1/129", NULL }, *bad4[] = { "10.0.0.0/", NULL };
	char err[128];
	struct cidr_list *l = cidr_list_new(list, err, sizeof(err));
	unsigned char v4[4] = { 10, 1, 200, 3 };

	ck_assert_ptr_nonnull(l);
	ck_assert(cidr_list_match_text(l, "127.0.0.1"));
	ck_assert(cidr_list_match_text(l, "127.255.0.9"));
	ck_assert(!cidr_list_match_text(l, "128.0.0.1"));
	ck_assert(cidr_list_match_text(l, "::1"));
	ck_assert(cidr_list_match_text(l, "IPv6:::1"));
	ck_assert(!cidr_list_match_text(l, "::2"));
	ck_assert(cidr_list_match_text(l, "10.1.9.9"));
	ck_assert(!cidr_list_match_text(l, "10.2.0.1"));
	ck_assert(cidr_list_match_text(l, "2001:db8:ffff::1"));
	ck_assert(!cidr_list_match_text(l, "2001:db9::1"));
	ck_assert(cidr_list_match_text(l, "192.168.1.7"));
	ck_assert(!cidr_list_match_text(l, "192.168.1.8"));
	ck_assert(cidr_list_match_text(l, "172.31.255.255"));
	ck_assert(!cidr_list_match_text(l, "172.32.0.0"));
	ck_assert(cidr_list_match_text(l, "::ffff:127.0.0.1"));
	ck_assert(!cidr_list_match_text(l, "localhost"));
	ck_assert(!cidr_list_match_text(l, ""));
	ck_assert(cidr_list_match_bytes(l, AF_INET, v4));
	cidr_list_free(l);

	ck_assert_ptr_null(cidr_list_new(bad1, err, sizeof(err)));
	ck_assert_str_eq(err, "bad network address \"300.1.1.1\"");
	ck_assert_ptr_null(cidr_list_new(bad2, err, sizeof(err)));
	ck_assert_ptr_null(cidr_list_new(bad3, err, sizeof(err)));
	ck_assert_ptr_null(cidr_list_new(bad4, err, sizeof(err)));

	l = cidr_list_new(NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(l);
	ck_assert(!cidr_list_match_text(l, "127.0.0.1"));
	cidr_list_free(l);
}
END_TEST

START_TEST(test_cidr_best)
{
	char *nets[] = { "10.0.0.0/8", "10.1.0.0/16", "::/0", "10.1.2.0/24", NULL };
	char err[128], text[64];
	struct cidr_list *l = cidr_list_new(nets, err, sizeof(err));

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(cidr_list_best_text(l, "10.1.2.3"), 3);
	ck_assert_int_eq(cidr_list_best_text(l, "10.1.3.3"), 1);
	ck_assert_int_eq(cidr_list_best_text(l, "10.9.3.3"), 0);
	ck_assert_int_eq(cidr_list_best_text(l, "::ffff:10.1.2.9"), 3);
	ck_assert_int_eq(cidr_list_best_text(l, "IPv6:2001:db8::1"), 2);
	ck_assert_int_eq(cidr_list_best_text(l, "192.0.2.1"), -1);
	ck_assert_int_eq(cidr_list_best_text(l, "unknown"), -1);
	ck_assert_int_eq(cidr_list_add(l, "192.0.2.0/24"), 0);
	ck_assert_int_eq(cidr_list_add(l, "192.0.2.0/x"), -1);
	ck_assert_int_eq(cidr_list_best_text(l, "192.0.2.1"), 4);
	ck_assert(cidr_list_match_text(l, "192.0.2.1"));
	cidr_list_free(l);

	/* one spelling of a network, host bits cleared */
	ck_assert_int_eq(cidr_canonical("10.1.2.3/8", text, sizeof(text)), 0);
	ck_assert_str_eq(text, "10.0.0.0/8");
	ck_assert_int_eq(cidr_canonical("[2001:DB8::1]/32", text, sizeof(text)), 0);
	ck_assert_str_eq(text, "2001:db8::/32");
	ck_assert_int_eq(cidr_canonical("192.0.2.7", text, sizeof(text)), 0);
	ck_assert_str_eq(text, "192.0.2.7/32");
	ck_assert_int_eq(cidr_canonical("10.0.0.0/33", text, sizeof(text)), -1);
	ck_assert_int_eq(cidr_canonical("10.0.0.0/8", text, 5), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("cidr");

	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_cidr_special);
	tcase_add_test(tc, test_cidr_best);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
