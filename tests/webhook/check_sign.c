/*
 * check_sign.c - signing keys, key ids, JWK, signatures, the Standard
 * Webhooks HMAC, and the keyring's rotation timeline under a fake clock.
 *
 * Key ids are checked against the openssl command line's own computation;
 * signatures against OpenSSL's EVP verification with the key read back
 * from its PEM file.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config/config.h"
#include "util/file_atomic.h"
#include "sign/sign.h"
#include "util/util.h"

#include "testlib.h"

static char tmpdir[TEST_DIR_MAX];

/* shared_key - one key for the tests that need any key (RSA is slow) */
static struct signing_key *shared;

static void
setup(void)
{
	test_dir_make(tmpdir, sizeof(tmpdir), "check_sign");
	shared = signing_key_generate();
	ck_assert_ptr_nonnull(shared);
}

static void
teardown(void)
{
	ck_assert_int_eq(test_dir_remove(tmpdir), 0);
	signing_key_free(shared);
}

/* tmp - a path in the test's directory (malloc()ed) */
static char *
tmp(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* run_line - first line of a shell command's output, or "" */
static void
run_line(const char *cmd, char *out, size_t outlen)
{
	FILE   *p = popen(cmd, "r");

	ck_assert_ptr_nonnull(p);
	out[0] = '\0';
	if (fgets(out, (int) outlen, p) == NULL)
		out[0] = '\0';
	ck_assert_int_eq(pclose(p), 0);
}

/* verify_sig - EVP verification of a base64 signature with a PEM file */
static int
verify_sig(const char *pem, const char *body, const char *b64)
{
	FILE   *f = fopen(pem, "r");
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;
	unsigned char sig[1024];
	int     n;
	int     ok;

	ck_assert_ptr_nonnull(f);
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(pkey);
	ck_assert_uint_le(strlen(b64), 4 * sizeof(sig) / 3);
	n = EVP_DecodeBlock(sig, (const unsigned char *) b64, (int) strlen(b64));
	ck_assert_int_gt(n, 2);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	n -= (int) (strlen(b64) - strcspn(b64, "="));
	md = EVP_MD_CTX_new();
	ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
					      pkey), 1);
	ok = EVP_DigestVerify(md, sig, (size_t) n, (const unsigned char *) body,
			      strlen(body)) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return ok;
}

START_TEST(kid_matches_openssl_cli)
{
	char   *path = tmp("k.pem");
	char   *cmd;
	char    err[256];
	char    line[256];
	const char *kid = signing_key_kid(shared);
	size_t  i;

	ck_assert_int_eq(signing_key_save(shared, path, err, sizeof(err)), 0);
	cmd = xasprintf("openssl rsa -in '%s' -RSAPublicKey_out -outform DER "
			"2>/dev/null | sha256sum", path);
	run_line(cmd, line, sizeof(line));
	ck_assert_uint_eq(strlen(kid), 64);
	for (i = 0; i < 64; i++)
		ck_assert(strchr("0123456789abcdef", kid[i]) != NULL);
	ck_assert_int_eq(strncmp(line, kid, 64), 0);
	free(cmd);
	free(path);
}
END_TEST

START_TEST(signature_verifies)
{
	char   *path = tmp("k.pem");
	char    err[256];
	const char *body = "{\"event\":\"MessageSent\",\"uuid\":\"u-1\"}";
	char   *sig;

	ck_assert_int_eq(signing_key_save(shared, path, err, sizeof(err)), 0);
	sig = signing_key_sign(shared, body, strlen(body));
	ck_assert_ptr_nonnull(sig);
	ck_assert_uint_eq(strlen(sig), 344);	/* 256 bytes in base64 */
	ck_assert(verify_sig(path, body, sig));
	ck_assert(!verify_sig(path, "{\"event\":\"MessageSent\",\"uuid\":\"u-2\"}",
			      sig));
	free(sig);
	free(path);
}
END_TEST

START_TEST(signature_matches_openssl_cli)
{
	char   *path = tmp("k.pem");
	char   *bodyp = tmp("body");
	char   *cmd;
	char    err[256];
	char    line[512];
	const char *body = "{\"a\": 1}\n";
	char   *sig;

	ck_assert_int_eq(signing_key_save(shared, path, err, sizeof(err)), 0);
	ck_assert_int_eq(file_write_atomic(bodyp, body, strlen(body), 0600,
					   err, sizeof(err)), 0);
	sig = signing_key_sign(shared, body, strlen(body));
	ck_assert_ptr_nonnull(sig);
	/* PKCS#1 v1.5 is deterministic: the CLI must produce the same bytes. */
	cmd = xasprintf("openssl dgst -sha256 -sign '%s' '%s' | base64 -w0",
			path, bodyp);
	run_line(cmd, line, sizeof(line));
	ck_assert_str_eq(line, sig);
	free(cmd);
	free(sig);
	free(bodyp);
	free(path);
}
END_TEST

