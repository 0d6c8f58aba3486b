/*
 * cmd_deliveries.c - posthookctl deliveries: the attempt history (list,
 * show: docs/events.md, Delivery attempt), replay of one attempt's delivery
 * and recover of an endpoint's failed deliveries.  Each sees one tenant's
 * (--tenant, default "default"): the attempts made for its endpoints.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "tenant/tenant.h"
#include "util/json.h"
#include "util/util.h"

/* The usage, also for "posthookctl deliveries --help" (commands.c). */
const char cmd_deliveries_usage[] =
    "usage: posthookctl deliveries list [--webhook ID] [--failed] [--event NAME] "
    "[--since T] [--limit N]\n"
    "       posthookctl deliveries show ATTEMPT-ID\n"
    "       posthookctl deliveries replay ATTEMPT-ID\n"
    "       posthookctl deliveries recover --webhook ID --since T\n"
    "  each also takes --tenant T (default \"default\")\n"
    "  T is ISO 8601 UTC (2024-01-15T10:30:00Z) or a span ago (2h, 30m, 7d)";

#define LIST_DEFAULT_LIMIT 50

enum {
	OPT_WEBHOOK = 1,
	OPT_FAILED,
	OPT_EVENT,
	OPT_SINCE,
	OPT_LIMIT,
	OPT_ALL,
	OPT_TENANT
};

struct dl_opts {
	struct attempt_filter f;
	int since_given;
	const char *id;
};

/* parse_opts - the options after "deliveries VERB"; 0 or 2. */
static int
parse_opts(int argc, char **argv, struct dl_opts *o)
{
	static const struct option opts[] = {
		{ "webhook", required_argument, NULL, OPT_WEBHOOK },
		{ "failed", no_argument, NULL, OPT_FAILED },
		{ "event", required_argument, NULL, OPT_EVENT },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "tenant", required_argument, NULL, OPT_TENANT },
		{ NULL, 0, NULL, 0 },
	};
	enum event_type t;
	char *end;
	long n;
	int opt;

	memset(o, 0, sizeof(*o));
	o->f.event = -1;
	o->f.limit = LIST_DEFAULT_LIMIT;
	o->f.tenant = TENANT_DEFAULT;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_WEBHOOK:
			o->f.endpoint_id = optarg;
			break;
		case OPT_FAILED:
			o->f.failed_only = 1;
			break;
		case OPT_EVENT:
			if (event_type_from_name(optarg, &t) < 0)
				return ctl_usage_error("unknown event \"%s\"", optarg);
			o->f.event = (int) t;
			break;
		case OPT_SINCE:
			if (parse_time_spec(optarg, now_seconds(), &o->f.since) < 0)
				return ctl_usage_error(
				    "bad time \"%s\": use ISO 8601 UTC or "
				    "a span like 2h",
				    optarg);
			o->since_given = 1;
			break;
		case OPT_LIMIT:
			n = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end != 0 || n < 0 || n > 1000000)
				return ctl_usage_error("bad --limit \"%s\"", optarg);
			o->f.limit = (int) n;
			break;
		case OPT_TENANT:
			o->f.tenant = optarg;
			break;
		default:
			return ctl_usage_error("deliveries %s: bad option \"%s\"\n%s",
					       argv[0], argv[optind - 1],
					       cmd_deliveries_usage);
		}
	}
	if (optind < argc)
		o->id = argv[optind++];
	if (optind < argc)
		return ctl_usage_error("deliveries %s: unexpected \"%s\"\n%s", argv[0],
				       argv[optind], cmd_deliveries_usage);
	return 0;
}

struct list_ctx {
	const struct attempt_filter *f;
	json_object *list;
	const char *id;
	uint64_t new_id;
	int count;
};

