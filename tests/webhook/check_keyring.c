/*
 * check_keyring.c - the keyring: the first start, the rotation timeline
 * under a fake clock, rotations by another process (posthookctl keys) and
 * a damaged state file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "util/file_atomic.h"
#include "sign/sign.h"
#include "util/util.h"

#include "testlib.h"

static char tmpdir[TEST_DIR_MAX];

static void
setup(void)
{
	test_dir_make(tmpdir, sizeof(tmpdir), "check_keyring");
}

static void
teardown(void)
{
	ck_assert_int_eq(test_dir_remove(tmpdir), 0);
}

/* tmp - a path in the test's directory (malloc()ed) */
static char *
tmp(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* test_config - a config for a keyring in the test directory */
static struct config *
test_config(int with_jwks)
{
	struct config *cfg = config_new();
	char err[256];
	char *p = tmp("signing.key");

	ck_assert_int_eq(config_set(cfg, "signing_key", p, err, sizeof(err)), 0);
	free(p);
	ck_assert_int_eq(config_set(cfg, "key_activation_delay", "1h", err, sizeof(err)),
			 0);
	ck_assert_int_eq(config_set(cfg, "retry_schedule", "0 2m 10m", err, sizeof(err)),
			 0);
	ck_assert_int_eq(config_set(cfg, "webhook_timeout", "5s", err, sizeof(err)), 0);
	if (with_jwks) {
		p = tmp("jwks.json");
		ck_assert_int_eq(config_set(cfg, "jwks_file", p, err, sizeof(err)), 0);
		free(p);
	}
	return cfg;
}

/* jwks_kids - the kids in the JWKS file, space-separated, in file order */
static void
jwks_kids(char *out, size_t outlen)
{
	char *p = tmp("jwks.json");
	char *text = file_read_all(p, NULL);
	json_object *root;
	json_object *keys;
	json_object *kid;
	size_t i;

	ck_assert_ptr_nonnull(text);
	root = json_tokener_parse(text);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "keys", &keys));
	out[0] = '\0';
	for (i = 0; i < json_object_array_length(keys); i++) {
		ck_assert(json_object_object_get_ex(json_object_array_get_idx(keys, i),
						    "kid", &kid));
		snprintf(out + strlen(out), outlen - strlen(out), "%s ",
			 json_object_get_string(kid));
	}
	json_object_put(root);
	free(text);
	free(p);
}

/* file_kid - the kid of the key held in a file, or "" */
static void
file_kid(const char *name, char *out, size_t outlen)
{
	char *p = tmp(name);
	char err[256];
	struct signing_key *k = signing_key_load(p, err, sizeof(err));

	snprintf(out, outlen, "%s", k != NULL ? signing_key_kid(k) : "");
	signing_key_free(k);
	free(p);
}

