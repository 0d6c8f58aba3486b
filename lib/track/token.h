/*
 * token.h - the signed tokens in tracking URLs: which message, which kind
 * of hit (open, click, unsubscribe) and which of its links, under an HMAC
 * with the site's tracking key, so that a changed or invented token is
 * refused before the store is asked.
 *
 * Pure: no I/O.  The key itself is kept in the store (track/track_key.h).
 */
#ifndef PH_TRACK_TOKEN_H
#define PH_TRACK_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define TRACK_KEY_LEN 32
/* 11 bytes of reference and 16 of MAC, in lowercase hex, and a NUL. */
#define TRACK_TOKEN_LEN 54
#define TRACK_TOKEN_SIZE (TRACK_TOKEN_LEN + 1)

enum track_kind {
	TRACK_OPEN = 'o',
	TRACK_CLICK = 'c',
	TRACK_UNSUBSCRIBE = 'u',
};

struct track_ref {
	uint64_t message_id; /* the message record's id */
	enum track_kind kind;
	unsigned link; /* index into the record's links; 0 unless a click */
};

/*
 * track_token_make - the token for ref, signed with key, into out
 * (TRACK_TOKEN_SIZE bytes).  Returns 0, or -1 for a ref that cannot be
 * encoded (an unknown kind, a link index above 65535).
 */
PH_MUST_CHECK int track_token_make(const unsigned char key[TRACK_KEY_LEN],
				   const struct track_ref *ref,
				   char out[TRACK_TOKEN_SIZE]);

/*
 * track_token_parse - 0 and *ref set when token is one track_token_make
 * made with key; -1 for anything else (length, alphabet, kind, MAC).
 * The MAC is compared in constant time.
 */
PH_MUST_CHECK int track_token_parse(const unsigned char key[TRACK_KEY_LEN],
				    const char *token, struct track_ref *ref);

/* track_path - the URL path a kind of hit is served under: "o", "c", "u". */
const char *track_path(enum track_kind kind);

#endif
