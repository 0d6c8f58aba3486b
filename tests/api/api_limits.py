#!/usr/bin/env python3
"""api_limits - GET /v1/limits in the hosted API's shape, validated
against docs/openapi.yaml: the site's send_limit for a tenant without one
of its own, a tenant's own limit, volume, remaining, usagePercent,
approaching and exceeded, held messages per tenant, the rate limit; and
the same through /v1/tenants/{t}/limits with an --all-tenants key."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_lib as A  # noqa: E402

H = A.H
TIMEOUT = 120


def seed(env, *args):
	A.subprocess.run([A.SEED, env.state] + list(args), env=env.san.env(),
			 check=True, timeout=60)


def send_limit(client, path="/v1/limits"):
	ans = client.get(path)
	assert ans.status == 200, ans
	return ans.data["sendLimit"], ans.data


def run(env):
	env.start_api()
	env.start()
	site = env.key("default")
	acme = env.key("acme")
	env.ctl("tenants", "update", "acme", "--settings", '{"send_limit": 20}')
	admin = env.key("default", "--all-tenants")

	s, data = send_limit(env.client(site))
	assert data["billing"] is None
	r = data["rateLimit"]
	assert r["limit"] == 1000 and r["period"] == "second" and 0 < r["remaining"] <= 1000, r
	assert s == dict(s, limit=100, used=0, remaining=100, usagePercent=0.0,
			 approaching=False, exceeded=False, state="ok", scope="site",
			 tenant="default", held=0, period="hour"), s

	seed(env, "count", "default", "85")
	seed(env, "count", "acme", "18")   # the site's total is 103
	seed(env, "hold", "QH1", "acme")
	s, _ = send_limit(env.client(site))
	assert (s["used"], s["remaining"], s["exceeded"], s["state"]) == \
		(103, 0, True, "exceeded"), s
	assert s["usagePercent"] == 103.0, s

	s, _ = send_limit(env.client(acme))
	assert s == dict(s, limit=20, used=18, remaining=2, usagePercent=90.0,
			 approaching=True, exceeded=False, state="approaching",
			 scope="tenant", tenant="acme", held=1), s

	s2, _ = send_limit(env.client(admin), "/v1/tenants/acme/limits")
	assert s2["used"] == 18 and s2["tenant"] == "acme", s2
	assert env.client(acme).get("/v1/tenants/default/limits").status == 404
	assert env.client(None).get("/v1/limits").status == 401
	assert env.client(site).request("POST", "/v1/limits").status == 405


def main():
	signal.alarm(TIMEOUT)
	env = A.ApiEnv(send_limit="100")
	try:
		run(env)
	finally:
		env.finish()
	print("api_limits: ok")


if __name__ == "__main__":
	sys.exit(main())
