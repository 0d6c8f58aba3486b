/*
 * main.c - posthook-bounce: the bounce intake, a Postfix pipe(8) command.
 *
 *   posthook-bounce [-c FILE] [-v] [-e] [-s SENDER] -r RECIPIENT < message
 *
 * Reads one message on standard input (a bounce, a delay notice or an
 * auto-reply sent to the VERP return path, or an abuse report sent there or
 * to the feedback-loop address), parses it (lib/bounce/dsn.c), and in one
 * store transaction links it to the original message and queues
 * MessageBounced per bounced recipient or MessageComplained per report, or
 * keeps it for `posthookctl bounces list` (lib/bounce/bounce_intake.c,
 * bounce_record.c).
 *
 * Exit status, as pipe(8) reads it (sysexits.h): 0 when the message was
 * handled, and also when it could not be read as anything (logged and
 * kept, never retried forever); EX_TEMPFAIL when the store cannot be
 * opened or written (Postfix retries later); EX_CONFIG for a bad
 * configuration (Postfix defers too); EX_USAGE for a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "bounce/bounce_intake.h"
#include "classify/classify.h"
#include "config/config.h"
#include "config/daemon.h"
#include "bounce/dsn.h"
#include "util/log.h"
#include "store/store.h"
#include "util/util.h"

#define USAGE                                                                            \
	"posthook-bounce [-ve] [-c FILE] [--check] [-s SENDER] -r RECIPIENT < MESSAGE\n" \
	"  -c, --config FILE     read FILE, not " PH_DEFAULT_CONFIG "\n"                 \
	"  -r, --recipient ADDR  the address the message came to (or the operand)\n"     \
	"  -s, --sender ADDR     the envelope sender, kept with unmatched bounces\n"     \
	"  -e, --stderr          log to stderr, not syslog\n"                            \
	"  -v, --verbose         log more\n"                                             \
	"      --check           check the configuration, exit 0 when valid, 1 if not\n" \
	"  -V, --version         print the version and exit\n"                           \
	"  -h, --help            print this help and exit"
#define STORE_DEADLINE_MS 60000

struct args {
	const char *config;
	const char *recipient;
	const char *sender;
	int verbose;
	int to_stderr;
	int check;
};

/* parse_args - the command line; exits EX_USAGE on a bad one */
static void
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "sender", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stderr", no_argument, NULL, 'e' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(a, 0, sizeof(*a));
	a->config = PH_DEFAULT_CONFIG;
	while ((opt = getopt_long(argc, argv, "c:r:s:veVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->config = optarg;
			break;
		case 'r':
			a->recipient = optarg;
			break;
		case 's':
			a->sender = optarg;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'e':
			a->to_stderr = 1;
			break;
		case 'C':
			a->check = 1;
			break;
		case 'V':
			printf("posthook-bounce %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			printf("usage: %s\n", USAGE);
			exit(0);
		default:
			fprintf(stderr, "usage: %s\n", USAGE);
			exit(EX_USAGE);
		}
	}
	/* pipe(8) style: a lone operand is the recipient. */
	if (a->recipient == NULL && optind + 1 == argc)
		a->recipient = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "usage: %s\n", USAGE);
		exit(EX_USAGE);
	}
}

/* read_message - standard input, keeping at most max bytes; the rest is
 * read and dropped so that Postfix sees the whole message taken */
static int
read_message(struct buf *b, size_t max, size_t *total)
{
	char chunk[65536];
	ssize_t n;

	*total = 0;
	for (;;) {
		n = read(0, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		*total += (size_t) n;
		if (b->len < max)
			buf_append(b, chunk,
				   (size_t) n < max - b->len ? (size_t) n : max - b->len);
	}
}

/* own_hostnames - bounce_own_hostnames and this host's name */
static char **
own_hostnames(const struct config *cfg)
{
	char **list;
	char host[256];
	size_t n = 0, i;

	while (cfg->bounce_own_hostnames && cfg->bounce_own_hostnames[n])
		n++;
	list = xcalloc(n + 2, sizeof(char *));
	for (i = 0; i < n; i++)
		list[i] = cfg->bounce_own_hostnames[i];
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = 0;
		list[n++] = xstrdup(host);
		return list;
	}
	return list;
}

