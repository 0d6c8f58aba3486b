/*
 * dsn_text.c - the bounce parser's reading of non-standard bounces: the
 * plain text that qmail, Exim, old Sendmail, Exchange and Office 365,
 * Gmail and Yahoo send instead of (or without) an RFC 3464 report, and a
 * generic fallback for other notices from a mailer daemon.
 *
 * Each form is recognised by a sentence its MTA always writes, then read
 * line by line; the recipients found go through dsn_add_recipient().  The
 * text is a NUL-terminated copy without CRs (dsn.c made it), at most
 * max_part bytes.  One job, reading the MTAs' plain-text forms, each a
 * small reader over the same line helpers: it reads best whole.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bounce/dsn.h"
#include "bounce/dsn_int.h"
#include "util/util.h"

#define DIAG_MAX 4096 /* bytes of one joined reason */

/* One line of the text: p..p+n, without its newline. */
struct line {
	const char *p;
	size_t n;
};

/* next_line - the line at *cur; 0 at the end */
static int
next_line(const char **cur, struct line *l)
{
	const char *nl;

	if (**cur == 0)
		return 0;
	l->p = *cur;
	nl = strchr(*cur, '\n');
	l->n = nl ? (size_t) (nl - *cur) : strlen(*cur);
	*cur = nl ? nl + 1 : *cur + l->n;
	return 1;
}

/* trim - the line without its leading and trailing blanks */
static struct line
trim(struct line l)
{
	while (l.n > 0 && isspace((unsigned char) l.p[0])) {
		l.p++;
		l.n--;
	}
	while (l.n > 0 && isspace((unsigned char) l.p[l.n - 1]))
		l.n--;
	return l;
}

/* indent_of - how many blanks start the line */
static size_t
indent_of(struct line l)
{
	size_t i = 0;

	while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
		i++;
	return i;
}

/* starts_ci - whether l starts with s, case-insensitively */
static int
starts_ci(struct line l, const char *s)
{
	size_t k = strlen(s);

	return l.n >= k && strncasecmp(l.p, s, k) == 0;
}

/* ends_ci - whether l ends with s, case-insensitively */
static int
ends_ci(struct line l, const char *s)
{
	size_t k = strlen(s);

	return l.n >= k && strncasecmp(l.p + l.n - k, s, k) == 0;
}

/* line_find - case-insensitive search for s inside one line */
static const char *
line_find(struct line l, const char *s)
{
	size_t k = strlen(s), i;

	for (i = 0; i + k <= l.n; i++)
		if (strncasecmp(l.p + i, s, k) == 0)
			return l.p + i;
	return NULL;
}

/* after_line - where the line holding pos ends (the next line's start) */
static const char *
after_line(const char *pos)
{
	const char *nl = strchr(pos, '\n');

	return nl ? nl + 1 : pos + strlen(pos);
}

/* diag_add - append a reason line, blank-separated, capped */
static void
diag_add(struct buf *b, const char *p, size_t n)
{
	struct line l = { p, n };

	l = trim(l);
	if (l.n == 0 || b->len >= DIAG_MAX)
		return;
	if (l.n > DIAG_MAX - b->len)
		l.n = DIAG_MAX - b->len;
	if (b->len > 0)
		buf_append(b, " ", 1);
	buf_append(b, l.p, l.n);
}

/* lone_address - whether the trimmed line is just an address (maybe <>'d,
 * maybe followed by " on DATE" or a colon) */
static int
lone_address(struct line l, const char **a, size_t *alen)
{
	l = trim(l);
	if (l.n == 0 || !dsn_find_address(l.p, l.n, a, alen))
		return 0;
	/* The address must start the line (after an optional '<' or quote). */
	if (*a != l.p
	    && !(*a == l.p + 1 && (l.p[0] == '<' || l.p[0] == '\'' || l.p[0] == '"')))
		return 0;
	return 1;
}

/* pending - a recipient being read */
struct pending {
	const char *addr;
	size_t alen;
	struct buf diag;
	char remote[256];
	int open;
};

static void
pending_init(struct pending *pd)
{
	memset(pd, 0, sizeof(*pd));
	buf_init(&pd->diag);
}

