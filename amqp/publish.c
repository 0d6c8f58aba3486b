/*
 * publish.c - publish to the broker with confirms through rabbitmq-c
 * (see publish.h).
 *
 * Heartbeats are off: rabbitmq-c answers them only inside its own calls,
 * and the sink spends its idle time in the store.  A dead broker shows as
 * a failed write or a confirm that does not come within the wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include "util/util.h"
#include "publish.h"

#define CHANNEL 1
#define CONNECT_TIMEOUT_S 10
#define FRAME_MAX 131072
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct publisher {
	char *url_text; /* amqp_parse_url() cuts it up in place */
	struct amqp_connection_info info;
	char *exchange;
	char *queue; /* NULL: none */
	const char *queue_type;
	char *ca_file;
	amqp_connection_state_t conn;
	int broken;	    /* the connection failed: close without a handshake */
	uint64_t base;	    /* delivery tag before the batch */
	uint64_t next_tag;  /* last tag used */
	unsigned char *ack; /* per tag of the batch: acked */
	size_t ack_cap;
	uint64_t sent, acked, nacked;
};

/* publisher_new - see publish.h. */
struct publisher *
publisher_new(const struct config *cfg, char *err, size_t errlen)
{
	struct publisher *p = xcalloc(1, sizeof(*p));

	p->url_text = xstrdup(cfg->amqp_url);
	amqp_default_connection_info(&p->info);
	if (amqp_parse_url(p->url_text, &p->info) != AMQP_STATUS_OK) {
		snprintf(err, errlen, "amqp_url is not an amqp:// or amqps:// URL");
		publisher_free(p);
		return NULL;
	}
	p->exchange = xstrdup(cfg->amqp_exchange);
	p->queue = cfg->amqp_queue[0] != 0 ? xstrdup(cfg->amqp_queue) : NULL;
	p->queue_type = cfg->amqp_queue_type == AMQP_QUEUE_STREAM ? "stream" : "quorum";
	p->ca_file = xstrdup(cfg->amqp_ca_file[0] != 0 ? cfg->amqp_ca_file : SYSTEM_CA);
	return p;
}

/* publisher_free - close and free. */
void
publisher_free(struct publisher *p)
{
	if (p == NULL)
		return;
	publisher_close(p);
	free(p->url_text);
	free(p->exchange);
	free(p->queue);
	free(p->ca_file);
	free(p->ack);
	free(p);
}

/* reply_text - why an RPC failed, into err; -1 unless it succeeded. */
static int
reply_text(amqp_rpc_reply_t r, const char *what, char *err, size_t errlen)
{
	const amqp_connection_close_t *cc;
	const amqp_channel_close_t *ch;

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return 0;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(err, errlen, "%s: %s", what,
			 amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			cc = r.reply.decoded;
			snprintf(err, errlen, "%s: broker closed the connection: %u %.*s",
				 what, cc->reply_code, (int) cc->reply_text.len,
				 (const char *) cc->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			ch = r.reply.decoded;
			snprintf(err, errlen, "%s: broker closed the channel: %u %.*s",
				 what, ch->reply_code, (int) ch->reply_text.len,
				 (const char *) ch->reply_text.bytes);
		} else
			snprintf(err, errlen, "%s: broker error (method 0x%08x)", what,
				 (unsigned) r.reply.id);
		break;
	default:
		snprintf(err, errlen, "%s: no reply", what);
	}
	return -1;
}

/* open_socket - the TCP or TLS socket, connected; -1 and err. */
static int
open_socket(struct publisher *p, char *err, size_t errlen)
{
	struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
	amqp_socket_t *sock;
	int st;

	if (p->info.ssl) {
		sock = amqp_ssl_socket_new(p->conn);
		if (sock != NULL) {
			amqp_ssl_socket_set_verify_peer(sock, 1);
			amqp_ssl_socket_set_verify_hostname(sock, 1);
			if (amqp_ssl_socket_set_cacert(sock, p->ca_file)
			    != AMQP_STATUS_OK) {
				snprintf(err, errlen, "cannot read CA certificates %s",
					 p->ca_file);
				return -1;
			}
		}
	} else
		sock = amqp_tcp_socket_new(p->conn);
	if (sock == NULL) {
		snprintf(err, errlen, "cannot make a socket");
		return -1;
	}
	st = amqp_socket_open_noblock(sock, p->info.host, p->info.port, &tv);
	if (st != AMQP_STATUS_OK) {
		snprintf(err, errlen, "cannot connect to %s:%d: %s", p->info.host,
			 p->info.port, amqp_error_string2(st));
		return -1;
	}
	if (amqp_set_rpc_timeout(p->conn, &tv) != AMQP_STATUS_OK) {
		snprintf(err, errlen, "cannot set the RPC timeout");
		return -1;
	}
	return 0;
}

