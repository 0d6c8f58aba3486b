/*
 * verp.h - the VERP return path posthook gives outgoing mail:
 * "b+TOKEN@domain", written by the milter and read back by the bounce
 * intake, so that a bounce names the message it is about.
 */
#ifndef PH_BOUNCE_VERP_H
#define PH_BOUNCE_VERP_H

#include <stddef.h>

/* Longest VERP address: "b+" TOKEN "@" domain (the milter caps the domain). */
#define VERP_ADDR_MAX 256

/*
 * verp_address - "b+TOKEN@domain" into out (VERP_ADDR_MAX + 1 bytes).
 * -1 when it does not fit.
 */
int verp_address(const char *token, const char *domain, char *out);

/*
 * bounce_verp_token - the token of a VERP address b+TOKEN@domain (the
 * local part's case ignored, the token lowercased) into out.  With domain
 * NULL or "", any domain.  1 when found, else 0.
 */
int bounce_verp_token(const char *addr, const char *domain, char *out, size_t outlen);

#endif
