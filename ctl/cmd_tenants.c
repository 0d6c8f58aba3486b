/*
 * cmd_tenants.c - posthookctl tenants: create, list, show, update and
 * delete the tenants one Postfix sends for, and the rules that say which
 * messages are each one's.  A running milter sees a change within seconds
 * (it rereads the rules when they change), a running tailer likewise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "tenant/tenant.h"
#include "util/util.h"

/* The usage, also for "posthookctl tenants --help" (commands.c). */
const char cmd_tenants_usage[] =
    "usage: posthookctl tenants create NAME [--sasl-user U]... [--client CIDR]... "
    "[--sender-domain D]... [--daemon-name N]... [--settings JSON]\n"
    "       posthookctl tenants list\n"
    "       posthookctl tenants show NAME\n"
    "       posthookctl tenants update NAME [--add-sasl-user U] "
    "[--remove-sasl-user U] [--add-client CIDR] [--remove-client CIDR] "
    "[--add-sender-domain D] [--remove-sender-domain D] [--add-daemon-name N] "
    "[--remove-daemon-name N] [--settings JSON]\n"
    "       posthookctl tenants delete NAME";

/* How an option changes a rule: set on create, add or remove on update. */
enum rule_op { OP_SET, OP_ADD, OP_REMOVE, OP_COUNT };

#define OPT_RULE 0x100 /* + kind * OP_COUNT + op */
#define OPT_SETTINGS 1

/* The option word of each kind, in enum tenant_rule_kind's order. */
static const char *const kind_options[TENANT_RULE_KINDS] = {
	[TENANT_RULE_SASL] = "sasl-user",
	[TENANT_RULE_CLIENT] = "client",
	[TENANT_RULE_DAEMON] = "daemon-name",
	[TENANT_RULE_SENDER_DOMAIN] = "sender-domain",
};

struct rule_change {
	enum tenant_rule_kind kind;
	enum rule_op op;
	const char *value;
};

/* What the command line asked. */
struct tenant_opts {
	const char *name; /* the operand */
	struct rule_change *changes;
	size_t nchanges;
	json_object *settings; /* --settings, parsed; owned */
};

/* opts_free - release what parse_opts made. */
static void
opts_free(struct tenant_opts *o)
{
	free(o->changes);
	if (o->settings != NULL)
		json_object_put(o->settings);
}

/* long_options - every rule option in its three forms, and --settings. */
static struct option *
long_options(void)
{
	struct option *opts = xcalloc(TENANT_RULE_KINDS * OP_COUNT + 2, sizeof(*opts));
	static const char *const prefix[OP_COUNT] = { "", "add-", "remove-" };
	size_t n = 0;
	int k, op;

	for (k = 0; k < TENANT_RULE_KINDS; k++) {
		for (op = 0; op < OP_COUNT; op++) {
			opts[n].name = xasprintf("%s%s", prefix[op], kind_options[k]);
			opts[n].has_arg = required_argument;
			opts[n].val = OPT_RULE + k * OP_COUNT + op;
			n++;
		}
	}
	opts[n].name = xstrdup("settings");
	opts[n].has_arg = required_argument;
	opts[n].val = OPT_SETTINGS;
	return (opts);
}

/* long_options_free - free long_options' table. */
static void
long_options_free(struct option *opts)
{
	size_t i;

	for (i = 0; opts[i].name != NULL; i++)
		free((char *) opts[i].name);
	free(opts);
}

/* parse_settings - --settings: a JSON object; 0, or 2 after a usage error. */
static int
parse_settings(const char *text, struct tenant_opts *o)
{
	json_object *v = json_tokener_parse(text);

	if (v == NULL || !json_object_is_type(v, json_type_object)) {
		if (v != NULL)
			json_object_put(v);
		return (ctl_usage_error("--settings must be a JSON object, such as "
					"'{\"tracking\":false}'"));
	}
	if (o->settings != NULL)
		json_object_put(o->settings);
	o->settings = v;
	return (0);
}

