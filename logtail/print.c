/*
 * print.c - posthook-logtail --print: files in, webhook bodies out.
 *
 * The same parser and correlator as the daemon, with no store writes: the
 * admin's way to see what would be sent, and the tests' way in.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "store/message.h"
#include "util/util.h"
#include "correlate.h"
#include "util/gzfile.h"
#include "linereader.h"
#include "print.h"
#include "records.h"

static char out_buf[64 * 1024]; /* standard output's buffer */

struct printer {
	struct store *st;
	FILE *out;
	long events;
	struct buf line;	 /* one body, reused */
	unsigned char rnd[4096]; /* random bytes for the uuids */
	size_t rnd_used;
};

/* print_uuid - a random version 4 UUID, from getrandom() 4 KiB at a time
 * (one system call per event was a tenth of --print's time). */
static void
print_uuid(struct printer *pr, char out[37])
{
	size_t got = 0;
	ssize_t n;

	if (pr->rnd_used + 16 > sizeof(pr->rnd)) {
		while (got < sizeof(pr->rnd)) {
			if ((n = getrandom(pr->rnd + got, sizeof(pr->rnd) - got, 0))
			    < 0) {
				if (errno == EINTR)
					continue;
				log_fatal("getrandom: %m");
			}
			got += (size_t) n;
		}
		pr->rnd_used = 0;
	}
	event_uuid_format(pr->rnd + pr->rnd_used, out);
	pr->rnd_used += 16;
}

/*
 * print_event - one event's webhook body on one line, written by
 * delivery_event_write_json(): the bytes json-c would print for
 * event_envelope(delivery_event_payload()), about twice as fast.
 */
static void
print_event(struct correlate_event *ce, void *ctx)
{
	struct printer *pr = ctx;
	char uuid[37];

	print_uuid(pr, uuid);
	buf_reset(&pr->line);
	delivery_event_write_json(&pr->line, ce->ev.timestamp, uuid, &ce->ev);
	buf_append(&pr->line, "\n", 1);
	fwrite(pr->line.data, 1, pr->line.len, pr->out);
	pr->events++;
}

/* print_record - the milter's record of a queue id, or NULL. */
static struct message_record *
print_record(const char *qid, void *ctx)
{
	struct printer *pr = ctx;

	return (records_lookup(pr->st, qid));
}

/* feed_line - parse and correlate one line. */
static void
feed_line(struct correlate *c, struct stamp_memo *memo, const char *name,
	  const char *line, size_t len, uint64_t off, int cut)
{
	struct log_line l;
	struct log_pos pos = { name, off, NULL };

	if (cut)
		log_warn("%s: line at offset %llu is longer than %d bytes: "
			 "read its start only",
			 name, (unsigned long long) off, LINE_MAX_BYTES);
	if (parse_line_memo(line, len, &l, memo) == 0)
		correlate_feed(c, &l, &pos);
}

/*
 * idle_release - standard input is a pipe that may keep us waiting (tail
 * -f): when lines wait in the correlator (a hold for its Message-ID, a
 * possible hop) and nothing comes for hop_wait, they go out as they are,
 * as the daemon's clock would send them.
 */
static void
idle_release(struct correlate *c, int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int n;

	if (correlate_pending(c) == 0)
		return;
	do {
		n = poll(&pfd, 1, (int) (CORRELATE_HOP_WAIT * 1000));
	} while (n < 0 && errno == EINTR);
	if (n == 0) {
		correlate_drain(c);
		(void) fflush(stdout);
	}
}

/*
 * print_fd - every line of one open file; a gzip-compressed file (a
 * rotated log) is read decompressed.
 */
static int
print_fd(struct correlate *c, int fd, const char *name)
{
	struct linereader *lr;
	const char *line;
	size_t len;
	uint64_t off;
	ssize_t n;
	struct stat sb;
	int cut, rc = 0;
	struct stamp_memo memo = { { 0 }, { 0 }, 0 };
	/* A pipe may keep us waiting: what was printed goes out first. */
	int may_wait = fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode);

	if (!may_wait && gzfile_is(fd)) {
		if ((lr = linereader_new_gz(fd, 0)) == NULL) {
			log_error("%s: cannot decompress: %s", name, strerror(errno));
			return (1);
		}
	} else {
		lr = linereader_new(fd, 0);
	}
	for (;;) {
		while (linereader_next(lr, &line, &len, &off, &cut))
			feed_line(c, &memo, name, line, len, off, cut);
		if (may_wait) {
			(void) fflush(stdout);
			idle_release(c, fd);
		}
		if ((n = linereader_fill(lr)) < 0) {
			log_error("%s: read: %s", name, strerror(errno));
			rc = 1;
			break;
		}
		if (n == 0)
			break;
	}
	while (linereader_next(lr, &line, &len, &off, &cut))
		feed_line(c, &memo, name, line, len, off, cut);
	if (linereader_finish(lr, &line, &len, &off, &cut))
		feed_line(c, &memo, name, line, len, off, cut);
	linereader_free(lr);
	return (rc);
}

/* print_run - see print.h. */
int
print_run(const struct config *cfg, struct store *st, char **files, int nfiles)
{
	struct correlate_opts opts = { 0 };
	struct printer pr;
	struct correlate *c;
	int rc = 0;

	memset(&pr, 0, sizeof(pr));
	pr.st = st;
	pr.out = stdout;
	/* Bodies go out 64 KiB at a time (stdio's default is 4 KiB) unless
	 * someone watches them come. */
	if (!isatty(STDOUT_FILENO)
	    && setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf)) != 0)
		log_warn("standard output: cannot set its buffer");
	pr.rnd_used = sizeof(pr.rnd);
	buf_init(&pr.line);
	opts.report = cfg->report;
	opts.internal_hosts = cfg->internal_hosts;
	opts.hop_relays = cfg->hop_relays;
	opts.hop_wait = CORRELATE_HOP_WAIT;
	opts.no_save = 1;
	c = correlate_new(&opts, print_event, print_record, &pr);
	correlate_set_now(c, time(NULL));
	if (nfiles == 0) {
		rc = print_fd(c, STDIN_FILENO, "-");
	}
	for (int i = 0; i < nfiles; i++) {
		int fd;

		if (strcmp(files[i], "-") == 0) {
			rc |= print_fd(c, STDIN_FILENO, "-");
			continue;
		}
		if ((fd = open(files[i], O_RDONLY | O_CLOEXEC)) < 0) {
			log_error("%s: cannot open: %s", files[i], strerror(errno));
			rc = 1;
			continue;
		}
		rc |= print_fd(c, fd, files[i]);
		close(fd);
	}
	correlate_drain(c);
	correlate_free(c);
	buf_free(&pr.line);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("standard output: %s", strerror(errno));
		rc = 1;
	}
	return (rc);
}
