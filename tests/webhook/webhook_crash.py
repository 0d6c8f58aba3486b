"""SIGKILL of posthook-webhook while requests are in flight: after a
restart every delivery not recorded as succeeded is attempted again, with
the same uuid (at least once), and nothing is lost."""

from posthook_test import webhook as W
from posthook_test.harness import Reply

env = W.Env(retry_schedule="0 1s", webhook_timeout="10s")
rcv = env.receiver(script=[Reply(200, delay=5)] * 3)
e = env.create("slow", rcv.url)
env.start()
env.queue("MessageSent", 3)
first = rcv.wait_requests(3)		# all three in flight, unanswered
env.daemon.kill()
assert env.attempts() == [], "nothing was recorded before the kill"

env.start()
again = rcv.wait_requests(6)[3:]
assert {q.json["uuid"] for q in again} == {q.json["uuid"] for q in first}
assert all(q.verified for q in again)
recs = env.wait_attempts(3, pred=lambda r: r["success"])
assert {r["uuid"] for r in recs} == {q.json["uuid"] for q in first}
assert all(r["attempt"] == 1 for r in recs)

# and a clean stop with nothing in flight leaves nothing pending
env.queue("MessageHeld", 2)
env.wait_attempts(5, pred=lambda r: r["success"])
env.stop()
env.start()
env.queue("MessageSent", 1)
env.wait_attempts(6, pred=lambda r: r["success"])
assert len(rcv.requests) == 9
env.finish()
print("ok")
