/*
 * parse_message.c - recognise the messages of a Postfix log line that the
 * tailer correlates (deliveries, holds, qmgr, smtpd client=, pickup, TLS
 * sessions) and read their fields.
 *
 * Pure, as parse_line.c: spans into the line out, no copies.  Message
 * texts are the remote's or the sender's words and may imitate the forms
 * around them: each form is found from the side the text cannot reach.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem() */
#endif
#include <stdlib.h>
#include <string.h>

#include "parse_line_int.h"

/*
 * mem_find - first occurrence of needle in [p, p+len), or NULL.  The
 * haystacks are short (a reply, a hold line's start): memchr() for the
 * first byte and a compare beat memmem()'s set-up, which was most of its
 * cost here.
 */
static const char *
mem_find(const char *p, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	const char *last, *q;

	if (n == 0 || len < n)
		return (NULL);
	last = p + (len - n); /* the last place a match can start */
	for (q = p;
	     q <= last && (q = memchr(q, needle[0], (size_t) (last - q) + 1)) != NULL;
	     q++)
		if (memcmp(q + 1, needle + 1, n - 1) == 0)
			return (q);
	return (NULL);
}

/* mem_find_last - last occurrence of needle in [p, p+len), or NULL. */
static const char *
mem_find_last(const char *p, size_t len, const char *needle)
{
	size_t n = strlen(needle), lim;
	const char *q;

	if (n == 0 || len < n)
		return (NULL);
	/* A match starts in [p, p + lim). */
	for (lim = len - n + 1; lim > 0 && (q = memrchr(p, needle[0], lim)) != NULL;
	     lim = (size_t) (q - p))
		if (memcmp(q + 1, needle + 1, n - 1) == 0)
			return (q);
	return (NULL);
}

/* angle_value - after "key=<" at p: the address up to ">" that ends it. */
static const char *
angle_value(const char *p, const char *end, struct span *out)
{
	const char *q;

	/* An address may hold '>' itself; the one we want is followed by
	 * ',', ' ', ": " or the end. */
	for (q = p; q < end; q++)
		if (*q == '>'
		    && (q + 1 == end || q[1] == ',' || q[1] == ' '
			|| (q[1] == ':' && (q + 2 == end || q[2] == ' '))))
			break;
	*out = span_make(p, q);
	return (q < end ? q + 1 : end);
}

/* plain_value - a value up to ", " or the end. */
static const char *
plain_value(const char *p, const char *end, struct span *out)
{
	const char *q;

	for (q = p; q < end; q++)
		if (*q == ',' && (q + 1 == end || q[1] == ' '))
			break;
	*out = span_make(p, q);
	return (q);
}

/* span_double - a decimal number as Postfix writes delays ("0.12", "3",
 * "1e-05"); 0 when it is none. */
static double
span_double(struct span s)
{
	double v = 0, scale = 1;
	size_t i = 0;

	for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++)
		v = v * 10 + (s.p[i] - '0');
	if (i < s.len && s.p[i] == '.')
		for (i++; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++)
			v += (s.p[i] - '0') * (scale /= 10);
	if (i < s.len && (s.p[i] == 'e' || s.p[i] == 'E')) {
		char tmp[32];

		/* Rare: hand the whole thing to strtod. */
		if (s.len >= sizeof(tmp))
			return (v);
		memcpy(tmp, s.p, s.len);
		tmp[s.len] = 0;
		return (strtod(tmp, NULL));
	}
	return (v);
}

/* span_long - a decimal integer; 0 when it is none. */
static long long
span_long(struct span s)
{
	long long v = 0;

	for (size_t i = 0; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++)
		if (v < 1000000000000LL)
			v = v * 10 + (s.p[i] - '0');
	return (v);
}

/* parse_relay - name[addr]:port into its parts. */
void
parse_relay(struct span relay, struct span *host, struct span *addr, struct span *port)
{
	const char *p = relay.p, *end = p + relay.len;
	const char *lb = relay.len ? memchr(p, '[', relay.len) : NULL;
	const char *rb;

	*host = relay;
	*addr = span_make(p, p);
	*port = span_make(p, p);
	if (lb == NULL || (rb = memchr(lb, ']', (size_t) (end - lb))) == NULL)
		return;
	*host = span_make(p, lb);
	*addr = span_make(lb + 1, rb);
	if (rb + 1 < end && rb[1] == ':')
		*port = span_make(rb + 2, end);
}

/* split_relay - fill the relay parts of out. */
static void
split_relay(struct span relay, struct log_line *out)
{
	parse_relay(relay, &out->relay_host, &out->relay_addr, &out->relay_port);
}

