/*
 * cmd_bounces.c - "posthookctl bounces": the bounce intake's kept records
 * (unmatched bounces, ARF reports, what it could not read) and the bounce
 * parser on files.
 *
 *   posthookctl bounces list [--since T] [--limit N]
 *   posthookctl bounces parse FILE...      (FILE "-" is standard input)
 *
 * parse prints one JSON object per file: dsn_to_json() with, beside each
 * recipient, what the classifier makes of its status and diagnostic.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/bounce_record.h"
#include "classify/classify.h"
#include "ctl.h"
#include "bounce/dsn.h"
#include "util/json.h"
#include "util/util.h"

/* The usage, also for "posthookctl bounces --help" (commands.c). */
const char cmd_bounces_usage[] =
    "usage: posthookctl bounces list [--since T] [--limit N]\n"
    "       posthookctl bounces parse FILE...\n"
    "  T is ISO 8601 UTC (2024-01-15T10:30:00Z) or a span ago (2h, 30m, 7d)";

#define LIST_DEFAULT_LIMIT 50

/* read_file - at most max bytes of a file ("-": standard input) */
static int
read_file(const char *path, size_t max, struct buf *out)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (fp == NULL)
		return -1;
	while (out->len < max && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(out, chunk, n < max - out->len ? n : max - out->len);
	n = ferror(fp);
	if (fp != stdin)
		fclose(fp);
	return n ? -1 : 0;
}

/* add_classification - the classifier's reading of each recipient */
static void
add_classification(json_object *obj, const struct dsn *d)
{
	json_object *rcpts, *r;
	struct classify_result res;
	size_t i;

	if (!json_object_object_get_ex(obj, "recipients", &rcpts))
		return;
	for (i = 0; i < d->nrcpt; i++) {
		const char *name;

		r = json_object_array_get_idx(rcpts, i);
		classify(d->rcpt[i].status, d->rcpt[i].diagnostic, &res);
		name = classification_name(res.classification);
		json_object_object_add(r, "classification",
				       name ? json_object_new_string(name) : NULL);
		json_object_object_add(r, "classification_code",
				       res.classification != CLASS_NONE
					   ? json_object_new_int((int) res.classification)
					   : NULL);
		json_object_object_add(r, "smtp_enhanced_code",
				       res.smtp_enhanced_code[0] ? json_object_new_string(
					   res.smtp_enhanced_code)
								 : NULL);
		json_object_object_add(
		    r, "remote_host",
		    res.remote_host[0] ? json_object_new_string(res.remote_host) : NULL);
	}
}

/* bounces_parse - parse each file and print what was found */
static int
bounces_parse(struct ctl *ctl, int argc, char **argv)
{
	struct config *cfg = ctl_config(ctl);
	struct dsn_options opt;
	char *hdr = xasprintf("%s-Token", cfg->header_prefix);
	int i, rc = 0;

	if (argc < 1) {
		free(hdr);
		return ctl_usage_error("%s", cmd_bounces_usage);
	}
	memset(&opt, 0, sizeof(opt));
	opt.token_header = hdr;
	for (i = 0; i < argc; i++) {
		struct buf b;
		struct dsn *d;
		json_object *obj;

		buf_init(&b);
		/* One byte over the cap, so that the parser can say it cut. */
		if (read_file(argv[i], (size_t) DSN_MAX_INPUT + 1, &b) < 0) {
			rc = ctl_error("%s: %m", argv[i]);
			buf_free(&b);
			continue;
		}
		d = dsn_parse(b.data, b.len, &opt);
		obj = dsn_to_json(d);
		add_classification(obj, d);
		json_object_object_add(obj, "file", json_object_new_string(argv[i]));
		if (ctl->json)
			ctl_print_json_line(obj);
		else
			ctl_print_json(ctl, obj);
		json_object_put(obj);
		dsn_free(d);
		buf_free(&b);
	}
	free(hdr);
	if (fflush(stdout) != 0 || ferror(stdout))
		return ctl_error("writing standard output: %m");
	return rc;
}

struct list_ctx {
	double since;
	int limit;
	json_object **recs;
	int n;
};

/* list_txn - read the kept records */
static int
list_txn(struct store_txn *txn, void *vctx)
{
	struct list_ctx *lc = vctx;

	bounce_records_free(lc->recs, lc->n);
	lc->recs = NULL;
	lc->n = 0;
	return bounce_record_list(txn, lc->since, lc->limit, &lc->recs, &lc->n);
}

