/*
 * cmd_webhooks.c - posthookctl webhooks: create, list, show, update,
 * enable, disable, delete and test webhook endpoints.  A running
 * posthook-webhook sees every change at once (endpoints are read from the
 * store on every pass).  Every verb works on one tenant's endpoints
 * (--tenant, default "default"): another tenant's are not there for it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "health/health.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "event/event_sample.h"
#include "store/probe.h"
#include "tenant/tenant.h"
#include "util/util.h"

/* The usage, also for "posthookctl webhooks --help" (commands.c). */
const char cmd_webhooks_usage[] =
    "usage: posthookctl webhooks create --name N --url U "
    "(--events A,B,... | --all-events) [--secret whsec_...|generate] [--disabled]\n"
    "         [--max-rate R]\n"
    "       posthookctl webhooks list\n"
    "       posthookctl webhooks show ID\n"
    "       posthookctl webhooks update ID [--name N] [--url U] "
    "[--events A,B,... | --all-events] [--secret S|generate|none] [--max-rate R]\n"
    "       posthookctl webhooks enable ID [--discard | --recover]\n"
    "       posthookctl webhooks disable|delete ID\n"
    "       posthookctl webhooks test ID [--event NAME]\n"
    "  each also takes --tenant T (default \"default\")";

enum {
	OPT_NAME = 1,
	OPT_URL,
	OPT_EVENTS,
	OPT_ALL,
	OPT_SECRET,
	OPT_DISABLED,
	OPT_EVENT,
	OPT_MAX_RATE,
	OPT_DISCARD,
	OPT_RECOVER,
	OPT_TENANT
};

/* What create and update were told. */
struct ep_opts {
	const char *name;
	const char *url;
	const char *events;
	int all_events;
	const char *secret;
	int disabled;
	const char *event;
	const char *max_rate;
	enum enable_mode enable; /* enable: what becomes of the waiting */
	const char *tenant;	 /* --tenant, TENANT_DEFAULT when not given */
	const char *id;		 /* the operand */
};

/* parse_opts - the options after "webhooks VERB"; 0, or 2 after a usage error. */
static int
parse_opts(int argc, char **argv, struct ep_opts *o)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "url", required_argument, NULL, OPT_URL },
		{ "events", required_argument, NULL, OPT_EVENTS },
		{ "all-events", no_argument, NULL, OPT_ALL },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "disabled", no_argument, NULL, OPT_DISABLED },
		{ "event", required_argument, NULL, OPT_EVENT },
		{ "max-rate", required_argument, NULL, OPT_MAX_RATE },
		{ "discard", no_argument, NULL, OPT_DISCARD },
		{ "recover", no_argument, NULL, OPT_RECOVER },
		{ "tenant", required_argument, NULL, OPT_TENANT },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(o, 0, sizeof(*o));
	o->tenant = TENANT_DEFAULT;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_NAME:
			o->name = optarg;
			break;
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_EVENTS:
			o->events = optarg;
			break;
		case OPT_ALL:
			o->all_events = 1;
			break;
		case OPT_SECRET:
			o->secret = optarg;
			break;
		case OPT_DISABLED:
			o->disabled = 1;
			break;
		case OPT_EVENT:
			o->event = optarg;
			break;
		case OPT_MAX_RATE:
			o->max_rate = optarg;
			break;
		case OPT_DISCARD:
		case OPT_RECOVER:
			if (o->enable != ENABLE_RESUME)
				return ctl_usage_error(
				    "use --discard or --recover, not both");
			o->enable = opt == OPT_DISCARD ? ENABLE_DISCARD : ENABLE_RECOVER;
			break;
		case OPT_TENANT:
			o->tenant = optarg;
			break;
		default:
			return ctl_usage_error("webhooks %s: bad option \"%s\"\n%s",
					       argv[0], argv[optind - 1],
					       cmd_webhooks_usage);
		}
	}
	if (optind < argc)
		o->id = argv[optind++];
	if (optind < argc)
		return ctl_usage_error("webhooks %s: unexpected \"%s\"\n%s", argv[0],
				       argv[optind], cmd_webhooks_usage);
	if (o->events != NULL && o->all_events)
		return ctl_usage_error("use --events or --all-events, not both");
	return 0;
}

