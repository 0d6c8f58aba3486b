/*
 * endpoint_check.c - what an admin may give a webhook endpoint: its URL,
 * name, secret and list of events, each checked without I/O, with the
 * reason for a refusal (see endpoint.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/endpoint.h"
#include "util/util.h"

/* check_host - a DNS name or dotted IPv4 address: letters, digits, '-', '.' */
static int
check_host(const char *h, size_t len, char *err, size_t errlen)
{
	size_t i, label = 0;

	if (len == 0 || len > 253) {
		snprintf(err, errlen, "URL has no valid host");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) h[i];

		if (c == '.') {
			if (label == 0) {
				snprintf(err, errlen, "URL host has an empty label");
				return -1;
			}
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_') {
			snprintf(err, errlen, "URL host contains '%c'",
				 isprint(c) ? c : '?');
			return -1;
		}
		if (++label > 63) {
			snprintf(err, errlen, "URL host has a label over 63 characters");
			return -1;
		}
	}
	return 0;
}

/* check_ipv6 - the inside of [...]: hex digits, ':' and '.' only. */
static int
check_ipv6(const char *h, size_t len, char *err, size_t errlen)
{
	size_t i, colons = 0;

	for (i = 0; i < len; i++) {
		if (h[i] == ':')
			colons++;
		else if (!isxdigit((unsigned char) h[i]) && h[i] != '.') {
			snprintf(err, errlen, "URL has a bad IPv6 address");
			return -1;
		}
	}
	if (colons < 2 || len > 45) {
		snprintf(err, errlen, "URL has a bad IPv6 address");
		return -1;
	}
	return 0;
}

/* check_port - 1..65535 in decimal. */
static int
check_port(const char *p, size_t len, char *err, size_t errlen)
{
	long port = 0;
	size_t i;

	if (len == 0 || len > 5) {
		snprintf(err, errlen, "URL has a bad port");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char) p[i])) {
			snprintf(err, errlen, "URL has a bad port");
			return -1;
		}
		port = port * 10 + (p[i] - '0');
	}
	if (port < 1 || port > 65535) {
		snprintf(err, errlen, "URL port %ld is out of range", port);
		return -1;
	}
	return 0;
}

/* endpoint_check_url - see endpoint.h. */
int
endpoint_check_url(const char *url, char *err, size_t errlen)
{
	const char *p, *auth, *end, *host, *hend, *port = NULL;
	size_t len;

	if (url == NULL || *url == 0) {
		snprintf(err, errlen, "URL is empty");
		return -1;
	}
	len = strlen(url);
	if (len > ENDPOINT_URL_MAX) {
		snprintf(err, errlen, "URL is longer than %d characters",
			 ENDPOINT_URL_MAX);
		return -1;
	}
	for (p = url; *p; p++) {
		if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f) {
			snprintf(err, errlen,
				 "URL contains a space, control or non-ASCII "
				 "character (percent-encode it)");
			return -1;
		}
	}
	if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else {
		snprintf(err, errlen, "URL must start with http:// or https://");
		return -1;
	}
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t) (end - auth)) != NULL) {
		snprintf(err, errlen, "URL must not contain user credentials");
		return -1;
	}
	if (*auth == '[') {
		host = auth + 1;
		hend = memchr(host, ']', (size_t) (end - host));
		if (hend == NULL) {
			snprintf(err, errlen, "URL has an unclosed '[' in its host");
			return -1;
		}
		if (check_ipv6(host, (size_t) (hend - host), err, errlen) < 0)
			return -1;
		if (hend + 1 < end) {
			if (hend[1] != ':') {
				snprintf(err, errlen, "URL has junk after its IPv6 host");
				return -1;
			}
			port = hend + 2;
		}
	} else {
		host = auth;
		hend = memchr(host, ':', (size_t) (end - host));
		if (hend != NULL)
			port = hend + 1;
		else
			hend = end;
		if (check_host(host, (size_t) (hend - host), err, errlen) < 0)
			return -1;
	}
	if (port != NULL && check_port(port, (size_t) (end - port), err, errlen) < 0)
		return -1;
	if (strchr(end, '#') != NULL) {
		snprintf(err, errlen, "URL must not contain a fragment ('#')");
		return -1;
	}
	return 0;
}

/* endpoint_check_name - see endpoint.h. */
int
endpoint_check_name(const char *name, char *err, size_t errlen)
{
	const unsigned char *p;

	if (name == NULL || *name == 0) {
		snprintf(err, errlen, "name is empty");
		return -1;
	}
	if (strlen(name) > ENDPOINT_NAME_MAX) {
		snprintf(err, errlen, "name is longer than %d bytes", ENDPOINT_NAME_MAX);
		return -1;
	}
	for (p = (const unsigned char *) name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "name contains a control character");
			return -1;
		}
	}
	return 0;
}

/* endpoint_check_secret - see endpoint.h. */
int
endpoint_check_secret(const char *secret, char *err, size_t errlen)
{
	const char *p;

	if (secret == NULL || strncmp(secret, "whsec_", 6) != 0 || secret[6] == 0) {
		snprintf(err, errlen, "secret must be \"whsec_\" followed by base64");
		return -1;
	}
	for (p = secret + 6; *p; p++) {
		if (!isalnum((unsigned char) *p) && *p != '+' && *p != '/' && *p != '=') {
			snprintf(err, errlen,
				 "secret must be \"whsec_\" followed by base64");
			return -1;
		}
	}
	return 0;
}

/* known_events - "MessageSent, MessageDelayed, ..." for error messages. */
static void
known_events(char *out, size_t outlen)
{
	size_t used = 0;
	int t, n;

	out[0] = 0;
	for (t = 0; t < EV_TYPE_COUNT; t++) {
		n = snprintf(out + used, outlen - used, "%s%s", t ? ", " : "",
			     event_type_name((enum event_type) t));
		if (n < 0 || (size_t) n >= outlen - used)
			return;
		used += (size_t) n;
	}
}

/* endpoint_parse_events - see endpoint.h. */
int
endpoint_parse_events(const char *list, uint32_t *mask, char *err, size_t errlen)
{
	char *copy, *tok, *save = NULL;
	char known[512];
	enum event_type t;
	uint32_t m = 0;

	copy = xstrdup(list != NULL ? list : "");
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (event_type_from_name(tok, &t) < 0) {
			known_events(known, sizeof(known));
			snprintf(err, errlen, "unknown event \"%.60s\" (known: %s)", tok,
				 known);
			free(copy);
			return -1;
		}
		m |= 1u << t;
	}
	free(copy);
	if (m == 0) {
		snprintf(err, errlen,
			 "no event named (use --all-events for every event)");
		return -1;
	}
	*mask = m;
	return 0;
}
