/*
 * fingerprint.c - a log file's identity from its first line (see
 * fingerprint.h): rename rotation keeps it, copytruncate changes it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "logfile/fingerprint.h"
#include "util/gzfile.h"

/* fingerprint_bytes - see fingerprint.h. */
int
fingerprint_bytes(const char *p, size_t len, char out[FINGERPRINT_LEN])
{
	const char *nl = memchr(p, '\n', len);
	uint64_t h = 1469598103934665603ULL;
	size_t n;

	if (nl != NULL)
		n = (size_t) (nl - p) + 1;
	else if (len >= FINGERPRINT_BYTES)
		n = FINGERPRINT_BYTES;
	else
		return (0);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char) p[i];
		h *= 1099511628211ULL;
	}
	snprintf(out, FINGERPRINT_LEN, "%016llx", (unsigned long long) h);
	return (1);
}

/* fingerprint_fd - see fingerprint.h. */
int
fingerprint_fd(int fd, char out[FINGERPRINT_LEN])
{
	char buf[FINGERPRINT_BYTES];
	ssize_t n;

	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return (-1);
	return (fingerprint_bytes(buf, (size_t) n, out));
}

/* fingerprint_gz_fd - see fingerprint.h. */
int
fingerprint_gz_fd(int fd, char out[FINGERPRINT_LEN])
{
	char buf[FINGERPRINT_BYTES];
	gzFile gz;
	ssize_t n;

	if ((gz = gzfile_open(fd)) == NULL)
		return (-1);
	n = gzfile_read(gz, buf, sizeof(buf));
	gzclose(gz);
	if (n < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return (-1);
	return (fingerprint_bytes(buf, (size_t) n, out));
}