/* declare - the exchange, and the queue bound to every key. */
static int
declare(struct publisher *p, char *err, size_t errlen)
{
	amqp_table_entry_t type;
	amqp_table_t args;
	amqp_bytes_t ex = amqp_cstring_bytes(p->exchange);

	amqp_exchange_declare(p->conn, CHANNEL, ex, amqp_cstring_bytes("topic"), 0, 1, 0,
			      0, amqp_empty_table);
	if (reply_text(amqp_get_rpc_reply(p->conn), "exchange.declare", err, errlen) < 0)
		return -1;
	if (p->queue == NULL)
		return 0;
	type.key = amqp_cstring_bytes("x-queue-type");
	type.value.kind = AMQP_FIELD_KIND_UTF8;
	type.value.value.bytes = amqp_cstring_bytes(p->queue_type);
	args.num_entries = 1;
	args.entries = &type;
	amqp_queue_declare(p->conn, CHANNEL, amqp_cstring_bytes(p->queue), 0, 1, 0, 0,
			   args);
	if (reply_text(amqp_get_rpc_reply(p->conn), "queue.declare", err, errlen) < 0)
		return -1;
	amqp_queue_bind(p->conn, CHANNEL, amqp_cstring_bytes(p->queue), ex,
			amqp_cstring_bytes("#"), amqp_empty_table);
	return reply_text(amqp_get_rpc_reply(p->conn), "queue.bind", err, errlen);
}