/* status_from_word - the delivery status a status= word names. */
static enum delivery_status
status_from_word(struct span w)
{
	if (span_eq(w, "sent"))
		return (DS_SENT);
	if (span_eq(w, "deferred"))
		return (DS_DEFERRED);
	if (span_eq(w, "bounced"))
		return (DS_BOUNCED);
	if (span_eq(w, "SOFTBOUNCE"))
		return (DS_SOFTBOUNCE);
	if (span_eq(w, "deliverable"))
		return (DS_DELIVERABLE);
	if (span_eq(w, "undeliverable"))
		return (DS_UNDELIVERABLE);
	if (span_eq(w, "expired"))
		return (DS_EXPIRED);
	return (DS_UNKNOWN);
}

/* find_queued_as - the queue id after the last "queued as " in text. */
static void
find_queued_as(struct log_line *out)
{
	const char *p = out->text.p, *end, *q, *s;

	if (out->text.len == 0)
		return;
	end = p + out->text.len;
	if ((q = mem_find_last(p, out->text.len, "queued as ")) == NULL)
		return;
	s = q + 10;
	for (q = s; q < end
		    && ((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'Z')
			|| (*q >= 'a' && *q <= 'z'));
	     q++)
		;
	if (is_queue_id(s, (size_t) (q - s)))
		out->queued_as = span_make(s, q);
}

/*
 * parse_delivery - "to=<r>, orig_to=<o>, relay=R, conn_use=N, delay=D,
 * delays=a/b/c/d, tls=T, dsn=X.Y.Z, status=S (TEXT)".
 */
static void
parse_delivery(struct log_line *out)
{
	const char *p = out->msg.p + 4, *end = out->msg.p + out->msg.len;

	p = angle_value(p, end, &out->to);
	while (p < end) {
		const char *key, *eq;
		struct span v;

		if (*p == ',')
			p++;
		while (p < end && *p == ' ')
			p++;
		key = p;
		if ((eq = memchr(p, '=', (size_t) (end - p))) == NULL)
			break;
		p = eq + 1;
		if (eq - key == 7 && memcmp(key, "orig_to", 7) == 0 && p < end
		    && *p == '<') {
			p = angle_value(p + 1, end, &out->orig_to);
			out->has_orig_to = 1;
			continue;
		}
		if (eq - key == 6 && memcmp(key, "status", 6) == 0) {
			const char *w = p, *lp;

			while (p < end && *p != ' ')
				p++;
			out->status_word = span_make(w, p);
			out->status = status_from_word(out->status_word);
			if (p + 1 < end && p[1] == '(') {
				lp = p + 2;
				/* The text runs to the last ')' of the line;
				 * a truncated line has none. */
				if (end[-1] == ')' && end - 1 >= lp)
					out->text = span_make(lp, end - 1);
				else
					out->text = span_make(lp, end);
			}
			find_queued_as(out);
			break;
		}
		p = plain_value(p, end, &v);
		if (eq - key == 5 && memcmp(key, "relay", 5) == 0) {
			out->relay = v;
			split_relay(v, out);
		} else if (eq - key == 8 && memcmp(key, "conn_use", 8) == 0) {
			out->conn_use = (long) span_long(v);
		} else if (eq - key == 5 && memcmp(key, "delay", 5) == 0) {
			out->delay = span_double(v);
		} else if (eq - key == 6 && memcmp(key, "delays", 6) == 0) {
			const char *a = v.p, *vend = v.p + v.len, *s;
			int i;

			for (i = 0; i < 4 && a < vend; i++) {
				for (s = a; s < vend && *s != '/'; s++)
					;
				out->delays[i] = span_double(span_make(a, s));
				a = s + 1;
			}
			out->has_delays = (i == 4);
		} else if (eq - key == 3 && memcmp(key, "tls", 3) == 0) {
			out->tls = v;
		} else if (eq - key == 3 && memcmp(key, "dsn", 3) == 0) {
			out->dsn = v;
		}
	}
	out->kind = LK_DELIVERY;
}

/*
 * hold_origin - in the part of a hold line before its envelope: where the
 * trigger ends and the reason starts.  cleanup's own hold lines read
 * "CLASS CONTENT from ORIGIN" (ORIGIN is name[addr], "local" or
 * "unknown": no space), the reason being the trigger; smtpd's and the
 * milters' read "EVENT from name[addr]: TEXT", the reason being TEXT.
 * The content is the message's own text and may hold " from " and "]: "
 * itself, so cleanup's origin is the last " from ", the others' the first
 * one followed by name[addr]: .  Sets *reason; 0, or -1 when the form is
 * not found.
 */
