/*
 * sign.h - webhook signatures: the RSA signing keys, their key ids and
 * JWKS, and the optional Standard Webhooks HMAC.
 *
 * A signature is the standard base64 of RSASSA-PKCS1-v1_5 SHA-256 over the
 * exact body bytes; the key id is the lowercase hex SHA-256 of the DER
 * encoding of SEQUENCE{modulus, exponent}; see docs/events.md, Signatures.
 */
#ifndef PH_SIGN_H
#define PH_SIGN_H

#include <stddef.h>
#include <json-c/json.h>

struct signing_key;

/* signing_key_generate - a new RSA-2048 key; NULL on failure. */
struct signing_key *signing_key_generate(void);
/* signing_key_load - read a PEM private key; NULL and err on failure. */
struct signing_key *signing_key_load(const char *path, char *err, size_t errlen);
/* signing_key_save - write PEM, mode 0600, atomically (rename). */
int signing_key_save(const struct signing_key *k, const char *path, char *err,
		     size_t errlen);
void signing_key_free(struct signing_key *k);

/* signing_key_kid - the key id: 64 lowercase hex characters. */
const char *signing_key_kid(const struct signing_key *k);

/* signing_key_sign - base64 signature of body (malloc()ed), or NULL. */
char *signing_key_sign(const struct signing_key *k, const void *body, size_t len);

/*
 * A signer: one key's signing context, made once and used for many
 * signatures by one thread at a time.  It holds its own copy of the key
 * (so its RSA blinding is its own, not shared under a lock with other
 * threads) and the prepared PKCS#1 v1.5 SHA-256 context, which spares
 * the setup signing_key_sign() does per call.  Its signatures are the
 * same bytes as signing_key_sign()'s (PKCS#1 v1.5 is deterministic).
 */
struct signer;

/* signer_new - a signer for k (k may be freed after); NULL on failure. */
struct signer *signer_new(const struct signing_key *k);
void signer_free(struct signer *s);
/* signer_kid - the key id of the signer's key. */
const char *signer_kid(const struct signer *s);
/* signer_sign - base64 signature of body (malloc()ed), or NULL. */
char *signer_sign(struct signer *s, const void *body, size_t len);

/* signing_key_jwk - {"kty","n","e","kid","use":"sig","alg":"RS256"}. */
json_object *signing_key_jwk(const struct signing_key *k);

/*
 * stdwebhooks_signature - "v1,<base64 HMAC-SHA256>" over "id.timestamp.body"
 * with a "whsec_<base64>" secret (malloc()ed), or NULL for a bad secret.
 */
char *stdwebhooks_signature(const char *secret, const char *msg_id, long timestamp,
			    const void *body, size_t len);

/*
 * The keyring: every key the site publishes.  The active key signs; a key
 * made by `posthookctl keys rotate` is published at once and signs only
 * after key_activation_delay; a retired key stays published until every
 * delivery it signed is past its retries.
 */
struct keyring;
struct config;
struct store;

/*
 * keyring_open - load (creating signing_key on first start) the keys.  The
 * keys and their state are files beside signing_key (see keyring.c), so st
 * is not used and may be NULL.  A retired key stays published for
 * 2 * sum(retry_schedule) + retry_count * webhook_timeout after its
 * successor activates (Retry-After may double each delay).
 */
struct keyring *keyring_open(const struct config *cfg, struct store *st, char *err,
			     size_t errlen);
void keyring_free(struct keyring *kr);
/*
 * keyring_refresh - notice a rotation done by another process, move a key
 * whose activation has come to signing_key, drop keys past retire_until,
 * and rewrite jwks_file when the published set changed.  Cheap (one stat)
 * when nothing changed: call it every loop turn.  It may free the keys
 * keyring_signer() returned, so call both from the same thread.
 */
int keyring_refresh(struct keyring *kr, double now);
/* keyring_signer - the key that signs at time now. */
const struct signing_key *keyring_signer(struct keyring *kr, double now);
/* keyring_jwks - {"keys":[...]} of every published key. */
json_object *keyring_jwks(struct keyring *kr, double now);
/* keyring_rotate - make and publish a new key; it signs after the delay. */
int keyring_rotate(struct keyring *kr, double now, char *err, size_t errlen);
/*
 * keyring_write_jwks - write keyring_jwks() to jwks_file (mode 0644,
 * atomically); 0 when written or no file is configured.  keyring_open,
 * keyring_refresh and keyring_rotate call it whenever the published set
 * changes.
 */
int keyring_write_jwks(struct keyring *kr, double now);

/* One key of the ring, for `posthookctl keys list`; times 0 mean "none". */
struct keyring_info {
	const char *kid;
	double published;    /* in the JWKS since */
	double activates;    /* signs from (0: always) */
	double retired;	     /* stops signing at */
	double retire_until; /* leaves the JWKS at */
};

/* keyring_count - how many keys the ring holds. */
size_t keyring_count(const struct keyring *kr);
/* keyring_info - the i-th key, ordered by activation; -1 past the end. */
int keyring_info(const struct keyring *kr, size_t i, struct keyring_info *out);
/* keyring_state - "next", "active" or "retired" at now. */
const char *keyring_state(const struct keyring_info *ki, double now);

#endif
