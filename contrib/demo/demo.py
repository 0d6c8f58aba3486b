#!/usr/bin/env python3
"""demo.py - posthook end to end, in a scratch directory, on loopback.

Starts a scratch Postfix (its own config, queue and log; the system's
Postfix is not touched), posthook-milter, posthook-logtail and
posthook-webhook, a scripted MX and a webhook receiver that verifies every
signature through the JWKS.  Sends a handful of mails with scripted
outcomes, each with a tag and metadata, prints each webhook as it
arrives, and stops everything.  Exit status 0 when every expected webhook
arrived with a good signature, 1 otherwise.

Run by contrib/demo/run (which installs and builds first), as root;
top_builddir names the build directory.
"""

import json
import os
import sys
import time

_top = os.path.dirname(os.path.dirname(os.path.dirname(
	os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(_top, "tests", "pylib"))
from posthook_test import e2e_stack as E  # noqa: E402
from posthook_test import harness as H  # noqa: E402

SENDER = "shop@app.test"
HOLD_RULE = "/^X-Demo-Review:/ HOLD held for review by the demo"

# recipient: (subject, tag, metadata, what the MX does, extra headers)
MAILS = [
	("alice@customer.test", "Your order has shipped", "shipping",
	 {"order_id": "ord_1001", "user_id": "usr_17"},
	 "accepted at once", {}),
	("bob@customer.test", "Welcome aboard", "onboarding",
	 {"user_id": "usr_18", "campaign_id": "camp_789"},
	 "452 4.2.2 mailbox full, then accepted on retry", {}),
	("nobody@customer.test", "Password reset", "password-reset",
	 {"user_id": "usr_19"},
	 "550 5.1.1 no such user", {}),
	("carol@customer.test", "Invoice 2024-0042", "billing",
	 {"invoice": "2024-0042"},
	 "held by header_checks, then released with postsuper -H",
	 {"X-Demo-Review": "yes"}),
]

MX_SCRIPT = {
	"bob@customer.test": ["452 4.2.2 <bob@customer.test>: Mailbox full, "
			      "try again later", "250 2.1.5 Ok"],
	"nobody@customer.test": "550 5.1.1 <nobody@customer.test>: Recipient "
				"address rejected: User unknown in virtual "
				"mailbox table",
}

EXPECTED = [
	("MessageSent", "alice@customer.test"),
	("MessageDelayed", "bob@customer.test"),
	("MessageSent", "bob@customer.test"),
	("MessageDeliveryFailed", "nobody@customer.test"),
	("MessageHeld", "carol@customer.test"),
	("MessageSent", "carol@customer.test"),
]

TIMEOUT = 120


def say(text=""):
	print(text)
	sys.stdout.flush()


def show(req):
	"""one line per webhook, then its fields."""
	ev = req.json or {}
	p = ev.get("payload") or {}
	m = p.get("message") or {}
	cls = p.get("classification")
	if cls is not None:
		cls = "%s (%s)" % (cls, p.get("classification_code"))
	say("  %-22s to %-22s signature verified: %s" % (
		ev.get("event"), m.get("to"), "yes" if req.verified else
		"NO (%s)" % req.verify_error))
	say("      status %-9s classification %s" % (p.get("status"),
						       cls or "-"))
	say("      tag %s, metadata %s" % (json.dumps(m.get("tag")),
					   json.dumps(m.get("metadata"))))
	say("      details: %s" % p.get("details"))


def main():
	if os.geteuid() != 0:
		say("demo: run as root (sudo sh contrib/demo/run)")
		return 1
	H.isolate_network()
	mx = H.ScriptedMX(script=MX_SCRIPT, hostname="mx.customer.test")
	st = E.Stack(routes={"customer.test": mx.port},
		     header_checks=[HOLD_RULE])
	say("demo: starting a scratch Postfix and the three posthook daemons "
	    "in %s" % st.base)
	with st:
		say("demo: webhook endpoint %s (id %s), signatures checked "
		    "against %s" % (st.rcv.url, st.webhook_id, st.jwks_file))
		say()
		say("demo: sending %d mails from %s" % (len(MAILS), SENDER))
		held = None
		for to, subject, tag, meta, outcome, headers in MAILS:
			qid, _ = st.send(to, subject, tag, meta, headers=headers,
					 sender=SENDER)
			say("  %-22s queue id %s  tag %s  -> %s" % (
				to, qid, tag, outcome))
			if headers:
				held = qid
		say()
		say("demo: webhooks as they arrive")
		seen, released = 0, False
		deadline = time.monotonic() + TIMEOUT
		while time.monotonic() < deadline:
			reqs = st.requests()
			for r in reqs[seen:]:
				show(r)
			seen = len(reqs)
			got = [(r.json or {}).get("event") for r in reqs]
			if not released and "MessageHeld" in got:
				say("demo: releasing the held mail: postsuper -H %s"
				    % held)
				st.pf.release_hold(held)
				st.pf.flush()
				released = True
			if len(reqs) >= len(EXPECTED):
				break
			time.sleep(0.1)
		st.quiet(2)
		for r in st.requests()[seen:]:
			show(r)
		reqs = st.requests()
		got = sorted(((r.json or {}).get("event"),
			      ((r.json or {}).get("payload") or {}).get(
				      "message", {}).get("to")) for r in reqs)
		missing = sorted(set(EXPECTED) - set(got))
		unverified = [r for r in reqs if not r.verified]
		say()
		if missing or unverified or len(got) != len(EXPECTED):
			H.mark_failed()
			say("demo: FAILED: %d webhooks, %d expected; missing: %s; "
			    "unverified: %d" % (len(reqs), len(EXPECTED),
						missing or "none",
						len(unverified)))
			say("demo: logs kept in %s" % st.base)
			return 1
		say("demo: all %d webhooks arrived, every signature verified "
		    "through the JWKS" % len(reqs))
	say("demo: stopped everything")
	return 0


if __name__ == "__main__":
	sys.exit(main())
