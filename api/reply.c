/*
 * reply.c - the API's answer envelopes: {"success":true,"data","meta"}
 * and {"success":false,"error":{"code","message"},"meta"}, each with the
 * request's id in meta.requestId.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#include "api.h"
#include "util/log.h"
#include "util/util.h"

/* reply_request_id - "req_" and 16 random letters and digits. */
void
reply_request_id(char out[24])
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char raw[16];
	int i;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		log_fatal("no random bytes for a request id");
	memcpy(out, "req_", 4);
	for (i = 0; i < 16; i++)
		out[4 + i] = abc[raw[i] % (sizeof(abc) - 1)];
	out[20] = 0;
}

/* envelope - a new answer object with success; finish() adds meta. */
static json_object *
envelope(int success)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "success", json_object_new_boolean(success));
	return o;
}

/* finish - add meta last, as Ark orders it, and serialise o as the answer. */
static void
finish(struct api_resp *resp, const struct api_req *req, int status, json_object *o)
{
	json_object *meta = json_object_new_object();

	json_object_object_add(meta, "requestId",
			       json_object_new_string(req->request_id));
	json_object_object_add(o, "meta", meta);
	free(resp->body);
	resp->status = status;
	resp->body = xstrdup(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	resp->content_type = NULL;
	json_object_put(o);
}

/* reply_ok - see api.h. */
void
reply_ok(struct api_resp *resp, const struct api_req *req, int status, json_object *data)
{
	json_object *o = envelope(1);

	json_object_object_add(o, "data", data);
	finish(resp, req, status, o);
}

/* reply_page - see api.h. */
void
reply_page(struct api_resp *resp, const struct api_req *req, json_object *data, int page,
	   int per_page, long total)
{
	json_object *o;

	if (page > 1 && (long) (page - 1) * per_page >= total) {
		json_object_put(data);
		reply_error(resp, req, 400, "invalid_parameter",
			    "page %d is beyond the last page (%ld)", page,
			    (total + per_page - 1) / per_page);
		return;
	}
	o = envelope(1);
	json_object_object_add(o, "data", data);
	json_object_object_add(o, "page", json_object_new_int(page));
	json_object_object_add(o, "perPage", json_object_new_int(per_page));
	json_object_object_add(o, "total", json_object_new_int64(total));
	json_object_object_add(o, "totalPages",
			       json_object_new_int64((total + per_page - 1) / per_page));
	finish(resp, req, 200, o);
}

/* reply_error - see api.h. */
void
reply_error(struct api_resp *resp, const struct api_req *req, int status,
	    const char *code, const char *fmt, ...)
{
	json_object *o = envelope(0), *err = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", err);
	finish(resp, req, status, o);
}

/* reply_text - see api.h. */
void
reply_text(struct api_resp *resp, int status, const char *content_type, char *body)
{
	free(resp->body);
	resp->status = status;
	resp->body = body;
	resp->content_type = content_type;
}

/* api_resp_clear - free the answer's body. */
void
api_resp_clear(struct api_resp *resp)
{
	free(resp->body);
	free(resp->location);
	memset(resp, 0, sizeof(*resp));
}