static int
hold_origin(struct span pre, int cleanup_form, struct span *reason)
{
	const char *p = pre.p, *end = pre.p + pre.len, *q, *t;

	if (cleanup_form) {
		if ((q = mem_find_last(p, pre.len, " from ")) == NULL)
			return (-1);
		for (t = q + 6; t < end && *t != ' '; t++)
			;
		if (t != end || t == q + 6)
			return (-1);
		*reason = span_make(p, q);
		return (0);
	}
	while ((q = mem_find(p, (size_t) (end - p), " from ")) != NULL) {
		for (t = q + 6; t < end && *t != ' '; t++)
			if (t[0] == ']' && t + 2 < end && t[1] == ':' && t[2] == ' ') {
				*reason = span_make(t + 3, end);
				return (0);
			}
		p = q + 6;
	}
	return (-1);
}

/*
 * parse_hold - "hold: header Subject: x from h[a]; from=<s> to=<r>
 * proto=ESMTP helo=<h>: optional text" (cleanup: proto and helo only for
 * SMTP clients, helo only when the client sent one), and "milter-hold:
 * END-OF-MESSAGE from h[a]: reason; from=<s> to=<r> ...".
 */
static void
parse_hold(struct log_line *out, size_t skip)
{
	const char *p = out->msg.p + skip, *end = out->msg.p + out->msg.len;
	const char *env, *q;
	struct span pre, helo;
	int cleanup_form;

	out->kind = LK_HOLD;
	/* The envelope follows the content, which may imitate it. */
	env = mem_find_last(p, (size_t) (end - p), "; from=<");
	pre = span_make(p, env != NULL ? env : end);
	if (env != NULL) {
		q = angle_value(env + 8, end, &out->from);
		out->has_from = 1;
		if (q + 5 <= end && memcmp(q, " to=<", 5) == 0)
			q = angle_value(q + 5, end, &out->to);
		if (q + 7 <= end && memcmp(q, " proto=", 7) == 0)
			for (q += 7; q < end && *q != ' ' && *q != ':'; q++)
				;
		if (q + 7 <= end && memcmp(q, " helo=<", 7) == 0)
			q = angle_value(q + 7, end, &helo);
		if (q + 2 <= end && q[0] == ':' && q[1] == ' ') {
			out->hold_reason = span_make(q + 2, end);
			return;
		}
	}
	/* No text: the reason is what triggered it (see hold_origin). */
	cleanup_form = !out->milter_hold && span_eq(out->program, "cleanup");
	if (hold_origin(pre, cleanup_form, &out->hold_reason) == 0
	    || hold_origin(pre, !cleanup_form, &out->hold_reason) == 0)
		return;
	out->hold_reason = pre;
}

/* parse_qmgr - from=<s>, size=N, nrcpt=N | status=expired | removed. */
static void
parse_qmgr(struct log_line *out)
{
	const char *p = out->msg.p, *end = p + out->msg.len;
	struct span v;

	if (span_eq(out->msg, "removed")) {
		out->kind = LK_QMGR_REMOVED;
		return;
	}
	if (out->msg.len < 6 || memcmp(p, "from=<", 6) != 0)
		return;
	p = angle_value(p + 6, end, &out->from);
	out->has_from = 1;
	out->kind = LK_QMGR_FROM;
	while (p < end) {
		const char *key, *eq;

		if (*p == ',')
			p++;
		while (p < end && *p == ' ')
			p++;
		key = p;
		if ((eq = memchr(p, '=', (size_t) (end - p))) == NULL)
			break;
		p = plain_value(eq + 1, end, &v);
		if (eq - key == 4 && memcmp(key, "size", 4) == 0) {
			out->size = span_long(v);
		} else if (eq - key == 5 && memcmp(key, "nrcpt", 5) == 0) {
			out->nrcpt = (long) span_long(v);
		} else if (eq - key == 6 && memcmp(key, "status", 6) == 0) {
			if (span_eq(v, "expired")) {
				out->kind = LK_QMGR_EXPIRED;
			} else if (span_eq(v, "force-expired")) {
				out->kind = LK_QMGR_EXPIRED;
				out->force_expired = 1;
			}
		}
	}
}