/* parse_opts - the options after "tenants VERB"; 0, or 2 after a usage error. */
static int
parse_opts(int argc, char **argv, struct tenant_opts *o)
{
	struct option *opts = long_options();
	struct rule_change *ch;
	int opt, rc = 0;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == OPT_SETTINGS) {
			rc = parse_settings(optarg, o);
		} else if (opt >= OPT_RULE
			   && opt < OPT_RULE + TENANT_RULE_KINDS * OP_COUNT) {
			o->changes =
			    xrealloc(o->changes, (o->nchanges + 1) * sizeof(*o->changes));
			ch = &o->changes[o->nchanges++];
			ch->kind = (enum tenant_rule_kind)((opt - OPT_RULE) / OP_COUNT);
			ch->op = (enum rule_op)((opt - OPT_RULE) % OP_COUNT);
			ch->value = optarg;
		} else {
			rc = ctl_usage_error("tenants %s: bad option \"%s\"\n%s", argv[0],
					     argv[optind - 1], cmd_tenants_usage);
		}
	}
	long_options_free(opts);
	if (rc == 0 && optind < argc)
		o->name = argv[optind++];
	if (rc == 0 && optind < argc)
		rc = ctl_usage_error("tenants %s: unexpected \"%s\"\n%s", argv[0],
				     argv[optind], cmd_tenants_usage);
	return (rc);
}

struct tenant_ctx {
	const char *name;
	const struct tenant_opts *o;
	int create;
	struct tenant *t; /* the result */
	char err[512];
};

/* apply_changes - the command line's changes to t; 0, or -1 and err. */
static int
apply_changes(struct tenant *t, const struct tenant_opts *o, char *err, size_t errlen)
{
	const struct rule_change *ch;
	size_t i;

	for (i = 0; i < o->nchanges; i++) {
		ch = &o->changes[i];
		if (ch->op == OP_REMOVE) {
			if (tenant_rule_remove(t, ch->kind, ch->value) != 0) {
				snprintf(err, errlen, "tenant %s has no %s \"%s\"",
					 t->name, kind_options[ch->kind], ch->value);
				return (-1);
			}
		} else if (tenant_rule_add(t, ch->kind, ch->value, err, errlen) != 0) {
			return (-1);
		}
	}
	if (o->settings != NULL) {
		if (t->settings != NULL)
			json_object_put(t->settings);
		t->settings = json_object_get(o->settings);
	}
	return (0);
}