/* apply_opts - validate what was given and set it on ep; 1 on error. */
static int
apply_opts(struct endpoint *ep, const struct ep_opts *o)
{
	char err[700];

	if (o->name != NULL) {
		if (endpoint_check_name(o->name, err, sizeof(err)) < 0)
			return ctl_error("invalid name: %s", err);
		free(ep->name);
		ep->name = xstrdup(o->name);
	}
	if (o->url != NULL) {
		if (endpoint_check_url(o->url, err, sizeof(err)) < 0)
			return ctl_error("invalid URL \"%s\": %s", o->url, err);
		free(ep->url);
		ep->url = xstrdup(o->url);
	}
	if (o->events != NULL) {
		if (endpoint_parse_events(o->events, &ep->events, err, sizeof(err)) < 0)
			return ctl_error("%s", err);
		ep->all_events = 0;
	}
	if (o->all_events) {
		ep->all_events = 1;
		ep->events = 0;
	}
	if (o->max_rate != NULL) {
		char *end;
		double r = strtod(o->max_rate, &end);

		if (end == o->max_rate || *end != 0 || !(r >= 0 && r <= 1e6))
			return ctl_error(
			    "invalid --max-rate \"%s\": requests per second, "
			    "0 for no limit",
			    o->max_rate);
		ep->max_rate = r;
	}
	if (o->secret != NULL) {
		free(ep->secret);
		ep->secret = NULL;
		if (strcmp(o->secret, "generate") == 0) {
			if ((ep->secret = endpoint_new_secret()) == NULL)
				return ctl_error("cannot make a random secret");
		} else if (strcmp(o->secret, "none") != 0) {
			if (endpoint_check_secret(o->secret, err, sizeof(err)) < 0)
				return ctl_error("invalid secret: %s", err);
			ep->secret = xstrdup(o->secret);
		}
	}
	return 0;
}

struct ep_ctx {
	struct endpoint *ep;
	const char *id;
	enum enable_mode mode; /* enable */
	int count;	       /* enable: discarded or recovered; disable: told */
	const char *tenant;    /* whose endpoints are seen */
};

/* owned - whether ep belongs to tenant. */
static int
owned(const struct endpoint *ep, const char *tenant)
{
	return strcmp(tenant_of(ep->tenant), tenant) == 0;
}

/* create_cb - store the new endpoint. */
static int
create_cb(struct store_txn *txn, void *arg)
{
	struct ep_ctx *c = arg;

	return endpoint_create(txn, c->ep);
}

/* print_endpoint - one endpoint as JSON. */
static void
print_endpoint(struct ctl *ctl, const struct endpoint *ep, int show_secret)
{
	json_object *o = endpoint_to_json(ep, show_secret);

	ctl_print_json(ctl, o);
	json_object_put(o);
}

/* webhooks_create - create and print the new endpoint. */
static int
webhooks_create(struct ctl *ctl, const struct ep_opts *o)
{
	struct ep_ctx c;
	int rc;

	if (o->id != NULL)
		return ctl_usage_error("webhooks create takes no ID\n%s",
				       cmd_webhooks_usage);
	if (o->name == NULL || o->url == NULL || (o->events == NULL && !o->all_events))
		return ctl_usage_error("webhooks create needs --name, --url and "
				       "--events or --all-events\n%s",
				       cmd_webhooks_usage);
	if (ctl_tenant_check(ctl, o->tenant) != 0)
		return 1;
	memset(&c, 0, sizeof(c));
	c.ep = endpoint_new();
	c.ep->enabled = !o->disabled;
	if (o->disabled)
		c.ep->disabled_reason = xstrdup(DISABLED_ADMIN);
	/* The default tenant's records name none, as before tenants. */
	if (strcmp(o->tenant, TENANT_DEFAULT) != 0)
		c.ep->tenant = xstrdup(o->tenant);
	if (apply_opts(c.ep, o) != 0) {
		endpoint_free(c.ep);
		return 1;
	}
	rc = store_run(ctl_store(ctl), create_cb, &c, 0);
	if (rc != STORE_OK) {
		endpoint_free(c.ep);
		return ctl_error("cannot store the webhook");
	}
	print_endpoint(ctl, c.ep, 1);
	endpoint_free(c.ep);
	return 0;
}

struct list_ctx {
	struct endpoint **eps;
	int n;
};

