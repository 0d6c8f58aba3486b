/*
 * parse_line.c - split a Postfix log line into prefix, queue id and message,
 * and recognise the messages the tailer correlates.
 *
 * Pure: the line in, a struct of spans into it out.  Nothing here trusts
 * the line: any field may be missing, truncated or hold NUL bytes and
 * invalid UTF-8, and a line we cannot read is LK_NONE or LK_OTHER, never a
 * crash.  See parse_line.h for the forms accepted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE			/* memmem(), timegm() */
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse_line.h"

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* span_eq - the span equals the NUL-terminated s. */
int
span_eq(struct span s, const char *str)
{
	size_t  n = strlen(str);

	return (s.len == n && memcmp(s.p, str, n) == 0);
}

/* mem_find - first occurrence of needle in [p, p+len), or NULL. */
static const char *
mem_find(const char *p, size_t len, const char *needle)
{
	size_t  n = strlen(needle);

	if (n == 0 || len < n)
		return (NULL);
	return (memmem(p, len, needle, n));
}

/* mem_find_last - last occurrence of needle in [p, p+len), or NULL. */
static const char *
mem_find_last(const char *p, size_t len, const char *needle)
{
	const char *hit = NULL;
	const char *q;
	size_t  n = strlen(needle);

	while ((q = mem_find(p, len, needle)) != NULL) {
		hit = q;
		len -= (size_t) (q + 1 - p);
		p = q + 1;
		if (len < n)
			break;
	}
	return (hit);
}

/* span_make - a span from two pointers. */
static struct span
span_make(const char *p, const char *end)
{
	struct span s;

	s.p = p;
	s.len = end > p ? (size_t) (end - p) : 0;
	return (s);
}

/* digits - read n decimal digits at p; -1 when they are not all digits. */
static int
digits(const char *p, const char *end, int n)
{
	int     v = 0;

	if (end - p < n)
		return (-1);
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (-1);
		v = v * 10 + (p[i] - '0');
	}
	return (v);
}

/*
 * The characters of queue ids: 1 hex (short ids, and long ones too), 2
 * the rest of the long form's base-52 alphabet (no vowels), 3 its 'z'.
 */
static const unsigned char qid_cls[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 2, ['H'] = 2, ['J'] = 2, ['K'] = 2, ['L'] = 2, ['M'] = 2,
	['N'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2, ['S'] = 2, ['T'] = 2,
	['V'] = 2, ['W'] = 2, ['X'] = 2, ['Y'] = 2, ['Z'] = 2,
	['b'] = 2, ['c'] = 2, ['d'] = 2, ['f'] = 2, ['g'] = 2, ['h'] = 2,
	['j'] = 2, ['k'] = 2, ['l'] = 2, ['m'] = 2, ['n'] = 2, ['p'] = 2,
	['q'] = 2, ['r'] = 2, ['s'] = 2, ['t'] = 2, ['v'] = 2, ['w'] = 2,
	['x'] = 2, ['y'] = 2,
	['z'] = 3,
};

/* is_queue_id - short hex or long (base-52 with 'z') Postfix queue id. */
int
is_queue_id(const char *p, size_t len)
{
	int     bad = 0, nothex = 0, z = 0;

	if (len < 5 || len > 32)
		return (0);
	/* Without branches: hex and base-52 characters mix unpredictably. */
	for (size_t i = 0; i < len; i++) {
		unsigned k = qid_cls[(unsigned char) p[i]];

		bad |= (k == 0);
		nothex |= (k >= 2);
		z += (k == 3);
	}
	if (bad)
		return (0);
	if (!nothex)
		return (1);
	/* Long form: time in base 52, 'z', inode number. */
	return (z >= 1 && len >= 12);
}

/* parse_fraction - ".123456" after the seconds, kept to microseconds. */
static const char *
parse_fraction(const char *p, const char *end, struct log_stamp *st)
{
	if (p >= end || *p != '.')
		return (p);
	for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
		if (st->frac_digits < 6) {
			st->usec = st->usec * 10 + (*p - '0');
			st->frac_digits++;
		}
	}
	for (int i = st->frac_digits; i < 6; i++)
		st->usec *= 10;
	return (p);
}

/* parse_classic_stamp - "Nov  3 14:02:11" or "Nov 03 14:02:11 "; end or NULL. */
static const char *
parse_classic_stamp(const char *p, const char *end, struct log_stamp *st)
{
	const char *m;
	int     day, v;

	if (end - p < 16)
		return (NULL);
	for (m = months; *m; m += 3)
		if (memcmp(p, m, 3) == 0)
			break;
	if (*m == 0 || p[3] != ' ')
		return (NULL);
	st->mon = (int) ((m - months) / 3) + 1;
	if (p[4] == ' ' && (day = digits(p + 5, end, 1)) >= 0)
		st->mday = day;
	else if ((day = digits(p + 4, end, 2)) >= 0)
		st->mday = day;
	else
		return (NULL);
	p += 6;
	if (*p++ != ' ')
		return (NULL);
	if ((v = digits(p, end, 2)) < 0 || p[2] != ':')
		return (NULL);
	st->hour = v;
	if ((v = digits(p + 3, end, 2)) < 0 || p[5] != ':')
		return (NULL);
	st->min = v;
	if ((v = digits(p + 6, end, 2)) < 0)
		return (NULL);
	st->sec = v;
	p += 8;
	/* Some syslog daemons add fractions here too. */
	p = parse_fraction(p, end, st);
	return (p);
}

