#!/usr/bin/env python3
"""api_endpoints - every endpoint of posthook-api over loopback, with
Python's urllib and curl(1), each answer validated against
docs/openapi.yaml: webhooks (create, list, retrieve, update, delete, test),
deliveries (list with filters and pages, retrieve as seed 003, synchronous
replay to a real receiver, recover), emails (list with filters, retrieve
with expand=deliveries, deliveries, retry), events, health, JWKS, metrics;
and two tenants with two keys, neither seeing nor changing the other's."""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_lib as A  # noqa: E402

H = A.H
TIMEOUT = 240


def main():
	signal.alarm(TIMEOUT)
	env = A.ApiEnv()
	env.fake_postqueue(["QA2"])
	rcv = env.receiver()
	try:
		run(env, rcv)
	finally:
		rcv.stop()
	env.finish()
	print("api_endpoints: ok")


def run(env, rcv):
	env.start_api()
	env.start()
	key_a = env.key("acme", "--name", "acme app")
	key_b = env.key("beta")
	admin = env.key("default", "--all-tenants")
	a = env.client(key_a)
	b = env.client(key_b)
	adm = env.client(admin)
	anon = env.client()

	# -- keys: listed without the key; --json gives {"key"}
	lst = env.ctl("--json", "apikeys", "list").stdout
	assert key_a not in lst and "acme app" in lst, lst
	nope = env.ctl("apikeys", "create", "--tenant", "gamma", check=False)
	assert nope.returncode != 0 and "no tenant" in nope.stderr, nope
	env.ctl("tenants", "create", "gamma")
	j = json.loads(env.ctl("--json", "apikeys", "create", "--tenant", "gamma").stdout)
	assert j["key"].startswith("ph_live_") and j["tenant"] == "gamma", j

	# -- meta, without a key
	h = anon.get("/health")
	assert h.status == 200 and h.data["status"] == "ok", h
	jw = anon.get("/.well-known/jwks.json")
	assert jw.status == 200 and jw.json["keys"], jw
	with open(env.jwks) as f:
		assert {k["kid"] for k in json.load(f)["keys"]} == {k["kid"] for k in jw.json["keys"]}

	# -- webhooks: create with curl, the rest with urllib
	st, head, body = A.curl(env.base + "/v1/webhooks", "-X", "POST", "-H",
				"Content-Type: application/json", "--data",
				json.dumps({"name": "acme hook", "url": rcv.url,
					    "events": ["MessageSent", "MessageBounced"],
					    "secret": "generate"}), key=key_a)
	assert st == 201, (st, body)
	created = json.loads(body)
	A.spec().validate("/v1/webhooks", "POST", st, created, "application/json")
	wa = created["data"]
	assert wa["tenantId"] == "acme" and wa["secret"].startswith("whsec_"), wa
	assert wa["events"] == ["MessageSent", "MessageBounced"], wa
	got = a.get("/v1/webhooks/%s" % wa["id"])
	assert got.status == 200 and "secret" not in got.data and got.data["hasSecret"], got
	wb = b.post("/v1/webhooks", {"name": "beta hook", "url": rcv.url}).data
	assert wb["allEvents"] and wb["tenantId"] == "beta", wb
	# the OpenAPI document names every event type there is: those "all
	# events" brings, and the operational ones a webhook names to get
	names = A.spec().doc["components"]["schemas"]["EventName"]["enum"]
	assert set(wb["events"]) <= set(names), (wb["events"], names)
	every = b.post("/v1/webhooks", {"name": "every", "url": rcv.url, "events": names,
					"enabled": False})
	assert every.status == 201 and sorted(every.data["events"]) == sorted(names), every
	assert b.delete("/v1/webhooks/%s" % every.data["id"]).status == 200
	# the admin key makes one for "default" and one for acme by path
	wd = adm.post("/v1/webhooks", {"name": "default hook", "url": rcv.url,
				       "enabled": False}).data
	assert wd["tenantId"] == "default" and not wd["enabled"], wd
	wa2 = adm.post("/v1/tenants/acme/webhooks", {"name": "second", "url": rcv.url,
						     "events": ["MessageHeld"]}).data
	assert wa2["tenantId"] == "acme", wa2

	ids = lambda ans: sorted(w["id"] for w in ans.data["webhooks"])  # noqa: E731
	assert ids(a.get("/v1/webhooks")) == sorted([wa["id"], wa2["id"]])
	assert ids(a.get("/v1/tenants/acme/webhooks")) == ids(a.get("/v1/webhooks"))
	assert ids(b.get("/v1/webhooks")) == [wb["id"]]
	assert ids(adm.get("/v1/webhooks")) == [wd["id"]]
	assert ids(adm.get("/v1/tenants/beta/webhooks")) == [wb["id"]]
	# the CLI sees what the API made
	shown = json.loads(env.ctl("webhooks", "show", wa["id"], "--tenant",
				   "acme").stdout)
	assert shown["url"] == rcv.url and shown["tenant"] == "acme", shown

	# -- isolation: neither key reaches the other's webhook, nor tenant
	for path in ("/v1/webhooks/%s", "/v1/webhooks/%s/deliveries"):
		assert b.get(path % wa["id"]).status == 404
		assert a.get(path % wb["id"]).status == 404
	assert b.patch("/v1/webhooks/%s" % wa["id"], {"name": "x"}).status == 404
	assert b.delete("/v1/webhooks/%s" % wa["id"]).status == 404
	assert b.post("/v1/webhooks/%s/test" % wa["id"], {}).status == 404
	assert b.get("/v1/tenants/acme/webhooks").status == 404
	assert a.get("/v1/tenants/beta/webhooks").status == 404
	assert a.get("/v1/webhooks/%s" % wa["id"]).data["name"] == "acme hook"

	# -- update: rename, rotate the secret (shown once), disable, re-enable
	up = a.patch("/v1/webhooks/%s" % wa2["id"], {"name": "renamed", "secret": "generate",
						    "enabled": False})
	assert up.status == 200 and up.data["name"] == "renamed" and up.data["secret"], up
	assert not a.get("/v1/webhooks/%s" % wa2["id"]).data["enabled"]
	assert a.patch("/v1/webhooks/%s" % wa2["id"], {"secret": None}).data["hasSecret"] is False

	# -- test: a sample event to this webhook alone, its attempt answered
	t = a.post("/v1/webhooks/%s/test" % wa["id"], {"event": "MessageBounced"})
	assert t.status == 200 and t.data["success"] and t.data["event"] == "MessageBounced", t
	rcv.wait_requests(1)
	assert rcv.requests[-1].json["event"] == "MessageBounced"
	assert a.post("/v1/webhooks/%s/test" % wa2["id"]).status == 409  # disabled
	assert a.post("/v1/webhooks/%s/test" % wa["id"], {"event": "Nope"}).status == 422

	# -- messages of both tenants, and their delivery events
	now = time.time()
	m1 = A.message("tokA1", "QA1", tenant="acme", ts=now - 30, tag="welcome")
	m2 = A.message("tokA2", "QA2", tenant="acme", ts=now - 20, rcpt="other@example.net")
	m3 = A.message("tokB1", "QB1", tenant="beta", ts=now - 10)
	for m in (m1, m2, m3):
		env.seed_message(**m)
	env.seed_event("MessageSent", A.delivery_payload(
		m1, "Sent", "Message for user@example.com accepted by 192.0.2.1:25 (mx.example.com)",
		"250 2.0.0 OK", ts=now - 29, remote_host="mx.example.com"))
	env.seed_event("MessageBounced", A.delivery_payload(
		m2, "HardFail", "rejected", "550 5.1.1 unknown user", ts=now - 19,
		classification="invalid_recipient", classification_code=10,
		smtp_enhanced_code="5.1.1", remote_host="mx.example.net"))
	# Delayed: acme's hook does not want it, whether or not the fan-out
	# already keeps tenants apart
	env.seed_event("MessageDelayed", A.delivery_payload(m3, "SoftFail", ts=now - 9))
	# acme's hook wants Sent and Bounced: 2 + the test; beta's all: 1
	rcv.wait_requests(4, timeout=60)

	# -- deliveries: list, filters, pages (an attempt is kept once answered)
	H.wait_until(lambda: a.get("/v1/webhooks/%s/deliveries" % wa["id"]).json["total"] == 3,
		     30, what="three attempts kept")
	dl = a.get("/v1/webhooks/%s/deliveries" % wa["id"])
	assert dl.status == 200 and dl.json["total"] == 3, dl
	assert dl.json["perPage"] == 30 and dl.json["totalPages"] == 1
	# newest first: the two events (sent at once, in either order), then the test
	evs_dl = [d["event"] for d in dl.data]
	assert sorted(evs_dl[:2]) == ["MessageBounced", "MessageSent"], dl.data
	assert evs_dl[2] == "MessageBounced", dl.data
	assert [d["id"] for d in dl.data] == sorted((d["id"] for d in dl.data), reverse=True)
	one = a.get("/v1/webhooks/%s/deliveries?event=MessageSent" % wa["id"])
	assert one.json["total"] == 1 and one.data[0]["event"] == "MessageSent", one
	assert a.get("/v1/webhooks/%s/deliveries?success=false" % wa["id"]).json["total"] == 0
	assert a.get("/v1/webhooks/%s/deliveries?success=true" % wa["id"]).json["total"] == 3
	p2 = a.get("/v1/webhooks/%s/deliveries?perPage=2&page=2" % wa["id"])
	assert p2.json["totalPages"] == 2 and len(p2.data) == 1, p2
	fut = a.get("/v1/webhooks/%s/deliveries?after=%d" % (wa["id"], now + 3600))
	assert fut.json["total"] == 0, fut
	old = a.get("/v1/webhooks/%s/deliveries?before=2020-01-01T00:00:00Z" % wa["id"])
	assert old.json["total"] == 0, old
	assert a.get("/v1/webhooks/%s/deliveries?page=3&perPage=2" % wa["id"]).status == 400

	# -- one delivery: exactly seed 003's data
	did = one.data[0]["id"]
	d = a.get("/v1/webhooks/%s/deliveries/%s" % (wa["id"], did))
	assert d.status == 200 and list(d.data) == W_SEED_KEYS, list(d.data)
	assert d.data["request"]["payload"]["message"]["token"] == "tokA1"
	assert b.get("/v1/webhooks/%s/deliveries/%s" % (wb["id"], did)).status == 404
	assert a.get("/v1/webhooks/%s/deliveries/%s" % (wa2["id"], did)).status == 404
	assert adm.get("/v1/tenants/acme/webhooks/%s/deliveries/%s" % (wa["id"], did)).status == 200

	# -- replay: synchronous, to the real receiver
	uuid = env.ctl_json("deliveries", "show", did, "--tenant", "acme")["uuid"]
	r = a.post("/v1/webhooks/%s/deliveries/%s/replay" % (wa["id"], did))
	assert r.status == 200 and r.data["success"] and r.data["statusCode"] == 200, r
	assert r.data["originalDeliveryId"] == did and r.data["newDeliveryId"] != did, r
	# answered once sent: the receiver has it (same uuid), not only a queue
	again = [q for q in rcv.requests if q.json["uuid"] == uuid]
	assert len(again) == 2, again
	assert again[1].json["payload"]["message"]["token"] == "tokA1"
	assert b.post("/v1/webhooks/%s/deliveries/%s/replay" % (wa["id"], did)).status == 404
	a.patch("/v1/webhooks/%s" % wa["id"], {"enabled": False})
	dis = a.post("/v1/webhooks/%s/deliveries/%s/replay" % (wa["id"], did))
	assert dis.status == 409 and dis.code == "webhook_disabled", dis
	a.patch("/v1/webhooks/%s" % wa["id"], {"enabled": True})

	# -- recover: nothing failed, so nothing again; bad since refused
	rec = a.post("/v1/webhooks/%s/recover" % wa["id"], {"since": "1h"})
	assert rec.status == 200 and rec.data["recovered"] == 0, rec
	assert a.post("/v1/webhooks/%s/recover" % wa["id"], {"since": "soon"}).status == 422
	assert a.post("/v1/webhooks/%s/recover" % wa["id"], {}).status == 422

	# -- emails: only the tenant's, newest first, filters, statuses
	el = a.get("/v1/emails")
	assert [e["id"] for e in el.data] == ["tokA2", "tokA1"], el.data
	assert [e["status"] for e in el.data] == ["bounced", "sent"], el.data
	assert [e["id"] for e in b.get("/v1/emails").data] == ["tokB1"]
	assert b.get("/v1/emails").data[0]["status"] == "softfail"
	assert [e["id"] for e in a.get("/v1/emails?status=sent").data] == ["tokA1"]
	assert [e["id"] for e in a.get("/v1/emails?tag=welcome").data] == ["tokA1"]
	assert [e["id"] for e in a.get("/v1/emails?to=other@example.net").data] == ["tokA2"]
	assert a.get("/v1/emails?from=nobody@example.org").json["total"] == 0
	assert a.get("/v1/emails?after=%f" % (now - 25)).json["total"] == 1
	assert a.get("/v1/emails?status=lost").status == 400
	e = a.get("/v1/emails/tokA2?expand=deliveries")
	assert e.status == 200 and e.data["status"] == "bounced", e
	dv = e.data["deliveries"]
	assert len(dv) == 1 and dv[0]["classification"] == "invalid_recipient", dv
	assert dv[0]["smtpEnhancedCode"] == "5.1.1" and dv[0]["remoteHost"] == "mx.example.net"
	assert dv[0]["output"] == "550 5.1.1 unknown user" and dv[0]["sentWithSsl"] is True
	assert "deliveries" not in a.get("/v1/emails/tokA2").data
	ed = a.get("/v1/emails/tokA1/deliveries")
	assert ed.status == 200 and ed.data["deliveries"][0]["status"] == "sent", ed
	assert b.get("/v1/emails/tokA1").status == 404
	assert b.get("/v1/emails/tokA1/deliveries").status == 404
	assert a.get("/v1/emails/tokB1").status == 404
	assert adm.get("/v1/tenants/beta/emails/tokB1").status == 200
	# retry: the stand-in postqueue has QA2 queued, not QA1
	rt = a.post("/v1/emails/tokA2/retry")
	assert rt.status == 200 and rt.data["queueId"] == "QA2", rt
	with open(env.postqueue_log) as f:
		assert f.read().split() == ["-j", "-i", "QA2"]
	rt = a.post("/v1/emails/tokA1/retry")
	assert rt.status == 409 and rt.code == "not_queued", rt
	assert b.post("/v1/emails/tokA1/retry").status == 404

	# -- events: acme's in order, exact envelopes, with a cursor
	ev = a.get("/v1/events")
	evs = ev.data["events"]
	assert [x["event"] for x in evs] == ["MessageSent", "MessageBounced"], evs
	firsts = {}
	for req in rcv.requests:	# a replay keeps the uuid, not the timestamp
		firsts.setdefault(req.json["uuid"], req.json)
	for x in evs:
		assert firsts[x["uuid"]] == x, (firsts[x["uuid"]], x)
	first = a.get("/v1/events?limit=1").data
	assert len(first["events"]) == 1
	rest = a.get("/v1/events?after=%s" % first["cursor"]).data
	assert [x["uuid"] for x in rest["events"]] == [evs[1]["uuid"]], rest
	assert a.get("/v1/events?after=%s" % ev.data["cursor"]).data["events"] == []
	bev = b.get("/v1/events").data["events"]
	assert [x["payload"]["message"]["token"] for x in bev] == ["tokB1"], bev
	assert a.get("/v1/events?after=x").status == 400

	# -- metrics
	mt = anon.get("/metrics")
	assert mt.status == 200 and b"posthook_events_total{event=\"MessageSent\"}" in mt.raw, mt
	assert b"posthook_classifications_total{classification=\"invalid_recipient\"} 1" in mt.raw

	# -- delete
	assert a.delete("/v1/webhooks/%s" % wa2["id"]).status == 200
	assert a.get("/v1/webhooks/%s" % wa2["id"]).status == 404
	assert a.delete("/v1/webhooks/%s" % wa2["id"]).status == 404

	# -- revoke: the key is refused from then on
	kid = [json.loads(l) for l in env.ctl("--json", "apikeys", "list").stdout.splitlines()
	       if json.loads(l)["tenant"] == "beta"][0]["id"]
	env.ctl("apikeys", "revoke", kid)
	assert b.get("/v1/webhooks").status == 401

	env.stop_api()


W_SEED_KEYS = A.W.SEED_003_KEYS

if __name__ == "__main__":
	main()
