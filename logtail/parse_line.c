/*
 * parse_line.c - split a Postfix log line into its prefix (time stamp,
 * host, program, pid), queue id and message; the message itself is read
 * by parse_message.c.
 *
 * Pure: the line in, a struct of spans into it out.  Nothing here trusts
 * the line: any field may be missing, truncated or hold NUL bytes and
 * invalid UTF-8, and a line we cannot read is LK_NONE or LK_OTHER, never a
 * crash.  See parse_line.h for the forms accepted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* timegm() */
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse_line_int.h"

/* month_of - 1 to 12 for the English month abbreviation at p, else 0. */
static int
month_of(const char *p)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int m;

	/* The first letter and the third tell them apart. */
	switch (p[0]) {
	case 'J':
		m = p[1] == 'a' ? 1 : p[2] == 'n' ? 6 : 7;
		break;
	case 'F':
		m = 2;
		break;
	case 'M':
		m = p[2] == 'r' ? 3 : 5;
		break;
	case 'A':
		m = p[1] == 'p' ? 4 : 8;
		break;
	case 'S':
		m = 9;
		break;
	case 'O':
		m = 10;
		break;
	case 'N':
		m = 11;
		break;
	case 'D':
		m = 12;
		break;
	default:
		return (0);
	}
	return (memcmp(p, months + 3 * (m - 1), 3) == 0 ? m : 0);
}