/* parse_rfc3339_stamp - "2026-11-23T21:40:34.123456+00:00"; end or NULL. */
static const char *
parse_rfc3339_stamp(const char *p, const char *end, struct log_stamp *st)
{
	int     v, h, m;

	if ((v = digits(p, end, 4)) < 0 || end - p < 19 || p[4] != '-')
		return (NULL);
	st->year = v;
	if ((st->mon = digits(p + 5, end, 2)) < 0 || p[7] != '-'
	    || (st->mday = digits(p + 8, end, 2)) < 0
	    || (p[10] != 'T' && p[10] != ' ')
	    || (st->hour = digits(p + 11, end, 2)) < 0 || p[13] != ':'
	    || (st->min = digits(p + 14, end, 2)) < 0 || p[16] != ':'
	    || (st->sec = digits(p + 17, end, 2)) < 0)
		return (NULL);
	p += 19;
	p = parse_fraction(p, end, st);
	if (p < end && *p == 'Z') {
		st->has_offset = 1;
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		if ((h = digits(p + 1, end, 2)) < 0 || end - p < 6 || p[3] != ':'
		    || (m = digits(p + 4, end, 2)) < 0)
			return (NULL);
		st->has_offset = 1;
		st->offset_sec = (h * 3600 + m * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	}
	return (p);
}

/*
 * parse_program - "postfix/smtp[123]: " at p: fill program, syslog_name
 * and pid; return the start of the message, or NULL.
 */
static const char *
parse_program(const char *p, const char *end, struct log_line *out)
{
	const char *start = p, *slash = NULL, *q;

	for (q = p; q < end && *q != '[' && *q != ':' && *q != ' '; q++)
		if (*q == '/')
			slash = q;
	if (q == start || q >= end)
		return (NULL);
	if (slash != NULL) {
		out->syslog_name = span_make(start, slash);
		out->program = span_make(slash + 1, q);
	} else {
		out->syslog_name = span_make(start, start);
		out->program = span_make(start, q);
	}
	if (*q == '[') {
		long    pid = 0;

		for (q++; q < end && *q >= '0' && *q <= '9'; q++)
			if (pid < 100000000)
				pid = pid * 10 + (*q - '0');
		if (q >= end || *q != ']')
			return (NULL);
		out->pid = pid;
		q++;
	}
	if (q >= end || *q != ':')
		return (NULL);
	q++;
	if (q < end && *q == ' ')
		q++;
	/* Postfix's lines are tagged postfix, postfix-out/..., or any
	 * syslog_name with a service after a slash. */
	if (slash == NULL && !span_eq(out->program, "postfix"))
		return (NULL);
	return (q);
}

/* parse_queue_id - split "QID: " or "NOQUEUE: " off the message. */
static void
parse_queue_id(struct log_line *out)
{
	const char *p = out->msg.p, *end = p + out->msg.len, *q;

	for (q = p; q < end && *q != ':' && *q != ' '; q++)
		;
	if (q + 1 < end && *q == ':' && q[1] == ' ') {
		if (q - p == 7 && memcmp(p, "NOQUEUE", 7) == 0) {
			out->noqueue = 1;
			out->msg = span_make(q + 2, end);
		} else if (is_queue_id(p, (size_t) (q - p))) {
			out->queue_id = span_make(p, q);
			out->msg = span_make(q + 2, end);
		}
	}
}

/* line_init - an empty result. */
static void
line_init(struct log_line *out)
{
	memset(out, 0, sizeof(*out));
	out->pid = -1;
}

/* parse_line - see parse_line.h. */
int
parse_line(const char *line, size_t len, struct log_line *out)
{
	const char *p = line, *end = line + len, *q;

	line_init(out);
	if (len > 0 && line[len - 1] == '\r')
		end--;
	if (p < end && *p >= '0' && *p <= '9')
		p = parse_rfc3339_stamp(p, end, &out->stamp);
	else
		p = parse_classic_stamp(p, end, &out->stamp);
	if (p == NULL || p >= end || *p != ' ')
		return (-1);
	while (p < end && *p == ' ')
		p++;
	for (q = p; q < end && *q != ' '; q++)
		;
	if (q >= end)
		return (-1);
	out->host = span_make(p, q);
	if ((p = parse_program(q + 1, end, out)) == NULL) {
		line_init(out);
		return (-1);
	}
	out->msg = span_make(p, end);
	parse_queue_id(out);
	parse_message(out);
	return (0);
}

/* parse_journal_fields - see parse_line.h. */
int
parse_journal_fields(const char *ident, size_t ident_len,
		     const char *pid, size_t pid_len,
		     const char *msg, size_t msg_len,
		     unsigned long long realtime_usec,
		     const char *host, size_t host_len,
		     struct log_line *out)
{
	const char *end, *q;

	line_init(out);
	if (ident == NULL || ident_len == 0 || msg == NULL)
		return (-1);
	end = ident + ident_len;
	/* Reuse the syslog tag parser on "IDENT: ". */
	for (q = ident; q < end; q++)
		if (*q == '[' || *q == ':' || *q == ' ')
			return (-1);
	{
		const char *slash = NULL;

		for (q = ident; q < end; q++)
			if (*q == '/')
				slash = q;
		if (slash != NULL) {
			out->syslog_name = span_make(ident, slash);
			out->program = span_make(slash + 1, end);
		} else if (ident_len == 7 && memcmp(ident, "postfix", 7) == 0) {
			out->program = span_make(ident, end);
			out->syslog_name = span_make(ident, ident);
		} else {
			line_init(out);
			return (-1);
		}
	}
	if (pid != NULL) {
		long    v = 0;

		for (size_t i = 0; i < pid_len && pid[i] >= '0' && pid[i] <= '9'; i++)
			if (v < 100000000)
				v = v * 10 + (pid[i] - '0');
		out->pid = v;
	}
	if (host != NULL)
		out->host = span_make(host, host + host_len);
	out->stamp.epoch = (double) (realtime_usec / 1000000ULL)
	    + (double) (realtime_usec % 1000000ULL) / 1e6;
	out->stamp.frac_digits = 6;
	out->stamp.usec = (long) (realtime_usec % 1000000ULL);
	out->msg = span_make(msg, msg + msg_len);
	parse_queue_id(out);
	parse_message(out);
	return (0);
}

/* angle_value - after "key=<" at p: the address up to ">" that ends it. */
static const char *
angle_value(const char *p, const char *end, struct span *out)
{
	const char *q;

	/* An address may hold '>' itself; the one we want is followed by
	 * ',', ' ', ": " or the end. */
	for (q = p; q < end; q++)
		if (*q == '>' && (q + 1 == end || q[1] == ',' || q[1] == ' '
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
	double  v = 0, scale = 1;
	size_t  i = 0;

	for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++)
		v = v * 10 + (s.p[i] - '0');
	if (i < s.len && s.p[i] == '.')
		for (i++; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++)
			v += (s.p[i] - '0') * (scale /= 10);
	if (i < s.len && (s.p[i] == 'e' || s.p[i] == 'E')) {
		char    tmp[32];

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
parse_relay(struct span relay, struct span *host, struct span *addr,
	    struct span *port)
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
	for (q = s; q < end && ((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'Z')
				|| (*q >= 'a' && *q <= 'z')); q++)
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
			int     i;

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
	int     cleanup_form;

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
		if ((p = mem_find(m.p, m.len > 48 ? 48 : m.len,
				  "TLS connection ")) == NULL)
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
	} else if (span_eq(out->program, "postsuper")
		   && span_eq(out->msg, "removed")) {
		/* postsuper -d: the admin deleted it; qmgr logs nothing. */
		out->kind = LK_QMGR_REMOVED;
	} else if (m.len > 7 && memcmp(m.p, "client=", 7) == 0) {
		parse_client(out);
	} else if (span_eq(out->program, "pickup") && m.len > 4
		   && memcmp(m.p, "uid=", 4) == 0) {
		parse_pickup(out);
	}
}

/* log_stamp_resolve - see parse_line.h. */
int
log_stamp_resolve(const struct log_stamp *st, time_t now, double *out)
{
	struct tm tm;
	time_t  t;

	if (st->epoch > 0) {
		*out = st->epoch;
		return (0);
	}
	if (st->mon < 1 || st->mon > 12 || st->mday < 1 || st->mday > 31
	    || st->hour > 23 || st->min > 59 || st->sec > 60)
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_mon = st->mon - 1;
	tm.tm_mday = st->mday;
	tm.tm_hour = st->hour;
	tm.tm_min = st->min;
	tm.tm_sec = st->sec;
	if (st->year != 0) {
		tm.tm_year = st->year - 1900;
		if (st->has_offset) {
			t = timegm(&tm);
			if (t == (time_t) -1)
				return (-1);
			t -= st->offset_sec;
		} else {
			tm.tm_isdst = -1;
			if ((t = mktime(&tm)) == (time_t) -1)
				return (-1);
		}
	} else {
		struct tm nowtm;

		if (localtime_r(&now, &nowtm) == NULL)
			return (-1);
		tm.tm_year = nowtm.tm_year;
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == (time_t) -1)
			return (-1);
		/* A stamp well ahead of now was written last year. */
		if (t > now + 86400) {
			memset(&tm, 0, sizeof(tm));
			tm.tm_year = nowtm.tm_year - 1;
			tm.tm_mon = st->mon - 1;
			tm.tm_mday = st->mday;
			tm.tm_hour = st->hour;
			tm.tm_min = st->min;
			tm.tm_sec = st->sec;
			tm.tm_isdst = -1;
			if ((t = mktime(&tm)) == (time_t) -1)
				return (-1);
		}
	}
	*out = (double) t + (double) st->usec / 1e6;
	return (0);
}