/* summary - one log line on what the parser found */
static void
log_parse(const struct dsn *d, const char *id, size_t total)
{
	char warn[256];

	dsn_warnings_text(d->warnings, warn, sizeof(warn));
	log_info("bounce %.12s: size=%zu kind=%s format=%s recipients=%zu/%zu "
		 "returned_token=%s returned_message_id=<%s> from=<%s>%s%s",
		 id, total, dsn_kind_name(d->kind), dsn_format_name(d->format), d->nrcpt,
		 d->rcpt_seen, d->returned.token ? d->returned.token : "none",
		 d->returned.message_id ? d->returned.message_id : "",
		 d->self.from ? d->self.from : "", warn[0] ? " warnings=" : "", warn);
	if (d->warnings & DSN_WARN_RCPT_CAP)
		log_warn("bounce %.12s: %zu recipients listed, only the first %zu read",
			 id, d->rcpt_seen, d->nrcpt);
	if (d->warnings & (DSN_WARN_TRUNCATED | DSN_WARN_DEPTH | DSN_WARN_PARTS_CAP))
		log_warn("bounce %.12s: message cut to the parser's limits (%s); "
			 "what was read still counts",
			 id, warn);
}

int
main(int argc, char **argv)
{
	struct args a;
	struct config *cfg;
	struct dsn_options opt;
	struct bounce_intake b;
	struct store *st;
	struct buf msg;
	struct dsn *d;
	char err[1024], id[65], *hdr, **own;
	size_t total;
	int status;

	parse_args(argc, argv, &a);
	log_open("posthook-bounce", a.to_stderr ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	log_set_verbose(a.verbose);
	cfg = config_new();
	/* A missing file, the default too, is a broken install: defer. */
	if (config_load(cfg, a.config, 1, err, sizeof(err)) < 0) {
		log_error("%s", err);
		config_free(cfg);
		return a.check ? 1 : EX_CONFIG;
	}
	if (a.check) {
		log_info("%s: configuration is valid", a.config);
		config_free(cfg);
		return 0;
	}
	if (classify_local_load(cfg->classify_rules_file, err, sizeof(err)) < 0) {
		log_error("%s", err);
		config_free(cfg);
		return EX_CONFIG;
	}

	buf_init(&msg);
	if (read_message(&msg, (size_t) DSN_MAX_INPUT + 1, &total) < 0) {
		log_error("reading the message: %m");
		return EX_TEMPFAIL;
	}
	bounce_message_id(msg.data ? msg.data : "", msg.len, id);
	memset(&opt, 0, sizeof(opt));
	hdr = xasprintf("%s-Token", cfg->header_prefix);
	opt.token_header = hdr;
	d = dsn_parse(msg.data, msg.len, &opt);
	log_parse(d, id, total);

	if (d->kind == DSN_KIND_DELAYED || d->kind == DSN_KIND_DELIVERED
	    || d->kind == DSN_KIND_AUTOREPLY) {
		log_info("bounce %.12s: %s for <%s>, not a bounce: nothing reported", id,
			 dsn_kind_name(d->kind), a.recipient ? a.recipient : "");
		status = 0;
		goto done;
	}

	if (daemon_drop_privileges(cfg) < 0) {
		status = EX_TEMPFAIL;
		goto done;
	}
	st = store_open(cfg->state_dir, 0);
	if (st == NULL) {
		log_error("bounce %.12s: cannot open the store in %s: deferred", id,
			  cfg->state_dir);
		status = EX_TEMPFAIL;
		goto done;
	}
	store_set_lock_timeout(st, cfg->store_lock_timeout_ms);
	own = own_hostnames(cfg);
	memset(&b, 0, sizeof(b));
	b.data = msg.data ? msg.data : "";
	b.len = msg.len;
	b.dsn = d;
	b.recipient = a.recipient;
	b.sender = a.sender;
	b.return_path_domain = cfg->return_path_domain;
	b.own_hostnames = (const char *const *) own;
	b.now = now_seconds();
	memcpy(b.id, id, sizeof(b.id));
	status = store_run(st, bounce_intake_run, &b, STORE_DEADLINE_MS);
	if (status != STORE_OK) {
		log_error("bounce %.12s: store error %d: deferred", id, status);
		status = EX_TEMPFAIL;
	} else {
		log_info("%s%sbounce %.12s: outcome=%s events=%d duplicates=%d "
			 "linked_by=%s recipient=<%s>%s%s",
			 b.queue_id, b.queue_id[0] ? ": " : "", id,
			 bounce_outcome_name(b.outcome), b.reported, b.duplicates,
			 b.linked_by[0] ? b.linked_by : "none",
			 a.recipient ? a.recipient : "", b.why[0] ? ": " : "", b.why);
		status = 0;
	}
	/* Only our own addition to the list is ours to free. */
	{
		size_t n = 0;

		while (cfg->bounce_own_hostnames && cfg->bounce_own_hostnames[n])
			n++;
		free(own[n]);
		free(own);
	}
	store_close(st);
done:
	dsn_free(d);
	free(hdr);
	buf_free(&msg);
	config_free(cfg);
	return status;
}
