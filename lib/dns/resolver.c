/*
 * resolver.c - dns_lookup() on the wire: libunbound asked asynchronously,
 * its descriptor polled until the answer or dns_timeout, then the rdata
 * turned into the text records of dns.h.
 *
 * libunbound (not ldns, c-ares) because it is a full, maintained resolver:
 * it follows CNAME chains and stops their loops, retries over TCP when an
 * answer is truncated (a 64 KB TXT record), and caches within one run, so
 * a thousand domains that share includes ask for them once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "dns/resolver.h"
#include "util/util.h"

struct dns_resolver {
	struct ub_ctx *ctx;
	int64_t timeout_ms;
	int64_t deadline_ms; /* 0: none */
};

/* One question in flight. */
struct pending {
	int done;
	int err;
	struct ub_result *result;
};

/* dns_resolver_new - a libunbound context over resolv.conf */
struct dns_resolver *
dns_resolver_new(const char *resolv_conf, int64_t timeout_ms, char *err, size_t errlen)
{
	struct dns_resolver *r;
	int rc;

	r = xcalloc(1, sizeof(*r));
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	if ((r->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create a libunbound context");
		free(r);
		return (NULL);
	}
	/* The nameservers of resolv.conf may be local (127.0.0.53). */
	if ((rc = ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no")) != 0
	    || (rc = ub_ctx_async(r->ctx, 1)) != 0
	    || (rc = ub_ctx_resolvconf(r->ctx, resolv_conf)) != 0) {
		snprintf(err, errlen, "resolver setup (%s): %s",
			 resolv_conf ? resolv_conf : "/etc/resolv.conf",
			 rc == UB_READFILE ? strerror(errno) : ub_strerror(rc));
		ub_ctx_delete(r->ctx);
		free(r);
		return (NULL);
	}
	return (r);
}

/* dns_resolver_free - the context and its thread */
void
dns_resolver_free(struct dns_resolver *r)
{
	if (r == NULL)
		return;
	ub_ctx_delete(r->ctx);
	free(r);
}

/* answered - libunbound's callback: keep the result */
static void
answered(void *arg, int err, struct ub_result *result)
{
	struct pending *p = arg;

	p->done = 1;
	p->err = err;
	p->result = result;
}

/*
 * wire_name - the domain name at data[*off] (uncompressed, as libunbound
 * gives rdata) as text without the final dot; -1 if malformed.
 */
static int
wire_name(const unsigned char *data, size_t len, size_t *off, char *out, size_t outlen)
{
	size_t o = *off, used = 0, l, i;

	for (;;) {
		if (o >= len)
			return (-1);
		l = data[o++];
		if (l == 0)
			break;
		if (l > 63 || o + l > len || used + l + 2 > outlen)
			return (-1);
		if (used > 0)
			out[used++] = '.';
		for (i = 0; i < l; i++) {
			unsigned char c = data[o + i];

			/* Names are compared as text: keep them printable. */
			out[used++] = (c > 0x20 && c < 0x7f) ? (char) c : '?';
		}
		o += l;
	}
	out[used] = 0;
	*off = o;
	return (0);
}

/* add_rdata - one record of the answer as text; -1 if malformed */
static int
add_rdata(struct dns_answer *a, enum dns_type type, const unsigned char *d, size_t len)
{
	char name[1100], addr[INET6_ADDRSTRLEN];
	struct buf b;
	size_t off = 0, l;

	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (len != (type == DNS_T_A ? 4u : 16u)
		    || inet_ntop(type == DNS_T_A ? AF_INET : AF_INET6, d, addr,
				 sizeof(addr))
			   == NULL)
			return (-1);
		dns_answer_add(a, addr, 0);
		return (0);
	case DNS_T_MX:
		if (len < 3)
			return (-1);
		off = 2;
		if (wire_name(d, len, &off, name, sizeof(name)) < 0)
			return (-1);
		dns_answer_add(a, name, (d[0] << 8) | d[1]);
		return (0);
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if (wire_name(d, len, &off, name, sizeof(name)) < 0)
			return (-1);
		dns_answer_add(a, name, 0);
		return (0);
	case DNS_T_TXT:
		/* RFC 7208 3.3: the strings of one record are joined. */
		buf_init(&b);
		while (off < len) {
			l = d[off++];
			if (off + l > len) {
				buf_free(&b);
				return (-1);
			}
			buf_append(&b, d + off, l);
			off += l;
		}
		buf_append(&b, "", 1);
		/* A NUL inside a string would cut it short: refuse it. */
		if (strlen(b.data) != b.len - 1) {
			buf_free(&b);
			return (-1);
		}
		dns_answer_add(a, b.data, 0);
		buf_free(&b);
		return (0);
	}
	return (-1);
}

/* convert - a libunbound result as a dns_answer */
static void
convert(const struct ub_result *res, enum dns_type type, struct dns_answer *out)
{
	int i;

	if (res->rcode == 3 || res->nxdomain) {
		out->result = DNS_R_NXDOMAIN;
		return;
	}
	if (res->rcode != 0) {
		out->result = DNS_R_SERVFAIL;
		return;
	}
	out->result = DNS_R_NODATA;
	for (i = 0; res->havedata && res->data[i] != NULL; i++) {
		if (add_rdata(out, type, (const unsigned char *) res->data[i],
			      (size_t) res->len[i])
		    < 0) {
			dns_answer_clear(out);
			out->result = DNS_R_BAD;
			return;
		}
	}
	if (res->canonname != NULL)
		out->canon = xstrdup(res->canonname);
}

/* resolver_lookup - ask, and wait no longer than the timeout */
static int
resolver_lookup(void *arg, const char *name, enum dns_type type, struct dns_answer *out)
{
	struct dns_resolver *r = arg;
	struct pending p = { 0, 0, NULL };
	struct pollfd pfd;
	int64_t deadline = monotonic_ms() + r->timeout_ms, left;
	int id, rc;

	if (r->deadline_ms > 0 && r->deadline_ms < deadline)
		deadline = r->deadline_ms;
	if (deadline <= monotonic_ms()) {
		out->result = DNS_R_TIMEOUT;
		return (0);
	}

	rc = ub_resolve_async(r->ctx, name, (int) type, 1, &p, answered, &id);
	if (rc != 0) {
		out->result = DNS_R_SERVFAIL;
		return (0);
	}
	while (!p.done) {
		if ((left = deadline - monotonic_ms()) <= 0) {
			/* The result, were it to come, is freed by libunbound. */
			(void) ub_cancel(r->ctx, id);
			out->result = DNS_R_TIMEOUT;
			return (0);
		}
		pfd.fd = ub_fd(r->ctx);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int) left) < 0 && errno != EINTR) {
			(void) ub_cancel(r->ctx, id);
			return (-1);
		}
		if (ub_process(r->ctx) != 0) {
			(void) ub_cancel(r->ctx, id);
			return (-1);
		}
	}
	if (p.err != 0 || p.result == NULL)
		out->result = DNS_R_SERVFAIL;
	else
		convert(p.result, type, out);
	ub_resolve_free(p.result);
	return (0);
}

/* dns_resolver_deadline - bound what follows */
void
dns_resolver_deadline(struct dns_resolver *r, int64_t deadline_ms)
{
	r->deadline_ms = deadline_ms;
}

/* dns_resolver_source - the lookup the checks call */
struct dns_source
dns_resolver_source(struct dns_resolver *r)
{
	struct dns_source src = { resolver_lookup, r };

	return (src);
}