/* pending_flush - add the recipient being read, if any */
static int
pending_flush(struct dsn_ctx *c, struct pending *pd, enum dsn_action action)
{
	int added = 0;

	if (pd->open) {
		dsn_add_recipient(c, pd->addr, pd->alen, pd->diag.data, pd->diag.len,
				  pd->remote, strlen(pd->remote), action);
		added = 1;
	}
	pd->open = 0;
	pd->addr = NULL;
	pd->alen = 0;
	pd->remote[0] = 0;
	buf_reset(&pd->diag);
	return added;
}

/* pending_open - start a recipient */
static void
pending_open(struct dsn_ctx *c, struct pending *pd, const char *a, size_t alen,
	     enum dsn_action action)
{
	pending_flush(c, pd, action);
	pd->open = 1;
	pd->addr = a;
	pd->alen = alen;
}

/* set_remote - copy a host name token */
static void
set_remote(struct pending *pd, const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == '.' || p[n - 1] == ':' || p[n - 1] == ','))
		n--;
	if (n == 0 || n >= sizeof(pd->remote))
		return;
	memcpy(pd->remote, p, n);
	pd->remote[n] = 0;
}

/* token_len - length of the non-blank token at p */
static size_t
token_len(const char *p, size_t max)
{
	size_t n = 0;

	while (n < max && p[n] && !isspace((unsigned char) p[n]))
		n++;
	return n;
}

/*
 * refine_remote_said - qmail and Yahoo write "HOST does not like
 * recipient. Remote host said: REPLY Giving up on HOST.": keep HOST as the
 * remote MTA.  The text stays whole (its first words say at which step
 * the remote refused), but a bare leading "Remote host said:" goes.
 */
static void
refine_remote_said(struct pending *pd)
{
	const char *d = pd->diag.data, *dl;
	struct buf nb;
	size_t k = strlen("Remote host said:");

	if (d == NULL || pd->diag.len == 0)
		return;
	if ((dl = dsn_ci_find(d, " does not like recipient")) != NULL
	    && pd->remote[0] == 0) {
		const char *s = dl;

		while (s > d && !isspace((unsigned char) s[-1]))
			s--;
		set_remote(pd, s, (size_t) (dl - s));
	} else if ((dl = dsn_ci_find(d, "Connected to ")) != NULL && pd->remote[0] == 0)
		set_remote(pd, dl + 13, token_len(dl + 13, 255));
	if (strncasecmp(d, "Remote host said:", k) != 0)
		return;
	buf_init(&nb);
	diag_add(&nb, d + k, pd->diag.len - k);
	buf_free(&pd->diag);
	pd->diag = nb;
}

/*
 * angle_form - qmail and Yahoo: "<addr>:" then reason lines until a blank
 * line; the copy of the message starts with "--- ".
 */
static int
angle_form(struct dsn_ctx *c, const char *start, enum dsn_action action)
{
	struct pending pd;
	struct line l, t;
	const char *cur = start, *a, *gt;
	size_t alen;
	int n = 0, after_blank = 1;

	pending_init(&pd);
	while (next_line(&cur, &l)) {
		t = trim(l);
		if (starts_ci(t, "--- ") || starts_ci(t, "------"))
			break;
		/* "<addr>:" starts a recipient only after a blank line: inside a
		 * reason it is the remote's text. */
		if (after_blank && t.n > 2 && t.p[0] == '<'
		    && (gt = memchr(t.p, '>', t.n)) != NULL
		    && (size_t) (gt - t.p) + 1 < t.n && gt[1] == ':'
		    && dsn_find_address(t.p, (size_t) (gt - t.p), &a, &alen)) {
			if (pd.open) {
				refine_remote_said(&pd);
				n += pending_flush(c, &pd, action);
			}
			pending_open(c, &pd, a, alen, action);
			diag_add(&pd.diag, gt + 2, t.n - (size_t) (gt + 2 - t.p));
			continue;
		}
		if (t.n == 0) {
			if (pd.open && pd.diag.len > 0) {
				refine_remote_said(&pd);
				n += pending_flush(c, &pd, action);
			}
			after_blank = 1;
			continue;
		}
		after_blank = 0;
		if (pd.open)
			diag_add(&pd.diag, t.p, t.n);
	}
	if (pd.open) {
		refine_remote_said(&pd);
		n += pending_flush(c, &pd, action);
	}
	buf_free(&pd.diag);
	return n;
}

