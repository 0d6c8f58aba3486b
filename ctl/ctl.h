/*
 * ctl.h - posthookctl: the admin's command line over the state store.
 *
 * Each subcommand lives in cmd_NAME.c and has the signature of ctl_cmd_fn.
 * Single objects print as JSON; lists print a readable table, or with
 * --json one JSON object per line.  Exit status: 0 success, 1 error (the
 * message on stderr), 2 usage.
 */
#ifndef PH_CTL_H
#define PH_CTL_H

#include <json-c/json.h>
#include "config/config.h"
#include "store/store.h"

struct ctl {
	const char *config_path;
	int config_given;
	int json; /* --json */
	struct config *cfg;
	struct store *store; /* opened by ctl_store() */
};

typedef int (*ctl_cmd_fn)(struct ctl *ctl, int argc, char **argv);

/*
 * ctl_config - the configuration; loaded on first use.  A missing default
 * file is no error here: commands that need state fail in ctl_store().
 */
struct config *ctl_config(struct ctl *ctl);

/*
 * ctl_store - the store, opened on first use; as root, first become the
 * daemons' user so that no file in state_dir ends up owned by root.
 * Exits 1 with a message when it cannot be opened.
 */
struct store *ctl_store(struct ctl *ctl);

/* ctl_print_json - one object, pretty (or one line with --json). */
void ctl_print_json(const struct ctl *ctl, json_object *obj);
/* ctl_print_json_line - one object on one line. */
void ctl_print_json_line(json_object *obj);

/* ctl_usage_error - print "posthookctl: msg" and return 2. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ctl_error - print "posthookctl: msg" and return 1. */
int ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * ctl_tenant_check - 0 when name is a tenant (TENANT_DEFAULT always is),
 * else 1 after saying so: what --tenant T on webhooks, deliveries and
 * messages checks first (cmd_tenants.c).
 */
int ctl_tenant_check(struct ctl *ctl, const char *name);

/* A readable table for lists. */
struct table;
struct table *table_new(int ncols, const char *const *headers);
void table_add_row(struct table *t, const char *const *cells);
void table_print(const struct table *t);
void table_free(struct table *t);

int cmd_version(struct ctl *ctl, int argc, char **argv);
int cmd_bounces(struct ctl *ctl, int argc, char **argv);
int cmd_config(struct ctl *ctl, int argc, char **argv);
int cmd_classify(struct ctl *ctl, int argc, char **argv);
int cmd_messages(struct ctl *ctl, int argc, char **argv);
int cmd_webhooks(struct ctl *ctl, int argc, char **argv);
int cmd_deliveries(struct ctl *ctl, int argc, char **argv);
int cmd_keys(struct ctl *ctl, int argc, char **argv);
int cmd_apikeys(struct ctl *ctl, int argc, char **argv);
int cmd_status(struct ctl *ctl, int argc, char **argv);
/* status_amqp_json - the AMQP sink's status; NULL when there is no sink. */
json_object *status_amqp_json(struct ctl *ctl, const struct config *cfg);
/* status_amqp_print - its readable line(s). */
void status_amqp_print(json_object *o);
int cmd_domains(struct ctl *ctl, int argc, char **argv);
int cmd_tenants(struct ctl *ctl, int argc, char **argv);
int cmd_limits(struct ctl *ctl, int argc, char **argv);

/* Each command's usage, in its file: "usage: posthookctl NAME ...". */
extern const char cmd_version_usage[], cmd_bounces_usage[], cmd_config_usage[],
    cmd_classify_usage[], cmd_messages_usage[], cmd_webhooks_usage[],
    cmd_deliveries_usage[], cmd_keys_usage[], cmd_status_usage[], cmd_domains_usage[],
    cmd_tenants_usage[], cmd_limits_usage[];

#endif
