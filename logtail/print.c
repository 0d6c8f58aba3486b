/*
 * print.c - posthook-logtail --print: files in, webhook bodies out.
 *
 * The same parser and correlator as the daemon, with no store writes: the
 * admin's way to see what would be sent, and the tests' way in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "message.h"
#include "util.h"
#include "correlate.h"
#include "linereader.h"
#include "print.h"
#include "records.h"

struct printer {
	struct store *st;
	FILE   *out;
	long    events;
};

/* print_event - one event's webhook body on one line. */
static void
print_event(struct correlate_event *ce, void *ctx)
{
	struct printer *pr = ctx;
	json_object *payload, *env;
	char    uuid[37];

	event_uuid_new(uuid);
	payload = delivery_event_payload(&ce->ev);
	env = event_envelope(ce->ev.type, ce->ev.timestamp, uuid, payload);
	fputs(json_object_to_json_string_ext(env, JSON_C_TO_STRING_PLAIN
					     | JSON_C_TO_STRING_NOSLASHESCAPE),
	      pr->out);
	putc('\n', pr->out);
	json_object_put(env);
	json_object_put(payload);
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
feed_line(struct correlate *c, const char *name, const char *line, size_t len,
	  uint64_t off, int cut)
{
	struct log_line l;
	struct log_pos pos = { name, off, NULL };

	if (cut)
		log_warn("%s: line at offset %llu is longer than %d bytes: "
			 "read its start only", name, (unsigned long long) off,
			 LINE_MAX_BYTES);
	if (parse_line(line, len, &l) == 0)
		correlate_feed(c, &l, &pos);
}

/* print_fd - every line of one open file. */
static int
print_fd(struct correlate *c, int fd, const char *name)
{
	struct linereader *lr = linereader_new(fd, 0);
	const char *line;
	size_t  len;
	uint64_t off;
	ssize_t n;
	int     cut, rc = 0;

	for (;;) {
		while (linereader_next(lr, &line, &len, &off, &cut))
			feed_line(c, name, line, len, off, cut);
		if ((n = linereader_fill(lr)) < 0) {
			log_error("%s: read: %s", name, strerror(errno));
			rc = 1;
			break;
		}
		if (n == 0)
			break;
	}
	while (linereader_next(lr, &line, &len, &off, &cut))
		feed_line(c, name, line, len, off, cut);
	if (linereader_finish(lr, &line, &len, &off, &cut))
		feed_line(c, name, line, len, off, cut);
	linereader_free(lr);
	return (rc);
}

/* print_run - see print.h. */
int
print_run(const struct config *cfg, struct store *st, char **files, int nfiles)
{
	struct correlate_opts opts = { 0 };
	struct printer pr = { st, stdout, 0 };
	struct correlate *c;
	int     rc = 0;

	opts.report = cfg->report;
	opts.internal_hosts = cfg->internal_hosts;
	opts.hop_relays = cfg->hop_relays;
	c = correlate_new(&opts, print_event, print_record, &pr);
	correlate_set_now(c, time(NULL));
	if (nfiles == 0) {
		rc = print_fd(c, STDIN_FILENO, "-");
	}
	for (int i = 0; i < nfiles; i++) {
		int     fd;

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
	correlate_free(c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("standard output: %s", strerror(errno));
		rc = 1;
	}
	return (rc);
}
