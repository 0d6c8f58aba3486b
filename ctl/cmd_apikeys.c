/*
 * cmd_apikeys.c - posthookctl apikeys: make, list and revoke the keys of
 * the HTTP API (posthook-api).  A new key is printed once, alone on
 * standard output; the store keeps only its SHA-256.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "api/apikey.h"
#include "tenant/tenant.h"
#include "util/util.h"

#define APIKEYS_USAGE                                                                    \
	"usage: posthookctl apikeys create --tenant T [--name N] [--read-only] "         \
	"[--all-tenants]\n"                                                              \
	"       posthookctl apikeys list\n"                                              \
	"       posthookctl apikeys revoke ID"

enum { OPT_TENANT = 1, OPT_NAME, OPT_RO, OPT_ALL };

struct ak_ctx {
	struct apikey *key;
	struct apikey **keys;
	int n;
	const char *id;
	int no_tenant; /* create: the key's tenant does not exist */
};

/* put_cb - store the new key, when its tenant exists (or it is an admin key). */
static int
put_cb(struct store_txn *txn, void *arg)
{
	struct ak_ctx *c = arg;
	struct tenant *t = NULL;
	int rc;

	c->no_tenant = 0;
	if (!c->key->all_tenants) {
		rc = tenant_get(txn, c->key->tenant, &t);
		tenant_free(t);
		if (rc == STORE_NOTFOUND) {
			c->no_tenant = 1;
			return STORE_OK;
		}
		if (rc != STORE_OK)
			return rc;
	}
	return apikey_put(txn, c->key);
}

/* apikeys_create - make a key and print it once. */
static int
apikeys_create(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, OPT_TENANT },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "read-only", no_argument, NULL, OPT_RO },
		{ "all-tenants", no_argument, NULL, OPT_ALL },
		{ NULL, 0, NULL, 0 },
	};
	const char *tenant = NULL, *name = "";
	char key[APIKEY_LEN + 1];
	struct ak_ctx c;
	json_object *o;
	int opt, ro = 0, all = 0;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_TENANT:
			tenant = optarg;
			break;
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_RO:
			ro = 1;
			break;
		case OPT_ALL:
			all = 1;
			break;
		default:
			return ctl_usage_error("apikeys create: bad option \"%s\"\n%s",
					       argv[optind - 1], APIKEYS_USAGE);
		}
	}
	if (optind < argc)
		return ctl_usage_error("apikeys create: unexpected \"%s\"\n%s",
				       argv[optind], APIKEYS_USAGE);
	if (tenant == NULL)
		return ctl_usage_error("apikeys create needs --tenant\n%s",
				       APIKEYS_USAGE);
	if (!tenant_name_valid(tenant))
		return ctl_error("invalid tenant name \"%s\": [a-z0-9][a-z0-9_-]{0,62}",
				 tenant);
	memset(&c, 0, sizeof(c));
	if (apikey_generate(tenant, name, ro, all, key, &c.key) < 0)
		return ctl_error("cannot make a random key");
	if (store_run(ctl_store(ctl), put_cb, &c, 0) != STORE_OK) {
		apikey_free(c.key);
		return ctl_error("cannot store the key");
	}
	if (c.no_tenant) {
		apikey_free(c.key);
		return ctl_error("no tenant \"%s\": posthookctl tenants create %s",
				 tenant, tenant);
	}
	if (ctl->json) {
		o = apikey_to_json(c.key);
		json_object_object_add(o, "key", json_object_new_string(key));
		ctl_print_json_line(o);
		json_object_put(o);
	} else {
		puts(key);
	}
	apikey_free(c.key);
	return 0;
}

/* list_cb - every key. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct ak_ctx *c = arg;

	apikey_list_free(c->keys, c->n);
	return apikey_list(txn, &c->keys, &c->n);
}

/* apikeys_list - a table, or one JSON object per line. */
static int
apikeys_list(struct ctl *ctl)
{
	static const char *const headers[] = { "ID",	 "TENANT",  "NAME",
					       "ACCESS", "CREATED", "LAST_USED" };
	char created[32], used[32];
	struct ak_ctx c;
	struct table *t;
	json_object *o;
	int i;

	memset(&c, 0, sizeof(c));
	if (store_run(ctl_store(ctl), list_cb, &c, 0) != STORE_OK)
		return ctl_error("cannot read the API keys");
	t = table_new(6, headers);
	for (i = 0; i < c.n; i++) {
		struct apikey *k = c.keys[i];

		if (ctl->json) {
			o = apikey_to_json(k);
			ctl_print_json_line(o);
			json_object_put(o);
			continue;
		}
		iso8601_utc(k->created, created, sizeof(created));
		if (k->last_used > 0)
			iso8601_utc(k->last_used, used, sizeof(used));
		else
			strcpy(used, "-");
		{
			const char *row[6] = { k->id,
					       k->all_tenants ? "(all)" : k->tenant,
					       k->name[0] ? k->name : "-",
					       k->read_only ? "read-only" : "read-write",
					       created,
					       used };

			table_add_row(t, row);
		}
	}
	if (!ctl->json)
		table_print(t);
	table_free(t);
	apikey_list_free(c.keys, c.n);
	return 0;
}

/* revoke_cb - delete one key. */
static int
revoke_cb(struct store_txn *txn, void *arg)
{
	struct ak_ctx *c = arg;

	return apikey_revoke(txn, c->id);
}

/* cmd_apikeys - posthookctl apikeys VERB ... */
int
cmd_apikeys(struct ctl *ctl, int argc, char **argv)
{
	struct ak_ctx c;
	int rc;

	if (argc < 2)
		return ctl_usage_error("%s", APIKEYS_USAGE);
	if (strcmp(argv[1], "create") == 0)
		return apikeys_create(ctl, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0) {
		if (argc != 2)
			return ctl_usage_error("%s", APIKEYS_USAGE);
		return apikeys_list(ctl);
	}
	if (strcmp(argv[1], "revoke") == 0) {
		if (argc != 3)
			return ctl_usage_error("%s", APIKEYS_USAGE);
		memset(&c, 0, sizeof(c));
		c.id = argv[2];
		rc = store_run(ctl_store(ctl), revoke_cb, &c, 0);
		if (rc == STORE_NOTFOUND)
			return ctl_error("no API key \"%s\"", c.id);
		if (rc != STORE_OK)
			return ctl_error("cannot revoke API key %s", c.id);
		printf("API key %s revoked\n", c.id);
		return 0;
	}
	return ctl_usage_error("unknown apikeys command \"%s\"\n%s", argv[1],
			       APIKEYS_USAGE);
}
