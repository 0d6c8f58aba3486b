/*
 * hit.h - what a hit on the tracking server means, decided without I/O:
 * the path it names, the client's address behind trusted proxies, and
 * whether a bot made it (docs/events.md, "first" and "bot").
 */
#ifndef PH_TRACK_HIT_H
#define PH_TRACK_HIT_H

#include <stddef.h>

#include "track/token.h"

struct cidr_list;

/*
 * track_path_split - "/o/TOKEN" into its kind and token (pointing into
 * path).  0, or -1 for any other path: another kind, a token that is not
 * TRACK_TOKEN_LEN bytes long, more segments.
 */
int track_path_split(const char *path, enum track_kind *kind, const char **token);

/*
 * track_client_ip - the client's address into out: peer itself, or, when
 * peer is in trusted, X-Forwarded-For's last hop that is not in trusted
 * (read right to left, as each proxy appends).  A hop that is not an
 * address ends the walk at the last trusted one.  0, or -1 when peer is
 * not an address or out is too small.
 */
int track_client_ip(const char *peer, const char *xff, const struct cidr_list *trusted,
		    char *out, size_t outlen);

/* What is known of one hit when it is classified. */
struct track_facts {
	enum track_kind kind;
	int head;	     /* a HEAD request (link checkers send them) */
	int apple;	     /* the client is in Apple's prefetch ranges */
	double since_sent;   /* seconds from the message's send to the hit */
	double click_window; /* scanner_click_window, seconds */
	int all_links_burst; /* every link of the message clicked at once */
};

/*
 * track_bot - "apple_mpp", "scanner" or NULL (a person, or a proxy
 * fetching for one, such as Gmail's image proxy).  Only opens are Apple's
 * prefetch; only clicks are scanners'.
 */
const char *track_bot(const struct track_facts *f);

#endif
