#!/usr/bin/env python3
"""limits_postfix - send limits through a real Postfix.

The site's send_limit is 10 an hour with send_limit_action = hold; the
tenant "slow" (sender domain slow.test) has its own send_limit of 2 with
send_limit_action = defer; domains_learn = yes.  The test clock
(POSTHOOK_CLOCK_FILE) moves the hour on instead of waiting for it.

- slow's third message is answered 451 4.7.1 at end of data, and its
  receiver gets exactly one SendLimit (exceeded, volume 2, limit 2);
- the site's messages 9 and 10 (counting slow's 2) give exactly one
  SendLimit approaching and one exceeded; the next three go to Postfix's
  hold queue (MessageHeld from the log), and posthookctl limits release
  (root, the oneshot's step) releases nothing while the hour is full;
- an hour later the release step lets the three go, oldest first, and
  they are delivered (MessageSent) and counted; no further SendLimit;
- posthookctl limits shows volume, limit and state; the senders' domains
  were learned, each under its tenant.
"""

import json
import os
import re
import smtplib
import sys

from posthook_test import e2e_stack as E
from posthook_test import harness as H

CLOCK = os.path.join(H.scratch_dir("posthook-limits-clock-"), "clock")
with open(CLOCK, "w") as f:
	f.write("0\n")
os.environ["POSTHOOK_CLOCK_FILE"] = CLOCK

SITE = "app@app.test"
SLOW = "news@slow.test"


def set_clock(seconds):
	with open(CLOCK + ".new", "w") as f:
		f.write("%d\n" % seconds)
	os.rename(CLOCK + ".new", CLOCK)


def milter_log(st):
	with open(st._log("posthook-milter"), errors="replace") as f:
		return f.read()


def send_limits(events):
	return [e for e in events if e.get("event") == "SendLimit"]


def release(st):
	"""posthookctl limits release as root, Postfix's config directory
	given as postsuper(1) takes it."""
	env = st.san.env(st.pf.env())
	r = E.subprocess.run([E.program("posthookctl"), "-c", st.conf_path,
			      "limits", "release"], capture_output=True,
			     text=True, env=env, timeout=60)
	if r.returncode != 0:
		raise RuntimeError("limits release: exit %d: %s%s"
				   % (r.returncode, r.stdout, r.stderr))
	return r.stdout


def held_ids(st):
	return sorted(m["queue_id"] for m in st.pf.queue()
		      if m.get("queue_name") == "hold")


def defer_case(res, st, slow_rcv):
	for i in (1, 2):
		st.send("s%d@dest.test" % i, "slow %d" % i, sender=SLOW)
	try:
		st.send("s3@dest.test", "slow 3", sender=SLOW)
		res.check(False, "defer: the third message is refused")
	except smtplib.SMTPDataError as e:
		text = e.smtp_error.decode(errors="replace")
		res.check(e.smtp_code == 451 and "4.7.1" in text,
			  "defer: 451 4.7.1 at end of data",
			  "%d %s" % (e.smtp_code, text))
	H.wait_until(lambda: send_limits(
		[r.json for r in slow_rcv.requests if r.json]), 30,
		what="SendLimit at the tenant's receiver")
	try:  # retried: deferred again, no second event
		st.send("s3@dest.test", "slow 3 again", sender=SLOW)
	except smtplib.SMTPDataError as e:
		res.check(e.smtp_code == 451, "defer: the retry is deferred again")
	st.quiet(3)
	evs = send_limits([r.json for r in slow_rcv.requests if r.json])
	res.check(len(evs) == 1, "defer: exactly one SendLimit for the tenant",
		  evs)
	if evs:
		p = evs[0]["payload"]
		res.check(p.get("state") == "exceeded" and p.get("volume") == 2
			  and p.get("limit") == 2 and p.get("tenant") == "slow"
			  and E.UUID(p.get("server", {}).get("uuid"))
			  and p["server"].get("name"),
			  "defer: {server: {uuid, name}, volume 2, limit 2, "
			  "tenant, state exceeded}", p)


