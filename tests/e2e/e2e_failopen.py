#!/usr/bin/env python3
"""e2e_failopen - posthook never stands in the way of mail.

With all three daemons stopped, Postfix still delivers every message
(milter_default_action = accept; smtp_header_checks keeps the app's
headers in), and no webhook is sent.  Restarted, the tailer resumes where
it stopped: the mail logged meanwhile gets its events (without a milter
record: id, token, subject, tag and metadata null), nothing sent before is
sent again, and new mail is recorded as before.
"""

import json
import os
import re
import sys
import time

from posthook_test import e2e_stack as E
from posthook_test import harness as H

SENDER = "app@app.test"
BEFORE = "before@dest.test"
DOWN_SMTP = "down-smtp@dest.test"
DOWN_CLI = "down-cli@dest.test"
AFTER = "after@dest.test"


def before(res, st, mx, qid, mid):
	E.check_sent(res, st, mx, E.expect_message(BEFORE, SENDER, mid,
						   "before", "up", {"n": "1"}),
		     "daemons up: MessageSent")


def status(st):
	"""status - posthookctl status as JSON, whatever its verdict: exit 0
	all up, 1 degraded, 2 a daemon down."""
	r = st.ctl("--json", "status", check=False)
	if r.returncode not in (0, 1, 2):
		raise RuntimeError("posthookctl status: exit %d: %s" % (
			r.returncode, r.stderr))
	return json.loads(r.stdout)


def status_up(res, st, dead_port):
	"""posthookctl status: daemons up, no lag, empty outbox, the key that
	signed, and the dead endpoint's deliveries failing."""
	def settled():
		s = status(st)
		eps = {e["name"]: e for e in s["endpoints"]}
		return s if (s["tailer"]["lag_bytes"] == 0 and
			     s["outbox_depth"] == 0 and
			     eps["dead"]["failed"] >= 1) else None
	try:
		s = H.wait_until(settled, 30, interval=0.5,
				 what="status: no lag, dead endpoint gave up")
	except TimeoutError:
		s = status(st)
	print("# status: " + json.dumps(s))
	# posthook-api and posthook-amqp are optional: this site runs neither
	res.check(all(d["running"] and d["pid"] == st.daemons[n].pid
		      for n, d in s["daemons"].items() if not d["optional"]),
		  "status: the three daemons up, with their pids")
	res.check(s["tailer"]["lag_bytes"] == 0 and
		  s["tailer"]["lag_lines"] == 0,
		  "status: the tailer is not behind the log")
	res.check(s["outbox_depth"] == 0, "status: outbox empty")
	kids = {r.kid for r in st.requests()}
	res.check(kids == {s["signing_key"]["active_kid"]},
		  "status: the active key id is the one that signed",
		  "%s vs %s" % (kids, s["signing_key"]))
	eps = {e["name"]: e for e in s["endpoints"]}
	res.check(eps["e2e"]["failing"] == 0,
		  "status: no failing delivery to the live endpoint")
	res.check(eps["dead"]["failed"] == 1 and
		  eps["dead"]["failing"] == 1 and
		  "refused" in (eps["dead"]["last_error"] or ""),
		  "status: one delivery to the dead endpoint gave up, with "
		  "its reason", eps["dead"])
	text = st.ctl("status").stdout
	res.check(re.search(r"posthook-logtail\s+up", text) and
		  "dead" in text, "status: readable report", text)


def status_down(res, st):
	s = status(st)
	res.check(not any(d["running"] or d["stale_pid_file"]
			  for d in s["daemons"].values()),
		  "status: the three daemons down, no stale pid file",
		  s["daemons"])
	r = st.ctl("status", "--nagios", check=False)
	res.check(r.returncode == 2 and r.stdout.startswith("POSTHOOK CRITICAL - ")
		  and len(r.stdout.splitlines()) == 1,
		  "status --nagios: exit 2 and one CRITICAL line", r.stdout)


def while_down(res, st, mx, sent):
	for to, (qid, mid) in sent.items():
		res.check(st.pf.wait_log(r"%s: to=<%s>.*status=sent" %
					 (qid, to), timeout=30),
			  "daemons down: Postfix delivered %s" % to)
		m = mx.messages_for(to)
		res.check(len(m) == 1 and m[0].header("X-Posthook-Tag") is None
			  and m[0].header("X-Posthook-Metadata") is None and
			  m[0].header("X-Posthook-Token") is None,
			  "daemons down: %s reached the MX once, no app "
			  "header, no token" % to)
	res.check(len(st.requests()) == 1,
		  "daemons down: no webhook sent meanwhile")


def after_restart(res, st, mx, sent):
	for to, (qid, mid) in sent.items():
		E.check_sent(res, st, mx, E.expect_message(to, SENDER, mid,
							   recorded=False),
			     "after restart: MessageSent for %s, logged while "
			     "down (no record: id, token, tag, metadata null)"
			     % to)


def after(res, st, mx, qid, mid):
	E.check_sent(res, st, mx, E.expect_message(AFTER, SENDER, mid,
						   "after", "up-again",
						   {"n": "3"}),
		     "after restart: new mail recorded and sent as before")


def exactly(res, st):
	got = E.outcomes(st)
	want = sorted(("MessageSent", t) for t in
		      (BEFORE, DOWN_SMTP, DOWN_CLI, AFTER))
	res.check(got == want, "exactly one webhook per delivery: nothing "
		  "lost, nothing repeated across the restart", "got %s" % got)


def main():
	res = E.begin()
	mx = H.ScriptedMX()
	dead = H.ClosedPort()
	st = E.Stack(routes={"dest.test": mx.port})
	with st:
		st.ctl("webhooks", "create", "--name", "dead", "--url",
		       "http://127.0.0.1:%d/hook" % dead.port, "--events",
		       "MessageSent")
		s_b = st.send(BEFORE, "before", "up", {"n": "1"})
		res.case("before", before, res, st, mx, *s_b)
		res.case("status up", status_up, res, st, dead.port)
		st.stop_daemons()
		res.case("status down", status_down, res, st)
		res.check(not [n for n in os.listdir(st.pid_dir)
			       if n.endswith(".pid")],
			  "stopped daemons removed their pid files",
			  os.listdir(st.pid_dir))
		down = {DOWN_SMTP: st.send(DOWN_SMTP, "down", "down",
					   {"n": "2"}),
			DOWN_CLI: st.send(DOWN_CLI, "down cli", "down",
					  {"n": "2"}, via="sendmail")}
		res.case("while down", while_down, res, st, mx, down)
		time.sleep(1)
		st.start_daemons()
		res.case("after restart", after_restart, res, st, mx, down)
		s_a = st.send(AFTER, "after", "up-again", {"n": "3"})
		res.case("after", after, res, st, mx, *s_a)
		return E.finish(res, st, exactly)


if __name__ == "__main__":
	sys.exit(main())
