/*
 * body.c - what a request carries, answered on error: its JSON body (an
 * object with known members only) and the query parameters of the lists.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json_body.h"
#include "util/util.h"

#define PER_PAGE_DEFAULT 30
#define PER_PAGE_MAX 100

/* body_object - see api.h. */
json_object *
body_object(const struct api_req *req, struct api_resp *resp, const char *const *allowed)
{
	json_object *o;
	char err[300];
	int status;

	o = body_parse(req->body, req->body_len, allowed, &status, err, sizeof(err));
	if (o == NULL)
		reply_error(resp, req, status,
			    status == 400 ? "invalid_json" : "validation_error", "%s",
			    err);
	return o;
}

/* number_arg - a decimal parameter in [lo, hi]; -1 when given and bad. */
static int
number_arg(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	if (*s == 0 || *end != 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* query_page - see api.h. */
int
query_page(const struct api_req *req, struct api_resp *resp, int *page, int *per_page)
{
	long p = 1, pp = PER_PAGE_DEFAULT;

	if (number_arg(req->query_arg(req->query_ctx, "page"), 1, 1000000, &p) < 0) {
		reply_error(resp, req, 400, "invalid_parameter",
			    "page must be a whole number from 1");
		return -1;
	}
	if (number_arg(req->query_arg(req->query_ctx, "perPage"), 1, PER_PAGE_MAX, &pp)
	    < 0) {
		reply_error(resp, req, 400, "invalid_parameter",
			    "perPage must be a whole number from 1 to %d", PER_PAGE_MAX);
		return -1;
	}
	*page = (int) p;
	*per_page = (int) pp;
	return 0;
}

/* query_time - see api.h. */
int
query_time(const struct api_req *req, struct api_resp *resp, const char *name,
	   double *out)
{
	const char *s = req->query_arg(req->query_ctx, name);
	char *end;
	double v;

	if (s == NULL)
		return 0;
	v = strtod(s, &end);
	if (*s != 0 && *end == 0 && v >= 0) {
		*out = v;
		return 0;
	}
	if (parse_time_spec(s, now_seconds(), out) == 0)
		return 0;
	reply_error(resp, req, 400, "invalid_parameter",
		    "%s must be ISO 8601 UTC (2024-01-15T10:30:00Z) or epoch seconds",
		    name);
	return -1;
}
