/*
 * cidr.h - match client addresses against a list of IPv4 and IPv6
 * networks such as internal_hosts ("127.0.0.0/8, ::1, 10.0.0.0/8").
 *
 * An IPv4-mapped IPv6 address (::ffff:10.1.2.3) matches the IPv4 entries.
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
void    cidr_list_free(struct cidr_list *list);

/* cidr_list_match_text - whether a textual address is in the list. */
int     cidr_list_match_text(const struct cidr_list *list, const char *addr);

/*
 * cidr_list_match_bytes - whether an address in network byte order
 * (family AF_INET: 4 bytes, AF_INET6: 16 bytes) is in the list.
 */
int     cidr_list_match_bytes(const struct cidr_list *list, int family,
			      const unsigned char *addr);

#endif
