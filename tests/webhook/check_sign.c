/*
 * check_sign.c - signing keys, key ids, JWK, signatures and the Standard
 * Webhooks HMAC (the keyring is check_keyring.c's).
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
	FILE *p = popen(cmd, "r");

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
	FILE *f = fopen(pem, "r");
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;
	unsigned char sig[1024];
	int n;
	int ok;

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
	ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
	ok = EVP_DigestVerify(md, sig, (size_t) n, (const unsigned char *) body,
			      strlen(body))
	     == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return ok;
}

START_TEST(kid_matches_openssl_cli)
{
	char *path = tmp("k.pem");
	char *cmd;
	char err[256];
	char line[256];
	const char *kid = signing_key_kid(shared);
	size_t i;

	ck_assert_int_eq(signing_key_save(shared, path, err, sizeof(err)), 0);
	cmd = xasprintf("openssl rsa -in '%s' -RSAPublicKey_out -outform DER "
			"2>/dev/null | sha256sum",
			path);
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
	char *path = tmp("k.pem");
	char err[256];
	const char *body = "{\"event\":\"MessageSent\",\"uuid\":\"u-1\"}";
	char *sig;

	ck_assert_int_eq(signing_key_save(shared, path, err, sizeof(err)), 0);
	sig = signing_key_sign(shared, body, strlen(body));
	ck_assert_ptr_nonnull(sig);
	ck_assert_uint_eq(strlen(sig), 344); /* 256 bytes in base64 */
	ck_assert(verify_sig(path, body, sig));
	ck_assert(!verify_sig(path, "{\"event\":\"MessageSent\",\"uuid\":\"u-2\"}", sig));
	free(sig);
	free(path);
}
END_TEST

/*
 * A signer used for many bodies gives signing_key_sign()'s bytes for each
 * (PKCS#1 v1.5 is deterministic), and outlives the key it was made from.
 */
START_TEST(signer_same_bytes)
{
	char *path = tmp("k.pem");
	char err[256];
	char body[64];
	struct signing_key *k;
	struct signer *s;
	char *a, *b;
	int i;

	ck_assert_int_eq(signing_key_save(shared, path, err, sizeof(err)), 0);
	k = signing_key_load(path, err, sizeof(err));
	ck_assert_ptr_nonnull(k);
	s = signer_new(k);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(signer_kid(s), signing_key_kid(k));
	signing_key_free(k);
	for (i = 0; i < 20; i++) {
		snprintf(body, sizeof(body), "{\"event\":\"MessageSent\",\"n\":%d}", i);
		a = signer_sign(s, body, strlen(body));
		b = signing_key_sign(shared, body, strlen(body));
		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ck_assert_str_eq(a, b);
		ck_assert(verify_sig(path, body, a));
		free(a);
		free(b);
	}
	a = signer_sign(s, "", 0);
	ck_assert_ptr_nonnull(a);
	ck_assert(verify_sig(path, "", a));
	free(a);
	signer_free(s);
	free(path);
}
END_TEST

START_TEST(signature_matches_openssl_cli)
{
	char *path = tmp("k.pem");
	char *bodyp = tmp("body");
	char *cmd;
	char err[256];
	char line[512];
	const char *body = "{\"a\": 1}\n";
	char *sig;

	ck_assert_int_eq(signing_key_save(shared, path, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    file_write_atomic(bodyp, body, strlen(body), 0600, err, sizeof(err)), 0);
	sig = signing_key_sign(shared, body, strlen(body));
	ck_assert_ptr_nonnull(sig);
	/* PKCS#1 v1.5 is deterministic: the CLI must produce the same bytes. */
	cmd = xasprintf("openssl dgst -sha256 -sign '%s' '%s' | base64 -w0", path, bodyp);
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
	char *sig;

	/* Published test vector of the Standard Webhooks reference libraries. */
	sig = stdwebhooks_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
				    strlen(body));
	ck_assert_ptr_nonnull(sig);
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	sig = stdwebhooks_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
				    strlen(body));
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	sig = stdwebhooks_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body,
				    strlen(body));
	ck_assert_str_ne(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	ck_assert_ptr_null(stdwebhooks_signature("whsec_not*base64", "m", 1, "x", 1));
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
				    "qrstuvwxyz0123456789-_"),
			  342);
	json_object_put(jwk);
}
END_TEST

START_TEST(save_load_round_trip)
{
	char *path = tmp("sub.pem");
	char err[256];
	struct signing_key *k;
	struct stat st;
	mode_t old = umask(0);
	char *sig;

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
	char *path = tmp("bad.pem");
	char *small = tmp("small.pem");
	char *cmd;
	char err[256];

	ck_assert_ptr_null(signing_key_load(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "bad.pem"));
	ck_assert_int_eq(file_write_atomic(path, "hello\n", 6, 0600, err, sizeof(err)),
			 0);
	ck_assert_ptr_null(signing_key_load(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no PEM private key"));
	cmd = xasprintf("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024"
			" -out '%s' 2>/dev/null",
			small);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_ptr_null(signing_key_load(small, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "1024 bits"));
	free(cmd);
	free(small);
	free(path);
}
END_TEST

static Suite *
sign_suite(void)
{
	Suite *s = suite_create("sign");
	TCase *tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kid_matches_openssl_cli);
	tcase_add_test(tc, signature_verifies);
	tcase_add_test(tc, signature_matches_openssl_cli);
	tcase_add_test(tc, signer_same_bytes);
	tcase_add_test(tc, stdwebhooks_vector);
	tcase_add_test(tc, jwk_fields);
	tcase_add_test(tc, save_load_round_trip);
	tcase_add_test(tc, load_refuses_bad_keys);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(sign_suite());
}
