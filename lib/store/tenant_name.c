/*
 * tenant_name.c - the tenant a record names (see tenant_name.h).  Alone in
 * its file, so that a program linking a definition of its own does not
 * pull a second one from the library.
 */
#include <stddef.h>

#include "store/tenant_name.h"

/* tenant_of - see tenant_name.h. */
const char *
tenant_of(const char *tenant_or_null)
{
	return (tenant_or_null != NULL ? tenant_or_null : TENANT_DEFAULT);
}
