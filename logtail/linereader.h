/*
 * linereader.h - split bytes read from a file descriptor into lines, with
 * the file offset of each (for a gzip-compressed file, the offset in its
 * decompressed bytes).
 *
 * A line is handed out only once its newline has been read, so a tailer
 * never acts on half a line; at the end of a file that will not grow
 * (--print), linereader_finish() hands out the rest.  Lines longer than
 * LINE_MAX_BYTES are cut there (the rest is skipped up to the newline):
 * memory stays bounded whatever the file holds.
 */
#ifndef PH_LINEREADER_H
#define PH_LINEREADER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LINE_MAX_BYTES (256 * 1024)

struct linereader;

/* linereader_new - read fd from offset (the fd is positioned there). */
struct linereader *linereader_new(int fd, uint64_t offset);

/*
 * linereader_new_gz - read the gzip-compressed file fd from offset in its
 * decompressed bytes (the reader works on its own dup() of fd, which
 * must not be read meanwhile).  NULL with errno set when it cannot.
 */
struct linereader *linereader_new_gz(int fd, uint64_t offset);
void linereader_free(struct linereader *lr);

/*
 * linereader_fill - read what is available; returns bytes read, 0 at the
 * end of the file, -1 on error (errno set).
 */
ssize_t linereader_fill(struct linereader *lr);

/*
 * linereader_next - the next whole line (without its newline): 1 with
 * *line, *len and *offset set, or 0 when no whole line is buffered.
 * *cut is set when the line was longer than LINE_MAX_BYTES.  The line
 * stays valid until the next linereader_fill().
 */
int linereader_next(struct linereader *lr, const char **line, size_t *len,
		    uint64_t *offset, int *cut);

/* linereader_finish - a last line without newline, as linereader_next. */
int linereader_finish(struct linereader *lr, const char **line, size_t *len,
		      uint64_t *offset, int *cut);

/* linereader_offset - the offset just after the last line handed out. */
uint64_t linereader_offset(const struct linereader *lr);

#endif