START_TEST(stdwebhooks_vector)
{
	const char *body = "{\"test\": 2432232314}";
	char   *sig;

	/* Published test vector of the Standard Webhooks reference libraries. */
	sig = stdwebhooks_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
				    body, strlen(body));
	ck_assert_ptr_nonnull(sig);
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	sig = stdwebhooks_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
				    body, strlen(body));
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	sig = stdwebhooks_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331,
				    body, strlen(body));
	ck_assert_str_ne(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	ck_assert_ptr_null(stdwebhooks_signature("whsec_not*base64", "m", 1,
						 "x", 1));
	ck_assert_ptr_null(stdwebhooks_signature("whsec_", "m", 1, "x", 1));
}
END_TEST

START_TEST(jwk_fields)
{
	json_object *jwk = signing_key_jwk(shared);
	json_object *v;
	const char *n;

	ck_assert_ptr_nonnull(jwk);
	ck_assert(json_object_object_get_ex(jwk, "kty", &v));
	ck_assert_str_eq(json_object_get_string(v), "RSA");
	ck_assert(json_object_object_get_ex(jwk, "alg", &v));
	ck_assert_str_eq(json_object_get_string(v), "RS256");
	ck_assert(json_object_object_get_ex(jwk, "use", &v));
	ck_assert_str_eq(json_object_get_string(v), "sig");
	ck_assert(json_object_object_get_ex(jwk, "kid", &v));
	ck_assert_str_eq(json_object_get_string(v), signing_key_kid(shared));
	ck_assert(json_object_object_get_ex(jwk, "e", &v));
	ck_assert_str_eq(json_object_get_string(v), "AQAB");
	ck_assert(json_object_object_get_ex(jwk, "n", &v));
	n = json_object_get_string(v);
	/* 256 bytes of modulus: 342 base64url characters, no padding. */
	ck_assert_uint_eq(strlen(n), 342);
	ck_assert_uint_eq(strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				 "qrstuvwxyz0123456789-_"), 342);
	json_object_put(jwk);
}
END_TEST

START_TEST(save_load_round_trip)
{
	char   *path = tmp("sub.pem");
	char    err[256];
	struct signing_key *k;
	struct stat st;
	mode_t  old = umask(0);
	char   *sig;

	ck_assert_int_eq(signing_key_save(shared, path, err, sizeof(err)), 0);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	k = signing_key_load(path, err, sizeof(err));
	ck_assert_msg(k != NULL, "%s", err);
	ck_assert_str_eq(signing_key_kid(k), signing_key_kid(shared));
	sig = signing_key_sign(k, "x", 1);
	ck_assert(verify_sig(path, "x", sig));
	free(sig);
	signing_key_free(k);
	free(path);
}
END_TEST

