"""Endpoint health against real receivers, the clock moved on through
POSTHOOK_CLOCK_FILE (nothing sleeps for minutes): a receiver that answers
410 is disabled at once; 429 with Retry-After waits as asked without
spending retries; one that flaps loses nothing; a delivery given up on
raises DeliveryExhausted; a receiver down for a simulated week opens the
breaker (a probe an hour, attempts counted; a restart keeps it and what
waits), is disabled after 5 days with WebhookDisabled, and once enabled
gets every delivery that waited."""

import json
import os
import time

from posthook_test import webhook as W
from posthook_test.harness import Reply, scratch_dir, wait_until

CLOCK = os.path.join(scratch_dir("posthook-clock-"), "offset")
os.environ["POSTHOOK_CLOCK_FILE"] = CLOCK
offset = 0.0


def advance(seconds, settle=0.6):
	"""advance - move the daemons' clock on, and let them act."""
	global offset
	offset += seconds
	with open(CLOCK + ".tmp", "w") as f:
		f.write("%f\n" % offset)
	os.replace(CLOCK + ".tmp", CLOCK)
	time.sleep(settle)


advance(0, settle=0)
env = W.Env(retry_schedule="0 1s 2s", breaker_failures="5",
	    breaker_cooldown="1m", disable_after="5d")
ops = env.receiver()
watch = env.create("operations", ops.url, "WebhookDisabled,DeliveryExhausted")
everything = env.receiver()
env.create("all events", everything.url)	# gets no operational event
gone = env.receiver(default=Reply.error(410, "gone"))
g = env.create("gone", gone.url, "MessageSent")
slow = env.receiver(script=[Reply.retry_after(600)] * 4)
s = env.create("slow", slow.url, "MessageSent")
seen = {}


def flapping(req):
	"""flapping - every delivery's first request fails, its next succeeds."""
	n = seen[req.json["uuid"]] = seen.get(req.json["uuid"], 0) + 1
	return Reply.error(500) if n % 2 else Reply.ok()


flap = env.receiver(script=flapping)
f = env.create("flapping", flap.url, "MessageSent")
broken = env.receiver(default=Reply.error(500, "broken"))
x = env.create("broken", broken.url, "MessageSent")
dead = env.receiver(default=Reply.error(503, "down"))
d = env.create("dead", dead.url, "MessageSent")
env.start()


def ops_events(kind):
	return [r.json for r in ops.requests if r.json["event"] == kind]


def endpoint_status(ep):
	st = env.ctl("--json", "status", check=False)
	for e in json.loads(st.stdout)["endpoints"]:
		if e["id"] == ep:
			return e, st.returncode
	raise AssertionError("no endpoint %s in status" % ep)


# 1. 410 Gone: disabled at once, nothing lost, the operations endpoint told
env.queue("MessageSent", 3, endpoint=g)
wait_until(lambda: not env.ctl_json("webhooks", "show", g)["enabled"], 20,
	   what="410 disables")
shown = env.ctl_json("webhooks", "show", g)
assert shown["disabledReason"] == "gone", shown
wait_until(lambda: ops_events("WebhookDisabled"), 20, what="WebhookDisabled")
ev = ops_events("WebhookDisabled")[0]
assert ev["payload"]["webhook"]["id"] == g and ev["payload"]["reason"] == "gone", ev
assert ev["payload"]["webhook"]["url"] == gone.url
assert len(gone.requests) <= 3, len(gone.requests)
e, _ = endpoint_status(g)
assert e["state"] == "disabled" and e["waiting"] + 0 >= 0, e
wait_until(lambda: endpoint_status(g)[0]["waiting"] == 3, 20, what="3 parked")
print("410: disabled at once after %d request(s); 3 wait" % len(gone.requests))

# 2. 429 Retry-After 600: four answers, each waited out (clock moved on),
# no retry spent (the schedule has three attempts), then delivered
env.queue("MessageSent", 1, endpoint=s)
slow.wait_requests(1)
for i in range(2, 6):
	time.sleep(1.5)
	assert len(slow.requests) == i - 1, "Retry-After not honoured"
	advance(600)
	slow.wait_requests(i, timeout=20)
recs = env.wait_attempts(5, "--webhook", s)
assert [r["statusCode"] for r in recs] == [429, 429, 429, 429, 200], recs
assert all(r["willRetry"] for r in recs[:4])
assert len({r["uuid"] for r in recs}) == 1
print("429: Retry-After honoured, 4 throttled attempts spent no retry")

# 3. flapping: every delivery fails once, then succeeds; six first
# attempts fail in a row, so the breaker opens; its probe closes it
env.queue("MessageSent", 6, endpoint=f)


