#!/usr/bin/env python3
"""api_errors - posthook-api's answers to bad input and abuse, each
validated against docs/openapi.yaml: 400 (bad JSON, bad parameters, a page
past the end), 401 (no key, a wrong key, a revoked key), 403 (a read-only
key writing), 404 (unknown paths and ids), 405 with Allow, 413 over
api_max_body (by Content-Length and chunked), 422 (unknown fields, wrong
types, a non-http(s) URL, an unknown event) with nothing changed, 429 with
Retry-After per key; no CORS; the connection limit and the idle timeout
keep slow clients from holding the daemon."""

import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_lib as A  # noqa: E402

H = A.H
TIMEOUT = 180


def main():
	signal.alarm(TIMEOUT)
	env = A.ApiEnv(api_max_body="4096", api_max_connections="8",
		       api_connection_timeout="2s")
	run(env)
	env.finish()
	print("api_errors: ok")


def run(env):
	env.start_api()
	key = env.key("acme")
	ro = env.key("acme", "--read-only")
	c = env.client(key)
	r = env.client(ro)
	anon = env.client()

	# -- 401
	for ans in (anon.get("/v1/webhooks"),
		    anon.get("/v1/webhooks", key="ph_live_" + "0" * 64),
		    anon.get("/v1/webhooks", key="not-a-key"),
		    anon.get("/v1/webhooks", headers={"Authorization": "Basic eDp5"})):
		assert ans.status == 401 and ans.code == "unauthorized", ans

	# -- 404 and 405
	assert c.get("/v1/nothing").status == 404
	assert c.get("/v1/webhooks/999").status == 404
	assert anon.get("/nothing").status == 404
	m = c.request("PUT", "/v1/webhooks", validate=False)
	assert m.status == 405 and m.headers["Allow"] == "GET, POST", m
	assert m.json["error"]["code"] == "method_not_allowed"

	# -- 400: the body is not JSON
	for raw in (b"{", b"{\"name\": 1} trailing", b"\x00{}"):
		ans = c.request("POST", "/v1/webhooks", raw=raw,
				headers={"Content-Type": "application/json"})
		assert ans.status == 400 and ans.code == "invalid_json", ans
	assert c.post("/v1/webhooks").status == 400		# no body

	# -- 422: valid JSON, wrong content; nothing is made
	for body in ({"name": "x", "url": "ftp://h.test/"},
		     {"name": "x", "url": "javascript:alert(1)"},
		     {"name": "x", "url": "http://h.test/", "events": ["Nope"]},
		     {"name": "x", "url": "http://h.test/", "events": "MessageSent"},
		     {"name": "x", "url": "http://h.test/", "enabled": "yes"},
		     {"name": "x", "url": "http://h.test/", "colour": "red"},
		     {"name": 5, "url": "http://h.test/"}):
		ans = c.post("/v1/webhooks", body)
		assert ans.status == 422 and ans.code == "validation_error", (body, ans)
	assert c.post("/v1/webhooks", [1, 2]).status == 422
	assert c.get("/v1/webhooks").data["webhooks"] == []
	w = c.post("/v1/webhooks", {"name": "keep", "url": "http://127.0.0.1:9/h"}).data
	before = c.get("/v1/webhooks/%s" % w["id"]).data
	for body in ({"url": "ftp://x/"}, {"events": ["MessageSent", "Bogus"]},
		     {"name": "changed", "enabled": 3}):
		assert c.patch("/v1/webhooks/%s" % w["id"], body).status == 422
	assert c.get("/v1/webhooks/%s" % w["id"]).data == before

	# -- 400: query parameters
	for q in ("page=0", "page=x", "perPage=101", "perPage=0", "event=Nope",
		  "success=maybe", "after=yesterday"):
		ans = c.get("/v1/webhooks/%s/deliveries?%s" % (w["id"], q))
		assert ans.status == 400 and ans.code == "invalid_parameter", (q, ans)
	assert c.get("/v1/emails?page=2").status == 400		# past the end
	assert c.get("/v1/emails?status=gone").status == 400
	assert c.get("/v1/events?limit=0").status == 400

	# -- 403: a read-only key reads, never writes
	assert r.get("/v1/webhooks").status == 200
	ans = r.post("/v1/webhooks", {"name": "ro", "url": "http://h.test/"})
	assert ans.status == 403 and ans.code == "read_only", ans
	assert r.delete("/v1/webhooks/%s" % w["id"]).status == 403
	assert c.get("/v1/webhooks/%s" % w["id"]).status == 200

	# -- 413: over api_max_body, declared or chunked
	big = {"name": "x" * 5000, "url": "http://h.test/"}
	ans = c.post("/v1/webhooks", big)
	assert ans.status == 413 and ans.code == "payload_too_large", ans
	st, head, body = A.curl(env.base + "/v1/webhooks", "-X", "POST", "-H",
				"Transfer-Encoding: chunked", "--data-binary",
				json.dumps(big), key=key)
	assert st == 413, (st, body)
	A.spec().validate("/v1/webhooks", "POST", st, json.loads(body), "application/json")

	# -- no CORS, even when asked
	st, head, body = A.curl(env.base + "/v1/webhooks", "-H", "Origin: https://evil.test",
				key=key)
	assert st == 200 and "access-control" not in head.lower(), head
	st, head, body = A.curl(env.base + "/v1/webhooks", "-X", "OPTIONS", "-H",
				"Origin: https://evil.test", key=key)
	assert st == 405 and "access-control" not in head.lower(), head

	# -- 429 per key, with Retry-After; another key is not held back.
	# The limit is lowered by a reload (SIGHUP), as an admin would.
	env.conf.update(api_rate_limit="2", api_rate_burst="3")
	env.write_conf()
	env.api.send_signal(signal.SIGHUP)
	H.wait_until(lambda: "reloaded" in env.api.output(), 10, what="reload")
	statuses = [c.get("/v1/webhooks") for _ in range(8)]
	limited = [a for a in statuses if a.status == 429]
	assert limited and all(a.code == "rate_limited" for a in limited), statuses
	assert int(limited[0].headers["Retry-After"]) >= 1
	assert r.get("/v1/webhooks").status == 200
	time.sleep(int(limited[0].headers["Retry-After"]) + 0.2)
	assert c.get("/v1/webhooks").status == 200

	# -- revoked: 401
	kid = [json.loads(l)["id"] for l in env.ctl("--json", "apikeys", "list").stdout.splitlines()
	       if json.loads(l)["readOnly"]][0]
	env.ctl("apikeys", "revoke", kid)
	assert r.get("/v1/webhooks").status == 401

	# -- slow clients: idle connections are closed, the limit holds, and
	# the daemon answers again once they are gone
	idle = []
	for _ in range(8):
		s = socket.create_connection(("127.0.0.1", env.port), timeout=5)
		s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")	# never finished
		idle.append(s)
	time.sleep(0.3)
	extra = socket.create_connection(("127.0.0.1", env.port), timeout=5)
	extra.settimeout(1.0)
	t0 = time.monotonic()
	extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	try:
		got = extra.recv(100)
	except (ConnectionResetError, socket.timeout):
		got = b""
	# over the limit: not answered while the slow ones hold every slot...
	assert got == b"", got
	# ...which api_connection_timeout (2s) frees: then it is answered
	extra.settimeout(10)
	got = extra.recv(100)
	assert got.startswith(b"HTTP/1.1 200"), got
	assert time.monotonic() - t0 < 6, "idle connections were not closed in time"
	extra.close()
	for s in idle:
		s.settimeout(5)
		try:
			assert s.recv(100) == b""	# closed by the daemon
		except ConnectionResetError:
			pass
		s.close()
	H.wait_until(env.healthy, 10, what="answers after the slow clients")

	env.stop_api()


if __name__ == "__main__":
	main()
