#!/usr/bin/env python3
"""e2e_delivery - mail through a real Postfix comes back as signed webhooks.

Accepted by a plain MX (MessageSent, sent_with_ssl false), accepted over
STARTTLS (sent_with_ssl true), two recipients of one message with one
refused (one event each), and a message submitted through sendmail(1):
each webhook body is checked whole, tag and metadata included, and the
MX got the token header but never the app's headers.
"""

import sys

from posthook_test import e2e_stack as E
from posthook_test import harness as H

SENDER = "app@app.test"
PLAIN = "ok@plain.test"
TLS = "secure@tls.test"
PAIR_OK = "pair-ok@plain.test"
PAIR_NO = "pair-unknown@plain.test"
CLI = "cli@plain.test"

UNKNOWN_REPLY = ("550 5.1.1 <pair-unknown@plain.test>: Recipient address "
		 "rejected: User unknown in virtual mailbox table")


def token_at_mx(res, mx, to, ev, what):
	"""the MX got the token header of the event, no app header."""
	msgs = mx.messages_for(to)
	if not res.check(len(msgs) == 1, "%s: the MX received it once" % what,
			 "%d copies" % len(msgs)):
		return
	m = msgs[0]
	tok = ev and ev["payload"]["message"].get("token")
	res.check(m.header("X-Posthook-Token") == tok and tok,
		  "%s: the MX got X-Posthook-Token = the event's token" % what,
		  "header %r, event %r" % (m.header("X-Posthook-Token"), tok))
	res.check(m.header("X-Posthook-Tag") is None and
		  m.header("X-Posthook-Metadata") is None,
		  "%s: the app's headers did not reach the MX" % what)


def accepted(res, st, mx, qid, mid):
	ev = E.check_sent(res, st, mx, E.expect_message(
		PLAIN, SENDER, mid, "plain delivery", "welcome",
		{"user_id": "usr_1"}),
		"accepted: MessageSent, whole body, sent_with_ssl false")
	token_at_mx(res, mx, PLAIN, ev, "accepted")


def starttls(res, st, mx, qid, mid):
	ev = E.check_sent(res, st, mx, E.expect_message(
		TLS, SENDER, mid, "over TLS", "tls",
		{"user_id": "usr_2", "campaign_id": "c9"}),
		"STARTTLS: MessageSent, whole body, sent_with_ssl true", ssl=True)
	res.check(mx.messages_for(TLS) and mx.messages_for(TLS)[0].tls,
		  "STARTTLS: the MX session was encrypted")
	token_at_mx(res, mx, TLS, ev, "STARTTLS")


def two_recipients(res, st, mx, qid, mid):
	ok = st.wait_event("MessageSent", PAIR_OK)
	no = st.wait_event("MessageDeliveryFailed", PAIR_NO)
	msg = dict(subject="two recipients", tag="pair",
		   metadata={"batch": "b-7"})
	res.body(ok, E.expect_sent(st, mx, E.expect_message(PAIR_OK, SENDER,
							    mid, **msg)),
		 "two recipients: MessageSent for the accepted one")
	res.body(no, E.expect_delivery(
		"MessageDeliveryFailed",
		E.expect_message(PAIR_NO, SENDER, mid, **msg),
		E.failed_details(550, "invalid_recipient", PAIR_NO, mx.port),
		UNKNOWN_REPLY, False, "invalid_recipient", "5.1.1",
		"127.0.0.1"),
		"two recipients: MessageDeliveryFailed for the refused one")
	if ok and no:
		E.same_message(res, [ok, no],
			       "two recipients: one message, one id and token")


def via_sendmail(res, st, mx, qid, mid):
	ev = E.check_sent(res, st, mx, E.expect_message(
		CLI, SENDER, mid, "via sendmail", "cli",
		{"order": "o-42", "lang": "fr"}),
		"sendmail(1): MessageSent with tag and metadata")
	token_at_mx(res, mx, CLI, ev, "sendmail(1)")


def exactly(res, st):
	"""no event beyond the expected ones (no bounce notice, no dupes)."""
	got = E.outcomes(st)
	want = sorted([("MessageSent", PLAIN), ("MessageSent", TLS),
		       ("MessageSent", PAIR_OK),
		       ("MessageDeliveryFailed", PAIR_NO),
		       ("MessageSent", CLI)])
	res.check(got == want, "exactly one webhook per delivery outcome",
		  "got %s" % got)


def main():
	res = E.begin()
	plain = H.ScriptedMX(script={PAIR_NO: UNKNOWN_REPLY})
	tls = H.ScriptedMX(tls=True)
	st = E.Stack(routes={"plain.test": plain.port, "tls.test": tls.port})
	with st:
		sent = {}
		sent["plain"] = st.send(PLAIN, "plain delivery", "welcome",
					{"user_id": "usr_1"})
		sent["tls"] = st.send(TLS, "over TLS", "tls",
				      {"user_id": "usr_2", "campaign_id": "c9"})
		msg = H.make_message(SENDER, [PAIR_OK, PAIR_NO],
				     subject="two recipients", headers={
					     "X-Posthook-Tag": "pair",
					     "X-Posthook-Metadata":
					     '{"batch": "b-7"}'})
		qid = st.pf.send_smtp(SENDER, [PAIR_OK, PAIR_NO], msg)
		sent["pair"] = (qid, H._message_id(msg))
		sent["cli"] = st.send(CLI, "via sendmail", "cli",
				      {"order": "o-42", "lang": "fr"},
				      via="sendmail")
		res.case("accepted", accepted, res, st, plain, *sent["plain"])
		res.case("STARTTLS", starttls, res, st, tls, *sent["tls"])
		res.case("two recipients", two_recipients, res, st, plain,
			 *sent["pair"])
		res.case("sendmail(1)", via_sendmail, res, st, plain,
			 *sent["cli"])
		return E.finish(res, st, exactly)


if __name__ == "__main__":
	sys.exit(main())
