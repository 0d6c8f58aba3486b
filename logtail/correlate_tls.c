/*
 * correlate_tls.c - sent_with_ssl: whether a delivery line's connection
 * was a TLS one.
 *
 * SMTP sessions are followed per smtp process: a "TLS connection
 * established to h[a]:p" line holds for that process's delivery lines to
 * h[a]:p, on that connection only (Postfix 3.11's tls= on the line itself
 * says it directly).  The sessions are saved with the queue states (under
 * TLS_STATE_KEY, by correlate_save.c), so that a delivery over a
 * connection opened before a restart is still known as TLS.
 */
#include <string.h>

#include "correlate_int.h"

/* tls_slot - the session slot of a process. */
struct tls_sess *
tls_slot(struct correlate *c, long pid)
{
	return (&c->tls[(unsigned long) pid % TLS_SLOTS]);
}

/* copy_span - a span into a fixed buffer, truncated. */
static void
copy_span(char *dst, size_t size, struct span s)
{
	size_t n = s.len < size - 1 ? s.len : size - 1;

	memcpy(dst, s.p, n);
	dst[n] = 0;
}

/* on_tls - a process opened a TLS session to h[a]:p. */
void
on_tls(struct correlate *c, const struct log_line *l)
{
	struct tls_sess *s;

	if (l->pid <= 0)
		return;
	s = tls_slot(c, l->pid);
	s->pid = l->pid;
	copy_span(s->addr, sizeof(s->addr), l->relay_addr);
	copy_span(s->port, sizeof(s->port), l->relay_port);
	s->qid[0] = 0;
	c->tls_dirty = 1;
}

/*
 * tls_field_plain - Postfix 3.11's tls= names the security level, with
 * the level it was lowered to after a '/' ("may", "dane/may",
 * "encrypt/(requiretls)"): plaintext when a level in it is "none".
 */
static int
tls_field_plain(struct span v)
{
	const char *p = v.p, *end = v.p + v.len, *q;

	for (; p < end; p = q + 1) {
		for (q = p; q < end && *q != '/'; q++)
			;
		if (q - p >= 4 && memcmp(p, "none", 4) == 0
		    && (q - p == 4 || strchr("!?:(", p[4]) != NULL))
			return (1);
	}
	return (0);
}

/*
 * session_ssl - was this delivery line's connection a TLS one?  A new
 * connection (no conn_use, or 1) to the same server after a message was
 * already sent over the TLS one is a different connection: not TLS.
 */
static int
session_ssl(struct correlate *c, const struct log_line *l, const char *qid)
{
	struct tls_sess *s;

	if (l->tls.len > 0)
		return (!tls_field_plain(l->tls));
	if (l->pid <= 0 || l->relay_addr.len == 0)
		return (0);
	s = tls_slot(c, l->pid);
	if (s->pid != l->pid || !span_eq(l->relay_addr, s->addr)
	    || !span_eq(l->relay_port, s->port))
		return (0);
	if (l->conn_use > 1)
		return (1);
	if (strcmp(s->qid, qid) == 0)
		return (1);
	if (s->qid[0] == 0) {
		copy_span(s->qid, sizeof(s->qid), (struct span){ qid, strlen(qid) });
		c->tls_dirty = 1;
		return (1);
	}
	s->pid = 0;
	c->tls_dirty = 1;
	return (0);
}

/*
 * line_ssl - a delivery line's sent_with_ssl: its session's for smtp and
 * lmtp (every line of a session counts for it, reported or not, once),
 * SSL_UNKNOWN for local deliveries.  program is the line's, cleaned.
 */
int
line_ssl(struct correlate *c, const struct log_line *l, const char *program,
	 const char *qid)
{
	return (is_remote_program(program) ? session_ssl(c, l, qid) : SSL_UNKNOWN);
}
