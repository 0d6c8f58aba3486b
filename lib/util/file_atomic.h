/*
 * file_atomic.h - replace a file whole or not at all.
 *
 * The new contents go to a temporary file beside the target, created with
 * the final mode, flushed with fsync(); rename() then puts it in place and
 * the directory is synced, so that a crash leaves either the old file or
 * the new one, never a torn one.
 */
#ifndef PH_FILE_ATOMIC_H
#define PH_FILE_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * file_write_atomic - replace path with data; 0, or -1 and a message in
 * err.  mode is applied regardless of the umask.
 */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      char *err, size_t errlen);

/* file_read_all - a whole file, NUL-terminated (malloc()ed), or NULL. */
char *file_read_all(const char *path, size_t *lenp);

#endif
