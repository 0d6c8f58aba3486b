/*
 * check_rotation.c - unit tests of lib/logfile/rotation.c: which names are rotated
 * files, their order (modification time, not name), the file read before
 * found by fingerprint with its device and inode preferred, the newest
 * file compressed otherwise named, gzip files fingerprinted and counted
 * decompressed (one cut short is not counted), and the newest ROTATION_MAX
 * kept.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "logfile/fingerprint.h"
#include "logfile/rotation.h"
#include "util/util.h"

#include "testlib.h"

static char dir[TEST_DIR_MAX];

static void
setup(void)
{
	test_dir_make(dir, sizeof(dir), "check_rotation");
}

static void
teardown(void)
{
	ck_assert_int_eq(test_dir_remove(dir), 0);
}

/* put - write text to dir/name (gzip-compressed when gz), modified at
 * mtime seconds since the epoch. */
static void
put(const char *name, const char *text, int gz, time_t mtime)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	if (gz) {
		gzFile z = gzopen(path, "wb");

		ck_assert_ptr_nonnull(z);
		ck_assert_int_eq(gzwrite(z, text, (unsigned) strlen(text)),
				 (int) strlen(text));
		ck_assert_int_eq(gzclose(z), Z_OK);
	} else {
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fputs(text, f) >= 0, 1);
		ck_assert_int_eq(fclose(f), 0);
	}
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	free(path);
}

/* base - the file name of r's entry i. */
static const char *
base(const struct rotation *r, size_t i)
{
	const char *slash = strrchr(r->f[i].path, '/');

	return (slash ? slash + 1 : r->f[i].path);
}

/* fp_of - the fingerprint of a text's first line. */
static void
fp_of(const char *text, char out[FINGERPRINT_LEN])
{
	ck_assert_int_eq(fingerprint_bytes(text, strlen(text), out), 1);
}

START_TEST(names_and_order)
{
	char *log = xasprintf("%s/mail.log", dir), *sub;
	struct rotation *r;

	/* The numbers say one order, the times another: times win. */
	put("mail.log", "live\n", 0, 5000);
	put("mail.log.1", "one\n", 0, 4000);
	put("mail.log.2.gz", "two\n", 1, 3000);
	put("mail.log.3", "three\n", 0, 3500);
	put("mail.log-20261120.gz", "dated\n", 1, 1000);
	put("mail.log.20261124-010203", "postfix\n", 0, 2000);
	/* Not rotated files of mail.log. */
	put("mail.log.old", "x\n", 0, 100);
	put("mail.log.4.xz", "x\n", 0, 100);
	put("mail.log.6.zst", "x\n", 0, 200);
	put("mail.logx.1", "x\n", 0, 100);
	put("other.log.1", "x\n", 0, 100);
	sub = xasprintf("%s/mail.log.5", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);

	r = rotation_new(log);
	ck_assert_uint_eq(r->n, 6);
	ck_assert_str_eq(base(r, 0), "mail.log-20261120.gz");
	ck_assert_str_eq(base(r, 1), "mail.log.20261124-010203");
	ck_assert_str_eq(base(r, 2), "mail.log.2.gz");
	ck_assert_str_eq(base(r, 3), "mail.log.3");
	ck_assert_str_eq(base(r, 4), "mail.log.1");
	ck_assert_str_eq(r->f[5].path, log);
	ck_assert_int_eq(r->f[0].gz, 1);
	ck_assert_int_eq(r->f[1].gz, 0);
	ck_assert_int_eq(r->live_err, 0);
	/* Compressed otherwise: only named, the newest. */
	ck_assert_ptr_nonnull(r->unreadable);
	ck_assert_str_eq(strrchr(r->unreadable, '/') + 1, "mail.log.6.zst");
	rotation_free(r);
	free(sub);
	free(log);
}
END_TEST