/* exim_reason_line - one indented reason line of Exim's list */
static void
exim_reason_line(struct pending *pd, struct line t)
{
	const char *close;

	if (starts_ci(t, "Delay reason:")) {
		t.p += 13;
		t.n -= 13;
		while (t.n > 0 && t.p[0] == ' ') {
			t.p++;
			t.n--;
		}
	}
	if (starts_ci(t, "(generated from") || starts_ci(t, "(ultimately generated from")
	    || starts_ci(t, "SMTP error from remote mail")
	    || starts_ci(t, "SMTP error from remote mailer"))
		return;
	/* Exim's "host NAME [IP]" (a blank before the bracket); Postfix's
	 * "host NAME[IP] said: ..." is reason text. */
	if (starts_ci(t, "host ") && (close = memchr(t.p, ']', t.n)) != NULL
	    && token_len(t.p + 5, t.n - 5) + 6 < t.n
	    && t.p[5 + token_len(t.p + 5, t.n - 5) + 1] == '[') {
		set_remote(pd, t.p + 5, token_len(t.p + 5, t.n - 5));
		close++;
		while (close < t.p + t.n && (*close == ':' || *close == ' '))
			close++;
		diag_add(&pd->diag, close, (size_t) (t.p + t.n - close));
		return;
	}
	diag_add(&pd->diag, t.p, t.n);
}

/*
 * exim_form - "The following address(es) failed:" then "  addr" lines,
 * each followed by its reason indented deeper.
 */
static int
exim_form(struct dsn_ctx *c, const char *text)
{
	struct pending pd;
	struct line l, t;
	const char *cur = text, *a;
	size_t alen, ind;
	enum dsn_action action = DSN_ACTION_FAILED;
	int in_list = 0, n = 0;

	if (dsn_ci_find(text, "has not yet been delivered") != NULL
	    && dsn_ci_find(text, "failed:") == NULL)
		action = DSN_ACTION_DELAYED;
	pending_init(&pd);
	while (next_line(&cur, &l)) {
		t = trim(l);
		if (!in_list) {
			if (ends_ci(t, "failed:") || ends_ci(t, "delivered is:")
			    || ends_ci(t, "delivered are:")
			    || ends_ci(t, "could not be delivered:"))
				in_list = 1;
			continue;
		}
		if (t.n == 0)
			continue;
		ind = indent_of(l);
		if (ind == 0 || starts_ci(t, "------")) {
			if (n + pd.open > 0)
				break;
			continue;
		}
		if (ind < 4 && lone_address(l, &a, &alen)) {
			pending_open(c, &pd, a, alen, action);
			n++;
			continue;
		}
		if (pd.open)
			exim_reason_line(&pd, t);
	}
	if (pd.open)
		pending_flush(c, &pd, action);
	buf_free(&pd.diag);
	return n;
}

/* sendmail_transcript - fill reasons from "<<< 550 ..." lines; add
 * recipients from "550 5.1.1 <addr>... reason" lines when add is set */
static int
sendmail_transcript(struct dsn_ctx *c, const char *text, int add, enum dsn_action action,
		    char *remote, size_t rsize, struct buf *last_reply)
{
	struct line l, t;
	const char *cur = text, *a, *w;
	size_t alen;
	int n = 0;

	while (next_line(&cur, &l)) {
		t = trim(l);
		if ((w = line_find(t, "while talking to ")) != NULL) {
			size_t k = token_len(w + 17, (size_t) (t.p + t.n - w - 17));

			while (k > 0 && (w[17 + k - 1] == ':' || w[17 + k - 1] == '.'))
				k--;
			if (k > 0 && k < rsize) {
				memcpy(remote, w + 17, k);
				remote[k] = 0;
			}
			continue;
		}
		if (starts_ci(t, "<<< ") && last_reply->len == 0) {
			if (t.n > 4 && (t.p[4] == '5' || t.p[4] == '4'))
				diag_add(last_reply, t.p + 4, t.n - 4);
			continue;
		}
		if (add && t.n > 4 && isdigit((unsigned char) t.p[0])
		    && (t.p[0] == '5' || t.p[0] == '4')
		    && (w = line_find(t, "... ")) != NULL
		    && dsn_find_address(t.p, (size_t) (w - t.p), &a, &alen)) {
			dsn_add_recipient(c, a, alen, t.p, t.n, remote, strlen(remote),
					  action);
			n++;
		}
	}
	return n;
}

