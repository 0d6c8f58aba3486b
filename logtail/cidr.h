/*
 * cidr.h - does an address belong to a list of networks (internal_hosts)?
 */
#ifndef PH_CIDR_H
#define PH_CIDR_H

#include <stddef.h>

/*
 * cidr_list_match - addr (IPv4 or IPv6 text, len bytes) is inside one of
 * the NULL-terminated list of "net/len" or bare addresses.  Entries that
 * are no network never match.
 */
int cidr_list_match(char *const *list, const char *addr, size_t len);

#endif
