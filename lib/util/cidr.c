/*
 * cidr.c - IPv4/IPv6 network lists for the milter's internal_hosts test,
 * and the special-use networks refuse_private_endpoints keeps out.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/cidr.h"

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits;
};

struct cidr_list {
	struct cidr *nets;
	size_t count;
};

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Where no public endpoint lives (RFC 6890 and its updates). */
static const struct cidr special[] = {
	{ AF_INET, { 0 }, 8 }, /* "this network" */
	{ AF_INET, { 10 }, 8 },
	{ AF_INET, { 100, 64 }, 10 }, /* shared address space (CGNAT) */
	{ AF_INET, { 127 }, 8 },
	{ AF_INET, { 169, 254 }, 16 }, /* link-local */
	{ AF_INET, { 172, 16 }, 12 },
	{ AF_INET, { 192, 0, 0 }, 24 }, /* IETF protocol assignments */
	{ AF_INET, { 192, 168 }, 16 },
	{ AF_INET, { 198, 18 }, 15 }, /* benchmarking */
	{ AF_INET, { 224 }, 3 },      /* multicast, reserved, broadcast */
	{ AF_INET6, { 0 }, 96 },      /* ::, ::1, IPv4-compatible */
	{ AF_INET6, { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48 }, /* local-use NAT64 */
	{ AF_INET6, { 0xfc }, 7 },			 /* unique local */
	{ AF_INET6, { 0xfe, 0x80 }, 10 },		 /* link-local */
	{ AF_INET6, { 0xfe, 0xc0 }, 10 },		 /* site-local */
	{ AF_INET6, { 0xff }, 8 },			 /* multicast */
};

/* IPv6 prefixes whose addresses carry an IPv4 address at an offset. */
static const struct embedded_v4 {
	unsigned char prefix[12];
	int bits;
	int offset;
} embedded[] = {
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, 12 }, /* mapped */
	{ { 0, 0x64, 0xff, 0x9b }, 96, 12 }, /* NAT64 well-known prefix */
	{ { 0x20, 0x02 }, 16, 2 },	     /* 6to4 */
};

/* cidr_parse - one entry; 0 or -1. */
static int
cidr_parse(const char *text, struct cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *addr = buf, *end;
	size_t len = strlen(text);
	long bits;
	int max;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = 0;
	if (*addr == '[') {
		addr++;
		if ((end = strchr(addr, ']')) == NULL || end[1] != 0)
			return -1;
		*end = 0;
	}
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	bits = max;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9')
			return -1;
		bits = strtol(slash, &end, 10);
		if (*end != 0 || bits > max)
			return -1;
	}
	c->bits = (int) bits;
	return 0;
}

/* cidr_list_new - parse every entry. */
struct cidr_list *
cidr_list_new(char *const *entries, char *err, size_t errlen)
{
	struct cidr_list *list;
	size_t n = 0, i;

	if (errlen > 0)
		err[0] = 0;
	while (entries != NULL && entries[n] != NULL)
		n++;
	if ((list = calloc(1, sizeof(*list))) == NULL)
		return NULL;
	if (n > 0 && (list->nets = calloc(n, sizeof(struct cidr))) == NULL) {
		free(list);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (cidr_parse(entries[i], &list->nets[i]) != 0) {
			snprintf(err, errlen, "bad network address \"%s\"", entries[i]);
			cidr_list_free(list);
			return NULL;
		}
	}
	list->count = n;
	return list;
}

/* cidr_list_add - see cidr.h. */
int
cidr_list_add(struct cidr_list *list, const char *entry)
{
	struct cidr c, *nets;

	if (cidr_parse(entry, &c) != 0)
		return -1;
	nets = realloc(list->nets, (list->count + 1) * sizeof(*nets));
	if (nets == NULL)
		return -1;
	nets[list->count++] = c;
	list->nets = nets;
	return 0;
}

/* cidr_list_free - release the list. */
void
cidr_list_free(struct cidr_list *list)
{
	if (list == NULL)
		return;
	free(list->nets);
	free(list);
}

/* prefix_equal - whether the first bits of a and b agree. */
static int
prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, (size_t) whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char) (0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* cidr_list_match_bytes - see cidr.h. */
int
cidr_list_match_bytes(const struct cidr_list *list, int family, const unsigned char *addr)
{
	size_t i;

	if (list == NULL)
		return 0;
	if (family == AF_INET6 && memcmp(addr, v4mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	for (i = 0; i < list->count; i++) {
		const struct cidr *c = &list->nets[i];

		if (c->family == family && prefix_equal(c->addr, addr, c->bits))
			return 1;
	}
	return 0;
}

/* text_bytes - a textual address in network byte order; its family or 0. */
static int
text_bytes(const char *addr, unsigned char *bytes)
{
	/* Postfix writes IPv6 client addresses as "IPv6:..." in some macros. */
	if (strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	if (inet_pton(AF_INET, addr, bytes) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, addr, bytes) == 1)
		return AF_INET6;
	return 0;
}

/* cidr_list_best_text - see cidr.h. */
int
cidr_list_best_text(const struct cidr_list *list, const char *addr)
{
	unsigned char bytes[16];
	const unsigned char *a = bytes;
	int family, best = -1;
	size_t i;

	if (list == NULL || (family = text_bytes(addr, bytes)) == 0)
		return -1;
	if (family == AF_INET6 && memcmp(bytes, v4mapped, 12) == 0) {
		family = AF_INET;
		a += 12;
	}
	for (i = 0; i < list->count; i++) {
		const struct cidr *c = &list->nets[i];

		if (c->family == family && prefix_equal(c->addr, a, c->bits)
		    && (best < 0 || c->bits > list->nets[best].bits))
			best = (int) i;
	}
	return best;
}

/* cidr_canonical - see cidr.h. */
int
cidr_canonical(const char *entry, char *out, size_t outlen)
{
	char text[INET6_ADDRSTRLEN];
	struct cidr c;
	int i, n;

	if (cidr_parse(entry, &c) != 0)
		return -1;
	for (i = 0; i < 16; i++) {
		int keep = c.bits - 8 * i;

		if (keep <= 0)
			c.addr[i] = 0;
		else if (keep < 8)
			c.addr[i] &= (unsigned char) (0xff << (8 - keep));
	}
	if (inet_ntop(c.family, c.addr, text, sizeof(text)) == NULL)
		return -1;
	n = snprintf(out, outlen, "%s/%d", text, c.bits);
	return n > 0 && (size_t) n < outlen ? 0 : -1;
}

/* cidr_list_match_text - see cidr.h. */
int
cidr_list_match_text(const struct cidr_list *list, const char *addr)
{
	unsigned char bytes[16];
	int family = text_bytes(addr, bytes);

	return family != 0 && cidr_list_match_bytes(list, family, bytes);
}

/* cidr_is_special - see cidr.h. */
int
cidr_is_special(int family, const unsigned char *addr)
{
	size_t i;

	if (family == AF_INET6) {
		for (i = 0; i < sizeof(embedded) / sizeof(embedded[0]); i++)
			if (prefix_equal(embedded[i].prefix, addr, embedded[i].bits))
				return cidr_is_special(AF_INET,
						       addr + embedded[i].offset);
	} else if (family != AF_INET) {
		return 1;
	}
	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (special[i].family == family
		    && prefix_equal(special[i].addr, addr, special[i].bits))
			return 1;
	return 0;
}