/* list_cb - the matching attempts. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct list_ctx *c = arg;

	if (c->list != NULL)
		json_object_put(c->list);
	c->list = NULL;
	return attempt_list(txn, c->f, &c->list);
}

/* str_of - a member as text for the table ("-" for null). */
static const char *
str_of(json_object *o, const char *key)
{
	const char *s = json_text_member(o, key);

	return s != NULL ? s : "-";
}

/* row_result - ok, retry or failed. */
static const char *
row_result(json_object *rec)
{
	json_object *v;

	if (json_object_object_get_ex(rec, "success", &v) && json_object_get_boolean(v))
		return "ok";
	if (json_object_object_get_ex(rec, "willRetry", &v) && json_object_get_boolean(v))
		return "retry";
	return "failed";
}

/* deliveries_list - newest first. */
static int
deliveries_list(struct ctl *ctl, const struct dl_opts *o)
{
	static const char *const headers[] = { "ID",	 "TIME",    "WEBHOOK",
					       "EVENT",	 "ATTEMPT", "STATUS",
					       "RESULT", "UUID",    "ERROR" };
	struct list_ctx c;
	struct table *t;
	json_object *rec;
	size_t i;

	if (ctl_tenant_check(ctl, o->f.tenant) != 0)
		return 1;
	memset(&c, 0, sizeof(c));
	c.f = &o->f;
	if (store_run(ctl_store(ctl), list_cb, &c, 0) != STORE_OK)
		return ctl_error("cannot read the delivery history");
	t = table_new(9, headers);
	for (i = 0; i < json_object_array_length(c.list); i++) {
		rec = json_object_array_get_idx(c.list, i);
		if (ctl->json) {
			ctl_print_json_line(rec);
		} else {
			const char *row[9] = {
				str_of(rec, "id"),	  str_of(rec, "timestamp"),
				str_of(rec, "webhookId"), str_of(rec, "event"),
				str_of(rec, "attempt"),	  str_of(rec, "statusCode"),
				row_result(rec),	  str_of(rec, "uuid"),
				str_of(rec, "error"),
			};

			table_add_row(t, row);
		}
	}
	if (!ctl->json)
		table_print(t);
	table_free(t);
	json_object_put(c.list);
	return 0;
}

/* tenants_attempt - STORE_OK when attempt c->id is the tenant's, else NOTFOUND. */
static int
tenants_attempt(struct store_txn *txn, const struct list_ctx *c)
{
	char *tenant;
	int rc;

	if ((rc = attempt_tenant(txn, c->id, &tenant)) != STORE_OK)
		return rc;
	rc = strcmp(tenant, c->f->tenant) == 0 ? STORE_OK : STORE_NOTFOUND;
	free(tenant);
	return rc;
}

/* show_cb - one attempt of the tenant's. */
static int
show_cb(struct store_txn *txn, void *arg)
{
	struct list_ctx *c = arg;
	int rc;

	if (c->list != NULL)
		json_object_put(c->list);
	c->list = NULL;
	if ((rc = tenants_attempt(txn, c)) != STORE_OK)
		return rc;
	return attempt_get(txn, c->id, &c->list);
}

/* deliveries_show - one attempt record (docs/events.md, Delivery attempt). */
static int
deliveries_show(struct ctl *ctl, const struct dl_opts *o)
{
	struct list_ctx c;
	int rc;

	if (o->id == NULL)
		return ctl_usage_error("deliveries show needs an attempt id (whr_...)");
	memset(&c, 0, sizeof(c));
	c.id = o->id;
	c.f = &o->f;
	rc = store_run(ctl_store(ctl), show_cb, &c, 0);
	if (rc == STORE_NOTFOUND)
		return ctl_error("no delivery attempt \"%s\"", o->id);
	if (rc != STORE_OK)
		return ctl_error("cannot read attempt %s", o->id);
	ctl_print_json(ctl, c.list);
	json_object_put(c.list);
	return 0;
}

