"""deliveries replay sends an attempt's delivery once more with the same
uuid and a new timestamp (so a new signature), not retried; deliveries
recover queues again an endpoint's failed deliveries."""

from posthook_test import webhook as W
from posthook_test.harness import Reply

state = {"ok": False}
env = W.Env(retry_schedule="0 1s")
rcv = env.receiver(script=lambda req: Reply.ok() if state["ok"] else Reply.error(503))
e = env.create("flaky", rcv.url, "MessageSent,MessageDeliveryFailed")
env.start()

env.queue("MessageSent", 1)
env.queue("MessageDeliveryFailed", 1)
recs = env.wait_attempts(4, "--webhook", e)
assert all(not r["success"] for r in recs)
last = [r for r in recs if not r["willRetry"]]
assert len(last) == 2
first = rcv.wait_requests(4)[0]

# replay of a failed attempt, while the endpoint still fails: one attempt
sent_uuid = last[0]["uuid"]
out = env.ctl_json("deliveries", "replay", last[0]["id"])
assert out["queued"] is True
recs = env.wait_attempts(5, "--webhook", e)
rp = recs[-1]
assert rp["uuid"] == sent_uuid and rp["success"] is False
assert rp["willRetry"] is False and rp["attempt"] == 1
req = rcv.wait_requests(5)[4]
assert req.verified and req.json["uuid"] == sent_uuid
orig = [q for q in rcv.requests if q.json["uuid"] == sent_uuid][0]
assert req.json["timestamp"] > orig.json["timestamp"]
assert req.header("x-posthook-signature") != orig.header("x-posthook-signature")
assert req.json["payload"] == orig.json["payload"]
print("replay: same uuid, new timestamp and signature, not retried")

# the endpoint heals; replay succeeds
state["ok"] = True
env.ctl_json("deliveries", "replay", last[0]["id"])
recs = env.wait_attempts(6, "--webhook", e)
assert recs[-1]["success"] is True and recs[-1]["uuid"] == sent_uuid

# recover: both failed deliveries are sent again, with their own uuids
p = env.ctl("deliveries", "recover", "--webhook", e, "--since", "1h")
assert p.stdout.startswith("2 failed deliveries"), p.stdout
recs = env.wait_attempts(8, "--webhook", e)
ok = [r for r in recs[6:] if r["success"]]
assert len(ok) == 2, recs[6:]
assert {r["uuid"] for r in ok} == {x["uuid"] for x in last}
assert all(q.verified for q in rcv.requests)
# nothing left to recover
p = env.ctl("deliveries", "recover", "--webhook", e, "--since", "1h")
assert p.stdout.startswith("0 failed"), p.stdout
p = env.ctl("deliveries", "recover", "--webhook", "42", "--since", "1h", check=False)
assert p.returncode == 1 and "no webhook" in p.stderr
p = env.ctl("deliveries", "show", "whr_ffffffffffff", check=False)
assert p.returncode == 1
print("recover: failed deliveries sent again")
env.finish()
print("ok")
