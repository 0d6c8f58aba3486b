#!/usr/bin/env python3
"""e2e_failures - deferrals, bounces and expiry through a real Postfix.

452 4.2.2 then accepted (MessageDelayed SoftFail mailbox_full, then
MessageSent); 550 5.1.1, 552 5.2.2 and 554 5.7.1 with a blocklist text
(MessageDeliveryFailed classified, with smtp_enhanced_code and
remote_host); connection refused until the message expires (short
maximal_queue_lifetime: MessageDelayed connection_error, then
MessageDeliveryFailed).  Every webhook body is checked whole.
"""

import re
import sys

from posthook_test import e2e_stack as E
from posthook_test import harness as H

SENDER = "app@app.test"
FULL = "full@dest.test"
UNKNOWN = "unknown@dest.test"
QUOTA = "quota@dest.test"
BLOCKED = "blocked@dest.test"
REFUSED = "nobody@refused.test"

REPLY = {
	FULL: "452 4.2.2 <full@dest.test>: Recipient address rejected: "
	      "Mailbox full",
	UNKNOWN: "550 5.1.1 <unknown@dest.test>: Recipient address rejected:"
		 " User unknown in virtual mailbox table",
	QUOTA: "552 5.2.2 <quota@dest.test>: Mailbox full, over quota",
	BLOCKED: "554 5.7.1 Service unavailable; Client host [127.0.0.1] "
		 "blocked using zen.spamhaus.org; "
		 "https://www.spamhaus.org/query/ip/127.0.0.1",
}
# seconds: long enough for FULL's retry, short enough for the suite
QUEUE_LIFETIME = "20s"

META = {"user_id": "usr_9", "campaign_id": "camp_789"}


def msg(to, mid, subject):
	return E.expect_message(to, SENDER, mid, subject, "failures", META)


def deferred_then_sent(res, st, mx, qid, mid):
	d = st.wait_event("MessageDelayed", FULL)
	s = st.wait_event("MessageSent", FULL, timeout=60)
	res.body(d, E.expect_delivery(
		"MessageDelayed", msg(FULL, mid, "full mailbox"),
		E.failed_details(452, "mailbox_full", FULL, mx.port),
		REPLY[FULL], False, "mailbox_full", "4.2.2", "127.0.0.1"),
		"452 4.2.2: MessageDelayed SoftFail mailbox_full")
	res.body(s, E.expect_sent(st, mx, msg(FULL, mid, "full mailbox")),
		 "452 then 250: MessageSent after the retry")
	if d and s:
		E.same_message(res, [d, s], "452 then 250: one id and token")
		res.check(d["timestamp"] <= s["timestamp"] and
			  d["payload"]["timestamp"] <= s["payload"]["timestamp"],
			  "452 then 250: the delay comes before the delivery")


def bounced(res, st, mx, to, qid, mid, subject, cls, code, enh):
	ev = st.wait_event("MessageDeliveryFailed", to)
	res.body(ev, E.expect_delivery(
		"MessageDeliveryFailed", msg(to, mid, subject),
		E.failed_details(code, cls, to, mx.port), REPLY[to], False,
		cls, enh, "127.0.0.1"),
		"%d %s: MessageDeliveryFailed HardFail %s" % (code, enh, cls))