/* publisher_connect - see publish.h. */
int
publisher_connect(struct publisher *p, char *err, size_t errlen)
{
	amqp_rpc_reply_t r;

	publisher_close(p);
	if ((p->conn = amqp_new_connection()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->broken = 1;
	if (open_socket(p, err, errlen) < 0)
		goto fail;
	r = amqp_login(p->conn, p->info.vhost, 0, FRAME_MAX, 0, AMQP_SASL_METHOD_PLAIN,
		       p->info.user, p->info.password);
	if (reply_text(r, "login", err, errlen) < 0)
		goto fail;
	p->broken = 0;
	amqp_channel_open(p->conn, CHANNEL);
	if (reply_text(amqp_get_rpc_reply(p->conn), "channel.open", err, errlen) < 0)
		goto fail;
	amqp_confirm_select(p->conn, CHANNEL);
	if (reply_text(amqp_get_rpc_reply(p->conn), "confirm.select", err, errlen) < 0)
		goto fail;
	if (declare(p, err, errlen) < 0)
		goto fail;
	p->base = p->next_tag = 0;
	return 0;
fail:
	p->broken = 1; /* a refused RPC closes the channel or the connection */
	publisher_close(p);
	return -1;
}

/* publisher_connected - see publish.h. */
int
publisher_connected(const struct publisher *p)
{
	return p->conn != NULL;
}

/* publisher_close - see publish.h. */
void
publisher_close(struct publisher *p)
{
	if (p->conn == NULL)
		return;
	if (!p->broken) {
		(void) amqp_channel_close(p->conn, CHANNEL, AMQP_REPLY_SUCCESS);
		(void) amqp_connection_close(p->conn, AMQP_REPLY_SUCCESS);
	}
	(void) amqp_destroy_connection(p->conn);
	p->conn = NULL;
}

/* header - one string entry of the headers table. */
static void
header(amqp_table_entry_t *e, const char *key, const char *value)
{
	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(value);
}

/* publisher_send - see publish.h. */
int
publisher_send(struct publisher *p, const struct amqp_props *props, const char *body,
	       size_t len, char *err, size_t errlen)
{
	amqp_basic_properties_t pr;
	amqp_table_entry_t h[4];
	amqp_bytes_t b;
	int n = 0, st;

	if (p->conn == NULL) {
		snprintf(err, errlen, "not connected");
		return -1;
	}
	memset(&pr, 0, sizeof(pr));
	pr._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG
		    | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG
		    | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG
		    | AMQP_BASIC_HEADERS_FLAG;
	pr.content_type = amqp_cstring_bytes("application/json");
	pr.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	pr.message_id = amqp_cstring_bytes(props->message_id);
	pr.timestamp = props->timestamp;
	pr.type = amqp_cstring_bytes(props->type);
	pr.app_id = amqp_cstring_bytes(AMQP_APP_ID);
	header(&h[n++], "host_name", props->host_name);
	header(&h[n++], "tenant", props->tenant);
	if (props->queue_id != NULL)
		header(&h[n++], "queue_id", props->queue_id);
	if (props->event_key != NULL)
		header(&h[n++], "event_key", props->event_key);
	pr.headers.num_entries = n;
	pr.headers.entries = h;
	b.bytes = (void *) body;
	b.len = len;
	st = amqp_basic_publish(p->conn, CHANNEL, amqp_cstring_bytes(p->exchange),
				amqp_cstring_bytes(props->routing_key), 0, 0, &pr, b);
	if (st != AMQP_STATUS_OK) {
		snprintf(err, errlen, "publish: %s", amqp_error_string2(st));
		p->broken = 1;
		return -1;
	}
	p->next_tag++;
	p->sent++;
	return 0;
}

/* mark_acked - tags up to tag (or tag alone) are confirmed. */
static void
mark_acked(struct publisher *p, uint64_t tag, int multiple)
{
	uint64_t t, from = multiple ? p->base + 1 : tag;

	for (t = from; t <= tag && t <= p->next_tag; t++) {
		if (t <= p->base || p->ack[t - p->base - 1])
			continue;
		p->ack[t - p->base - 1] = 1;
		p->acked++;
	}
}

/* all_acked - is every tag of the batch confirmed? */
static int
all_acked(const struct publisher *p)
{
	uint64_t i;

	for (i = 0; i < p->next_tag - p->base; i++)
		if (!p->ack[i])
			return 0;
	return 1;
}

/* frame_failure - what a frame other than a confirm means; -1 and err, or 0. */
static int
frame_failure(struct publisher *p, const amqp_frame_t *f, char *err, size_t errlen)
{
	const amqp_connection_close_t *cc;
	const amqp_channel_close_t *ch;
	const amqp_connection_blocked_t *bl;

	switch (f->payload.method.id) {
	case AMQP_BASIC_NACK_METHOD:
		p->nacked++;
		snprintf(err, errlen, "the broker refused a message (basic.nack)");
		return -1;
	case AMQP_CHANNEL_CLOSE_METHOD:
		ch = f->payload.method.decoded;
		snprintf(err, errlen, "broker closed the channel: %u %.*s",
			 ch->reply_code, (int) ch->reply_text.len,
			 (const char *) ch->reply_text.bytes);
		return -1;
	case AMQP_CONNECTION_CLOSE_METHOD:
		cc = f->payload.method.decoded;
		snprintf(err, errlen, "broker closed the connection: %u %.*s",
			 cc->reply_code, (int) cc->reply_text.len,
			 (const char *) cc->reply_text.bytes);
		return -1;
	case AMQP_CONNECTION_BLOCKED_METHOD:
		bl = f->payload.method.decoded;
		snprintf(err, errlen, "broker blocks publishing: %.*s",
			 (int) bl->reason.len, (const char *) bl->reason.bytes);
		return 0; /* the reason, if time runs out */
	default:
		return 0;
	}
}

/* publisher_wait - see publish.h. */
int
publisher_wait(struct publisher *p, int64_t timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = monotonic_ms() + timeout_ms, left;
	const amqp_basic_ack_t *a;
	uint64_t n = p->next_tag - p->base;
	amqp_frame_t f;
	struct timeval tv;
	int st, rc = 0;

	if (p->conn == NULL) {
		snprintf(err, errlen, "not connected");
		return -1;
	}
	if (n > p->ack_cap) {
		p->ack = xrealloc(p->ack, n);
		p->ack_cap = n;
	}
	memset(p->ack, 0, n);
	snprintf(err, errlen, "no confirm from the broker in %lld ms",
		 (long long) timeout_ms);
	while (!all_acked(p)) {
		left = deadline - monotonic_ms();
		if (left <= 0) {
			rc = -1;
			break;
		}
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		st = amqp_simple_wait_frame_noblock(p->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			continue;
		if (st != AMQP_STATUS_OK) {
			snprintf(err, errlen, "waiting for confirms: %s",
				 amqp_error_string2(st));
			rc = -1;
			break;
		}
		if (f.frame_type != AMQP_FRAME_METHOD || f.channel > CHANNEL)
			continue;
		if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			a = f.payload.method.decoded;
			mark_acked(p, a->delivery_tag, a->multiple);
		} else if (frame_failure(p, &f, err, errlen) < 0) {
			rc = -1;
			break;
		}
	}
	amqp_maybe_release_buffers(p->conn);
	if (rc < 0)
		p->broken = 1;
	p->base = p->next_tag;
	return rc;
}

/* publisher_sent - see publish.h. */
uint64_t
publisher_sent(const struct publisher *p)
{
	return p->sent;
}

/* publisher_acked - see publish.h. */
uint64_t
publisher_acked(const struct publisher *p)
{
	return p->acked;
}

/* publisher_nacked - see publish.h. */
uint64_t
publisher_nacked(const struct publisher *p)
{
	return p->nacked;
}