START_TEST(load_refuses_bad_keys)
{
	char   *path = tmp("bad.pem");
	char   *small = tmp("small.pem");
	char   *cmd;
	char    err[256];

	ck_assert_ptr_null(signing_key_load(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "bad.pem"));
	ck_assert_int_eq(file_write_atomic(path, "hello\n", 6, 0600, err,
					   sizeof(err)), 0);
	ck_assert_ptr_null(signing_key_load(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no PEM private key"));
	cmd = xasprintf("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024"
			" -out '%s' 2>/dev/null", small);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_ptr_null(signing_key_load(small, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "1024 bits"));
	free(cmd);
	free(small);
	free(path);
}
END_TEST

/* test_config - a config for a keyring in the test directory */
static struct config *
test_config(int with_jwks)
{
	struct config *cfg = config_new();
	char    err[256];
	char   *p = tmp("signing.key");

	ck_assert_int_eq(config_set(cfg, "signing_key", p, err, sizeof(err)), 0);
	free(p);
	ck_assert_int_eq(config_set(cfg, "key_activation_delay", "1h", err,
				    sizeof(err)), 0);
	ck_assert_int_eq(config_set(cfg, "retry_schedule", "0 2m 10m", err,
				    sizeof(err)), 0);
	ck_assert_int_eq(config_set(cfg, "webhook_timeout", "5s", err,
				    sizeof(err)), 0);
	if (with_jwks) {
		p = tmp("jwks.json");
		ck_assert_int_eq(config_set(cfg, "jwks_file", p, err,
					    sizeof(err)), 0);
		free(p);
	}
	return cfg;
}

/* jwks_kids - the kids in the JWKS file, space-separated, in file order */
static void
jwks_kids(char *out, size_t outlen)
{
	char   *p = tmp("jwks.json");
	char   *text = file_read_all(p, NULL);
	json_object *root;
	json_object *keys;
	json_object *kid;
	size_t  i;

	ck_assert_ptr_nonnull(text);
	root = json_tokener_parse(text);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "keys", &keys));
	out[0] = '\0';
	for (i = 0; i < json_object_array_length(keys); i++) {
		ck_assert(json_object_object_get_ex(
			json_object_array_get_idx(keys, i), "kid", &kid));
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
	char   *p = tmp(name);
	char    err[256];
	struct signing_key *k = signing_key_load(p, err, sizeof(err));

	snprintf(out, outlen, "%s", k != NULL ? signing_key_kid(k) : "");
	signing_key_free(k);
	free(p);
}

START_TEST(keyring_first_start)
{
	struct config *cfg = test_config(1);
	char    err[256];
	char    kids[1024];
	char    kid[65];
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
	ck_assert_uint_eq(json_object_array_length(
		json_object_object_get(jwks, "keys")), 1);
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
	char    err[256];
	char    kids[1024];
	char    expect[1024];
	char    old_kid[65];
	char    new_kid[65];
	char    held[65];
	char   *side;
	struct keyring *kr;
	struct keyring_info ki;
	double  t0;
	double  act;
	double  until;
	/* Retry-After may double each delay: 2 * (0 + 2m + 10m) + 3 * 5s. */
	const double retire_after = 2 * (0 + 120 + 600) + 3 * 5;

	kr = keyring_open(cfg, NULL, err, sizeof(err));
	ck_assert_msg(kr != NULL, "%s", err);
	t0 = now_seconds() + 10;
	snprintf(old_kid, sizeof(old_kid), "%s",
		 signing_key_kid(keyring_signer(kr, t0)));

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
	char    err[256];
	struct keyring *daemon_kr;
	struct keyring *ctl_kr;
	struct keyring_info ki;
	json_object *jwks;
	double  now = now_seconds();

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
	ck_assert_uint_eq(json_object_array_length(
		json_object_object_get(jwks, "keys")), 3);
	json_object_put(jwks);
	/* Two rotations: the second key signs an hour after the first. */
	ck_assert_int_eq(keyring_info(daemon_kr, 1, &ki), 0);
	ck_assert(ki.activates == now + 3600);
	ck_assert(ki.retired == now + 3660);
	ck_assert_str_eq(signing_key_kid(keyring_signer(daemon_kr, now + 3601)),
			 ki.kid);
	ck_assert_int_eq(keyring_info(daemon_kr, 2, &ki), 0);
	ck_assert(ki.activates == now + 3660);
	ck_assert_str_eq(signing_key_kid(keyring_signer(daemon_kr, now + 3660)),
			 ki.kid);
	keyring_free(daemon_kr);
	config_free(cfg);
}
END_TEST

START_TEST(keyring_refuses_bad_state)
{
	struct config *cfg = test_config(0);
	char    err[256];
	char   *state;
	struct keyring *kr;

	kr = keyring_open(cfg, NULL, err, sizeof(err));
	ck_assert_msg(kr != NULL, "%s", err);
	keyring_free(kr);
	state = xasprintf("%s.keys", cfg->signing_key);
	ck_assert_int_eq(file_write_atomic(state, "{garbage", 8, 0600, err,
					   sizeof(err)), 0);
	ck_assert_ptr_null(keyring_open(cfg, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a keyring state file"));
	free(state);
	config_free(cfg);
}
END_TEST

static Suite *
sign_suite(void)
{
	Suite  *s = suite_create("sign");
	TCase  *tc = tcase_create("keys");
	TCase  *ring = tcase_create("keyring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kid_matches_openssl_cli);
	tcase_add_test(tc, signature_verifies);
	tcase_add_test(tc, signature_matches_openssl_cli);
	tcase_add_test(tc, stdwebhooks_vector);
	tcase_add_test(tc, jwk_fields);
	tcase_add_test(tc, save_load_round_trip);
	tcase_add_test(tc, load_refuses_bad_keys);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ring, setup, teardown);
	tcase_add_test(ring, keyring_first_start);
	tcase_add_test(ring, keyring_rotation_timeline);
	tcase_add_test(ring, keyring_sees_other_process);
	tcase_add_test(ring, keyring_refuses_bad_state);
	suite_add_tcase(s, ring);
	return s;
}

int
main(void)
{
	return test_run_suite(sign_suite());
}
