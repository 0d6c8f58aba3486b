/*
 * linereader.c - lines and their offsets out of a file descriptor, plain
 * or gzip-compressed; see linereader.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/gzfile.h"
#include "util/util.h"
#include "linereader.h"

#define READ_CHUNK (256 * 1024)

struct linereader {
	int fd;
	gzFile gz; /* compressed: its own fd, or NULL */
	char *buf;
	size_t cap;
	size_t start;	      /* first byte not yet handed out */
	size_t end;	      /* end of buffered bytes */
	size_t scan;	      /* bytes from start known to hold no '\n' */
	uint64_t offset;      /* file offset of buf[start] */
	int skipping;	      /* inside a cut line: drop to '\n' */
	uint64_t skip_offset; /* where that line began */
};

/* linereader_new - see linereader.h. */
struct linereader *
linereader_new(int fd, uint64_t offset)
{
	struct linereader *lr = xcalloc(1, sizeof(*lr));

	lr->fd = fd;
	lr->cap = READ_CHUNK + LINE_MAX_BYTES;
	lr->buf = xmalloc(lr->cap);
	lr->offset = offset;
	return (lr);
}

/* linereader_new_gz - see linereader.h. */
struct linereader *
linereader_new_gz(int fd, uint64_t offset)
{
	struct linereader *lr;
	gzFile gz;

	if ((gz = gzfile_open(fd)) == NULL)
		return (NULL);
	/* Forward from the start: zlib decompresses up to the offset. */
	if (offset > 0
	    && (offset > (uint64_t) LONG_MAX
		|| gzseek(gz, (z_off_t) offset, SEEK_SET) != (z_off_t) offset)) {
		gzclose(gz);
		errno = EIO;
		return (NULL);
	}
	lr = linereader_new(-1, offset);
	lr->gz = gz;
	return (lr);
}

/* linereader_free - see linereader.h. */
void
linereader_free(struct linereader *lr)
{
	if (lr == NULL)
		return;
	if (lr->gz != NULL)
		gzclose(lr->gz);
	free(lr->buf);
	free(lr);
}

/* linereader_fill - see linereader.h. */
ssize_t
linereader_fill(struct linereader *lr)
{
	ssize_t n;

	if (lr->start > 0 && (lr->end == lr->cap || lr->start > lr->cap / 2)) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	if (lr->end == lr->cap)
		return (0);
	if (lr->gz != NULL)
		n = gzfile_read(lr->gz, lr->buf + lr->end, lr->cap - lr->end);
	else
		do {
			n = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
		} while (n < 0 && errno == EINTR);
	if (n > 0)
		lr->end += (size_t) n;
	return (n);
}

/* take - hand out n bytes from start as a line, consuming skip more. */
static void
take(struct linereader *lr, size_t n, size_t skip, const char **line, size_t *len,
     uint64_t *offset)
{
	*line = lr->buf + lr->start;
	*len = n;
	*offset = lr->offset;
	lr->start += n + skip;
	lr->offset += n + skip;
	lr->scan = 0;
}

/* linereader_next - see linereader.h. */
int
linereader_next(struct linereader *lr, const char **line, size_t *len, uint64_t *offset,
		int *cut)
{
	for (;;) {
		const char *p = lr->buf + lr->start + lr->scan;
		size_t avail = lr->end - lr->start - lr->scan;
		const char *nl = avail ? memchr(p, '\n', avail) : NULL;

		*cut = 0;
		if (lr->skipping) {
			/* Drop the rest of a cut line. */
			size_t n = nl ? (size_t) (nl - p) + 1 : avail;

			lr->start += lr->scan + n;
			lr->offset += lr->scan + n;
			lr->scan = 0;
			if (nl == NULL)
				return (0);
			lr->skipping = 0;
			continue;
		}
		if (nl != NULL) {
			size_t n = (size_t) (nl - (lr->buf + lr->start));

			if (n > LINE_MAX_BYTES) {
				*cut = 1;
				take(lr, LINE_MAX_BYTES, n - LINE_MAX_BYTES + 1, line,
				     len, offset);
			} else {
				take(lr, n, 1, line, len, offset);
			}
			return (1);
		}
		lr->scan += avail;
		if (lr->scan < LINE_MAX_BYTES)
			return (0);
		/* Too long: hand out the head now, skip the rest. */
		*cut = 1;
		take(lr, LINE_MAX_BYTES, 0, line, len, offset);
		lr->skipping = 1;
		return (1);
	}
}

/* linereader_finish - see linereader.h. */
int
linereader_finish(struct linereader *lr, const char **line, size_t *len, uint64_t *offset,
		  int *cut)
{
	size_t n = lr->end - lr->start;

	*cut = 0;
	if (n == 0 || lr->skipping)
		return (0);
	take(lr, n, 0, line, len, offset);
	return (1);
}

/* linereader_offset - see linereader.h. */
uint64_t
linereader_offset(const struct linereader *lr)
{
	return (lr->offset);
}
