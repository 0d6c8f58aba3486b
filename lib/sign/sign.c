/*
 * sign.c - one RSA signing key: generate, load and save as PEM, its key id
 * and JWK, and RSASSA-PKCS1-v1_5 SHA-256 signatures; and the Standard
 * Webhooks HMAC signature.  OpenSSL 3 EVP interfaces only.
 *
 * The key id is the lowercase hex SHA-256 of the PKCS#1 RSAPublicKey DER,
 * SEQUENCE{modulus, publicExponent}: what `openssl rsa -RSAPublicKey_out
 * -outform DER | sha256sum` prints (docs/events.md, Signatures and headers).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "util/file_atomic.h"
#include "sign/sign.h"
#include "util/base64.h"
#include "util/util.h"

#define SIGN_RSA_BITS 2048

struct signing_key {
	EVP_PKEY *pkey;
	char kid[2 * 32 + 1];
};

/* ssl_error - the last OpenSSL error as text, for messages */
static const char *
ssl_error(char *out, size_t outlen)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(out, outlen, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, out, outlen);
	ERR_clear_error();
	return out;
}

/* compute_kid - SHA-256 hex of the key's PKCS#1 RSAPublicKey DER */
static int
compute_kid(struct signing_key *k)
{
	unsigned char *der = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int len;
	int i;

	len = i2d_PublicKey(k->pkey, &der);
	if (len <= 0)
		return -1;
	if (EVP_Digest(der, (size_t) len, md, &mdlen, EVP_sha256(), NULL) != 1
	    || mdlen != sizeof(md)) {
		OPENSSL_free(der);
		return -1;
	}
	OPENSSL_free(der);
	for (i = 0; i < (int) sizeof(md); i++)
		snprintf(k->kid + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* key_from_pkey - wrap an RSA EVP_PKEY, taking it; NULL if unusable */
static struct signing_key *
key_from_pkey(EVP_PKEY *pkey, char *err, size_t errlen)
{
	struct signing_key *k;

	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		snprintf(err, errlen, "not an RSA key");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if (EVP_PKEY_get_bits(pkey) < SIGN_RSA_BITS) {
		snprintf(err, errlen, "RSA key of %d bits; at least %d needed",
			 EVP_PKEY_get_bits(pkey), SIGN_RSA_BITS);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	if (compute_kid(k) < 0) {
		snprintf(err, errlen, "cannot encode the public key");
		signing_key_free(k);
		return NULL;
	}
	return k;
}

/* signing_key_generate - a new RSA-2048 key */
struct signing_key *
signing_key_generate(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;
	char err[256];

	if (ctx == NULL)
		return NULL;
	if (EVP_PKEY_keygen_init(ctx) != 1
	    || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, SIGN_RSA_BITS) != 1
	    || EVP_PKEY_generate(ctx, &pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return key_from_pkey(pkey, err, sizeof(err));
}

/* signing_key_load - read a PEM private key (PKCS#8 or PKCS#1) */
struct signing_key *
signing_key_load(const char *path, char *err, size_t errlen)
{
	char why[256];
	char inner[200];
	struct signing_key *k;
	EVP_PKEY *pkey;
	BIO *bio;

	bio = BIO_new_file(path, "r");
	if (bio == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 ssl_error(why, sizeof(why)));
		return NULL;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		snprintf(err, errlen, "%s: no PEM private key: %s", path,
			 ssl_error(why, sizeof(why)));
		return NULL;
	}
	k = key_from_pkey(pkey, inner, sizeof(inner));
	if (k == NULL)
		snprintf(err, errlen, "%s: %s", path, inner);
	return k;
}

/* signing_key_save - write the private key as PKCS#8 PEM, mode 0600 */
int
signing_key_save(const struct signing_key *k, const char *path, char *err, size_t errlen)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char why[256];
	char *data;
	long len;
	int rc;

	if (mem == NULL
	    || PEM_write_bio_PrivateKey(mem, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		snprintf(err, errlen, "%s: cannot encode key: %s", path,
			 ssl_error(why, sizeof(why)));
		BIO_free(mem);
		return -1;
	}
	len = BIO_get_mem_data(mem, &data);
	rc = file_write_atomic(path, data, (size_t) len, 0600, err, errlen);
	OPENSSL_cleanse(data, (size_t) len);
	BIO_free(mem);
	return rc;
}

/* signing_key_free - release a key */
void
signing_key_free(struct signing_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* signing_key_kid - the key id */
const char *
signing_key_kid(const struct signing_key *k)
{
	return k->kid;
}

/* signing_key_sign - base64 RSASSA-PKCS1-v1_5 SHA-256 signature of body */
char *
signing_key_sign(const struct signing_key *k, const void *body, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *out = NULL;

	if (md == NULL)
		return NULL;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1
	    || EVP_DigestSign(md, NULL, &siglen, body, len) != 1)
		goto done;
	sig = xmalloc(siglen);
	if (EVP_DigestSign(md, sig, &siglen, body, len) != 1)
		goto done;
	out = base64_encode(sig, siglen, 0);
done:
	if (out == NULL)
		ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(md);
	return out;
}

struct signer {
	EVP_PKEY *pkey;	    /* the signer's own copy */
	EVP_PKEY_CTX *pctx; /* sign_init done, padding and digest set */
	EVP_MD_CTX *mdctx;  /* the body's digest */
	EVP_MD *sha256;	    /* fetched once */
	unsigned char *sig; /* room for one signature */
	size_t sigmax;
	char kid[2 * 32 + 1];
};

/* signer_new - see sign.h. */
struct signer *
signer_new(const struct signing_key *k)
{
	struct signer *s = xcalloc(1, sizeof(*s));

	memcpy(s->kid, k->kid, sizeof(s->kid));
	s->pkey = EVP_PKEY_dup(k->pkey);
	s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	s->mdctx = EVP_MD_CTX_new();
	if (s->pkey != NULL) {
		s->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, s->pkey, NULL);
		s->sigmax = (size_t) EVP_PKEY_get_size(s->pkey);
		s->sig = xmalloc(s->sigmax > 0 ? s->sigmax : 1);
	}
	if (s->pkey == NULL || s->sigmax == 0 || s->sha256 == NULL || s->mdctx == NULL
	    || s->pctx == NULL || EVP_PKEY_sign_init(s->pctx) != 1
	    || EVP_PKEY_CTX_set_rsa_padding(s->pctx, RSA_PKCS1_PADDING) != 1
	    || EVP_PKEY_CTX_set_signature_md(s->pctx, s->sha256) != 1) {
		ERR_clear_error();
		signer_free(s);
		return NULL;
	}
	return s;
}

/* signer_free - release a signer */
void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_CTX_free(s->pctx);
	EVP_MD_CTX_free(s->mdctx);
	EVP_MD_free(s->sha256);
	EVP_PKEY_free(s->pkey);
	free(s->sig);
	free(s);
}

/* signer_kid - see sign.h. */
const char *
signer_kid(const struct signer *s)
{
	return s->kid;
}

/* signer_sign - the digest, then the prepared context signs it */
char *
signer_sign(struct signer *s, const void *body, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t siglen = s->sigmax;

	if (EVP_DigestInit_ex(s->mdctx, s->sha256, NULL) != 1
	    || EVP_DigestUpdate(s->mdctx, body, len) != 1
	    || EVP_DigestFinal_ex(s->mdctx, md, &mdlen) != 1
	    || EVP_PKEY_sign(s->pctx, s->sig, &siglen, md, mdlen) != 1) {
		ERR_clear_error();
		return NULL;
	}
	return base64_encode(s->sig, siglen, 0);
}

/* bn_param_b64url - one big-number parameter of the key, base64url */
static char *
bn_param_b64url(const EVP_PKEY *pkey, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char *bytes;
	char *out;
	int n;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return NULL;
	bytes = xmalloc((size_t) BN_num_bytes(bn) + 1);
	n = BN_bn2bin(bn, bytes);
	out = base64_encode(bytes, (size_t) n, BASE64_URL);
	free(bytes);
	BN_free(bn);
	return out;
}

/* signing_key_jwk - the public key as a JWK */
json_object *
signing_key_jwk(const struct signing_key *k)
{
	json_object *jwk;
	char *n = bn_param_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_N);
	char *e = bn_param_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_E);

	if (n == NULL || e == NULL) {
		free(n);
		free(e);
		ERR_clear_error();
		return NULL;
	}
	jwk = json_object_new_object();
	json_object_object_add(jwk, "kty", json_object_new_string("RSA"));
	json_object_object_add(jwk, "n", json_object_new_string(n));
	json_object_object_add(jwk, "e", json_object_new_string(e));
	json_object_object_add(jwk, "kid", json_object_new_string(k->kid));
	json_object_object_add(jwk, "use", json_object_new_string("sig"));
	json_object_object_add(jwk, "alg", json_object_new_string("RS256"));
	free(n);
	free(e);
	return jwk;
}

