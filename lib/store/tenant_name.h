/*
 * tenant_name.h - the tenant a record names.  Message records, endpoints,
 * outbox events and attempts name their tenant, or none: a record that
 * names none (every record made before tenants) is TENANT_DEFAULT's.
 * The tenants themselves are lib/tenant/'s.
 */
#ifndef PH_STORE_TENANT_NAME_H
#define PH_STORE_TENANT_NAME_H

#define TENANT_DEFAULT "default"

/* tenant_of - the tenant a record names: TENANT_DEFAULT for NULL. */
const char *tenant_of(const char *tenant_or_null);

#endif
