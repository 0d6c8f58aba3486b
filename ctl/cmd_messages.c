/*
 * cmd_messages.c - posthookctl messages: the milter's records of outgoing
 * messages.  "show KEY" prints one record as JSON with its recipients'
 * activity (opens, clicks, unsubscribes; KEY is a queue id, a token or an
 * id); "list" prints the newest records first.  Both see one
 * tenant's records (--tenant, default "default", which owns every record
 * that names no tenant).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "event/event.h"
#include "store/activity.h"
#include "store/message.h"
#include "tenant/tenant.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "util/util.h"

/* The usage, also for "posthookctl messages --help" (commands.c). */
const char cmd_messages_usage[] =
    "usage: posthookctl messages show KEY [--tenant T]   (queue id, token or id)\n"
    "       posthookctl messages list [--since T] [--limit N] [--tenant T]\n"
    "  T is ISO 8601 UTC (2024-01-15T10:30:00Z) or a span ago (2h, 30m, 7d)";

#define LIST_DEFAULT_LIMIT 50

enum { OPT_SINCE = 1, OPT_LIMIT, OPT_TENANT };

struct msg_ctx {
	const char *key;    /* show */
	double since;	    /* list */
	long limit;	    /* list */
	int list_opts;	    /* --since or --limit given */
	const char *tenant; /* whose records are seen */
	json_object *found; /* show: the record; list: an array */
};

/* activity_fn - one hit of the message, appended to the array ctx. */
static int
activity_fn(const struct activity *a, void *ctx)
{
	json_object *o = json_object_new_object();
	char when[32];

	iso8601_utc(a->time, when, sizeof(when));
	json_object_object_add(o, "timestamp", json_double_new(a->time, 6));
	json_add_string(o, "time", when);
	json_add_string(o, "kind",
			a->kind == 'o'	 ? "open"
			: a->kind == 'c' ? "click"
					 : "unsubscribe");
	if (a->kind == 'c')
		json_add_string(o, "url", a->url);
	json_add_string(o, "ip_address", a->ip);
	json_add_string(o, "user_agent", a->ua);
	json_add_string(o, "bot", a->bot);
	json_object_array_add(ctx, o);
	return 0;
}

/* show_cb - look the key up. */
static int
show_cb(struct store_txn *txn, void *arg)
{
	struct msg_ctx *c = arg;
	struct message_record *r;
	json_object *act;
	int status;

	json_object_put(c->found);
	c->found = NULL;
	status = message_get(txn, c->key, &r);
	if (status != STORE_OK)
		return status;
	if (strcmp(tenant_of(r->tenant), c->tenant) != 0) {
		message_record_free(r);
		return STORE_NOTFOUND;
	}
	c->found = message_record_to_json(r);
	act = json_object_new_array();
	json_object_object_add(c->found, "activity", act);
	status = activity_each(txn, r->id, activity_fn, act);
	message_record_free(r);
	return status;
}

/* parse_opts - the options after "messages VERB" into c; 0, or 2. */
static int
parse_opts(int argc, char **argv, struct msg_ctx *c)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "tenant", required_argument, NULL, OPT_TENANT },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int opt;

	memset(c, 0, sizeof(*c));
	c->limit = LIST_DEFAULT_LIMIT;
	c->tenant = TENANT_DEFAULT;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SINCE:
			if (parse_time_spec(optarg, now_seconds(), &c->since) < 0)
				return ctl_usage_error("bad time \"%s\": use ISO 8601 UTC"
						       " or a span like 2h",
						       optarg);
			c->list_opts = 1;
			break;
		case OPT_LIMIT:
			c->limit = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end != 0 || c->limit < 0
			    || c->limit > 1000000)
				return ctl_usage_error("bad --limit \"%s\"", optarg);
			c->list_opts = 1;
			break;
		case OPT_TENANT:
			c->tenant = optarg;
			break;
		default:
			return ctl_usage_error("messages %s: bad option\n%s", argv[0],
					       cmd_messages_usage);
		}
	}
	if (optind < argc)
		c->key = argv[optind++];
	if (optind < argc)
		return ctl_usage_error("messages %s: unexpected \"%s\"\n%s", argv[0],
				       argv[optind], cmd_messages_usage);
	return 0;
}

/* messages_show - one record of the tenant's as JSON. */
static int
messages_show(struct ctl *ctl, struct msg_ctx *c)
{
	int status;

	if (c->key == NULL || c->list_opts)
		return ctl_usage_error("%s", cmd_messages_usage);
	if (ctl_tenant_check(ctl, c->tenant) != 0)
		return 1;
	status = store_run(ctl_store(ctl), show_cb, c, 0);
	if (status == STORE_NOTFOUND)
		return ctl_error("no message \"%s\"", c->key);
	if (status != STORE_OK)
		return ctl_error("cannot read the message records");
	ctl_print_json(ctl, c->found);
	json_object_put(c->found);
	return 0;
}