/* list_cb - read every endpoint. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct list_ctx *c = arg;

	endpoint_list_free(c->eps, c->n);
	c->eps = NULL;
	c->n = 0;
	return endpoint_list(txn, &c->eps, &c->n);
}

/* events_text - "all" or the comma-separated names. */
static char *
events_text(const struct endpoint *ep)
{
	struct buf b;
	int t;

	if (ep->all_events)
		return xstrdup("all");
	buf_init(&b);
	for (t = 0; t < EV_TYPE_COUNT; t++)
		if (endpoint_wants(ep, (enum event_type) t)) {
			if (b.len > 0)
				buf_puts(&b, ",");
			buf_puts(&b, event_type_name((enum event_type) t));
		}
	return buf_take(&b);
}

/* webhooks_list - the tenant's, as a table or one JSON object per line. */
static int
webhooks_list(struct ctl *ctl, const char *tenant)
{
	static const char *const headers[] = { "ID", "NAME", "ENABLED", "URL", "EVENTS" };
	struct list_ctx c;
	struct table *t;
	json_object *o;
	int i;

	if (ctl_tenant_check(ctl, tenant) != 0)
		return 1;
	memset(&c, 0, sizeof(c));
	if (store_run(ctl_store(ctl), list_cb, &c, 0) != STORE_OK)
		return ctl_error("cannot read the webhooks");
	t = table_new(5, headers);
	for (i = 0; i < c.n; i++) {
		if (!owned(c.eps[i], tenant))
			continue;
		if (ctl->json) {
			o = endpoint_to_json(c.eps[i], 0);
			ctl_print_json_line(o);
			json_object_put(o);
		} else {
			char *ev = events_text(c.eps[i]);
			const char *row[5] = { c.eps[i]->id, c.eps[i]->name,
					       c.eps[i]->enabled ? "yes" : "no",
					       c.eps[i]->url, ev };

			table_add_row(t, row);
			free(ev);
		}
	}
	if (!ctl->json)
		table_print(t);
	table_free(t);
	endpoint_list_free(c.eps, c.n);
	return 0;
}

/* get_cb - read one endpoint. */
static int
get_cb(struct store_txn *txn, void *arg)
{
	struct ep_ctx *c = arg;
	int rc;

	endpoint_free(c->ep);
	c->ep = NULL;
	rc = endpoint_get(txn, c->id, &c->ep);
	if (rc == STORE_OK && !owned(c->ep, c->tenant)) {
		endpoint_free(c->ep);
		c->ep = NULL;
		rc = STORE_NOTFOUND;
	}
	return rc;
}

/* load - the tenant's endpoint named by id, or NULL after an error message. */
static struct endpoint *
load(struct ctl *ctl, const char *id, const char *tenant)
{
	struct ep_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.id = id;
	c.tenant = tenant;
	rc = store_run(ctl_store(ctl), get_cb, &c, 0);
	if (rc == STORE_NOTFOUND) {
		ctl_error("no webhook with id \"%s\"", id);
		return NULL;
	}
	if (rc != STORE_OK) {
		ctl_error("cannot read webhook %s", id);
		return NULL;
	}
	return c.ep;
}

/* put_cb - store a changed endpoint, unless it was deleted meanwhile. */
static int
put_cb(struct store_txn *txn, void *arg)
{
	struct ep_ctx *c = arg;
	struct endpoint *cur;
	int rc;

	rc = endpoint_get(txn, c->ep->id, &cur);
	if (rc != STORE_OK)
		return rc;
	endpoint_free(cur);
	return endpoint_put(txn, c->ep);
}

/* save - store ep and print it. */
static int
save(struct ctl *ctl, struct endpoint *ep)
{
	struct ep_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.ep = ep;
	rc = store_run(ctl_store(ctl), put_cb, &c, 0);
	if (rc == STORE_NOTFOUND)
		return ctl_error("no webhook with id \"%s\"", ep->id);
	if (rc != STORE_OK)
		return ctl_error("cannot store webhook %s", ep->id);
	print_endpoint(ctl, ep, 0);
	return 0;
}

/* enable_cb - enable the tenant's endpoint and close its breaker. */
static int
enable_cb(struct store_txn *txn, void *arg)
{
	struct ep_ctx *c = arg;
	int rc;

	if ((rc = get_cb(txn, c)) != STORE_OK)
		return rc;
	return endpoint_enable(txn, c->id, c->mode, &c->count);
}

