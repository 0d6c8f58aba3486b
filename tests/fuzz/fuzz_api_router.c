/*
 * fuzz_api_router.c - libFuzzer harness for posthook-api's router: the
 * input is "METHOD PATH"; every match must name a route, and every
 * parameter it copies must fit, be non-empty and be of the allowed bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* param_fine - empty, or 1..127 bytes of [A-Za-z0-9._@+=-]. */
static int
param_fine(const char *p)
{
	size_t n = strlen(p);

	return n < ROUTE_PARAM_MAX
	       && strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._@+=-")
		      == n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *sp, allow[48];
	struct route r;
	enum route_status st;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	sp = strchr(text, ' ');
	st = router_match(text, sp != NULL ? sp + 1 : text, &r);
	if (st != ROUTE_NOT_FOUND) {
		if (r.id == R_NONE || r.allowed == 0)
			abort();
		if (!param_fine(r.tenant) || !param_fine(r.webhook)
		    || !param_fine(r.delivery) || !param_fine(r.email))
			abort();
		if (r.tenant_given != (r.tenant[0] != 0))
			abort();
		router_allow_header(r.allowed, allow, sizeof(allow));
		if (allow[0] == 0)
			abort();
	}
	free(text);
	return 0;
}
