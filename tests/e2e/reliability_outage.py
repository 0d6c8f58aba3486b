#!/usr/bin/env python3
"""reliability_outage - a receiver down for a whole retry schedule
(docs/events.md, Retry schedule), time-scaled: retry_schedule = 0 1s 1s 2s.

The receiver is switched off (its port refuses, open connections cut).
A first batch of mail is delivered, bounced and deferred by the scripted
MX; each of its events runs through the whole schedule and is marked
failed.  A second batch goes out shortly before the receiver comes back:
its events are still being retried, and arrive once it listens again.
Then posthookctl deliveries recover sends the failed ones again.  At the
end every event is counted as in the chaos run (tests/e2e/chaos.py): expected
from the MX's record and Postfix's log, received by the receiver: none
lost, none wrong, no duplicate of either kind (the receiver never
answered before, so nothing may arrive twice).
"""

import json
import os
import sys
import time

from posthook_test import reliability as R
from posthook_test import e2e_stack as E, harness as H


def endpoint(st):
	s = R.status(st) or {}
	return {e["name"]: e for e in s.get("endpoints", [])}.get("e2e", {}), s


def main():
	if os.geteuid() != 0:
		print("SKIP: a scratch Postfix needs root")
		return 77
	isolated = H.isolate_network()
	res = E.Results()
	plan = R.Plan(0, 8, run="o")
	for kinds in (["ok"], ["ok"], ["ok", "uu"], ["tf"], ["qu"], ["bl"],
		      ["ok"], ["tf", "ok"]):
		plan.add(*kinds)
	mx = H.ScriptedMX(script=R.mx_script)
	# the breaker would park them after ten failures (webhook_health.py
	# and the chaos run test that): here the schedule runs out
	st = E.Stack(routes={R.MX_DOMAIN: mx.port},
		     retry_schedule="0 1s 1s 2s", conf={"breaker_failures": "1000"})
	with st:
		sw = R.ReceiverSwitch(st.rcv)
		sw.off()
		t0 = time.monotonic()
		sub = R.Submitter(st.pf, plan, threads=2, rate=20).start()
		sub.join(60)
		first = len(plan.messages)
		# batch 1: every event through the whole schedule, failed
		want = None

		def all_failed():
			nonlocal want
			ep, s = endpoint(st)
			c = R.Count(plan, mx, st.pf.maillog, [])
			want = c.figures["expected events"]
			return (s.get("outbox_depth") == 0 and
				(s.get("tailer") or {}).get("lag_bytes") == 0 and
				ep.get("retrying") == 0 and
				ep.get("failed") == want and want >= 12) and ep
		try:
			ep = H.wait_until(all_failed, 40, interval=0.5,
					  what="every event of batch 1 failed")
		except TimeoutError:
			ep = endpoint(st)[0]
		print("# batch 1: %s events expected; endpoint %s" % (
			want, json.dumps(ep)))
		res.check(ep.get("failed") == want and ep.get("retrying") == 0,
			  "receiver down for the whole schedule: all %s events "
			  "of batch 1 marked failed, none still retrying" % want,
			  ep)
		res.check(len(st.requests()) == 0,
			  "nothing reached the receiver while it was down")
		# batch 2: retried while the receiver comes back
		for kinds in (["ok"], ["ok"], ["uu"], ["ok", "ok"]):
			plan.add(*kinds)
		sub = R.Submitter(st.pf, plan, threads=2, rate=20,
				  first=first).start()
		sub.join(60)
		for m in plan.messages[first:]:
			for r in m["rcpts"]:
				st.pf.wait_log(r"to=<%s>.*status=(sent|bounced)" % r,
					       timeout=30)
		time.sleep(0.5)
		sw.on()
		s = R.wait_settled(st, 40, quiet=2)
		ep = endpoint(st)[0]
		n2 = len(st.requests())
		res.check(s is not None and n2 >= 5,
			  "receiver back: batch 2's %d events, still being "
			  "retried, arrived" % n2, ep)
		failed = ep.get("failed")
		out = st.ctl("--json", "deliveries", "list", "--failed",
			     "--limit", "0").stdout
		failed_uuids = {json.loads(l)["uuid"] for l in out.splitlines()
				if l.strip()}
		recovered = R.recover(st, "1h")
		res.check(recovered == failed and failed == want,
			  "deliveries recover requeued the %s failed deliveries"
			  % failed, "recovered %s" % recovered)
		s = R.wait_settled(st, 40, quiet=2)
		ep = endpoint(st)[0]
		res.check(s is not None and ep.get("failed") == 0 and
			  ep.get("retrying") == 0,
			  "after recover: nothing failed or retrying", ep)
		got = {q.json.get("uuid") for q in st.requests() if q.json}
		res.check(len(failed_uuids) >= want and failed_uuids <= got,
			  "the recovered events arrived with the uuids of their "
			  "failed attempts", "failed %s, received %s" % (
				  sorted(failed_uuids), sorted(got)))
		c = R.Count(plan, mx, st.pf.maillog, st.requests())
		c.report()
		f = c.figures
		res.check(c.ok() and f["duplicated, same uuid"] == 0 and
			  f["lost (not in any log file)"] == 0 and
			  f["events without the milter's record"] == 0,
			  "counted: %d expected, %d received, 0 lost, 0 wrong, "
			  "no duplicate" % (f["expected events"],
					    f["requests received"]))
		E.common_checks(res, st)
		if isolated:
			res.check(not H.dns_trap.queries, "no DNS query",
				  H.dns_trap.queries)
		print("# %.0f s" % (time.monotonic() - t0))
		rc = res.exit_code()
	mx.stop()
	return rc


if __name__ == "__main__":
	sys.exit(main())
