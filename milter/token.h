/*
 * token.h - message tokens: random, lowercase base32 ("a-z2-7"), so that
 * they survive in VERP addresses whose case a remote server may change.
 */
#ifndef PH_MILTER_TOKEN_H
#define PH_MILTER_TOKEN_H

#include <stddef.h>

#define TOKEN_LEN 24 /* 15 random bytes = 120 bits */

/* token_new - TOKEN_LEN characters and a NUL into out; 0, or -1 (errno). */
int token_new(char out[TOKEN_LEN + 1]);

/* token_encode - base32 of len bytes; out needs len * 8 / 5 + 2 bytes. */
void token_encode(const unsigned char *bytes, size_t len, char *out);

/* token_looks_valid - whether text could be a token this milter made. */
int token_looks_valid(const char *text);

#endif
