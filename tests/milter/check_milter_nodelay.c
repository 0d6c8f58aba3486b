/*
 * check_milter_nodelay.c - nodelay_listeners() turns Nagle off on the
 * process's listening TCP sockets (IPv4 and IPv6) and leaves every other
 * descriptor alone: a connected TCP socket, a unix listener, a file.
 */
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../milter/nodelay.h"

#include "testlib.h"

/* nodelay - the TCP_NODELAY setting of fd. */
static int
nodelay(int fd)
{
	int on = -1;
	socklen_t len = sizeof(on);

	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
	return on;
}

/*
 * tcp_listener - a listening socket on a free loopback port; -1 when the
 * host has no such loopback (IPv6 off in a container).
 */
static int
tcp_listener(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0 && family == AF_INET6)
		return -1;
	ck_assert_int_ge(fd, 0);
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *) ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		*len = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *) ss, *len) < 0) {
		ck_assert_int_eq(family, AF_INET6);
		close(fd);
		return -1;
	}
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *) ss, len), 0);
	return fd;
}

START_TEST(test_listeners)
{
	struct sockaddr_storage ss, ss6;
	struct sockaddr_un sun;
	socklen_t len, len6;
	int l4, l6, client, accepted, ux;
	char path[] = "/tmp/check_nodelay.XXXXXX";

	l4 = tcp_listener(AF_INET, &ss, &len);
	l6 = tcp_listener(AF_INET6, &ss6, &len6);
	client = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(client, 0);

	ck_assert_ptr_nonnull(mkdtemp(path));
	ux = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(ux, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", path);
	ck_assert_int_eq(bind(ux, (struct sockaddr *) &sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(ux, 4), 0);

	ck_assert_int_eq(nodelay(l4), 0);
	ck_assert_int_eq(nodelay_listeners(), l6 < 0 ? 1 : 2);
	ck_assert_int_ne(nodelay(l4), 0);
	if (l6 >= 0)
		ck_assert_int_ne(nodelay(l6), 0);

	/* What the listener accepts inherits it: the point of the module. */
	ck_assert_int_eq(connect(client, (struct sockaddr *) &ss, len), 0);
	ck_assert_int_eq(nodelay(client), 0);
	accepted = accept(l4, NULL, NULL);
	ck_assert_int_ge(accepted, 0);
	ck_assert_int_ne(nodelay(accepted), 0);

	close(accepted);
	close(client);
	close(l4);
	if (l6 >= 0)
		close(l6);
	close(ux);
	ck_assert_int_eq(unlink(sun.sun_path), 0);
	ck_assert_int_eq(rmdir(path), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("milter_nodelay");
	TCase *tc = tcase_create("nodelay");

	tcase_add_test(tc, test_listeners);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