/* field - a string member of an object, or "" (dotted path: "dsn.kind") */
static const char *
field(json_object *o, const char *path)
{
	char part[64];
	const char *dot;
	json_object *v = o;
	size_t n;

	while (*path) {
		dot = strchr(path, '.');
		n = dot ? (size_t) (dot - path) : strlen(path);
		if (n >= sizeof(part))
			return "";
		memcpy(part, path, n);
		part[n] = 0;
		if ((v = json_member(v, part)) == NULL)
			return "";
		path += n + (dot ? 1 : 0);
	}
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* first_recipient - the first recipient a kept record names */
static const char *
first_recipient(json_object *o)
{
	json_object *dsn, *rcpts, *r, *v;

	if (json_object_object_get_ex(o, "dsn", &dsn)
	    && json_object_object_get_ex(dsn, "recipients", &rcpts)
	    && json_object_array_length(rcpts) > 0
	    && (r = json_object_array_get_idx(rcpts, 0)) != NULL
	    && json_object_object_get_ex(r, "final_recipient", &v) && v != NULL)
		return json_object_get_string(v);
	if (*field(o, "dsn.feedback.original_rcpt_to"))
		return field(o, "dsn.feedback.original_rcpt_to");
	return "";
}

/* bounces_list - the kept records, newest first */
static int
bounces_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const headers[] = { "RECEIVED",  "OUTCOME", "KIND",	 "FROM",
					       "RECIPIENT", "STATUS",  "SUBJECT" };
	struct list_ctx lc;
	struct table *t;
	char *end;
	long n;
	int opt, i, status;

	memset(&lc, 0, sizeof(lc));
	lc.limit = LIST_DEFAULT_LIMIT;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (parse_time_spec(optarg, now_seconds(), &lc.since) < 0)
				return ctl_usage_error(
				    "bad time \"%s\": use ISO 8601 UTC "
				    "or a span like 2h",
				    optarg);
			break;
		case 'l':
			n = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end != 0 || n < 0 || n > 1000000)
				return ctl_usage_error("bad limit \"%s\"", optarg);
			lc.limit = (int) n;
			break;
		default:
			return ctl_usage_error("%s", cmd_bounces_usage);
		}
	}
	if (optind != argc)
		return ctl_usage_error("%s", cmd_bounces_usage);
	status = store_run(ctl_store(ctl), list_txn, &lc, 0);
	if (status != STORE_OK) {
		bounce_records_free(lc.recs, lc.n);
		return ctl_error("cannot read the kept bounces (store status %d)",
				 status);
	}
	if (ctl->json) {
		for (i = 0; i < lc.n; i++)
			ctl_print_json_line(lc.recs[i]);
	} else {
		t = table_new(7, headers);
		for (i = 0; i < lc.n; i++) {
			json_object *o = lc.recs[i], *v = NULL, *rcpts, *r0;
			char when[32];
			const char *cells[7];

			json_object_object_get_ex(o, "received", &v);
			iso8601_utc(v ? json_object_get_double(v) : 0, when,
				    sizeof(when));
			cells[0] = when;
			cells[1] = field(o, "outcome");
			cells[2] = field(o, "dsn.kind");
			cells[3] = field(o, "dsn.message.from");
			cells[4] = first_recipient(o);
			cells[5] = "";
			if (json_object_object_get_ex(o, "dsn", &v)
			    && json_object_object_get_ex(v, "recipients", &rcpts)
			    && json_object_array_length(rcpts) > 0
			    && (r0 = json_object_array_get_idx(rcpts, 0)) != NULL)
				cells[5] = field(r0, "status");
			cells[6] = field(o, "dsn.message.subject");
			table_add_row(t, cells);
		}
		table_print(t);
		table_free(t);
	}
	bounce_records_free(lc.recs, lc.n);
	return 0;
}

/* cmd_bounces - "posthookctl bounces VERB ..." */
int
cmd_bounces(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error("%s", cmd_bounces_usage);
	if (strcmp(argv[1], "list") == 0)
		return bounces_list(ctl, argc - 1, argv + 1);
	if (strcmp(argv[1], "parse") == 0)
		return bounces_parse(ctl, argc - 2, argv + 2);
	return ctl_usage_error("%s", cmd_bounces_usage);
}