/* list_cb - every record since c->since. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct msg_ctx *c = arg;
	struct store_cursor *cur;
	const void *k, *v;
	size_t kl, vl;
	int status;

	json_object_put(c->found);
	c->found = json_object_new_array();
	if ((status = store_cursor_open(txn, STORE_MESSAGES, &cur)) != STORE_OK)
		return status;
	while ((status = store_cursor_next(cur, &k, &kl, &v, &vl)) == STORE_OK) {
		json_object *o = json_parse_len(v, vl), *ts;

		if (o == NULL)
			continue;
		if (json_object_object_get_ex(o, "timestamp", &ts)
		    && json_object_get_double(ts) >= c->since
		    && strcmp(tenant_of(json_string_member(o, "tenant")), c->tenant) == 0)
			json_object_array_add(c->found, o);
		else
			json_object_put(o);
	}
	store_cursor_close(cur);
	return status == STORE_NOTFOUND ? STORE_OK : status;
}

/* newest_first - order records by timestamp, newest first. */
static int
newest_first(const void *a, const void *b)
{
	json_object *const *x = a, *const *y = b, *tx, *ty;
	double dx = 0, dy = 0;

	if (json_object_object_get_ex(*x, "timestamp", &tx))
		dx = json_object_get_double(tx);
	if (json_object_object_get_ex(*y, "timestamp", &ty))
		dy = json_object_get_double(ty);
	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* str_of - a member as text for the table ("-" for null or empty). */
static const char *
str_of(json_object *o, const char *key)
{
	const char *s = json_text_member(o, key);

	return s != NULL && *s ? s : "-";
}

/* list_row - one table row. */
static void
list_row(struct table *t, json_object *rec)
{
	json_object *v, *rcpts;
	char when[32], nrcpt[16];
	const char *row[8];

	when[0] = 0;
	if (json_object_object_get_ex(rec, "timestamp", &v))
		iso8601_utc(json_object_get_double(v), when, sizeof(when));
	snprintf(nrcpt, sizeof(nrcpt), "%zu",
		 json_object_object_get_ex(rec, "recipients", &rcpts)
		     ? json_object_array_length(rcpts)
		     : (size_t) 0);
	row[0] = str_of(rec, "queue_id");
	row[1] = str_of(rec, "id");
	row[2] = when;
	row[3] = str_of(rec, "from");
	row[4] = nrcpt;
	row[5] = str_of(rec, "tag");
	row[6] = str_of(rec, "token");
	row[7] = str_of(rec, "subject");
	table_add_row(t, row);
}

/* messages_list - the tenant's, newest first, at most --limit. */
static int
messages_list(struct ctl *ctl, struct msg_ctx *c)
{
	static const char *const headers[] = { "QUEUE_ID", "ID",  "TIME",  "FROM",
					       "RCPTS",	   "TAG", "TOKEN", "SUBJECT" };
	struct table *t;
	size_t i, n;

	if (c->key != NULL)
		return ctl_usage_error("messages list: unexpected \"%s\"\n%s", c->key,
				       cmd_messages_usage);
	if (ctl_tenant_check(ctl, c->tenant) != 0)
		return 1;
	if (store_run(ctl_store(ctl), list_cb, c, 0) != STORE_OK)
		return ctl_error("cannot read the message records");
	json_object_array_sort(c->found, newest_first);
	n = json_object_array_length(c->found);
	if (n > (size_t) c->limit)
		n = (size_t) c->limit;
	t = table_new(8, headers);
	for (i = 0; i < n; i++) {
		json_object *rec = json_object_array_get_idx(c->found, i);

		if (ctl->json)
			ctl_print_json_line(rec);
		else
			list_row(t, rec);
	}
	if (!ctl->json)
		table_print(t);
	table_free(t);
	json_object_put(c->found);
	return 0;
}

/* cmd_messages - posthookctl messages VERB ... */
int
cmd_messages(struct ctl *ctl, int argc, char **argv)
{
	struct msg_ctx c;
	int rc;

	if (argc < 2)
		return ctl_usage_error("%s", cmd_messages_usage);
	if (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "list") != 0)
		return ctl_usage_error("unknown messages command \"%s\"\n%s", argv[1],
				       cmd_messages_usage);
	if ((rc = parse_opts(argc - 1, argv + 1, &c)) != 0)
		return rc;
	if (strcmp(argv[1], "show") == 0)
		return messages_show(ctl, &c);
	return messages_list(ctl, &c);
}