/* stdwebhooks_signature - Standard Webhooks "v1,<base64 HMAC-SHA256>" */
char *
stdwebhooks_signature(const char *secret, const char *msg_id, long timestamp,
		      const void *body, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char *key;
	size_t keylen, room;
	ssize_t n;
	struct buf msg;
	char *b64;
	char *out = NULL;

	/* The reference libraries take the secret with or without prefix. */
	if (strncmp(secret, "whsec_", 6) == 0)
		secret += 6;
	keylen = strlen(secret);
	if (keylen > 4096)
		return NULL;
	room = keylen / 4 * 3 + 1;
	key = xmalloc(room);
	if ((n = base64_decode(secret, keylen, key, room, 0, NULL, NULL)) <= 0) {
		free(key);
		return NULL;
	}
	keylen = (size_t) n;
	buf_init(&msg);
	buf_printf(&msg, "%s.%ld.", msg_id, timestamp);
	buf_append(&msg, body, len);
	if (HMAC(EVP_sha256(), key, (int) keylen, (unsigned char *) msg.data, msg.len, md,
		 &mdlen)
	    != NULL) {
		b64 = base64_encode(md, mdlen, 0);
		out = xasprintf("v1,%s", b64);
		free(b64);
	}
	OPENSSL_cleanse(key, keylen);
	free(key);
	buf_free(&msg);
	return out;
}
