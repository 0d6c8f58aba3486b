/*
 * nodelay.c - see nodelay.h.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "util/log.h"
#include "nodelay.h"

/* is_tcp_listener - whether fd is a socket in TCP's listen state. */
static int
is_tcp_listener(int fd)
{
	int accepting, proto;
	socklen_t len;

	len = sizeof(accepting);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0 || !accepting)
		return 0;
	len = sizeof(proto);
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0
	       && proto == IPPROTO_TCP;
}

/* nodelay_listeners - see nodelay.h. */
int
nodelay_listeners(void)
{
	DIR *dir;
	struct dirent *de;
	int fd, one = 1, count = 0;
	char *end;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		errno = 0;
		fd = (int) strtol(de->d_name, &end, 10);
		if (*end != 0 || end == de->d_name || errno != 0 || fd == dirfd(dir)
		    || !is_tcp_listener(fd))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
			log_warn("TCP_NODELAY on the milter socket: %m");
		else
			count++;
	}
	closedir(dir);
	return count;
}
