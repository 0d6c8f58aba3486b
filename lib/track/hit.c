/*
 * hit.c - the pure decisions about one tracking hit: its path, its
 * client's address, and the bot that made it, if one did.
 */
#include <arpa/inet.h>
#include <string.h>

#include "track/hit.h"
#include "util/cidr.h"

/* track_path_split - see hit.h. */
int
track_path_split(const char *path, enum track_kind *kind, const char **token)
{
	if (path == NULL || path[0] != '/' || path[1] == 0 || path[2] != '/')
		return (-1);
	switch (path[1]) {
	case TRACK_OPEN:
	case TRACK_CLICK:
	case TRACK_UNSUBSCRIBE:
		*kind = (enum track_kind) path[1];
		break;
	default:
		return (-1);
	}
	if (strlen(path + 3) != TRACK_TOKEN_LEN)
		return (-1);
	*token = path + 3;
	return (0);
}

/* is_address - whether s is an IPv4 or IPv6 address in text. */
static int
is_address(const char *s)
{
	unsigned char bin[16];

	return (inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1);
}

/* copy_out - s into out; -1 when it does not fit. */
static int
copy_out(const char *s, size_t len, char *out, size_t outlen)
{
	if (len >= outlen)
		return (-1);
	memcpy(out, s, len);
	out[len] = 0;
	return (0);
}

/*
 * next_hop - the hop of xff that ends before end, trimmed, into hop;
 * *start gets where it begins (its comma, or xff).  -1 when it is too
 * long to be an address.
 */
static int
next_hop(const char *xff, const char *end, const char **start, char *hop, size_t hoplen)
{
	const char *b = end, *e = end;

	while (b > xff && b[-1] != ',')
		b--;
	*start = b > xff ? b - 1 : xff;
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return (copy_out(b, (size_t) (e - b), hop, hoplen));
}

/* track_client_ip - see hit.h. */
int
track_client_ip(const char *peer, const char *xff, const struct cidr_list *trusted,
		char *out, size_t outlen)
{
	char hop[64], last[64];
	const char *end, *start;

	if (!is_address(peer) || copy_out(peer, strlen(peer), last, sizeof(last)) < 0)
		return (-1);
	if (xff != NULL && trusted != NULL && cidr_list_match_text(trusted, peer)) {
		for (end = xff + strlen(xff); end > xff; end = start) {
			if (next_hop(xff, end, &start, hop, sizeof(hop)) < 0
			    || !is_address(hop))
				break;
			strcpy(last, hop);
			if (!cidr_list_match_text(trusted, hop))
				break;
		}
	}
	return (copy_out(last, strlen(last), out, outlen));
}

/* track_bot - see hit.h. */
const char *
track_bot(const struct track_facts *f)
{
	switch (f->kind) {
	case TRACK_OPEN:
		return (f->apple ? "apple_mpp" : NULL);
	case TRACK_CLICK:
		if (f->head || f->all_links_burst
		    || (f->since_sent >= 0 && f->since_sent < f->click_window))
			return ("scanner");
		return (NULL);
	case TRACK_UNSUBSCRIBE:
		break;
	}
	return (NULL);
}
