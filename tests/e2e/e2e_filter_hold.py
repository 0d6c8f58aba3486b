#!/usr/bin/env python3
"""e2e_filter_hold - a content filter hop, and a held then released mail.

Every message passes an amavis-like content filter on loopback that
re-injects it into a second smtpd: the hop is no delivery (no webhook for
it), the final delivery is one MessageSent carrying the original's id,
token, tag and metadata, also when the filter answers only after Postfix
has delivered the re-injected message.  A message held by header_checks
HOLD gives MessageHeld; released with postsuper -H it gives MessageSent.
"""

import re
import sys

from posthook_test import e2e_stack as E
from posthook_test import harness as H

SENDER = "app@app.test"
FILTERED = "filtered@dest.test"
HELD = "held@dest.test"
LATE = "late-answer@dest.test"


def filtered(res, st, mx, qid, mid):
	ev = E.check_sent(res, st, mx, E.expect_message(
		FILTERED, SENDER, mid, "through the filter", "filter",
		{"k": "v"}),
		"content filter: one MessageSent for the final delivery, with "
		"the original's tag and metadata")
	hop = E.filter_hop(st, qid, FILTERED)
	res.check(hop in st.filter.reinjected,
		  "content filter: Postfix logged the hop and the re-injection")
	m = mx.messages_for(FILTERED)
	tok = ev and ev["payload"]["message"]["token"]
	res.check(len(m) == 1 and m[0].header("X-Posthook-Token") == tok,
		  "content filter: the MX got the message once, with the "
		  "event's token")


def answer_after_delivery(stack):
	"""the filter's before_answer: for LATE, answer only once Postfix has
	logged the re-injected message's delivery, so that the hop's line
	("queued as NEWQID") comes after NEWQID's delivery line."""
	def hold_back(qid, rec):
		if LATE in rec.rcpts:
			stack.pf.wait_log(r"%s: to=<%s>, .*status=sent"
					  % (qid, re.escape(LATE)))
	return hold_back


def late_answer(res, st, mx, qid, mid):
	E.check_sent(res, st, mx, E.expect_message(
		LATE, SENDER, mid, "answered late", "late", {"k": "late"}),
		"filter answers after the delivery: one MessageSent, with the "
		"original's id, token, tag and metadata")
	hop = E.filter_hop(st, qid, LATE)
	order = [q for q, to, status, _ in st.pf.deliveries()
		 if to == LATE and status == "sent"]
	res.check(order == [hop, qid],
		  "filter answers after the delivery: Postfix logged the "
		  "delivery of %s before the hop that names it" % hop,
		  "order of the sent lines: %s" % order)


def held_then_released(res, st, mx, qid, mid):
	h = st.wait_event("MessageHeld", HELD)
	text = st.hold_text(qid)
	message = E.expect_message(HELD, SENDER, mid, "hold me", "hold",
				   {"k": "held"})
	res.body(h, E.expect_delivery(
		"MessageHeld", message, "Message held: held by test",
		E.one_of(text, text and text[len("hold: "):]), None,
		time_=E.one_of(None, E.NONNEG)),
		"HOLD: MessageHeld, whole body, no classification")
	res.check(st.events_for(HELD, "MessageSent") == [],
		  "HOLD: no MessageSent while held")
	st.pf.release_hold(qid)
	st.pf.flush()
	s = E.check_sent(res, st, mx, message,
			 "postsuper -H: MessageSent after release")
	if h and s:
		E.same_message(res, [h, s], "held and sent: one id and token")


def exactly(res, st):
	got = E.outcomes(st)
	want = sorted([("MessageSent", FILTERED), ("MessageHeld", HELD),
		       ("MessageSent", HELD), ("MessageSent", LATE)])
	res.check(got == want, "exactly these webhooks: none for the hops",
		  "got %s" % got)
	port = ":%d " % st.filter.port
	res.check(not [e for e in st.events()
		       if port in (e["payload"].get("details") or "")],
		  "no webhook names the content filter")


def main():
	res = E.begin()
	mx = H.ScriptedMX()
	st = E.Stack(routes={"dest.test": mx.port}, reinject=True,
		     content_filter=True,
		     header_checks=["/^X-Hold-Me:/ HOLD held by test"])
	st.filter.before_answer = answer_after_delivery(st)
	with st:
		s_f = st.send(FILTERED, "through the filter", "filter",
			      {"k": "v"})
		s_h = st.send(HELD, "hold me", "hold", {"k": "held"},
			      headers={"X-Hold-Me": "yes"})
		res.case("content filter", filtered, res, st, mx, *s_f)
		res.case("held then released", held_then_released, res, st,
			 mx, *s_h)
		# After the first hop: the tailer has seen this site's filter.
		s_l = st.send(LATE, "answered late", "late", {"k": "late"})
		res.case("filter answers late", late_answer, res, st, mx, *s_l)
		return E.finish(res, st, exactly)


if __name__ == "__main__":
	sys.exit(main())