/* disable_cb - disable it as an admin (WebhookDisabled, reason admin). */
static int
disable_cb(struct store_txn *txn, void *arg)
{
	struct ep_ctx *c = arg;
	int rc;

	if ((rc = get_cb(txn, c)) != STORE_OK)
		return rc;
	return endpoint_disable(txn, c->id, DISABLED_ADMIN, &c->count);
}

/*
 * webhooks_switch - enable (its waiting deliveries go, or are discarded;
 * --recover queues again what failed) or disable; print the endpoint.
 */
static int
webhooks_switch(struct ctl *ctl, int enable, const struct ep_opts *o)
{
	struct endpoint *ep;
	struct ep_ctx c;
	int rc;

	if (o->id == NULL)
		return ctl_usage_error("webhooks %s needs an ID\n%s",
				       enable ? "enable" : "disable", cmd_webhooks_usage);
	if (!enable && o->enable != ENABLE_RESUME)
		return ctl_usage_error("--discard and --recover go with enable");
	memset(&c, 0, sizeof(c));
	c.id = o->id;
	c.mode = o->enable;
	c.tenant = o->tenant;
	rc = store_run(ctl_store(ctl), enable ? enable_cb : disable_cb, &c, 0);
	endpoint_free(c.ep);
	if (rc == STORE_NOTFOUND)
		return ctl_error("no webhook with id \"%s\"", o->id);
	if (rc != STORE_OK)
		return ctl_error("cannot %s webhook %s", enable ? "enable" : "disable",
				 o->id);
	if (enable && o->enable == ENABLE_DISCARD)
		fprintf(stderr, "%d waiting deliver%s marked failed\n", c.count,
			c.count == 1 ? "y" : "ies");
	else if (enable && o->enable == ENABLE_RECOVER)
		fprintf(stderr, "%d failed deliver%s queued again\n", c.count,
			c.count == 1 ? "y" : "ies");
	if ((ep = load(ctl, o->id, o->tenant)) == NULL)
		return 1;
	print_endpoint(ctl, ep, 0);
	endpoint_free(ep);
	return 0;
}

/* webhooks_update - change some fields. */
static int
webhooks_update(struct ctl *ctl, const char *verb, const struct ep_opts *o)
{
	struct endpoint *ep;
	int rc;

	if (o->id == NULL)
		return ctl_usage_error("webhooks %s needs an ID\n%s", verb,
				       cmd_webhooks_usage);
	if ((ep = load(ctl, o->id, o->tenant)) == NULL)
		return 1;
	if (apply_opts(ep, o) != 0) {
		endpoint_free(ep);
		return 1;
	}
	rc = save(ctl, ep);
	endpoint_free(ep);
	return rc;
}

/* delete_cb - remove one endpoint of the tenant. */
static int
delete_cb(struct store_txn *txn, void *arg)
{
	struct ep_ctx *c = arg;
	int rc;

	if ((rc = get_cb(txn, c)) != STORE_OK)
		return rc;
	rc = endpoint_delete(txn, c->id);
	return rc == STORE_OK ? health_delete(txn, c->id) : rc;
}

/* webhooks_delete - remove; its pending deliveries then fail. */
static int
webhooks_delete(struct ctl *ctl, const struct ep_opts *o)
{
	struct ep_ctx c;
	int rc;

	if (o->id == NULL)
		return ctl_usage_error("webhooks delete needs an ID\n%s",
				       cmd_webhooks_usage);
	memset(&c, 0, sizeof(c));
	c.id = o->id;
	c.tenant = o->tenant;
	rc = store_run(ctl_store(ctl), delete_cb, &c, 0);
	endpoint_free(c.ep);
	if (rc == STORE_NOTFOUND)
		return ctl_error("no webhook with id \"%s\"", o->id);
	if (rc != STORE_OK)
		return ctl_error("cannot delete webhook %s", o->id);
	printf("webhook %s deleted\n", o->id);
	return 0;
}

struct test_ctx {
	const char *id;
	const char *tenant;
	const char *key;
	enum event_type type;
	json_object *payload;
	uint64_t after;
	json_object *found;
	int disabled;
};

