/*
 * outgoing.c - the outgoing-or-incoming decision.  Pure: facts gathered
 * by the callbacks in, a reason out.
 */
#include <string.h>

#include "outgoing.h"

/* outgoing_reason - the first test that says outgoing, or NULL. */
const char *
outgoing_reason(const struct conn_state *cs, const struct msg_state *ms)
{
	if (ms->authenticated)
		return "authenticated";
	if (cs->non_smtp)
		return "sendmail";
	if (cs->originating_daemon)
		return "daemon_name";
	if (cs->internal_host)
		return "internal_hosts";
	return NULL;
}

/* outgoing_is_non_smtp - cleanup's stand-in client for local submission. */
int
outgoing_is_non_smtp(const char *hostname, int port)
{
	return port == 0 && hostname != NULL && strcmp(hostname, "localhost") == 0;
}