/*
 * sendmail_form - "----- The following addresses had permanent fatal
 * errors -----" (addresses, "(reason: ...)"), then "----- Transcript of
 * session follows -----".
 */
static int
sendmail_form(struct dsn_ctx *c, const char *text)
{
	const char *fatal, *transient, *transcript, *cur, *a, *r;
	struct pending pd;
	struct line l, t;
	struct buf reply;
	char remote[256] = "";
	size_t alen;
	int n = 0;
	enum dsn_action action;

	fatal = dsn_ci_find(text, "had permanent fatal errors");
	transient = dsn_ci_find(text, "had transient non-fatal errors");
	transcript = dsn_ci_find(text, "Transcript of session follows");
	action =
	    fatal == NULL
		    && (transient != NULL
			|| dsn_ci_find(text, "Warning: could not send message") != NULL)
		? DSN_ACTION_DELAYED
		: DSN_ACTION_FAILED;
	buf_init(&reply);
	if (transcript != NULL)
		sendmail_transcript(c, transcript, 0, action, remote, sizeof(remote),
				    &reply);
	if (fatal == NULL)
		fatal = transient;
	if (fatal == NULL) {
		if (transcript != NULL)
			n = sendmail_transcript(c, transcript, 1, action, remote,
						sizeof(remote), &reply);
		buf_free(&reply);
		return n;
	}
	pending_init(&pd);
	cur = after_line(fatal);
	while (next_line(&cur, &l)) {
		t = trim(l);
		if (t.n == 0) {
			if (n + pd.open > 0)
				break;
			continue;
		}
		if (starts_ci(t, "-----"))
			break;
		if (starts_ci(t, "(reason:")) {
			if (pd.open && pd.diag.len == 0) {
				r = t.p + 8;
				diag_add(&pd.diag, r, t.n - 8 - (t.p[t.n - 1] == ')'));
			}
			continue;
		}
		if (starts_ci(t, "(expanded from"))
			continue;
		if (lone_address(l, &a, &alen)) {
			if (pd.open) {
				if (pd.diag.len == 0)
					buf_append(&pd.diag, reply.data, reply.len);
				memcpy(pd.remote, remote, sizeof(pd.remote));
				n += pending_flush(c, &pd, action);
			}
			pending_open(c, &pd, a, alen, action);
		}
	}
	if (pd.open) {
		if (pd.diag.len == 0)
			buf_append(&pd.diag, reply.data, reply.len);
		memcpy(pd.remote, remote, sizeof(pd.remote));
		n += pending_flush(c, &pd, action);
	}
	buf_free(&pd.diag);
	buf_free(&reply);
	return n;
}

/* exchange_reason - the reply inside "Remote Server returned '...'" or
 * "#550 5.1.1 ... ##" */
static int
exchange_reason(struct line t, struct pending *pd)
{
	const char *q, *e;

	if (starts_ci(t, "Remote Server returned")) {
		q = memchr(t.p, '\'', t.n);
		if (q == NULL)
			return 0;
		q++;
		e = t.p + t.n;
		while (e > q && e[-1] != '\'')
			e--;
		if (e > q)
			e--;
		else
			e = t.p + t.n;
		buf_reset(&pd->diag);
		diag_add(&pd->diag, q, (size_t) (e - q));
		return 1;
	}
	if (t.n > 4 && t.p[0] == '#' && isdigit((unsigned char) t.p[1])) {
		e = line_find(t, "##");
		buf_reset(&pd->diag);
		diag_add(&pd->diag, t.p + 1, e ? (size_t) (e - t.p - 1) : t.n - 1);
		return 1;
	}
	return 0;
}

