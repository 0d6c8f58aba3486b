/*
 * fuzz_api_body.c - libFuzzer harness for posthook-api's JSON bodies: the
 * input is a request body, parsed as POST /v1/webhooks parses it and
 * applied to a webhook.  A refused body leaves the webhook as it was and
 * says why; an accepted one leaves it valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_body.h"
#include "store/endpoint.h"
#include "util/log.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int opened;
	struct endpoint *ep;
	json_object *o;
	char err[800], why[800];
	int status, secret_set;

	if (!opened) {
		log_open("fuzz_api_body", LOG_TO_SYSLOG);
		opened = 1;
	}
	err[0] = 0;
	o = body_parse((const char *) data, size, webhook_body_fields, &status, err,
		       sizeof(err));
	if (o == NULL) {
		if (err[0] == 0 || (status != 400 && status != 422))
			abort();
		return 0;
	}
	ep = endpoint_new();
	ep->name = xstrdup("before");
	ep->url = xstrdup("http://before.test/");
	ep->enabled = 1;
	ep->all_events = 1;
	if (webhook_body_apply(ep, o, err, sizeof(err), &secret_set) < 0) {
		if (err[0] == 0 || strcmp(ep->name, "before") != 0
		    || strcmp(ep->url, "http://before.test/") != 0 || ep->secret != NULL
		    || !ep->all_events || !ep->enabled)
			abort();
	} else if (endpoint_check_name(ep->name, why, sizeof(why)) < 0
		   || endpoint_check_url(ep->url, why, sizeof(why)) < 0
		   || (ep->secret != NULL
		       && endpoint_check_secret(ep->secret, why, sizeof(why)) < 0)) {
		abort();
	}
	endpoint_free(ep);
	json_object_put(o);
	return 0;
}