START_TEST(find_the_file_read_before)
{
	char *log = xasprintf("%s/mail.log", dir), *one, fp[FINGERPRINT_LEN];
	struct rotation *r;
	struct stat sb;
	int k;

	/* A copy (copytruncate) and the compressed original share the first
	 * line; the original's device and inode decide. */
	put("mail.log", "new first line\n", 0, 3000);
	put("mail.log.1", "old first line\nmore\n", 0, 2000);
	put("mail.log.2.gz", "old first line\nmore\nand more\n", 1, 1000);
	fp_of("old first line\n", fp);
	one = xasprintf("%s/mail.log.1", dir);
	ck_assert_int_eq(stat(one, &sb), 0);
	r = rotation_new(log);
	ck_assert_uint_eq(r->n, 3);
	ck_assert_ptr_null(r->unreadable);
	k = rotation_find(r, fp, (unsigned long long) sb.st_dev,
			  (unsigned long long) sb.st_ino, 0);
	ck_assert_int_eq(k, 1);
	k = rotation_find(r, fp, r->f[0].dev, r->f[0].ino, 0);
	ck_assert_int_eq(k, 0);
	/* Neither device nor inode known: the newest with that line ... */
	ck_assert_int_eq(rotation_find(r, fp, 0, 0, 0), 1);
	/* ... that holds the offset: a plain file's size counts, a gzip
	 * file's is not known. */
	ck_assert_int_eq(rotation_find(r, fp, 0, 0, 1000), 0);
	/* Another line, or no fingerprint: none. */
	fp_of("never written\n", fp);
	ck_assert_int_eq(rotation_find(r, fp, 0, 0, 0), -1);
	ck_assert_int_eq(rotation_find(r, "", r->f[1].dev, r->f[1].ino, 0), -1);
	rotation_free(r);
	free(one);
	free(log);
}
END_TEST

START_TEST(count_plain_and_gzip)
{
	char *log = xasprintf("%s/mail.log", dir);
	struct rotation *r;
	uint64_t bytes, lines;

	put("mail.log", "a\nbb\nccc\n", 0, 2000);
	put("mail.log.1.gz", "a\nbb\nccc\ndddd\n", 1, 1000);
	r = rotation_new(log);
	ck_assert_uint_eq(r->n, 2);
	ck_assert_int_eq(r->f[0].gz, 1);
	ck_assert_int_eq(rotation_count(&r->f[0], 2, 1000, &bytes, &lines), 0);
	ck_assert_uint_eq(bytes, 12);
	ck_assert_uint_eq(lines, 3);
	ck_assert_int_eq(rotation_count(&r->f[1], 0, 1000, &bytes, &lines), 0);
	ck_assert_uint_eq(bytes, 9);
	ck_assert_uint_eq(lines, 3);
	/* Past the end, or more than the bound: not counted. */
	ck_assert_int_eq(rotation_count(&r->f[1], 10, 1000, &bytes, &lines), -1);
	ck_assert_int_eq(rotation_count(&r->f[0], 17, 1000, &bytes, &lines), -1);
	ck_assert_int_eq(rotation_count(&r->f[0], 0, 10, &bytes, &lines), -1);
	ck_assert_int_eq(rotation_count(&r->f[1], 0, 8, &bytes, &lines), -1);
	/* A .gz cut short (gzip still writing it): not counted either. */
	ck_assert_int_eq(truncate(r->f[0].path, 20), 0);
	ck_assert_int_eq(rotation_count(&r->f[0], 0, 1000, &bytes, &lines), -1);
	rotation_free(r);
	free(log);
}
END_TEST

START_TEST(newest_kept_and_live_missing)
{
	char *log = xasprintf("%s/mail.log", dir), name[64], text[64];
	struct rotation *r;

	/* No log_file: its entry is there, empty, and no error. */
	for (int i = 1; i <= ROTATION_MAX + 6; i++) {
		snprintf(name, sizeof(name), "mail.log.%d", i);
		snprintf(text, sizeof(text), "file %d\n", i);
		put(name, text, 0, 100000 - i);
	}
	r = rotation_new(log);
	ck_assert_uint_eq(r->n, ROTATION_MAX + 1);
	ck_assert_str_eq(base(r, 0), "mail.log.64");
	ck_assert_str_eq(base(r, ROTATION_MAX - 1), "mail.log.1");
	ck_assert_str_eq(r->f[ROTATION_MAX].path, log);
	ck_assert_str_eq(r->f[ROTATION_MAX].fp, "");
	ck_assert_int_eq(r->live_err, 0);
	rotation_free(r);
	free(log);
}
END_TEST

/* rotation_suite - every test above. */
static Suite *
rotation_suite(void)
{
	Suite *s = suite_create("rotation");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, names_and_order);
	tcase_add_test(tc, find_the_file_read_before);
	tcase_add_test(tc, count_plain_and_gzip);
	tcase_add_test(tc, newest_kept_and_live_missing);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return test_run_suite(rotation_suite());
}
