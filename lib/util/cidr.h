/*
 * cidr.h - match client addresses against a list of IPv4 and IPv6
 * networks such as internal_hosts ("127.0.0.0/8, ::1, 10.0.0.0/8").
 *
 * An IPv4-mapped IPv6 address (::ffff:10.1.2.3) matches the IPv4 entries.
 * Also the special-use networks that refuse_private_endpoints refuses.
 * Pure: parsing and matching, no I/O.
 */
#ifndef PH_CIDR_H
#define PH_CIDR_H

#include <stddef.h>

struct cidr_list;

/*
 * cidr_list_new - parse a NULL-terminated list of "addr" or "addr/bits"
 * (IPv6 may be written [addr]/bits).  NULL on a bad entry, with a message
 * naming it in err; NULL with err empty when out of memory.
 */
struct cidr_list *cidr_list_new(char *const *entries, char *err, size_t errlen);
void cidr_list_free(struct cidr_list *list);

/* cidr_list_add - append one entry to the list; 0, or -1 when it is bad. */
int cidr_list_add(struct cidr_list *list, const char *entry);

/* cidr_list_match_text - whether a textual address is in the list. */
int cidr_list_match_text(const struct cidr_list *list, const char *addr);

/*
 * cidr_list_match_bytes - whether an address in network byte order
 * (family AF_INET: 4 bytes, AF_INET6: 16 bytes) is in the list.
 */
int cidr_list_match_bytes(const struct cidr_list *list, int family,
			  const unsigned char *addr);

/*
 * cidr_list_best_text - the index (in the order given) of the longest
 * network in the list that holds a textual address, or -1 when none does.
 */
int cidr_list_best_text(const struct cidr_list *list, const char *addr);

/*
 * cidr_canonical - one entry as "network/bits", host bits cleared and the
 * address as inet_ntop writes it, so that two spellings of one network
 * compare equal.  0, or -1 when the entry is bad or out is too small.
 */
int cidr_canonical(const char *entry, char *out, size_t outlen);

/*
 * cidr_is_special - whether an address (network byte order, as above) is
 * loopback, private, link-local, shared (CGNAT), multicast, reserved or
 * otherwise no public host's: also an IPv6 address that embeds such an
 * IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16).  Any
 * other family counts as special.
 */
int cidr_is_special(int family, const unsigned char *addr);

#endif
