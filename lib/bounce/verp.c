/*
 * verp.c - write and read the VERP address "b+TOKEN@domain" (see verp.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce/verp.h"

/* verp_address - see verp.h. */
int
verp_address(const char *token, const char *domain, char *out)
{
	int n = snprintf(out, VERP_ADDR_MAX + 1, "b+%s@%s", token, domain);

	if (n < 0 || n > VERP_ADDR_MAX) {
		out[0] = 0;
		return -1;
	}
	return 0;
}

/* bounce_verp_token - see verp.h */
int
bounce_verp_token(const char *addr, const char *domain, char *out, size_t outlen)
{
	const char *at, *p, *end;
	size_t n, alen;

	if (addr == NULL || outlen == 0)
		return 0;
	while (*addr == ' ' || *addr == '<')
		addr++;
	alen = strcspn(addr, "> \t");
	end = addr + alen;
	for (at = end; at > addr && at[-1] != '@'; at--)
		;
	if (at == addr)
		return 0;
	at--; /* at the '@' */
	if (domain != NULL && *domain != 0
	    && ((size_t) (end - at - 1) != strlen(domain)
		|| strncasecmp(at + 1, domain, strlen(domain)) != 0))
		return 0;
	if (at - addr < 3 || strncasecmp(addr, "b+", 2) != 0)
		return 0;
	p = addr + 2;
	n = (size_t) (at - p);
	if (n == 0 || n >= outlen || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char) p[i]) && p[i] != '-' && p[i] != '_')
			return 0;
		out[i] = (char) tolower((unsigned char) p[i]);
	}
	out[n] = 0;
	return 1;
}
