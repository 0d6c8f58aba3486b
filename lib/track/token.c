/*
 * token.c - make and check the signed tokens of tracking URLs.
 *
 * Layout before hex: message id (8 bytes, big-endian), link index (2),
 * kind (1), then the first 16 bytes of HMAC-SHA256 over those 11 bytes.
 * Hex rather than base64 keeps the token safe in any URL position and
 * through proxies that fold case in paths.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "track/token.h"

#define REF_LEN 11
#define MAC_LEN 16

/* sign - the truncated MAC of a reference */
static int
sign(const unsigned char key[TRACK_KEY_LEN], const unsigned char ref[REF_LEN],
     unsigned char mac[MAC_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key, TRACK_KEY_LEN, ref, REF_LEN, md, &mdlen) == NULL
	    || mdlen < MAC_LEN)
		return (-1);
	memcpy(mac, md, MAC_LEN);
	return (0);
}

/* kind_ok - is k one of the kinds a token may name? */
static int
kind_ok(int k)
{
	return (k == TRACK_OPEN || k == TRACK_CLICK || k == TRACK_UNSUBSCRIBE);
}

/* track_token_make - encode, sign and hex ref */
int
track_token_make(const unsigned char key[TRACK_KEY_LEN], const struct track_ref *ref,
		 char out[TRACK_TOKEN_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[REF_LEN + MAC_LEN];
	int i;

	if (!kind_ok(ref->kind) || ref->link > 0xffff)
		return (-1);
	for (i = 0; i < 8; i++)
		raw[i] = (unsigned char) (ref->message_id >> (56 - 8 * i));
	raw[8] = (unsigned char) (ref->link >> 8);
	raw[9] = (unsigned char) ref->link;
	raw[10] = (unsigned char) ref->kind;
	if (sign(key, raw, raw + REF_LEN) < 0)
		return (-1);
	for (i = 0; i < REF_LEN + MAC_LEN; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[TRACK_TOKEN_LEN] = '\0';
	return (0);
}

/* nibble - the value of a lowercase hex digit, or -1 */
static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* track_token_parse - unhex, check the MAC, decode */
int
track_token_parse(const unsigned char key[TRACK_KEY_LEN], const char *token,
		  struct track_ref *ref)
{
	unsigned char raw[REF_LEN + MAC_LEN], mac[MAC_LEN];
	int i, hi, lo;

	if (strnlen(token, TRACK_TOKEN_LEN + 1) != TRACK_TOKEN_LEN)
		return (-1);
	for (i = 0; i < REF_LEN + MAC_LEN; i++) {
		hi = nibble(token[2 * i]);
		lo = nibble(token[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return (-1);
		raw[i] = (unsigned char) (hi << 4 | lo);
	}
	if (sign(key, raw, mac) < 0 || CRYPTO_memcmp(mac, raw + REF_LEN, MAC_LEN) != 0)
		return (-1);
	if (!kind_ok(raw[10]))
		return (-1);
	ref->message_id = 0;
	for (i = 0; i < 8; i++)
		ref->message_id = ref->message_id << 8 | raw[i];
	ref->link = (unsigned) raw[8] << 8 | raw[9];
	ref->kind = (enum track_kind) raw[10];
	return (0);
}

/* track_path - the path segment of a kind */
const char *
track_path(enum track_kind kind)
{
	switch (kind) {
	case TRACK_OPEN:
		return ("o");
	case TRACK_CLICK:
		return ("c");
	case TRACK_UNSUBSCRIBE:
		return ("u");
	}
	return ("");
}
