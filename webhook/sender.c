/*
 * sender.c - run webhook requests on one libcurl multi handle (see
 * sender.h).  Every request: POST, no redirects followed, TLS verified,
 * http/https only, a time limit, environment proxies ignored unless
 * webhook_proxy is set, at most RESPONSE_BODY_MAX bytes of answer kept;
 * with refuse_private_endpoints, no private or loopback peer, checked when
 * a connection is opened and again when one (new or kept alive) is about
 * to carry the request.
 * Easy handles of finished requests are reset and reused (up to
 * webhook_max_in_flight of them), which spares their buffers' churn.
 * Only the loop thread calls these functions.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/cidr.h"
#include "config/config.h"
#include "util/log.h"
#include "sender.h"

struct sender {
	CURLM *multi;
	struct transfer **live; /* in flight */
	int nlive;
	int cap;
	CURL **spare; /* finished easy handles, reset, for the next requests */
	int nspare;
	int spare_alloc;
	int spare_cap; /* keep at most this many */
	int64_t timeout_ms;
	char *proxy; /* "" ignores the environment */
	int refuse_private;
};

/* sender_configure - see sender.h. */
void
sender_configure(struct sender *s, const struct config *cfg)
{
	free(s->proxy);
	s->proxy = xstrdup(cfg->webhook_proxy ? cfg->webhook_proxy : "");
	s->timeout_ms = cfg->webhook_timeout_ms;
	s->refuse_private = cfg->refuse_private_endpoints;
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS,
			  (long) (cfg->webhook_max_in_flight * 2));
	s->spare_cap = cfg->webhook_max_in_flight;
}

/* sender_new - see sender.h. */
struct sender *
sender_new(const struct config *cfg)
{
	struct sender *s = xcalloc(1, sizeof(*s));

	s->multi = curl_multi_init();
	if (s->multi == NULL) {
		log_error("curl_multi_init failed");
		free(s);
		return NULL;
	}
	sender_configure(s, cfg);
	return s;
}

/* sender_free - see sender.h. */
void
sender_free(struct sender *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nlive; i++) {
		curl_multi_remove_handle(s->multi, s->live[i]->easy);
		transfer_free(s->live[i]);
	}
	free(s->live);
	for (i = 0; i < s->nspare; i++)
		curl_easy_cleanup(s->spare[i]);
	free(s->spare);
	curl_multi_cleanup(s->multi);
	free(s->proxy);
	free(s);
}

/* on_body - keep the first RESPONSE_BODY_MAX bytes, read and drop the rest. */
static size_t
on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;
	size_t len = size * n;

	if (t->response.len < RESPONSE_BODY_MAX) {
		size_t room = RESPONSE_BODY_MAX - t->response.len;

		buf_append(&t->response, data, len < room ? len : room);
	}
	return len;
}

/* on_header - note Retry-After; a new status line starts a new answer. */
static size_t
on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;
	size_t len = size * n, vlen;
	const char *v;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(t->retry_after);
		t->retry_after = NULL;
	} else if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		v = data + 12;
		vlen = len - 12;
		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (
		    vlen > 0
		    && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		free(t->retry_after);
		t->retry_after = xstrndup(v, vlen < 200 ? vlen : 200);
	}
	return len;
}

/* is_private - a special-use address (cidr.h), or not an IP address. */
static int
is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return cidr_is_special(
		    AF_INET,
		    (const unsigned char *) &((const struct sockaddr_in *) sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return cidr_is_special(
		    AF_INET6, ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr);
	return 1;
}

/* refuse - note why the request fails; the error names the option. */
static void
refuse(struct transfer *t, const char *ip)
{
	t->refused_private = 1;
	log_warn("delivery %llu: refusing a connection to the private address %s "
		 "(refuse_private_endpoints = yes)",
		 (unsigned long long) t->delivery_id, ip);
}

/* on_open_socket - with refuse_private_endpoints, no private peers. */
static curl_socket_t
on_open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct transfer *t = ctx;
	char ip[INET6_ADDRSTRLEN] = "?";

	(void) purpose;
	if (is_private(&addr->addr)) {
		if (addr->family == AF_INET)
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *) &addr->addr)->sin_addr, ip,
				  sizeof(ip));
		else if (addr->family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *) &addr->addr)->sin6_addr, ip,
				  sizeof(ip));
		refuse(t, ip);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

/*
 * on_prereq - the same check on the connection about to carry the
 * request, new or kept alive: one opened before a reload turned
 * refuse_private_endpoints on is not used again.
 */