START_TEST(keyring_first_start)
{
	struct config *cfg = test_config(1);
	char err[256];
	char kids[1024];
	char kid[65];
	struct keyring *kr;
	struct keyring_info ki;
	struct stat st;
	const struct signing_key *signer;
	json_object *jwks;

	kr = keyring_open(cfg, NULL, err, sizeof(err));
	ck_assert_msg(kr != NULL, "%s", err);
	ck_assert_int_eq(stat(cfg->signing_key, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_uid, geteuid());
	ck_assert_uint_eq(keyring_count(kr), 1);
	ck_assert_int_eq(keyring_info(kr, 0, &ki), 0);
	ck_assert_int_eq(keyring_info(kr, 1, &ki), -1);
	ck_assert_str_eq(keyring_state(&ki, now_seconds()), "active");
	signer = keyring_signer(kr, now_seconds());
	file_kid("signing.key", kid, sizeof(kid));
	ck_assert_str_eq(signing_key_kid(signer), kid);
	jwks_kids(kids, sizeof(kids));
	ck_assert_uint_eq(strlen(kids), 65);
	ck_assert_int_eq(strncmp(kids, kid, 64), 0);
	ck_assert_int_eq(stat(cfg->jwks_file, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	jwks = keyring_jwks(kr, now_seconds());
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(jwks, "keys")),
			  1);
	json_object_put(jwks);
	keyring_free(kr);

	/* A second start keeps the key. */
	kr = keyring_open(cfg, NULL, err, sizeof(err));
	ck_assert_msg(kr != NULL, "%s", err);
	ck_assert_str_eq(signing_key_kid(keyring_signer(kr, now_seconds())), kid);
	keyring_free(kr);
	config_free(cfg);
}
END_TEST

START_TEST(keyring_rotation_timeline)
{
	struct config *cfg = test_config(1);
	char err[256];
	char kids[1024];
	char expect[1024];
	char old_kid[65];
	char new_kid[65];
	char held[65];
	char *side;
	struct keyring *kr;
	struct keyring_info ki;
	double t0;
	double act;
	double until;
	/* Retry-After may double each delay: 2 * (0 + 2m + 10m) + 3 * 5s. */
	const double retire_after = 2 * (0 + 120 + 600) + 3 * 5;

	kr = keyring_open(cfg, NULL, err, sizeof(err));
	ck_assert_msg(kr != NULL, "%s", err);
	t0 = now_seconds() + 10;
	snprintf(old_kid, sizeof(old_kid), "%s", signing_key_kid(keyring_signer(kr, t0)));

	ck_assert_int_eq(keyring_rotate(kr, t0, err, sizeof(err)), 0);
	ck_assert_uint_eq(keyring_count(kr), 2);
	ck_assert_int_eq(keyring_info(kr, 1, &ki), 0);
	snprintf(new_kid, sizeof(new_kid), "%s", ki.kid);
	ck_assert_str_ne(new_kid, old_kid);
	act = t0 + 3600;
	until = act + retire_after;
	ck_assert(ki.activates == act);
	ck_assert_str_eq(keyring_state(&ki, t0), "next");
	ck_assert_int_eq(keyring_info(kr, 0, &ki), 0);
	ck_assert_str_eq(ki.kid, old_kid);
	ck_assert(ki.retired == act);
	ck_assert(ki.retire_until == until);

	/* Published at once, in the file too, but not signing yet. */
	jwks_kids(kids, sizeof(kids));
	snprintf(expect, sizeof(expect), "%s %s ", old_kid, new_kid);
	ck_assert_str_eq(kids, expect);
	side = xasprintf("%s/signing.key.%s", tmpdir, new_kid);
	ck_assert_int_eq(access(side, R_OK), 0);
	ck_assert_str_eq(signing_key_kid(keyring_signer(kr, t0)), old_kid);
	ck_assert_str_eq(signing_key_kid(keyring_signer(kr, act - 1)), old_kid);
	ck_assert_int_eq(keyring_refresh(kr, act - 1), 0);
	file_kid("signing.key", held, sizeof(held));
	ck_assert_str_eq(held, old_kid);

	/* Activation: the new key signs and moves to signing_key. */
	ck_assert_str_eq(signing_key_kid(keyring_signer(kr, act)), new_kid);
	ck_assert_int_eq(keyring_refresh(kr, act), 0);
	file_kid("signing.key", held, sizeof(held));
	ck_assert_str_eq(held, new_kid);
	ck_assert_int_eq(access(side, F_OK), -1);
	free(side);
	side = xasprintf("%s/signing.key.%s", tmpdir, old_kid);
	file_kid(strrchr(side, '/') + 1, held, sizeof(held));
	ck_assert_str_eq(held, old_kid);
	ck_assert_int_eq(keyring_info(kr, 0, &ki), 0);
	ck_assert_str_eq(keyring_state(&ki, act), "retired");

	/* The old key stays published until its deliveries' retries end. */
	ck_assert_int_eq(keyring_refresh(kr, until - 1), 0);
	ck_assert_uint_eq(keyring_count(kr), 2);
	jwks_kids(kids, sizeof(kids));
	ck_assert_str_eq(kids, expect);
	ck_assert_int_eq(keyring_refresh(kr, until), 0);
	ck_assert_uint_eq(keyring_count(kr), 1);
	jwks_kids(kids, sizeof(kids));
	snprintf(expect, sizeof(expect), "%s ", new_kid);
	ck_assert_str_eq(kids, expect);
	ck_assert_int_eq(access(side, F_OK), -1);
	free(side);
	keyring_free(kr);
	config_free(cfg);
}
END_TEST

START_TEST(keyring_sees_other_process)
{
	struct config *cfg = test_config(0);
	char err[256];
	struct keyring *daemon_kr;
	struct keyring *ctl_kr;
	struct keyring_info ki;
	json_object *jwks;
	double now = now_seconds();

	daemon_kr = keyring_open(cfg, NULL, err, sizeof(err));
	ck_assert_msg(daemon_kr != NULL, "%s", err);
	ctl_kr = keyring_open(cfg, NULL, err, sizeof(err));
	ck_assert_msg(ctl_kr != NULL, "%s", err);
	ck_assert_int_eq(keyring_rotate(ctl_kr, now, err, sizeof(err)), 0);
	ck_assert_int_eq(keyring_rotate(ctl_kr, now + 60, err, sizeof(err)), 0);
	keyring_free(ctl_kr);

	ck_assert_uint_eq(keyring_count(daemon_kr), 1);
	ck_assert_int_eq(keyring_refresh(daemon_kr, now + 61), 0);
	ck_assert_uint_eq(keyring_count(daemon_kr), 3);
	jwks = keyring_jwks(daemon_kr, now + 61);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(jwks, "keys")),
			  3);
	json_object_put(jwks);
	/* Two rotations: the second key signs an hour after the first. */
	ck_assert_int_eq(keyring_info(daemon_kr, 1, &ki), 0);
	ck_assert(ki.activates == now + 3600);
	ck_assert(ki.retired == now + 3660);
	ck_assert_str_eq(signing_key_kid(keyring_signer(daemon_kr, now + 3601)), ki.kid);
	ck_assert_int_eq(keyring_info(daemon_kr, 2, &ki), 0);
	ck_assert(ki.activates == now + 3660);
	ck_assert_str_eq(signing_key_kid(keyring_signer(daemon_kr, now + 3660)), ki.kid);
	keyring_free(daemon_kr);
	config_free(cfg);
}
END_TEST

START_TEST(keyring_refuses_bad_state)
{
	struct config *cfg = test_config(0);
	char err[256];
	char *state;
	struct keyring *kr;

	kr = keyring_open(cfg, NULL, err, sizeof(err));
	ck_assert_msg(kr != NULL, "%s", err);
	keyring_free(kr);
	state = xasprintf("%s.keys", cfg->signing_key);
	ck_assert_int_eq(file_write_atomic(state, "{garbage", 8, 0600, err, sizeof(err)),
			 0);
	ck_assert_ptr_null(keyring_open(cfg, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a keyring state file"));
	free(state);
	config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("keyring");
	TCase *tc = tcase_create("keyring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, keyring_first_start);
	tcase_add_test(tc, keyring_rotation_timeline);
	tcase_add_test(tc, keyring_sees_other_process);
	tcase_add_test(tc, keyring_refuses_bad_state);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
