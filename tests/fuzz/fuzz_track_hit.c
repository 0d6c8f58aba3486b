/*
 * fuzz_track_hit.c - libFuzzer harness for the tracking server's request
 * handling before the store: the input is "PEER\nX-FORWARDED-FOR\nPATH".
 * A path either splits into a kind and a token of the right length or
 * not; a token parses only when it is exactly what track_token_make makes
 * of its reference; the client's address is an address, the peer or one
 * of the forwarded hops.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "track/hit.h"
#include "track/token.h"
#include "util/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[TRACK_KEY_LEN] = "fuzzing key, 32 bytes long.....";

/* is_address - text that inet_pton reads. */
static int
is_address(const char *s)
{
	unsigned char bin[16];

	return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}

/* check_path - the split and the token's parse agree with the maker. */
static void
check_path(const char *path)
{
	char again[TRACK_TOKEN_SIZE];
	struct track_ref ref;
	enum track_kind kind;
	const char *token;

	if (track_path_split(path, &kind, &token) < 0)
		return;
	if (strlen(token) != TRACK_TOKEN_LEN || token != path + 3)
		abort();
	if (track_token_parse(key, token, &ref) < 0)
		return;
	if (track_token_make(key, &ref, again) < 0 || strcmp(again, token) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *nets[] = { "127.0.0.0/8", "10.0.0.0/8", "::1", NULL };
	char *text = malloc(size + 1), *xff, *path, ip[64], err[64];
	struct cidr_list *trusted;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	xff = strchr(text, '\n');
	path = xff != NULL ? strchr(xff + 1, '\n') : NULL;
	if (xff != NULL)
		*xff++ = 0;
	if (path != NULL)
		*path++ = 0;
	check_path(path != NULL ? path : text);
	if ((trusted = cidr_list_new(nets, err, sizeof(err))) == NULL)
		abort();
	if (track_client_ip(text, xff, trusted, ip, sizeof(ip)) == 0) {
		if (!is_address(ip))
			abort();
		if (strcmp(ip, text) != 0 && (xff == NULL || strstr(xff, ip) == NULL))
			abort();
	} else if (is_address(text)) {
		abort();
	}
	cidr_list_free(trusted);
	free(text);
	return 0;
}
