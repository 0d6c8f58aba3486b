/*
 * sign_tool.c - test driver over lib/sign.c, for the receiver tests:
 *
 *	sign_tool keygen PATH		make a key, print its kid
 *	sign_tool jwks PATH...		print the JWKS of these keys
 *	sign_tool sign PATH FILE	print "kid signature" of FILE's bytes
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_atomic.h"
#include "sign.h"

/* load - a key or exit */
static struct signing_key *
load(const char *path)
{
	char    err[512];
	struct signing_key *k = signing_key_load(path, err, sizeof(err));

	if (k == NULL) {
		fprintf(stderr, "sign_tool: %s\n", err);
		exit(1);
	}
	return k;
}

int
main(int argc, char **argv)
{
	struct signing_key *k;
	json_object *jwks;
	json_object *keys;
	char    err[512];
	char   *body;
	char   *sig;
	size_t  len;
	int     i;

	if (argc == 3 && strcmp(argv[1], "keygen") == 0) {
		if ((k = signing_key_generate()) == NULL
		    || signing_key_save(k, argv[2], err, sizeof(err)) < 0) {
			fprintf(stderr, "sign_tool: keygen %s failed\n", argv[2]);
			return 1;
		}
		printf("%s\n", signing_key_kid(k));
	} else if (argc >= 3 && strcmp(argv[1], "jwks") == 0) {
		jwks = json_object_new_object();
		keys = json_object_new_array();
		for (i = 2; i < argc; i++) {
			k = load(argv[i]);
			json_object_array_add(keys, signing_key_jwk(k));
			signing_key_free(k);
		}
		json_object_object_add(jwks, "keys", keys);
		printf("%s\n", json_object_to_json_string_ext(jwks,
		       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(jwks);
		return 0;
	} else if (argc == 4 && strcmp(argv[1], "sign") == 0) {
		k = load(argv[2]);
		if ((body = file_read_all(argv[3], &len)) == NULL
		    || (sig = signing_key_sign(k, body, len)) == NULL) {
			fprintf(stderr, "sign_tool: cannot sign %s\n", argv[3]);
			return 1;
		}
		printf("%s %s\n", signing_key_kid(k), sig);
		free(sig);
		free(body);
	} else {
		fprintf(stderr, "usage: sign_tool keygen PATH | jwks PATH... | "
			"sign PATH FILE\n");
		return 2;
	}
	signing_key_free(k);
	return 0;
}