/* change_cb - create the tenant or change the stored one, in one transaction. */
static int
change_cb(struct store_txn *txn, void *arg)
{
	struct tenant_ctx *c = arg;
	struct tenant *old = NULL;
	int rc;

	tenant_free(c->t);
	c->t = NULL;
	rc = tenant_get(txn, c->name, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return (rc);
	if (c->create && old != NULL) {
		tenant_free(old);
		snprintf(c->err, sizeof(c->err), "tenant %s exists: use tenants update",
			 c->name);
		return (TENANT_CONFLICT);
	}
	if (!c->create && old == NULL)
		return (STORE_NOTFOUND);
	c->t = old != NULL ? old : tenant_new(c->name);
	if (apply_changes(c->t, c->o, c->err, sizeof(c->err)) != 0)
		return (TENANT_INVALID);
	if ((rc = tenant_put(txn, c->t, c->err, sizeof(c->err))) != STORE_OK)
		return (rc);
	tenant_free(c->t);
	return (tenant_get(txn, c->name, &c->t));
}

/* print_tenant - one tenant as JSON. */
static void
print_tenant(struct ctl *ctl, const struct tenant *t)
{
	json_object *o = tenant_to_json(t);

	ctl_print_json(ctl, o);
	json_object_put(o);
}

/* tenants_change - create or update, then print the tenant. */
static int
tenants_change(struct ctl *ctl, const char *verb, const struct tenant_opts *o)
{
	struct tenant_ctx c;
	size_t i;
	int rc;

	if (o->name == NULL)
		return (ctl_usage_error("tenants %s needs a NAME\n%s", verb,
					cmd_tenants_usage));
	memset(&c, 0, sizeof(c));
	c.create = strcmp(verb, "create") == 0;
	for (i = 0; i < o->nchanges; i++)
		if ((o->changes[i].op == OP_SET) != c.create)
			return (ctl_usage_error(
			    "tenants %s: use %s\n%s", verb,
			    c.create ? "--sasl-user, --client, --sender-domain, "
				       "--daemon-name"
				     : "--add-... and --remove-...",
			    cmd_tenants_usage));
	if (c.create && !tenant_name_valid(o->name))
		return (ctl_error("invalid tenant name \"%s\": 1 to %d characters of "
				  "a-z, 0-9, '_' and '-', starting with a letter or "
				  "digit",
				  o->name, TENANT_NAME_MAX));
	c.name = o->name;
	c.o = o;
	rc = store_run(ctl_store(ctl), change_cb, &c, 0);
	if (rc == STORE_OK)
		print_tenant(ctl, c.t);
	tenant_free(c.t);
	if (rc == STORE_OK)
		return (0);
	if (rc == STORE_NOTFOUND)
		return (ctl_error("no tenant named \"%s\"", o->name));
	if (rc == TENANT_INVALID || rc == TENANT_CONFLICT)
		return (ctl_error("%s", c.err));
	return (ctl_error("cannot store tenant %s", o->name));
}

struct list_ctx {
	struct tenant **list;
	size_t n;
};

/* list_cb - read every tenant. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct list_ctx *c = arg;

	tenant_list_free(c->list, c->n);
	c->list = NULL;
	c->n = 0;
	return (tenant_list(txn, &c->list, &c->n));
}

/* values_text - a rule's values, comma-separated, or "-". */
static char *
values_text(char **values)
{
	struct buf b;
	size_t i;

	if (values == NULL || values[0] == NULL)
		return (xstrdup("-"));
	buf_init(&b);
	for (i = 0; values[i] != NULL; i++) {
		if (i > 0)
			buf_puts(&b, ",");
		buf_puts(&b, values[i]);
	}
	return (buf_take(&b));
}

/* tenants_list - a table, or one JSON object per line. */
static int
tenants_list(struct ctl *ctl)
{
	static const char *const headers[] = { "NAME", "SASL USERS", "CLIENTS",
					       "DAEMON NAMES", "SENDER DOMAINS" };
	struct list_ctx c;
	struct table *t;
	json_object *o;
	char *cells[TENANT_RULE_KINDS];
	const char *row[1 + TENANT_RULE_KINDS];
	size_t i;
	int k;

	memset(&c, 0, sizeof(c));
	if (store_run(ctl_store(ctl), list_cb, &c, 0) != STORE_OK)
		return (ctl_error("cannot read the tenants"));
	t = table_new(1 + TENANT_RULE_KINDS, headers);
	for (i = 0; i < c.n; i++) {
		if (ctl->json) {
			o = tenant_to_json(c.list[i]);
			ctl_print_json_line(o);
			json_object_put(o);
			continue;
		}
		row[0] = c.list[i]->name;
		for (k = 0; k < TENANT_RULE_KINDS; k++)
			row[1 + k] = cells[k] = values_text(c.list[i]->rules[k]);
		table_add_row(t, row);
		for (k = 0; k < TENANT_RULE_KINDS; k++)
			free(cells[k]);
	}
	if (!ctl->json)
		table_print(t);
	table_free(t);
	tenant_list_free(c.list, c.n);
	return (0);
}

/* get_cb - read one tenant. */
static int
get_cb(struct store_txn *txn, void *arg)
{
	struct tenant_ctx *c = arg;

	tenant_free(c->t);
	c->t = NULL;
	return (tenant_get(txn, c->name, &c->t));
}

/* tenants_show - one tenant as JSON. */
static int
tenants_show(struct ctl *ctl, const struct tenant_opts *o)
{
	struct tenant_ctx c;
	int rc;

	if (o->name == NULL)
		return (
		    ctl_usage_error("tenants show needs a NAME\n%s", cmd_tenants_usage));
	memset(&c, 0, sizeof(c));
	c.name = o->name;
	rc = store_run(ctl_store(ctl), get_cb, &c, 0);
	if (rc == STORE_NOTFOUND)
		return (ctl_error("no tenant named \"%s\"", o->name));
	if (rc != STORE_OK)
		return (ctl_error("cannot read tenant %s", o->name));
	print_tenant(ctl, c.t);
	tenant_free(c.t);
	return (0);
}

/* ctl_tenant_check - see ctl.h. */
int
ctl_tenant_check(struct ctl *ctl, const char *name)
{
	struct tenant_ctx c;
	int rc;

	if (!tenant_name_valid(name))
		return (ctl_error("invalid tenant name \"%s\"", name));
	memset(&c, 0, sizeof(c));
	c.name = name;
	rc = store_run(ctl_store(ctl), get_cb, &c, 0);
	tenant_free(c.t);
	if (rc == STORE_NOTFOUND)
		return (
		    ctl_error("no tenant named \"%s\" (posthookctl tenants list)", name));
	if (rc != STORE_OK)
		return (ctl_error("cannot read tenant %s", name));
	return (0);
}

/* delete_cb - remove one tenant. */
static int
delete_cb(struct store_txn *txn, void *arg)
{
	struct tenant_ctx *c = arg;

	return (tenant_delete(txn, c->name));
}

/* tenants_delete - remove a tenant that owns no webhook. */
static int
tenants_delete(struct ctl *ctl, const struct tenant_opts *o)
{
	struct tenant_ctx c;
	int rc;

	if (o->name == NULL)
		return (ctl_usage_error("tenants delete needs a NAME\n%s",
					cmd_tenants_usage));
	memset(&c, 0, sizeof(c));
	c.name = o->name;
	rc = store_run(ctl_store(ctl), delete_cb, &c, 0);
	if (rc == STORE_NOTFOUND)
		return (ctl_error("no tenant named \"%s\"", o->name));
	if (rc == TENANT_INVALID)
		return (ctl_error("the tenant %s always exists and cannot be deleted",
				  TENANT_DEFAULT));
	if (rc == TENANT_CONFLICT)
		return (ctl_error("tenant %s still owns webhooks: delete them first "
				  "(posthookctl webhooks list --tenant %s)",
				  o->name, o->name));
	if (rc != STORE_OK)
		return (ctl_error("cannot delete tenant %s", o->name));
	printf("tenant %s deleted\n", o->name);
	return (0);
}

/* cmd_tenants - posthookctl tenants VERB ... */
int
cmd_tenants(struct ctl *ctl, int argc, char **argv)
{
	struct tenant_opts o;
	const char *verb;
	int rc;

	if (argc < 2)
		return (ctl_usage_error("%s", cmd_tenants_usage));
	verb = argv[1];
	if ((rc = parse_opts(argc - 1, argv + 1, &o)) != 0) {
		opts_free(&o);
		return (rc);
	}
	if ((strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0
	     || strcmp(verb, "delete") == 0)
	    && (o.nchanges > 0 || o.settings)) {
		opts_free(&o);
		return (ctl_usage_error("tenants %s takes no options\n%s", verb,
					cmd_tenants_usage));
	}
	if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0)
		rc = tenants_change(ctl, verb, &o);
	else if (strcmp(verb, "list") == 0)
		rc = o.name != NULL ? ctl_usage_error("tenants list takes no NAME\n%s",
						      cmd_tenants_usage)
				    : tenants_list(ctl);
	else if (strcmp(verb, "show") == 0)
		rc = tenants_show(ctl, &o);
	else if (strcmp(verb, "delete") == 0)
		rc = tenants_delete(ctl, &o);
	else
		rc = ctl_usage_error("unknown tenants command \"%s\"\n%s", verb,
				     cmd_tenants_usage);
	opts_free(&o);
	return (rc);
}
