/*
 * server.c - the libmicrohttpd glue: turn MHD's calls into an api_req,
 * answer with api_dispatch's api_resp.  Bodies are read up to
 * api_max_body; beyond it the answer is 413.  Every daemon uses MHD's
 * epoll and its own thread pool, a connection limit and an idle timeout,
 * so a slow or greedy client cannot hold the API.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "server.h"
#include "util/log.h"
#include "util/util.h"

#define MAX_LISTEN 16
#define DRAIN_MS 5000

struct listener {
	int fd;
	struct MHD_Daemon *d;
};

struct server {
	struct api *a;
	api_dispatch_fn dispatch;
	const char *what; /* "api_listen" or "track_listen" */
	struct listener l[MAX_LISTEN];
	int n;
	char *cert; /* PEM text the running daemons use */
	char *key;
};

/* One connection's request body as it arrives. */
struct conn {
	struct buf body;
	int too_big;
};

/* split_addr - "host:port" or "[v6]:port" into host and port; -1 if neither. */
static int
split_addr(const char *addr, char *host, size_t hostlen, const char **port)
{
	const char *colon, *end;

	if (addr[0] == '[') {
		if ((end = strchr(addr, ']')) == NULL || end[1] != ':')
			return -1;
		colon = end + 1;
		addr++;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL || strchr(addr, ':') != colon)
			return -1;
		end = colon;
	}
	if ((size_t) (end - addr) >= hostlen || end == addr || colon[1] == 0)
		return -1;
	memcpy(host, addr, (size_t) (end - addr));
	host[end - addr] = 0;
	*port = colon + 1;
	return 0;
}

/* resolve - the numeric address of one entry. */
static int
resolve(const char *addr, struct addrinfo **res, char *err, size_t errlen)
{
	struct addrinfo hints;
	char host[256];
	const char *port;
	int rc;

	if (split_addr(addr, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen,
			 "api_listen: \"%s\" is not HOST:PORT or [IPv6]:PORT", addr);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, res)) != 0) {
		snprintf(err, errlen, "api_listen: \"%s\": %s", addr, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* server_check_listen - see server.h. */
int
server_check_listen(char *const *addrs, char *err, size_t errlen)
{
	struct addrinfo *res;
	int n = 0;

	for (; *addrs != NULL; addrs++, n++) {
		if (resolve(*addrs, &res, err, errlen) < 0)
			return -1;
		freeaddrinfo(res);
	}
	if (n == 0 || n > MAX_LISTEN) {
		snprintf(err, errlen, "api_listen: give 1 to %d addresses", MAX_LISTEN);
		return -1;
	}
	return 0;
}

/* server_new - see server.h. */
struct server *
server_new(struct api *a)
{
	return server_new_with(a, api_dispatch, "api_listen");
}

/* server_new_with - see server.h. */
struct server *
server_new_with(struct api *a, api_dispatch_fn dispatch, const char *what)
{
	struct server *s = xcalloc(1, sizeof(*s));

	s->a = a;
	s->dispatch = dispatch;
	s->what = what;
	return s;
}

/* server_bind - see server.h. */
int
server_bind(struct server *s, char *const *addrs)
{
	struct addrinfo *res;
	char err[512];
	int fd, one = 1;

	for (; *addrs != NULL && s->n < MAX_LISTEN; addrs++) {
		if (resolve(*addrs, &res, err, sizeof(err)) < 0) {
			log_error("%s", err);
			return -1;
		}
		fd =
		    socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0
		    || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0
		    || (res->ai_family == AF_INET6
			&& setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))
			       < 0)
		    || bind(fd, res->ai_addr, res->ai_addrlen) < 0
		    || listen(fd, 1024) < 0) {
			log_error("%s: cannot listen on %s: %s", s->what, *addrs,
				  strerror(errno));
			if (fd >= 0)
				close(fd);
			freeaddrinfo(res);
			return -1;
		}
		freeaddrinfo(res);
		s->l[s->n].fd = fd;
		s->l[s->n].d = NULL;
		s->n++;
	}
	return 0;
}

