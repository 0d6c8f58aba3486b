/*
 * file_atomic.c - write a file atomically (temporary file, fsync, rename,
 * directory fsync) and read a small file whole.  Used for signing keys,
 * the keyring's state and the published JWKS.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file_atomic.h"
#include "util/util.h"

/* sync_parent - fsync the directory holding path, so a rename survives */
static int
sync_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd;
	int rc;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	(void) close(fd);
	return rc;
}

/* write_all - write() until done or an error */
static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t) n;
	}
	return 0;
}

/* file_write_atomic - replace path with data, or leave it as it was */
int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
		  size_t errlen)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long) getpid());
	const char *what;
	int fd;
	int saved;

	(void) unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		what = "create";
		goto fail;
	}
	if (fchmod(fd, mode) < 0) {
		what = "chmod";
		goto fail_fd;
	}
	if (write_all(fd, data, len) < 0) {
		what = "write";
		goto fail_fd;
	}
	if (fsync(fd) < 0) {
		what = "fsync";
		goto fail_fd;
	}
	if (close(fd) < 0) {
		fd = -1;
		what = "close";
		goto fail_fd;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		what = "rename";
		goto fail_fd;
	}
	free(tmp);
	if (sync_parent(path) < 0) {
		snprintf(err, errlen, "%s: fsync of directory: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;

fail_fd:
	saved = errno;
	if (fd >= 0)
		(void) close(fd);
	(void) unlink(tmp);
	errno = saved;
fail:
	snprintf(err, errlen, "%s: %s %s: %s", path, what, tmp, strerror(errno));
	free(tmp);
	return -1;
}

/* file_read_all - read a whole (small) file */
char *
file_read_all(const char *path, size_t *lenp)
{
	struct buf b;
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf_init(&b);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_append(&b, chunk, (size_t) n);
	}
	(void) close(fd);
	if (n < 0) {
		buf_free(&b);
		return NULL;
	}
	if (lenp != NULL)
		*lenp = b.len;
	return buf_take(&b);
}