/* digits - read n decimal digits at p; -1 when they are not all digits. */
static int
digits(const char *p, const char *end, int n)
{
	int v = 0;

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
 * The characters of queue ids, as bits: 1 every one of them (short ids
 * are hex, long ones use hex too), 2 the rest of the long form's base-52
 * alphabet (no vowels), 4 its 'z'.  OR-ing the bits of an id's characters
 * tells its form in one operation per character.
 */
#define QC_ID 1
#define QC_LONG 2
#define QC_Z 4
static const unsigned char qid_cls[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
	['E'] = 1, ['F'] = 1, ['G'] = 3, ['H'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3,
	['M'] = 3, ['N'] = 3, ['P'] = 3, ['Q'] = 3, ['R'] = 3, ['S'] = 3, ['T'] = 3,
	['V'] = 3, ['W'] = 3, ['X'] = 3, ['Y'] = 3, ['Z'] = 3, ['b'] = 3, ['c'] = 3,
	['d'] = 3, ['f'] = 3, ['g'] = 3, ['h'] = 3, ['j'] = 3, ['k'] = 3, ['l'] = 3,
	['m'] = 3, ['n'] = 3, ['p'] = 3, ['q'] = 3, ['r'] = 3, ['s'] = 3, ['t'] = 3,
	['v'] = 3, ['w'] = 3, ['x'] = 3, ['y'] = 3, ['z'] = 7,
};

/* qid_form - is a run of len queue-id characters, whose bits OR-ed are
 * bits, a queue id: short hex, or long (base 52 with its 'z'). */
static inline int
qid_form(unsigned bits, size_t len)
{
	if (len < 5 || len > 32)
		return (0);
	if ((bits & QC_LONG) == 0)
		return (1);
	/* Long form: time in base 52, 'z', inode number. */
	return ((bits & QC_Z) != 0 && len >= 12);
}

/* is_queue_id - short hex or long (base-52 with 'z') Postfix queue id. */
int
is_queue_id(const char *p, size_t len)
{
	unsigned all = QC_ID, bits = 0;

	if (len < 5 || len > 32)
		return (0);
	/* Without branches: hex and base-52 characters mix unpredictably. */
	for (size_t i = 0; i < len; i++) {
		unsigned k = qid_cls[(unsigned char) p[i]];

		all &= k;
		bits |= k;
	}
	return (all != 0 && qid_form(bits, len));
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
	int day, v;

	if (end - p < 16 || p[3] != ' ' || (st->mon = month_of(p)) == 0)
		return (NULL);
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
	return (p + 8);
}

/* parse_rfc3339_stamp - "2026-11-23T21:40:34.123456+00:00"; end or NULL. */
static const char *
parse_rfc3339_stamp(const char *p, const char *end, struct log_stamp *st)
{
	int v, h, m;

	if ((v = digits(p, end, 4)) < 0 || end - p < 19 || p[4] != '-')
		return (NULL);
	st->year = v;
	if ((st->mon = digits(p + 5, end, 2)) < 0 || p[7] != '-'
	    || (st->mday = digits(p + 8, end, 2)) < 0 || (p[10] != 'T' && p[10] != ' ')
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
	/* 1: where the name ends; 2: a slash in it. */
	static const unsigned char stop[256] = {
		['['] = 1, [':'] = 1, [' '] = 1, ['/'] = 2
	};
	const char *start = p, *slash = NULL, *q;
	unsigned k;

	for (q = p; q < end; q++) {
		if ((k = stop[(unsigned char) *q]) == 1)
			break;
		if (k == 2)
			slash = q;
	}
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
		long pid = 0;

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

/*
 * parse_queue_id - split "QID: " or "NOQUEUE: " off the message.  The id
 * is the run of queue-id characters up to ": " (no id has more than 32).
 */
static void
parse_queue_id(struct log_line *out)
{
	const char *p = out->msg.p, *end = p + out->msg.len, *q, *lim;
	unsigned k, bits = 0;

	lim = end - p > 33 ? p + 33 : end;
	for (q = p; q < lim && (k = qid_cls[(unsigned char) *q]) != 0; q++)
		bits |= k;
	if (q + 1 < end && *q == ':' && q[1] == ' ' && qid_form(bits, (size_t) (q - p))) {
		out->queue_id = span_make(p, q);
		out->msg = span_make(q + 2, end);
	} else if (out->msg.len >= 9 && memcmp(p, "NOQUEUE: ", 9) == 0) {
		out->noqueue = 1;
		out->msg = span_make(p + 9, end);
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
	return (parse_line_memo(line, len, out, NULL));
}

/* parse_line_memo - see parse_line.h. */
int
parse_line_memo(const char *line, size_t len, struct log_line *out,
		struct stamp_memo *memo)
{
	const char *p = line, *end = line + len, *q;

	line_init(out);
	if (len > 0 && line[len - 1] == '\r')
		end--;
	if (p < end && *p >= '0' && *p <= '9') {
		p = parse_rfc3339_stamp(p, end, &out->stamp);
	} else if (memo != NULL && memo->valid && end - p >= 16
		   && memcmp(p, memo->text, CLASSIC_STAMP_LEN) == 0) {
		out->stamp = memo->stamp;
		p = parse_fraction(p + CLASSIC_STAMP_LEN, end, &out->stamp);
	} else {
		p = parse_classic_stamp(p, end, &out->stamp);
		if (p != NULL && memo != NULL) {
			memcpy(memo->text, line, CLASSIC_STAMP_LEN);
			memo->stamp = out->stamp;
			memo->valid = 1;
		}
		/* Some syslog daemons add fractions here too. */
		if (p != NULL)
			p = parse_fraction(p, end, &out->stamp);
	}
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
parse_journal_fields(const char *ident, size_t ident_len, const char *pid, size_t pid_len,
		     const char *msg, size_t msg_len, unsigned long long realtime_usec,
		     const char *host, size_t host_len, struct log_line *out)
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
		long v = 0;

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

/* log_stamp_resolve - see parse_line.h. */
int
log_stamp_resolve(const struct log_stamp *st, time_t now, double *out)
{
	struct tm tm;
	time_t t;

	if (st->epoch > 0) {
		*out = st->epoch;
		return (0);
	}
	if (st->mon < 1 || st->mon > 12 || st->mday < 1 || st->mday > 31 || st->hour > 23
	    || st->min > 59 || st->sec > 60)
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