/* read_file - a whole small file as text; NULL (logged) on error. */
static char *
read_file(const char *path)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		log_error("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b.len < 1024 * 1024)
		buf_append(&b, chunk, n);
	if (ferror(fp)) {
		log_error("cannot read %s", path);
		fclose(fp);
		buf_free(&b);
		return NULL;
	}
	fclose(fp);
	return buf_take(&b);
}

/* load_pair - cert and key text, both or neither configured. */
static int
load_pair(const char *cert, const char *key, char **c_out, char **k_out)
{
	*c_out = *k_out = NULL;
	if ((cert == NULL || cert[0] == 0) && (key == NULL || key[0] == 0))
		return 0;
	if (cert == NULL || cert[0] == 0 || key == NULL || key[0] == 0) {
		log_error("api_tls_cert and api_tls_key go together");
		return -1;
	}
	if ((*c_out = read_file(cert)) == NULL)
		return -1;
	if ((*k_out = read_file(key)) == NULL) {
		free(*c_out);
		*c_out = NULL;
		return -1;
	}
	return 0;
}

/* server_load_tls - see server.h. */
int
server_load_tls(struct server *s, const char *cert, const char *key)
{
	return load_pair(cert, key, &s->cert, &s->key);
}

/* query_arg - a query parameter of the connection. */
static const char *
query_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* header_value - a request header of the connection. */
static const char *
header_value(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

/* peer_text - the connection's client address as text, or "". */
static void
peer_text(struct MHD_Connection *mc, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci;

	out[0] = 0;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (getnameinfo(ci->client_addr,
			ci->client_addr->sa_family == AF_INET6
			    ? sizeof(struct sockaddr_in6)
			    : sizeof(struct sockaddr_in),
			out, (socklen_t) outlen, NULL, 0, NI_NUMERICHOST)
	    != 0)
		out[0] = 0;
}

/* send_resp - queue resp on the connection (taking its body). */
static enum MHD_Result
send_resp(struct MHD_Connection *mc, struct api_resp *resp, const char *request_id)
{
	struct MHD_Response *r;
	enum MHD_Result ok;
	char wait[16];
	size_t len =
	    resp->body ? (resp->body_len ? resp->body_len : strlen(resp->body)) : 0;

	r = MHD_create_response_from_buffer(len, resp->body ? resp->body : (char *) "",
					    resp->body ? MHD_RESPMEM_MUST_FREE
						       : MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	resp->body = NULL;
	MHD_add_response_header(r, "Content-Type",
				resp->content_type ? resp->content_type
						   : "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Request-Id", request_id);
	if (resp->retry_after > 0) {
		snprintf(wait, sizeof(wait), "%d", resp->retry_after);
		MHD_add_response_header(r, "Retry-After", wait);
	}
	if (resp->allow[0] != 0)
		MHD_add_response_header(r, "Allow", resp->allow);
	if (resp->location != NULL)
		MHD_add_response_header(r, "Location", resp->location);
	ok = MHD_queue_response(mc, (unsigned) resp->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* too_big - the 413 answer. */
static enum MHD_Result
too_big(struct server *s, struct MHD_Connection *mc, const char *method, const char *url)
{
	struct api_req req;
	struct api_resp resp;
	enum MHD_Result ok;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = method;
	req.path = url;
	reply_request_id(req.request_id);
	reply_error(&resp, &req, 413, "payload_too_large", "the body is over %d bytes",
		    s->a->cfg->api_max_body);
	__atomic_add_fetch(&s->a->errors, 1, __ATOMIC_RELAXED);
	ok = send_resp(mc, &resp, req.request_id);
	api_resp_clear(&resp);
	return ok;
}

/* on_request - MHD's access handler: gather the body, then answer. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct conn *c = *con_cls;
	struct api_req req;
	struct api_resp resp;
	enum MHD_Result ok;
	const char *cl;
	size_t max = (size_t) s->a->cfg->api_max_body;

	(void) version;
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		buf_init(&c->body);
		*con_cls = c;
		cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > max) {
			c->too_big = 1;
			return too_big(s, mc, method, url);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!c->too_big && c->body.len + *upload_size <= max)
			buf_append(&c->body, upload, *upload_size);
		else
			c->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (c->too_big)
		return too_big(s, mc, method, url);
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = method;
	req.path = url;
	req.body = c->body.data ? c->body.data : "";
	req.body_len = c->body.len;
	req.authorization = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_AUTHORIZATION);
	req.query_arg = query_arg;
	req.query_ctx = mc;
	req.header = header_value;
	peer_text(mc, req.peer, sizeof(req.peer));
	reply_request_id(req.request_id);
	s->dispatch(s->a, &req, &resp);
	ok = send_resp(mc, &resp, req.request_id);
	api_resp_clear(&resp);
	return ok;
}

/* on_completed - free the connection's request state. */
static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct conn *c = *con_cls;

	(void) cls;
	(void) mc;
	(void) toe;
	if (c == NULL)
		return;
	buf_free(&c->body);
	free(c);
	*con_cls = NULL;
}

/* mhd_log - libmicrohttpd's messages into our log. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void) cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = 0;
	log_warn("http: %s", msg);
}

/*
 * start_one - a daemon on a copy of fd with the given TLS text (NULL:
 * plain).  The copy is the daemon's own: libmicrohttpd closes it when it
 * fails to start, and hands it back when quiesced; fd stays ours.
 */
static struct MHD_Daemon *
start_one(struct server *s, int fd, const char *cert, const char *key)
{
	const struct config *cfg = s->a->cfg;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC
			 | MHD_USE_ERROR_LOG;
	unsigned timeout = (unsigned) ((cfg->api_connection_timeout_ms + 999) / 1000);
	struct MHD_OptionItem tls[3];
	int copy;

	if ((copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		log_error("cannot copy the listening socket: %s", strerror(errno));
		return NULL;
	}
	memset(tls, 0, sizeof(tls));
	tls[0].option = tls[1].option = tls[2].option = MHD_OPTION_END;
	if (cert != NULL) {
		flags |= MHD_USE_TLS;
		tls[0].option = MHD_OPTION_HTTPS_MEM_CERT;
		tls[0].ptr_value = (void *) cert;
		tls[1].option = MHD_OPTION_HTTPS_MEM_KEY;
		tls[1].ptr_value = (void *) key;
	}
	return MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
	    MHD_OPTION_LISTEN_SOCKET, copy, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned) (cfg->api_threads > 0 ? cfg->api_threads : 1),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned) cfg->api_max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout > 0 ? timeout : 1,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
}

/* server_start - see server.h. */
int
server_start(struct server *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		s->l[i].d = start_one(s, s->l[i].fd, s->cert, s->key);
		if (s->l[i].d == NULL) {
			log_error("cannot start the HTTP server%s",
				  s->cert ? " (TLS)" : "");
			return -1;
		}
	}
	return 0;
}

/*
 * retire - stop a daemon taking connections, let it finish those it has
 * (for a while), stop it and close its copy of the listening socket.
 */
static void
retire(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info;
	int64_t until = monotonic_ms() + DRAIN_MS;
	MHD_socket fd = MHD_quiesce_daemon(d);

	while (monotonic_ms() < until) {
		info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (info == NULL || info->num_connections == 0)
			break;
		usleep(20 * 1000);
	}
	MHD_stop_daemon(d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

/* server_reload - see server.h. */
int
server_reload(struct server *s, const char *cert, const char *key)
{
	struct MHD_Daemon *fresh[MAX_LISTEN];
	char *c, *k;
	int i;

	if (load_pair(cert, key, &c, &k) < 0)
		return -1;
	for (i = 0; i < s->n; i++) {
		if ((fresh[i] = start_one(s, s->l[i].fd, c, k)) == NULL) {
			log_error("reload: cannot start the HTTP server; the old one "
				  "serves on");
			while (--i >= 0)
				retire(fresh[i]);
			free(c);
			free(k);
			return -1;
		}
	}
	for (i = 0; i < s->n; i++) {
		retire(s->l[i].d);
		s->l[i].d = fresh[i];
	}
	free(s->cert);
	free(s->key);
	s->cert = c;
	s->key = k;
	return 0;
}

/* server_free - stop every daemon and close the sockets. */
void
server_free(struct server *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		if (s->l[i].d != NULL)
			retire(s->l[i].d);
		close(s->l[i].fd);
	}
	free(s->cert);
	free(s->key);
	free(s);
}