static int
on_prereq(void *ctx, char *peer, char *local, int peer_port, int local_port)
{
	struct transfer *t = ctx;
	struct sockaddr_storage ss;

	(void) local;
	(void) peer_port;
	(void) local_port;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, peer, &((struct sockaddr_in *) &ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, peer, &((struct sockaddr_in6 *) &ss)->sin6_addr)
		 == 1)
		ss.ss_family = AF_INET6;
	else
		ss.ss_family = AF_UNSPEC; /* unknown: refused */
	if (is_private((struct sockaddr *) &ss)) {
		refuse(t, peer);
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

/* setup_easy - the options every webhook request has. */
static int
setup_easy(struct sender *s, struct transfer *t)
{
	CURL *e = t->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                                    \
	do {                                                                             \
		if (rc == CURLE_OK)                                                      \
			rc = curl_easy_setopt(e, opt, val);                              \
	} while (0)
	SET(CURLOPT_URL, t->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, t->body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) t->body_len);
	SET(CURLOPT_HTTPHEADER, t->hdr_list);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long) s->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long) s->timeout_ms);
	SET(CURLOPT_PROXY, s->proxy);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, t);
	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_PRIVATE, t);
	if (s->refuse_private) {
		SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
		SET(CURLOPT_OPENSOCKETDATA, t);
		SET(CURLOPT_PREREQFUNCTION, on_prereq);
		SET(CURLOPT_PREREQDATA, t);
	}
#undef SET
	if (rc != CURLE_OK) {
		log_error("%s: %s", t->url, curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* sender_start - see sender.h. */
int
sender_start(struct sender *s, struct transfer *t)
{
	t->easy = s->nspare > 0 ? s->spare[--s->nspare] : curl_easy_init();
	if (t->easy == NULL) {
		log_error("curl_easy_init failed");
		return -1;
	}
	if (setup_easy(s, t) < 0)
		return -1;
	t->started = now_seconds();
	t->started_ms = monotonic_ms();
	if (curl_multi_add_handle(s->multi, t->easy) != CURLM_OK) {
		log_error("%s: cannot add the request", t->url);
		return -1;
	}
	if (s->nlive == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->live = xrealloc(s->live, (size_t) s->cap * sizeof(*s->live));
	}
	s->live[s->nlive++] = t;
	return 0;
}

/* sender_wait - see sender.h. */
int
sender_wait(struct sender *s, struct curl_waitfd *fds, int nfds, int timeout_ms)
{
	int numfds, i;
	CURLMcode rc;

	for (i = 0; i < nfds; i++)
		fds[i].revents = 0;
	rc = curl_multi_poll(s->multi, nfds > 0 ? fds : NULL, (unsigned) nfds, timeout_ms,
			     &numfds);
	if (rc != CURLM_OK) {
		log_error("libcurl: %s", curl_multi_strerror(rc));
		return -1;
	}
	return sender_perform(s);
}

/* sender_perform - see sender.h. */
int
sender_perform(struct sender *s)
{
	int running;
	CURLMcode rc;

	rc = curl_multi_perform(s->multi, &running);
	if (rc != CURLM_OK) {
		log_error("libcurl: %s", curl_multi_strerror(rc));
		return -1;
	}
	return 0;
}

/* sender_next_done - see sender.h. */
struct transfer *
sender_next_done(struct sender *s)
{
	struct transfer *t = NULL;
	CURLMsg *msg;
	int left, i;

	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t)
			!= CURLE_OK
		    || t == NULL)
			continue;
		transfer_finish(t, msg->data.result);
		curl_multi_remove_handle(s->multi, t->easy);
		/* keep the handle (its buffers) for another request */
		if (s->nspare < s->spare_cap) {
			if (s->nspare == s->spare_alloc) {
				s->spare_alloc = s->spare_alloc ? s->spare_alloc * 2 : 16;
				s->spare = xrealloc(s->spare, (size_t) s->spare_alloc
								  * sizeof(*s->spare));
			}
			curl_easy_reset(t->easy);
			s->spare[s->nspare++] = t->easy;
			t->easy = NULL;
		}
		for (i = 0; i < s->nlive; i++) {
			if (s->live[i] == t) {
				s->live[i] = s->live[--s->nlive];
				break;
			}
		}
		return t;
	}
	return NULL;
}

/* sender_in_flight - see sender.h. */
int
sender_in_flight(const struct sender *s)
{
	return s->nlive;
}

/* sender_endpoint_load - see sender.h. */
int
sender_endpoint_load(const struct sender *s, const char *endpoint_id)
{
	int i, n = 0;

	for (i = 0; i < s->nlive; i++)
		if (strcmp(s->live[i]->endpoint_id, endpoint_id) == 0)
			n++;
	return n;
}

/* sender_has - see sender.h. */
int
sender_has(const struct sender *s, uint64_t delivery_id)
{
	int i;

	for (i = 0; i < s->nlive; i++)
		if (s->live[i]->delivery_id == delivery_id)
			return 1;
	return 0;
}