/* replay_cb - queue the attempt's delivery once more. */
static int
replay_cb(struct store_txn *txn, void *arg)
{
	struct list_ctx *c = arg;
	int rc;

	if ((rc = tenants_attempt(txn, c)) != STORE_OK)
		return rc;
	return delivery_replay(txn, c->id, &c->new_id);
}

/* deliveries_replay - same uuid, new timestamp, one attempt. */
static int
deliveries_replay(struct ctl *ctl, const struct dl_opts *o)
{
	struct list_ctx c;
	json_object *out;
	int rc;

	if (o->id == NULL)
		return ctl_usage_error("deliveries replay needs an attempt id (whr_...)");
	memset(&c, 0, sizeof(c));
	c.id = o->id;
	c.f = &o->f;
	rc = store_run(ctl_store(ctl), replay_cb, &c, 0);
	if (rc == STORE_NOTFOUND)
		return ctl_error("no delivery attempt \"%s\"", o->id);
	if (rc != STORE_OK)
		return ctl_error("cannot queue a replay of %s", o->id);
	out = json_object_new_object();
	json_object_object_add(out, "queued", json_object_new_boolean(1));
	json_object_object_add(out, "replayOf", json_object_new_string(o->id));
	json_object_object_add(out, "deliveryId",
			       json_object_new_int64((int64_t) c.new_id));
	ctl_print_json(ctl, out);
	json_object_put(out);
	return 0;
}

/* recover_cb - requeue the endpoint's failed deliveries. */
static int
recover_cb(struct store_txn *txn, void *arg)
{
	struct list_ctx *c = arg;
	struct endpoint *ep;
	int rc;

	rc = endpoint_get(txn, c->f->endpoint_id, &ep);
	if (rc != STORE_OK)
		return rc;
	rc = strcmp(tenant_of(ep->tenant), c->f->tenant) == 0 ? STORE_OK : STORE_NOTFOUND;
	endpoint_free(ep);
	if (rc != STORE_OK)
		return rc;
	return delivery_recover(txn, c->f->endpoint_id, c->f->since, &c->count);
}

/* deliveries_recover - every failed delivery of an endpoint since T, again. */
static int
deliveries_recover(struct ctl *ctl, const struct dl_opts *o)
{
	struct list_ctx c;
	int rc;

	if (o->f.endpoint_id == NULL || !o->since_given || o->id != NULL)
		return ctl_usage_error(
		    "deliveries recover needs --webhook ID and --since T");
	memset(&c, 0, sizeof(c));
	c.f = &o->f;
	rc = store_run(ctl_store(ctl), recover_cb, &c, 0);
	if (rc == STORE_NOTFOUND)
		return ctl_error("no webhook with id \"%s\"", o->f.endpoint_id);
	if (rc != STORE_OK)
		return ctl_error("cannot recover the deliveries of webhook %s",
				 o->f.endpoint_id);
	printf("%d failed deliver%s of webhook %s queued again\n", c.count,
	       c.count == 1 ? "y" : "ies", o->f.endpoint_id);
	return 0;
}

/* cmd_deliveries - posthookctl deliveries VERB ... */
int
cmd_deliveries(struct ctl *ctl, int argc, char **argv)
{
	struct dl_opts o;
	const char *verb;
	int rc;

	if (argc < 2)
		return ctl_usage_error("%s", cmd_deliveries_usage);
	verb = argv[1];
	if ((rc = parse_opts(argc - 1, argv + 1, &o)) != 0)
		return rc;
	if (strcmp(verb, "list") == 0)
		return deliveries_list(ctl, &o);
	if (strcmp(verb, "show") == 0)
		return deliveries_show(ctl, &o);
	if (strcmp(verb, "replay") == 0)
		return deliveries_replay(ctl, &o);
	if (strcmp(verb, "recover") == 0)
		return deliveries_recover(ctl, &o);
	return ctl_usage_error("unknown deliveries command \"%s\"\n%s", verb,
			       cmd_deliveries_usage);
}
