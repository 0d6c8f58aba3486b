/*
 * token.c - random message tokens from the kernel's CSPRNG (getrandom).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "token.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* token_encode - lowercase base32, no padding. */
void
token_encode(const unsigned char *bytes, size_t len, char *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | bytes[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[n++] = alphabet[(acc << (5 - bits)) & 31];
	out[n] = 0;
}

/* token_new - a fresh token. */
int
token_new(char out[TOKEN_LEN + 1])
{
	unsigned char bytes[TOKEN_LEN * 5 / 8];
	size_t got = 0;

	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t) n;
	}
	token_encode(bytes, sizeof(bytes), out);
	return 0;
}

/* token_looks_valid - TOKEN_LEN characters of the alphabet. */
int
token_looks_valid(const char *text)
{
	return strlen(text) == TOKEN_LEN && strspn(text, alphabet) == TOKEN_LEN;
}