def hold_case(res, st, mx):
	for i in range(1, 9):  # the total is 2 (slow's) + 8 = 10
		st.send("r%d@dest.test" % i, "site %d" % i)
	for i in range(1, 9):
		st.wait_event("MessageSent", "r%d@dest.test" % i)
	held = [st.send("h%d@dest.test" % i, "held %d" % i)[0]
		for i in range(1, 4)]
	for i in range(1, 4):
		res.check(st.wait_event("MessageHeld", "h%d@dest.test" % i),
			  "hold: MessageHeld for held message %d" % i)
	res.check(held_ids(st) == sorted(held),
		  "hold: the three are in Postfix's hold queue",
		  "%s vs %s" % (held_ids(st), held))
	out = release(st)
	res.check(out == "" and held_ids(st) == sorted(held),
		  "hold: nothing is released while the hour is full", out)
	show = json.loads(st.ctl("limits", "--json").stdout)
	total = show["total"]
	res.check(total == {"volume": 10, "limit": 10, "state": "exceeded",
			    "held": 3}, "limits --json: the total", total)
	slow = [t for t in show["tenants"] if t["tenant"] == "slow"]
	res.check(slow and slow[0]["volume"] == 2 and slow[0]["limit"] == 2
		  and slow[0]["state"] == "exceeded",
		  "limits --json: the tenant's own limit", show["tenants"])
	table = st.ctl("limits").stdout
	res.check(re.search(r"^total\s+10\s+10\s+exceeded\s+3\s*$", table,
			    re.M), "limits: the table", table)

	set_clock(3660)  # an hour on: the rolling hour is empty
	out = release(st)
	lines = out.splitlines()
	res.check([l.split()[0] for l in lines] == held and
		  all(" released by=limit tenant=default" in l for l in lines),
		  "an hour on: the three are released, oldest first", out)
	st.pf.flush()
	for i in range(1, 4):
		res.check(st.wait_event("MessageSent", "h%d@dest.test" % i),
			  "released message %d is delivered" % i)
	res.check(held_ids(st) == [], "the hold queue is empty")
	show = json.loads(st.ctl("limits", "--json").stdout)
	res.check(show["total"]["volume"] == 3 and show["total"]["held"] == 0,
		  "released messages are counted when released",
		  show["total"])
	res.check(release(st) == "", "a second release run has nothing to do")


def site_events(res, st):
	evs = send_limits(st.events())
	states = sorted(e["payload"].get("state") for e in evs)
	res.check(states == ["approaching", "exceeded"],
		  "exactly one SendLimit per state for the site", evs)
	for e in evs:
		p = e["payload"]
		want = 9 if p.get("state") == "approaching" else 10
		res.check(p.get("volume") == want and p.get("limit") == 10
			  and p.get("tenant") is None and p.get("server"),
			  "SendLimit %s: volume %d, limit 10, tenant null"
			  % (p.get("state"), want), p)


def learned(res, st):
	out = st.ctl("domains", "list").stdout
	rows = sorted(tuple(l.split()[:2]) for l in out.splitlines()[1:])
	res.check(rows == [("app.test", "default"), ("slow.test", "slow")],
		  "domains_learn: each sender domain once, under its tenant",
		  out)


def exactly(res, st):
	got = sorted(e.get("event") for e in st.events())
	want = sorted(["MessageSent"] * 11 + ["MessageHeld"] * 3
		      + ["SendLimit"] * 2)
	res.check(got == want, "exactly these site webhooks", got)


def main():
	res = E.begin()
	mx = H.ScriptedMX()
	st = E.Stack(routes={"dest.test": mx.port},
		     conf={"send_limit": 10, "send_limit_action": "hold",
			   "domains_learn": "yes"})
	with st:
		slow_rcv = H.Receiver(jwks=st._jwks)
		st.ctl("tenants", "create", "slow", "--sender-domain",
		       "slow.test", "--settings",
		       '{"send_limit": 2, "send_limit_action": "defer"}')
		st.ctl("webhooks", "create", "--tenant", "slow", "--name", "slow",
		       "--url", slow_rcv.url, "--all-events")
		H.wait_until(lambda: re.search(r"tenant rules loaded: 1 values",
					       milter_log(st)), 30,
			     what="the milter read the tenant rules")
		res.case("defer", defer_case, res, st, slow_rcv)
		res.case("hold and release", hold_case, res, st, mx)
		res.case("site SendLimit events", site_events, res, st)
		res.case("domains learned", learned, res, st)
		rc = E.finish(res, st, exactly)
		slow_rcv.stop()
		return rc


if __name__ == "__main__":
	sys.exit(main())
