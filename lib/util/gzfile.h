/*
 * gzfile.h - reading a gzip-compressed log file (a rotated one) through
 * zlib: telling one from a plain file, opening it from its start, and
 * reads that tell a clean end from a file cut short or damaged.
 */
#ifndef PH_GZFILE_H
#define PH_GZFILE_H

#include <stddef.h>
#include <sys/types.h>
#include <zlib.h>

/* gzfile_is - the open file begins with gzip's magic bytes. */
int gzfile_is(int fd);

/*
 * gzfile_open - a reader of the open file fd from its start, on its own
 * dup() of fd (which shares fd's offset: fd must not be read meanwhile).
 * NULL with errno set when it cannot.  gzclose() frees it.
 */
gzFile gzfile_open(int fd);

/*
 * gzfile_read - up to len decompressed bytes: how many, 0 at the end of
 * the last complete gzip member, -1 with errno set on an error (EBADMSG:
 * the file is cut short, gzip still writing it or a crash, or damaged).
 */
ssize_t gzfile_read(gzFile gz, void *buf, size_t len);

#endif
