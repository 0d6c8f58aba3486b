"""posthook-webhook delivers every event type, signed and verified through
the JWKS, to the subscribed endpoints; Standard Webhooks headers; endpoint
changes and a SIGHUP reload take effect without a restart."""

import base64
import hashlib
import hmac
import signal

from posthook_test import webhook as W

env = W.Env()
rcv = env.receiver()
held = env.receiver()
off = env.receiver()
made = env.ctl_json("webhooks", "create", "--name", "all events", "--url", rcv.url,
		    "--all-events", "--secret", "generate")
a, secret = made["id"], made["secret"]
assert secret.startswith("whsec_"), made
assert env.ctl_json("webhooks", "show", a)["secret"] == "whsec_(hidden)"
b = env.create("held only", held.url, "MessageHeld")
c = env.create("disabled", off.url, None, "--disabled")
env.start()

# 1. webhooks test: every event type, verified through the JWKS
for i, ev in enumerate(W.EVENTS):
	rec = env.ctl_json("webhooks", "test", a, "--event", ev)
	W.check_seed_003_shape(rec)
	assert rec["success"] is True and rec["statusCode"] == 200, rec
	assert rec["event"] == ev and rec["attempt"] == 1, rec
	assert rec["webhookName"] == "all events" and rec["url"] == rcv.url
	req = rcv.wait_requests(i + 1)[i]
	assert req.verified, req.verify_error
	assert list(req.json.keys()) == ["event", "timestamp", "uuid", "payload"]
	assert req.json["event"] == ev
	assert req.json["uuid"] == rec["uuid"]
	assert req.json["payload"] == rec["request"]["payload"]
	# The shape and the bytes of a real event: no "\/" escapes, and a
	# MessageBounced with the members the bounce intake gives it.
	assert b"\\/" not in req.body, req.body
	if ev == "MessageBounced":
		assert list(req.json["payload"].keys()) == W.H.BOUNCED_KEYS, req.json
	h = rec["request"]["headers"]
	assert h["X-Posthook-Signature"] == req.header("X-Posthook-Signature")
	assert h["X-Posthook-Signature-KID"] == req.kid
	assert req.header("content-type") == "application/json"
	# Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body))
	msg_id, ts = req.header("webhook-id"), req.header("webhook-timestamp")
	assert msg_id == rec["uuid"]
	mac = hmac.new(base64.b64decode(secret[6:]),
		       msg_id.encode() + b"." + ts.encode() + b"." + req.body,
		       hashlib.sha256).digest()
	assert req.header("webhook-signature") == "v1," + base64.b64encode(mac).decode()
	shown = env.ctl_json("deliveries", "show", rec["id"])
	assert shown == rec, (shown, rec)
assert not held.requests and not off.requests
print("every event type delivered and verified")

# 2. fan-out: one delivery per enabled, subscribed endpoint
env.queue("MessageSent", 3)
env.queue("MessageHeld", 2)
rcv.wait_requests(len(W.EVENTS) + 5)
held.wait_requests(2)
assert all(r.verified for r in rcv.requests + held.requests)
assert [r.json["event"] for r in held.requests] == ["MessageHeld"] * 2
assert not off.requests
uuids = [r.json["uuid"] for r in rcv.requests + held.requests]
assert len(set(uuids)) == len(uuids), "a uuid per delivery"
print("fan-out to subscribed endpoints only")

# 3. changes without a restart: enable one, change another's events
env.ctl("webhooks", "enable", c)
env.ctl("webhooks", "update", b, "--events", "MessageSent")
env.queue("MessageSent", 1)
off.wait_requests(1)
held.wait_requests(3)
assert held.requests[2].json["event"] == "MessageSent"
env.ctl("webhooks", "delete", c)
env.queue("MessageSent", 1)
held.wait_requests(4)
rcv.wait_requests(len(W.EVENTS) + 7)
assert len(off.requests) == 1
print("endpoint changes seen without a restart")

# 4. SIGHUP: a new signature header prefix
env.conf["signature_header_prefix"] = "X-Ark"
env.write_conf()
env.daemon.send_signal(signal.SIGHUP)
ark = env.receiver(prefix="X-Ark")
env.ctl("webhooks", "update", b, "--url", ark.url)
W.H.wait_until(lambda: "configuration reloaded" in env.daemon.output(), 10,
	       what="reload")
env.queue("MessageSent", 1)
req = ark.wait_requests(1)[0]
assert req.verified, req.verify_error
assert req.header("x-ark-signature-kid") == req.kid
assert req.header("x-posthook-signature") is None
print("SIGHUP reload applied")

# 5. bad input to the command line is refused clearly
p = env.ctl("webhooks", "create", "--name", "x", "--url", "ftp://example.com/",
	    "--all-events", check=False)
assert p.returncode == 1 and "http:// or https://" in p.stderr, p.stderr
p = env.ctl("webhooks", "create", "--name", "x", "--url", rcv.url, "--events",
	    "MessageSent,MessageExploded", check=False)
assert p.returncode == 1 and 'unknown event "MessageExploded"' in p.stderr, p.stderr
p = env.ctl("webhooks", "test", "99", check=False)
assert p.returncode == 1 and "no webhook" in p.stderr, p.stderr

env.finish()
print("ok")
