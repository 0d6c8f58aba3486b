/*
 * outgoing.h - is this message outgoing?  The tests of issue "outgoing or
 * not": an authenticated client ({auth_authen}), a {daemon_name} listed in
 * originating_daemons, a client address in internal_hosts, or mail from
 * sendmail(1).
 *
 * Postfix presents sendmail(1) mail to non_smtpd_milters as a connection
 * from "localhost" [127.0.0.1] port 0 (cleanup_milter.c); no SMTP client
 * has port 0, so that is how such mail is recognised even when loopback is
 * not in internal_hosts.
 */
#ifndef PH_MILTER_OUTGOING_H
#define PH_MILTER_OUTGOING_H

#include "state.h"

/* outgoing_reason - why the message is outgoing, or NULL if incoming. */
const char *outgoing_reason(const struct conn_state *cs, const struct msg_state *ms);

/* outgoing_is_non_smtp - whether connect() describes sendmail(1) mail. */
int outgoing_is_non_smtp(const char *hostname, int port);

#endif