/* test_queue_cb - note where the history ends and queue the event. */
static int
test_queue_cb(struct store_txn *txn, void *arg)
{
	struct test_ctx *c = arg;
	struct endpoint *ep;
	int rc;

	rc = endpoint_get(txn, c->id, &ep);
	if (rc != STORE_OK)
		return rc;
	rc = owned(ep, c->tenant) ? STORE_OK : STORE_NOTFOUND;
	endpoint_free(ep);
	if (rc != STORE_OK)
		return rc;
	return probe_queue(txn, c->id, c->key, c->type, c->payload, &c->after,
			   &c->disabled);
}

/* test_find_cb - the first attempt of the test event, if made. */
static int
test_find_cb(struct store_txn *txn, void *arg)
{
	struct test_ctx *c = arg;

	if (c->found != NULL)
		json_object_put(c->found);
	return probe_find(txn, c->key, c->after, &c->found);
}

/* webhooks_test - queue a sample event for one endpoint, print its first attempt. */
static int
webhooks_test(struct ctl *ctl, const struct ep_opts *o)
{
	struct test_ctx c;
	struct store *st;
	char uuid[37], *key;
	int64_t until;
	int rc, ok;
	json_object *v;

	if (o->id == NULL)
		return ctl_usage_error("webhooks test needs an ID\n%s",
				       cmd_webhooks_usage);
	memset(&c, 0, sizeof(c));
	c.id = o->id;
	c.tenant = o->tenant;
	c.type = EV_MESSAGE_SENT;
	if (o->event != NULL && event_type_from_name(o->event, &c.type) < 0)
		return ctl_error("unknown event \"%s\"", o->event);
	st = ctl_store(ctl);
	event_uuid_new(uuid);
	key = xasprintf(PROBE_TEST_KEY_PREFIX "%s", uuid);
	c.key = key;
	c.payload = event_sample_payload(c.type, now_seconds());
	rc = store_run(st, test_queue_cb, &c, 0);
	json_object_put(c.payload);
	if (rc != STORE_OK || c.disabled) {
		free(key);
		if (rc == STORE_NOTFOUND)
			return ctl_error("no webhook with id \"%s\"", o->id);
		if (c.disabled)
			return ctl_error("webhook %s is disabled; enable it first",
					 o->id);
		return ctl_error("cannot queue the test event");
	}
	until = monotonic_ms() + ctl_config(ctl)->webhook_timeout_ms + 15000;
	while (c.found == NULL && monotonic_ms() < until) {
		usleep(100 * 1000);
		if (store_run(st, test_find_cb, &c, 0) != STORE_OK) {
			free(key);
			return ctl_error("cannot read the delivery history");
		}
	}
	free(key);
	if (c.found == NULL)
		return ctl_error("the test event was queued, but no attempt was made in "
				 "time: is posthook-webhook running?");
	ctl_print_json(ctl, c.found);
	ok = json_object_object_get_ex(c.found, "success", &v)
	     && json_object_get_boolean(v);
	json_object_put(c.found);
	return ok ? 0 : 1;
}

/* cmd_webhooks - posthookctl webhooks VERB ... */
int
cmd_webhooks(struct ctl *ctl, int argc, char **argv)
{
	struct ep_opts o;
	struct endpoint *ep;
	const char *verb;
	int rc;

	if (argc < 2)
		return ctl_usage_error("%s", cmd_webhooks_usage);
	verb = argv[1];
	if ((rc = parse_opts(argc - 1, argv + 1, &o)) != 0)
		return rc;
	if (strcmp(verb, "create") == 0)
		return webhooks_create(ctl, &o);
	if (strcmp(verb, "list") == 0)
		return webhooks_list(ctl, o.tenant);
	if (strcmp(verb, "show") == 0) {
		if (o.id == NULL)
			return ctl_usage_error("webhooks show needs an ID\n%s",
					       cmd_webhooks_usage);
		if ((ep = load(ctl, o.id, o.tenant)) == NULL)
			return 1;
		print_endpoint(ctl, ep, 0);
		endpoint_free(ep);
		return 0;
	}
	if (strcmp(verb, "update") == 0)
		return webhooks_update(ctl, verb, &o);
	if (strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0)
		return webhooks_switch(ctl, strcmp(verb, "enable") == 0, &o);
	if (strcmp(verb, "delete") == 0)
		return webhooks_delete(ctl, &o);
	if (strcmp(verb, "test") == 0)
		return webhooks_test(ctl, &o);
	return ctl_usage_error("unknown webhooks command \"%s\"\n%s", verb,
			       cmd_webhooks_usage);
}