def refused_then_expired(res, st, port, qid, mid):
	d = st.wait_event("MessageDelayed", REFUSED)
	f = st.wait_event("MessageDeliveryFailed", REFUSED, timeout=90)
	text = "connect to 127.0.0.1[127.0.0.1]:%d: Connection refused" % port
	conn = E.connection_details("refused.test")
	res.body(d, E.expect_delivery(
		"MessageDelayed", msg(REFUSED, mid, "refused"), conn, text,
		False, "connection_error", None, None),
		"connection refused: MessageDelayed connection_error, "
		"no remote host")
	res.body(f, E.expect_delivery(
		"MessageDeliveryFailed", msg(REFUSED, mid, "refused"),
		E.regex(r"Message expired after .+ in the queue: " +
			re.escape(conn)), text,
		E.one_of(False, None), "connection_error", None, None),
		"expired: MessageDeliveryFailed, classified by the last "
		"deferral")
	delays = st.events_for(REFUSED, "MessageDelayed")
	bad = [E.match(x, E.expect_delivery(
		"MessageDelayed", msg(REFUSED, mid, "refused"), conn, text,
		False, "connection_error", None, None)) for x in delays]
	res.check(delays and not any(bad),
		  "connection refused: every one of the %d MessageDelayed "
		  "bodies is whole" % len(delays),
		  "\n".join(sum(bad, [])))
	if f:
		res.check(all(x["payload"]["timestamp"] <=
			      f["payload"]["timestamp"] for x in delays),
			  "expired: after every MessageDelayed")
		E.same_message(res, delays + [f], "refused: one id and token")
	res.check(st.pf.wait_log(r"%s: from=<%s>, status=expired" %
				 (qid, SENDER), timeout=5),
		  "Postfix logged the expiry")


def exactly(res, st):
	got = [o for o in E.outcomes(st) if o[1] != REFUSED]
	want = sorted([("MessageDelayed", FULL), ("MessageSent", FULL),
		       ("MessageDeliveryFailed", UNKNOWN),
		       ("MessageDeliveryFailed", QUOTA),
		       ("MessageDeliveryFailed", BLOCKED)])
	res.check(got == want, "exactly one webhook per delivery outcome "
		  "(none for Postfix's own bounce notices)", "got %s" % got)
	# Deliveries run concurrently, so webhooks may arrive out of order;
	# the order of the events themselves is checked by payload timestamp
	# (expired: after every MessageDelayed).
	ref = sorted(e.get("event") for e in st.events()
		     if e["payload"]["message"]["to"] == REFUSED)
	n_def = len(st.pf.wait_log_count(
		r"to=<%s>.*status=deferred" % re.escape(REFUSED), 1))
	res.check(ref == ["MessageDelayed"] * n_def +
		  ["MessageDeliveryFailed"],
		  "refused: one MessageDelayed per logged deferral (%d) and "
		  "one MessageDeliveryFailed" % n_def, "got %s" % ref)


def main():
	res = E.begin()
	mx = H.ScriptedMX(script={FULL: [REPLY[FULL], "250 2.1.5 Ok"],
				  UNKNOWN: REPLY[UNKNOWN],
				  QUOTA: REPLY[QUOTA],
				  BLOCKED: REPLY[BLOCKED]})
	closed = H.ClosedPort()
	st = E.Stack(routes={"dest.test": mx.port,
			     "refused.test": closed.port},
		     queue_lifetime=QUEUE_LIFETIME)
	with st:
		def send(to, subject):
			return st.send(to, subject, "failures", META)
		s_ref = send(REFUSED, "refused")
		s_full = send(FULL, "full mailbox")
		s_unk = send(UNKNOWN, "unknown user")
		s_quota = send(QUOTA, "over quota")
		s_block = send(BLOCKED, "blocklisted")
		res.case("452 then 250", deferred_then_sent, res, st, mx,
			 *s_full)
		res.case("550 5.1.1", bounced, res, st, mx, UNKNOWN, *s_unk,
			 "unknown user", "invalid_recipient", 550, "5.1.1")
		res.case("552 5.2.2", bounced, res, st, mx, QUOTA, *s_quota,
			 "over quota", "mailbox_full", 552, "5.2.2")
		res.case("554 5.7.1 blocklist", bounced, res, st, mx, BLOCKED,
			 *s_block, "blocklisted", "spam_block", 554, "5.7.1")
		res.case("refused then expired", refused_then_expired, res,
			 st, closed.port, *s_ref)
		rc = E.finish(res, st, exactly)
	closed.stop()
	return rc


if __name__ == "__main__":
	sys.exit(main())
