/*
 * amqp_pub_min.c - the limit posthook-amqp is measured against: a minimal
 * rabbitmq-c publisher of COUNT persistent messages of SIZE bytes, with
 * publisher confirms awaited every BATCH messages (0: no confirms), as
 * fast as one connection goes.  Prints messages per second.
 *
 *	amqp_pub_min HOST PORT EXCHANGE COUNT SIZE BATCH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

/* now - monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* wait_acks - until every tag up to last is acked; -1 on a nack or error. */
static int
wait_acks(amqp_connection_state_t c, uint64_t last)
{
	amqp_frame_t f;
	const amqp_basic_ack_t *a;
	uint64_t acked = 0;

	while (acked < last) {
		if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK)
			return -1;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id != AMQP_BASIC_ACK_METHOD)
			return -1;
		a = f.payload.method.decoded;
		if (a->delivery_tag > acked)
			acked = a->delivery_tag; /* single acks come in order here */
	}
	amqp_maybe_release_buffers(c);
	return 0;
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t c;
	amqp_socket_t *s;
	amqp_basic_properties_t p;
	amqp_bytes_t body;
	long count, size, batch, i;
	double t0, t;

	if (argc != 7) {
		fprintf(stderr,
			"usage: amqp_pub_min HOST PORT EXCHANGE COUNT SIZE BATCH\n");
		return 2;
	}
	count = atol(argv[4]);
	size = atol(argv[5]);
	batch = atol(argv[6]);
	c = amqp_new_connection();
	s = amqp_tcp_socket_new(c);
	if (s == NULL || amqp_socket_open(s, argv[1], atoi(argv[2])) != AMQP_STATUS_OK) {
		fprintf(stderr, "cannot connect\n");
		return 1;
	}
	if (amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest")
		.reply_type
	    != AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "cannot log in\n");
		return 1;
	}
	amqp_channel_open(c, 1);
	if (batch > 0)
		amqp_confirm_select(c, 1);
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "channel setup failed\n");
		return 1;
	}
	body.len = (size_t) size;
	body.bytes = malloc((size_t) size);
	memset(body.bytes, 'x', (size_t) size);
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.content_type = amqp_cstring_bytes("application/json");
	t0 = now();
	for (i = 1; i <= count; i++) {
		if (amqp_basic_publish(c, 1, amqp_cstring_bytes(argv[3]),
				       amqp_cstring_bytes("MessageSent.default"), 0, 0,
				       &p, body)
		    != AMQP_STATUS_OK) {
			fprintf(stderr, "publish failed\n");
			return 1;
		}
		if (batch > 0 && (i % batch == 0 || i == count) && wait_acks(c, i) < 0) {
			fprintf(stderr, "confirm failed\n");
			return 1;
		}
	}
	t = now() - t0;
	printf("%.0f\n", count / t);
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	free(body.bytes);
	return 0;
}