/*
 * exchange_form - "Diagnostic information for administrators:" with
 * address lines and "Remote Server returned '...'" (or "#550 ... ##");
 * Exchange 2003's "could not be reached:" list with indented reasons.
 */
static int
exchange_form(struct dsn_ctx *c, const char *text)
{
	const char *admin, *reach, *cur, *a;
	struct pending pd;
	struct line l, t;
	size_t alen;
	int n = 0;

	admin = dsn_ci_find(text, "Diagnostic information for administrators");
	reach = dsn_ci_find(text, "could not be reached");
	if (reach == NULL)
		reach = dsn_ci_find(text, "did not reach the following recipient");
	pending_init(&pd);
	if (admin != NULL) {
		cur = after_line(admin);
		while (next_line(&cur, &l)) {
			t = trim(l);
			if (starts_ci(t, "Original message headers"))
				break;
			if (starts_ci(t, "Generating server:"))
				continue;
			if (exchange_reason(t, &pd)) {
				if (!pd.open) { /* reason before any address */
					const char *m =
					    dsn_ci_find(text, "Your message to ");

					if (m != NULL
					    && dsn_find_address(m, strcspn(m, "\n"), &a,
								&alen)) {
						pd.open = 1;
						pd.addr = a;
						pd.alen = alen;
					}
				}
				continue;
			}
			if (lone_address(l, &a, &alen) && t.n < alen + 3) {
				if (pd.open)
					n += pending_flush(c, &pd, DSN_ACTION_FAILED);
				pending_open(c, &pd, a, alen, DSN_ACTION_FAILED);
			}
		}
		if (pd.open)
			n += pending_flush(c, &pd, DSN_ACTION_FAILED);
	}
	if (n == 0 && reach != NULL) {
		cur = after_line(reach);
		while (next_line(&cur, &l)) {
			t = trim(l);
			if (t.n == 0)
				continue;
			if (starts_ci(t, "Original message headers")
			    || starts_ci(t, "-----")
			    || (indent_of(l) == 0 && !lone_address(l, &a, &alen)))
				break;
			if (lone_address(l, &a, &alen)
			    && (t.n < alen + 3 || line_find(t, " on ") != NULL)
			    && indent_of(l) < 8) {
				pending_open(c, &pd, a, alen, DSN_ACTION_FAILED);
				n++;
				continue;
			}
			if (pd.open && !exchange_reason(t, &pd))
				diag_add(&pd.diag, t.p, t.n);
		}
		if (pd.open)
			pending_flush(c, &pd, DSN_ACTION_FAILED);
	}
	buf_free(&pd.diag);
	return n;
}

/*
 * gmail_form - "Delivery to the following recipient failed permanently:"
 * (or "Your message wasn't delivered to ADDR because ..."), the address
 * indented, then "The response from the remote server was:" and the reply.
 */
