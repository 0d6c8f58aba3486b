/*
 * cidr.c - match an address against internal_hosts: the tailer's way to
 * tell mail submitted by this site's own hosts from mail it received.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

/* to_bytes - text address to 16 bytes (IPv4 mapped); 4 or 16, or 0. */
static int
to_bytes(const char *text, unsigned char out[16])
{
	unsigned char v4[4];

	if (inet_pton(AF_INET, text, v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, v4, 4);
		return (4);
	}
	if (inet_pton(AF_INET6, text, out) == 1)
		return (16);
	return (0);
}

/* prefix_match - the first bits of a and b agree. */
static int
prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int     whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t) whole) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0);
}

/* cidr_list_match - see cidr.h. */
int
cidr_list_match(char *const *list, const char *addr, size_t len)
{
	char    text[64], net[64];
	unsigned char a[16], n[16];
	int     afam;

	if (list == NULL || len == 0 || len >= sizeof(text))
		return (0);
	memcpy(text, addr, len);
	text[len] = 0;
	/* "IPv6:" is how smtpd names IPv6 clients in some places. */
	if ((afam = to_bytes(strncmp(text, "IPv6:", 5) == 0 ? text + 5 : text, a)) == 0)
		return (0);
	for (; *list != NULL; list++) {
		const char *slash = strchr(*list, '/');
		size_t  nl = slash ? (size_t) (slash - *list) : strlen(*list);
		int     nfam, bits;

		if (nl >= sizeof(net))
			continue;
		memcpy(net, *list, nl);
		net[nl] = 0;
		if ((nfam = to_bytes(net, n)) == 0)
			continue;
		bits = slash ? atoi(slash + 1) : (nfam == 4 ? 32 : 128);
		if (nfam == 4)
			bits += 96;
		if (bits < 0 || bits > 128)
			continue;
		if (prefix_match(a, n, bits))
			return (1);
	}
	return (0);
}