/* parse_client - client=name[addr][, sasl_method=M, sasl_username=U]. */
static void
parse_client(struct log_line *out)
{
	const char *p = out->msg.p + 7, *end = out->msg.p + out->msg.len;
	const char *lb, *rb, *u;
	struct span v;

	out->kind = LK_SMTPD_CLIENT;
	p = plain_value(p, end, &v);
	out->client_name = v;
	if ((lb = memchr(v.p, '[', v.len)) != NULL
	    && (rb = memchr(lb, ']', (size_t) (v.p + v.len - lb))) != NULL) {
		out->client_name = span_make(v.p, lb);
		out->client_addr = span_make(lb + 1, rb);
	}
	if ((u = mem_find(p, (size_t) (end - p), "sasl_username=")) != NULL)
		plain_value(u + 14, end, &out->sasl_username);
}

/*
 * parse_pickup - "uid=N from=<s>", and "uid=N from=<s> orig_id=OLDQID"
 * for a message postsuper -r requeued.
 */
static void
parse_pickup(struct log_line *out)
{
	const char *p = out->msg.p, *end = p + out->msg.len, *f, *q;

	out->kind = LK_PICKUP;
	out->uid = (long) span_long(span_make(p + 4, end));
	if ((f = mem_find(p, out->msg.len, "from=<")) == NULL)
		return;
	q = angle_value(f + 6, end, &out->from);
	out->has_from = 1;
	if (q + 9 <= end && memcmp(q, " orig_id=", 9) == 0) {
		for (f = q += 9; q < end && *q != ' '; q++)
			;
		if (is_queue_id(f, (size_t) (q - f)))
			out->orig_id = span_make(f, q);
	}
}

/*
 * parse_tls - "Untrusted TLS connection established to h[a]:port: ..."
 * (also Anonymous, Trusted, Verified), and "... TLS connection reused to
 * h[a]:port: ..." (a cached TLS connection taken up again, in this
 * process or another); p is where h[a]:port starts.
 */
static void
parse_tls(struct log_line *out, const char *p)
{
	const char *end = out->msg.p + out->msg.len, *q, *rb;

	if ((rb = memchr(p, ']', (size_t) (end - p))) == NULL)
		return;
	for (q = rb + 1; q < end && *q != ' '; q++)
		;
	if (q > rb + 1 && q[-1] == ':')
		q--;
	split_relay(span_make(p, q), out);
	out->kind = LK_TLS_ESTABLISHED;
}

/* parse_message - recognise the kind of out->msg. */
void
parse_message(struct log_line *out)
{
	struct span m = out->msg;
	const char *p;

	out->kind = LK_OTHER;
	if (out->queue_id.len == 0) {
		/* Lines without a queue id: only TLS session summaries. */
		if ((p = mem_find(m.p, m.len > 48 ? 48 : m.len, "TLS connection "))
		    == NULL)
			return;
		m = span_make(p + 15, m.p + m.len);
		if (m.len > 15 && memcmp(m.p, "established to ", 15) == 0)
			parse_tls(out, m.p + 15);
		else if (m.len > 10 && memcmp(m.p, "reused to ", 10) == 0)
			parse_tls(out, m.p + 10);
		return;
	}
	if (m.len > 4 && memcmp(m.p, "to=<", 4) == 0) {
		parse_delivery(out);
	} else if (m.len > 6 && memcmp(m.p, "hold: ", 6) == 0) {
		parse_hold(out, 6);
	} else if (m.len > 13 && memcmp(m.p, "milter-hold: ", 13) == 0) {
		out->milter_hold = 1;
		parse_hold(out, 13);
	} else if (span_eq(out->program, "cleanup") && m.len >= 11
		   && memcmp(m.p, "message-id=", 11) == 0) {
		const char *s = m.p + 11, *end = m.p + m.len;

		out->kind = LK_CLEANUP_MESSAGE_ID;
		/* The header's value from two bytes after its name: a folded
		 * one starts with a blank, "Message-ID:<x>" without its '<'. */
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (s < end && *s == '<')
			s++;
		if (end > s && end[-1] == '>')
			end--;
		out->message_id = span_make(s, end);
	} else if (span_eq(out->program, "qmgr")) {
		parse_qmgr(out);
	} else if (span_eq(out->program, "postsuper") && span_eq(out->msg, "removed")) {
		/* postsuper -d: the admin deleted it; qmgr logs nothing. */
		out->kind = LK_QMGR_REMOVED;
	} else if (m.len > 7 && memcmp(m.p, "client=", 7) == 0) {
		parse_client(out);
	} else if (span_eq(out->program, "pickup") && m.len > 4
		   && memcmp(m.p, "uid=", 4) == 0) {
		parse_pickup(out);
	}
}