static int
gmail_form(struct dsn_ctx *c, const char *text)
{
	static const char *const lists[] = {
		"Delivery to the following recipient failed permanently",
		"Delivery to the following recipients failed permanently",
		"Delivery to the following recipient failed",
		"Delivery to the following recipients failed",
		"Delivery to the following recipient has been delayed",
		"Delivery to the following recipients has been delayed",
	};
	static const char *const replies[] = {
		"The error that the other server returned was:",
		"The response from the remote server was:",
		"The response was:",
		"The recipient server did not accept our requests",
	};
	const char *list = NULL, *cur, *a, *m, *by;
	struct buf diag;
	struct line l, t;
	char remote[256] = "";
	size_t alen, i, k;
	int n = 0, seen = 0;
	enum dsn_action action;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]) && list == NULL; i++)
		list = dsn_ci_find(text, lists[i]);
	m = dsn_ci_find(text, "wasn't delivered to ");
	if (m == NULL)
		m = dsn_ci_find(text, "was not delivered to ");
	if (list == NULL && m == NULL)
		return 0;
	action = DSN_ACTION_FAILED;
	if (list != NULL) {
		struct line ll = { list, strcspn(list, "\n") };

		if (line_find(ll, "has been delayed") != NULL)
			action = DSN_ACTION_DELAYED;
	}
	if (dsn_ci_find(text, "Technical details of temporary failure") != NULL
	    && dsn_ci_find(text, "failed permanently") == NULL)
		action = DSN_ACTION_DELAYED;

	buf_init(&diag);
	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		if ((m = dsn_ci_find(text, replies[i])) == NULL)
			continue;
		cur = after_line(m);
		while (next_line(&cur, &l)) {
			t = trim(l);
			if (t.n == 0) {
				if (diag.len > 0)
					break;
				continue;
			}
			diag_add(&diag, t.p, t.n);
		}
		break;
	}
	if ((by = dsn_ci_find(text, "for the recipient domain ")) != NULL
	    && (by = strstr(by, " by ")) != NULL) {
		k = token_len(by + 4, 255);
		while (k > 0 && (by[4 + k - 1] == '.' || by[4 + k - 1] == ','))
			k--;
		if (k > 0 && k < sizeof(remote)) {
			memcpy(remote, by + 4, k);
			remote[k] = 0;
		}
	}
	if (list != NULL) {
		cur = after_line(list);
		while (next_line(&cur, &l)) {
			t = trim(l);
			if (t.n == 0) {
				if (seen)
					break;
				continue;
			}
			seen = 1;
			if (!lone_address(l, &a, &alen))
				break;
			dsn_add_recipient(c, a, alen, diag.data, diag.len, remote,
					  strlen(remote), action);
			n++;
		}
	}
	if (n == 0 && (m = dsn_ci_find(text, "delivered to ")) != NULL
	    && dsn_find_address(m, strcspn(m, "\n"), &a, &alen)) {
		dsn_add_recipient(c, a, alen, diag.data, diag.len, remote, strlen(remote),
				  action);
		n++;
	}
	buf_free(&diag);
	return n;
}

/* dsn_text_forms - try each known form (see dsn_int.h) */
int
dsn_text_forms(struct dsn_ctx *c, const char *text)
{
	const char *m;
	size_t before = c->d->rcpt_seen;

#define TRY(fmt, call)                                                                   \
	do {                                                                             \
		if ((call) > 0 || c->d->rcpt_seen > before) {                            \
			c->d->format = (fmt);                                            \
			return 1;                                                        \
		}                                                                        \
	} while (0)
	if ((m = dsn_ci_find(text, "This is the qmail-send program")) != NULL
	    || (m = dsn_ci_find(text, "I'm afraid I wasn't able to deliver")) != NULL)
		TRY(DSN_FORMAT_QMAIL, angle_form(c, after_line(m), DSN_ACTION_FAILED));
	if ((m = dsn_ci_find(text,
			     "we were unable to deliver your message to the following"))
		!= NULL
	    || (m = dsn_ci_find(text,
				"Unable to deliver message to the following address"))
		   != NULL)
		TRY(DSN_FORMAT_YAHOO, angle_form(c, after_line(m), DSN_ACTION_FAILED));
	if (dsn_ci_find(text, "created automatically by mail delivery software") != NULL)
		TRY(DSN_FORMAT_EXIM, exim_form(c, text));
	if (dsn_ci_find(text, "Transcript of session follows") != NULL
	    || dsn_ci_find(text, "had permanent fatal errors") != NULL
	    || dsn_ci_find(text, "had transient non-fatal errors") != NULL)
		TRY(DSN_FORMAT_SENDMAIL, sendmail_form(c, text));
	if (dsn_ci_find(text, "Diagnostic information for administrators") != NULL
	    || dsn_ci_find(text, "following recipient(s) could not be reached") != NULL
	    || dsn_ci_find(text, "did not reach the following recipient") != NULL
	    || dsn_ci_find(text, "Remote Server returned '") != NULL)
		TRY(DSN_FORMAT_EXCHANGE, exchange_form(c, text));
	TRY(DSN_FORMAT_GMAIL, gmail_form(c, text));
#undef TRY
	return 0;
}

/* daemon_like - whether the report comes from a mailer daemon or says it
 * is a delivery failure */
