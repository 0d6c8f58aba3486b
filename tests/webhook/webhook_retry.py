"""Retries: a failing endpoint gets the schedule's attempts (in seconds
here) and then a failed record; a 429 with Retry-After is waited out as
asked, without spending a retry (webhook_health.py: longer waits); a
redirect is a failed attempt and is not followed."""

from posthook_test import webhook as W
from posthook_test.harness import Reply

env = W.Env(retry_schedule="0 1s 2s")
fail = env.receiver(default=Reply.error(500, "broken"))
slow = env.receiver(script=[Reply.retry_after(2), Reply.retry_after(3)])
target = env.receiver()
redir = env.receiver(default=Reply.redirect(target.url))
f = env.create("failing", fail.url, "MessageSent")
s = env.create("rate limited", slow.url, "MessageHeld")
r = env.create("redirecting", redir.url, "MessageDelayed")
env.start()

# 1. 500: three attempts at 0, +1s, +2s; then failed
env.queue("MessageSent", 1)
recs = env.wait_attempts(3, "--webhook", f)
reqs = fail.wait_requests(3)
assert all(q.verified for q in reqs)
assert len({q.json["uuid"] for q in reqs}) == 1, "one uuid for every retry"
assert len({q.body for q in reqs}) == 1, "the same body each time"
gaps = [reqs[1].monotonic - reqs[0].monotonic, reqs[2].monotonic - reqs[1].monotonic]
assert 0.9 <= gaps[0] and 1.9 <= gaps[1], gaps
assert [x["attempt"] for x in recs] == [1, 2, 3]
assert [x["willRetry"] for x in recs] == [True, True, False]
assert all(x["success"] is False and x["statusCode"] == 500 for x in recs)
assert all(x["error"] == "HTTP 500" for x in recs)
assert recs[0]["response"] == {"statusCode": 500, "body": "broken"}
assert {x["uuid"] for x in recs} == {reqs[0].json["uuid"]}
failed = env.attempts("--failed", "--webhook", f)
assert len(failed) == 3
print("500: retried on schedule, then failed:", gaps)

# 2. 429 with Retry-After: 2 s, then 3 s, each waited out; the third
# attempt succeeds
env.queue("MessageHeld", 1)
recs = env.wait_attempts(3, "--webhook", s)
reqs = slow.wait_requests(3)
gaps = [reqs[1].monotonic - reqs[0].monotonic, reqs[2].monotonic - reqs[1].monotonic]
assert 1.9 <= gaps[0] < 3.5, gaps
assert 2.9 <= gaps[1] < 4.5, gaps
assert [x["statusCode"] for x in recs] == [429, 429, 200]
assert [x["success"] for x in recs] == [False, False, True]
assert recs[2]["willRetry"] is False
print("429 Retry-After honoured:", gaps)

# 3. a redirect is one failed attempt; the Location is never visited
env.queue("MessageDelayed", 1)
recs = env.wait_attempts(1, "--webhook", r)
assert recs[0]["statusCode"] == 302 and recs[0]["success"] is False
assert "redirects are not followed" in recs[0]["error"], recs[0]
assert recs[0]["willRetry"] is True
redir.wait_requests(2)
assert not target.requests, "redirect followed"
print("redirect: failed attempt, not followed")

env.finish()
print("ok")
