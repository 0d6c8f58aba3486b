"""Hostile endpoints: one that hangs past the timeout, a closed port, one
answering garbage, one closing mid-response, one with a huge body; each is
a failed (or capped) attempt with its reason, and a healthy endpoint is
not slowed by them."""

from posthook_test import webhook as W
from posthook_test.harness import ClosedPort, Reply

env = W.Env(retry_schedule="0", webhook_timeout="2s",
	    webhook_max_per_endpoint="2")
hang = env.receiver(default=Reply.hang(30))
garbage = env.receiver(default=Reply.garbage())
closing = env.receiver(default=Reply.close())
huge = env.receiver(default=Reply.huge(8 << 20))
good = env.receiver()
dead = ClosedPort()
ids = {
	"hang": env.create("hang", hang.url),
	"dead": env.create("dead", "http://127.0.0.1:%d/hook" % dead.port),
	"garbage": env.create("garbage", garbage.url),
	"close": env.create("close", closing.url),
	"huge": env.create("huge", huge.url),
	"good": env.create("good", good.url),
}
env.start()
N = 6
env.queue("MessageSent", N)

# the healthy endpoint gets all N at once, while the hanging one holds
# its two connections until the 2 s timeout
got = good.wait_requests(N, timeout=30)
first_hang = hang.wait_requests(1)[0]
assert got[-1].monotonic < first_hang.monotonic + 2.0, \
	"the healthy endpoint waited for the hanging one"
assert all(q.verified for q in got)

recs = {k: env.wait_attempts(N, "--webhook", v, timeout=60) for k, v in ids.items()}
assert all(r["success"] for r in recs["good"])
assert all(r["error"].startswith("timeout") and r["statusCode"] is None
	   for r in recs["hang"]), recs["hang"][0]
assert all(r["error"].startswith("connection refused") for r in recs["dead"]), \
	recs["dead"][0]
assert all(r["error"].startswith("bad response") for r in recs["garbage"]), \
	recs["garbage"][0]
assert all(r["error"].startswith("bad response") for r in recs["close"]), \
	recs["close"][0]
for r in recs["huge"]:
	assert r["success"] and r["statusCode"] == 200, r
	assert len(r["response"]["body"]) == 20 * 1024
for k in ("hang", "dead", "garbage", "close"):
	assert all(r["willRetry"] is False and r["success"] is False for r in recs[k])
# the per-endpoint cap: never more than 2 of the hanging requests at once.
# The receiver stamps arrival, after connect, while the 2 s timeout runs from
# curl's start: a successor may arrive a little under 2 s after the one it
# replaced.  Without the cap all would arrive at once.
starts = sorted(q.monotonic for q in hang.wait_requests(N, timeout=60))
for i in range(2, N):
	assert starts[i] - starts[i - 2] >= 1.5, starts
dead.close()
env.finish()
print("ok")