static int
daemon_like(const struct dsn *d)
{
	static const char *const senders[] = { "mailer-daemon", "postmaster",
					       "mail delivery", "mail.delivery" };
	static const char *const subjects[] = {
		"undeliver",
		"delivery status notification",
		"delivery failure",
		"delivery failed",
		"delivery has failed",
		"returned mail",
		"failure notice",
		"non-delivery",
		"nondelivery",
		"not delivered",
		"could not be delivered",
		"mail delivery failed",
		"delivery problem",
		"rejected",
		"bounce",
		"unzustellbar",
		"non remis",
	};
	size_t i;

	for (i = 0; d->self.from && i < sizeof(senders) / sizeof(senders[0]); i++)
		if (dsn_ci_find(d->self.from, senders[i]) != NULL)
			return 1;
	for (i = 0; d->self.subject && i < sizeof(subjects) / sizeof(subjects[0]); i++)
		if (dsn_ci_find(d->self.subject, subjects[i]) != NULL)
			return 1;
	return 0;
}

/* reply_line - whether a trimmed line holds an SMTP failure reply */
static int
reply_line(struct line t)
{
	size_t i;

	for (i = 0; i + 3 < t.n; i++) {
		if ((t.p[i] == '4' || t.p[i] == '5')
		    && isdigit((unsigned char) t.p[i + 1])
		    && isdigit((unsigned char) t.p[i + 2])
		    && (t.p[i + 3] == ' ' || t.p[i + 3] == '-')
		    && (i == 0 || t.p[i - 1] == ' ' || t.p[i - 1] == ':'
			|| t.p[i - 1] == '(' || t.p[i - 1] == '\'')
		    && (i + 8 < t.n && (t.p[i + 4] == t.p[i]) && t.p[i + 5] == '.'))
			return 1;
		if (i == 0 && (t.p[0] == '4' || t.p[0] == '5')
		    && isdigit((unsigned char) t.p[1]) && isdigit((unsigned char) t.p[2])
		    && (t.p[3] == ' ' || t.p[3] == '-'))
			return 1;
	}
	return 0;
}

/* dsn_text_generic - "<addr>: reason" lines, or the first reply line */
int
dsn_text_generic(struct dsn_ctx *c, const char *text)
{
	const char *cur = text, *a = NULL, *la = NULL;
	struct line l, t;
	size_t alen = 0, lalen = 0;
	int n;

	if (!daemon_like(c->d))
		return 0;
	if ((n = angle_form(c, text, DSN_ACTION_FAILED)) > 0)
		return n;
	while (next_line(&cur, &l)) {
		t = trim(l);
		if (t.n > 0 && reply_line(t)) {
			if (dsn_find_address(t.p, t.n, &a, &alen))
				la = a, lalen = alen;
			dsn_add_recipient(c, la, lalen, t.p, t.n, NULL, 0,
					  DSN_ACTION_FAILED);
			return 1;
		}
		if (t.n > 0 && dsn_find_address(t.p, t.n, &a, &alen)
		    && !starts_ci(t, "From:") && !starts_ci(t, "To:"))
			la = a, lalen = alen;
	}
	return 0;
}

/* dsn_text_returned - find a quoted header block of the returned message */
void
dsn_text_returned(struct dsn_ctx *c, const char *text)
{
	static const char *const firsts[] = { "Return-Path:", "Received:",
					      "Message-ID:",  "DKIM-Signature:",
					      "From:",	      "Date:" };
	struct dsn_hdrs *h = xcalloc(1, sizeof(*h));
	const char *cur = text;
	struct line l;
	size_t i, tries = 0;

	while (tries < 50 && next_line(&cur, &l)) {
		for (i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++)
			if (starts_ci(l, firsts[i]))
				break;
		if (i == sizeof(firsts) / sizeof(firsts[0])
		    && !starts_ci(l, c->token_header))
			continue;
		tries++;
		dsn_parse_headers(c, l.p, strlen(l.p), h);
		if ((dsn_hdr_get(h, "Message-ID") != NULL
		     || dsn_hdr_get(h, c->token_header) != NULL)
		    && dsn_take_returned(c, h))
			break;
		/* Go on after the block just read. */
	}
	dsn_hdrs_free(h);
}
