/*
 * gzfile.c - gzip-compressed log files through zlib; see gzfile.h.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "util/gzfile.h"

/* gzfile_is - see gzfile.h. */
int
gzfile_is(int fd)
{
	unsigned char magic[2];

	return (pread(fd, magic, sizeof(magic), 0) == 2 && magic[0] == 0x1f
		&& magic[1] == 0x8b);
}

/* gzfile_open - see gzfile.h. */
gzFile
gzfile_open(int fd)
{
	gzFile gz;
	int dfd;

	if (lseek(fd, 0, SEEK_SET) < 0 || (dfd = dup(fd)) < 0)
		return (NULL);
	if ((gz = gzdopen(dfd, "rb")) == NULL) {
		close(dfd);
		errno = ENOMEM;
	}
	return (gz);
}

/* gzfile_read - see gzfile.h. */
ssize_t
gzfile_read(gzFile gz, void *buf, size_t len)
{
	int n, errnum;

	if (len > INT_MAX)
		len = INT_MAX;
	n = gzread(gz, buf, (unsigned) len);
	if (n > 0)
		return (n);
	(void) gzerror(gz, &errnum);
	if (n == 0 && errnum == Z_OK)
		return (0);
	if (errnum != Z_ERRNO)
		errno = EBADMSG;
	return (-1);
}