def flap_done():
	if len([r for r in env.attempts("--webhook", f) if r["success"]]) == 6:
		return True
	advance(60, settle=0.2)	# the probe's cooldown
	return False


wait_until(flap_done, 60, what="flapping endpoint gets all six")
assert len(flap.requests) <= 12 + 1, len(flap.requests)
assert len(seen) == 6 and all(n in (2, 3) for n in seen.values()), seen
assert endpoint_status(f)[0]["state"] == "closed"
print("flapping: six delivered in %d requests" % len(flap.requests))

# 4. exhausted: three 500s (fewer than breaker_failures) and DeliveryExhausted
env.queue("MessageSent", 1, endpoint=x)
env.wait_attempts(3, "--webhook", x)
wait_until(lambda: ops_events("DeliveryExhausted"), 20, what="DeliveryExhausted")
assert len(ops_events("DeliveryExhausted")) == 1, ops_events("DeliveryExhausted")
ex = ops_events("DeliveryExhausted")[0]["payload"]
assert ex["webhook"]["id"] == x and ex["delivery"]["attempts"] == 3, ex
assert ex["last_error"] == "HTTP 500" and ex["last_attempt"].startswith("whr_"), ex
assert ex["delivery"]["uuid"] == broken.requests[0].json["uuid"]
print("exhausted: DeliveryExhausted reached the operations endpoint")

# 5. a receiver down for a simulated week: the breaker opens, one probe an
# hour at most, disabled after five days, then every delivery goes
env.queue("MessageSent", 20, endpoint=d)
wait_until(lambda: endpoint_status(d)[0]["state"] == "open", 30, what="breaker opens")
e, rc = endpoint_status(d)
# 1 (degraded) for the open breaker, 2 here: no milter or tailer runs
assert rc in (1, 2), "status exits non-zero while a breaker is open"
assert e["failing_since"] is not None and e["last_error"] == "HTTP 503", e
wait_until(lambda: endpoint_status(d)[0]["waiting"] == 20, 20, what="20 parked")
opened_after = len(dead.requests)
assert opened_after <= 5 + 4, opened_after	# in flight when it opened
# a restart keeps the breaker and what waits
env.stop()
env.start()
e, rc = endpoint_status(d)
assert e["state"] == "open" and e["waiting"] == 20 and rc in (1, 2), e
steps = 0
while env.ctl_json("webhooks", "show", d)["enabled"]:
	advance(3600 if steps < 6 else 2 * 3600, settle=0.5)
	steps += 1
	assert steps < 80, "not disabled after %d steps" % steps
probes = len(dead.requests) - opened_after
assert probes <= steps + 1, (probes, steps)
assert offset >= 5 * 86400, offset
shown = env.ctl_json("webhooks", "show", d)
assert shown["disabledReason"] == "failing", shown
wait_until(lambda: len(ops_events("WebhookDisabled")) == 2, 20, what="second WebhookDisabled")
ev = ops_events("WebhookDisabled")[1]["payload"]
assert ev["webhook"]["id"] == d and ev["reason"] == "failing", ev
assert ev["last_error"] == "HTTP 503" and ev["failing_since"] > 0, ev
e, rc = endpoint_status(d)
assert e["state"] == "disabled" and e["waiting"] == 20, e
print("dead for %.1f simulated days: %d requests (%d probes), disabled, 20 wait"
      % (offset / 86400, len(dead.requests), probes))

# back: enabled, every waiting delivery goes, oldest first
dead.default = Reply.ok()
before = len(dead.requests)
env.ctl("webhooks", "enable", d)
wait_until(lambda: len(dead.requests) - before >= 20, 30, what="the 20 delivered")
uuids = [r.json["uuid"] for r in dead.requests[before:]]
assert len(set(uuids)) == 20, "each waiting delivery once"
wait_until(lambda: endpoint_status(d)[0]["waiting"] == 0, 20, what="none waits")
e, rc = endpoint_status(d)
assert e["state"] == "closed", e
print("enabled: the 20 that waited were delivered")

# the 410 endpoint: enable --discard drops its three
p = env.ctl("webhooks", "enable", g, "--discard")
assert "3 waiting deliveries marked failed" in p.stderr, p.stderr
assert endpoint_status(g)[0]["waiting"] == 0

assert not [r for r in everything.requests
	    if r.json["event"] in ("WebhookDisabled", "DeliveryExhausted")], \
	"operational events reached an all-events endpoint"
assert all(r.verified for r in ops.requests)
env.finish()
print("ok")
