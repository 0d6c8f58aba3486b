#!/usr/bin/env python3
"""complaint_postfix.py - spam complaints (ARF, RFC 5965) through a real
Postfix to a signed MessageComplained webhook.

One scratch Postfix with posthook-milter (return_path_domain =
bounces.sender.test), the tailer and the webhook sender (e2e_stack), plus
the README's feedback-loop lines: the pipe(8) service, the transport_maps
line `fbl@sender.test posthook-bounce:` beside the VERP domain's, and the
address accepted at RCPT time outside the VERP pattern.  Mynetworks is
127.0.0.1 alone: the mailbox provider writes from 127.0.0.2, as any outside
server would.

  1. The app sends a message through the milter to a scripted MX; the
     provider's feedback loop mails an ARF report quoting the message as
     delivered (VERP Original-Mail-From, token header) to fbl@sender.test:
     one MessageComplained arrives, verified through the JWKS, with the
     report's fields and the message object of the MessageSent.
  2. A redacted report (addresses hidden, headers only) of the same
     message is linked by its Message-ID: a second MessageComplained.
  3. A report about a message posthook never sent makes no webhook and
     stays in `posthookctl bounces list` (outcome feedback).
  4. Another address of sender.test is still refused at RCPT time.
"""
import json
import os
import re
import smtplib
import sys

from posthook_test import e2e_stack as E
from posthook_test import harness as H

DOMAIN = "bounces.sender.test"
FBL = "fbl@sender.test"
RCPT = "tina@isp.test"
SENDER = "deals@app.test"
PROVIDER = "127.0.0.2"
SAN_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
KEYS = ["original_message", "feedback_type", "user_agent", "source_ip",
	"arrival_date", "reporting_mta"]


def arf(report_id, fields, quoted, quoted_type="message/rfc822"):
	"""arf - a feedback report as a mailbox provider writes it."""
	head = ("From: <fbl@feedback.isp.test>\r\n"
		"To: <%s>\r\n"
		"Subject: Abuse report\r\n"
		"Message-ID: <%s@feedback.isp.test>\r\n"
		"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; report-type=feedback-report;\r\n"
		"\tboundary=\"arf-b\"\r\n\r\n" % (FBL, report_id))
	text = ("--arf-b\r\nContent-Type: text/plain\r\n\r\n"
		"A recipient marked this message as spam.\r\n\r\n")
	rep = ("--arf-b\r\nContent-Type: message/feedback-report\r\n\r\n%s\r\n"
	       % "".join("%s: %s\r\n" % kv for kv in fields))
	if isinstance(quoted, bytes):
		quoted = quoted.decode("utf-8", "replace")
	orig = ("--arf-b\r\nContent-Type: %s\r\n\r\n%s\r\n--arf-b--\r\n"
		% (quoted_type, quoted))
	return (head + text + rep + orig).encode()


def from_provider(st, rcpt, msg):
	"""from_provider - one message from 127.0.0.2; its queue id."""
	with smtplib.SMTP(H.LOOPBACK, st.pf.port, "mx.isp.test", timeout=30,
			  source_address=(PROVIDER, 0)) as s:
		s.ehlo("mx.isp.test")
		code, resp = s.mail("fbl-bounces@feedback.isp.test")
		if code != 250:
			raise smtplib.SMTPSenderRefused(code, resp, "fbl-bounces@")
		code, resp = s.rcpt(rcpt)
		if code not in (250, 251):
			raise smtplib.SMTPRecipientsRefused({rcpt: (code, resp)})
		code, resp = s.data(msg)
		m = re.search(r"queued as (\S+)", resp.decode())
		return m.group(1) if m else None


def to_bounce(st, qid):
	st.pf.wait_log(r"%s: to=<%s>.*relay=posthook-bounce.*status=sent"
		       % (qid, re.escape(FBL)), timeout=60)


def complaints(st):
	return [e for e in st.events() if e.get("event") == "MessageComplained"]


def delivered(res, st, mx, state):
	"""case 1: the app's message, then the provider's full report."""
	qid, mid = st.send(RCPT, "Weekly deals", sender=SENDER)
	state["mid"] = mid
	sent = st.wait_event("MessageSent", RCPT)
	res.check(sent is not None, "the app's message was sent (MessageSent)")
	m = mx.messages_for(RCPT)
	res.check(len(m) == 1 and re.match(r"b\+[a-z2-7]+@", m[0].mail_from),
		  "the MX got it from a VERP sender",
		  m and m[0].mail_from)
	report = arf("r1", [("Feedback-Type", "abuse"),
			    ("User-Agent", "ExampleFBL/2.1"), ("Version", "1"),
			    ("Original-Mail-From", "<%s>" % m[0].mail_from),
			    ("Original-Rcpt-To", "<%s>" % RCPT),
			    ("Arrival-Date", "Mon, 07 Dec 2026 09:55:00 +0000"),
			    ("Source-IP", "192.0.2.25"),
			    ("Reporting-MTA", "dns; mx.isp.test")], m[0].data)
	to_bounce(st, from_provider(st, FBL, report))
	ev = H.wait_until(lambda: complaints(st) and complaints(st)[0], 60,
			  interval=0.1, what="MessageComplained")
	p = ev["payload"]
	res.check(list(p) == KEYS, "MessageComplained has the members %s" % KEYS,
		  list(p))
	res.check(p["feedback_type"] == "abuse" and
		  p["user_agent"] == "ExampleFBL/2.1" and
		  p["source_ip"] == "192.0.2.25" and
		  p["arrival_date"] == "Mon, 07 Dec 2026 09:55:00 +0000" and
		  p["reporting_mta"] == "mx.isp.test",
		  "the report's fields, Reporting-MTA without its type", p)
	om, sm = p["original_message"], sent and sent["payload"]["message"]
	res.check(sm is not None and om == sm,
		  "original_message is the MessageSent's message object",
		  "%s\n   vs %s" % (om, sm))
	res.check(om["message_id"] == mid.strip("<>") and om["to"] == RCPT and
		  om["from"] == SENDER, "original_message names the app's message",
		  om)
	req = [r for r in st.requests()
	       if r.json and r.json.get("event") == "MessageComplained"]
	res.check(req and req[0].verified, "the webhook is signed (JWKS)",
		  req and req[0].verify_error)


def redacted(res, st, mid):
	"""case 2: addresses hidden, headers only: linked by Message-ID."""
	hdrs = "From: %s\r\nTo: redacted@isp.test\r\nSubject: Weekly deals\r\n" \
	       "Message-ID: %s\r\n" % (SENDER, mid)
	report = arf("r2", [("Feedback-Type", "abuse"),
			    ("User-Agent", "RedactingFBL/1.0"), ("Version", "1"),
			    ("Original-Mail-From", "<redacted@isp.test>"),
			    ("Original-Rcpt-To", "<redacted@isp.test>"),
			    ("Received-Date", "Mon, 07 Dec 2026 09:56:00 +0000")],
		     hdrs, "text/rfc822-headers")
	to_bounce(st, from_provider(st, FBL, report))
	H.wait_until(lambda: len(complaints(st)) >= 2, 60, interval=0.1,
		     what="a second MessageComplained")
	p = complaints(st)[1]["payload"]
	res.check(p["user_agent"] == "RedactingFBL/1.0" and
		  p["original_message"]["message_id"] == mid.strip("<>") and
		  p["original_message"]["to"] == RCPT and
		  p["source_ip"] is None and p["reporting_mta"] is None,
		  "linked by Message-ID; the message's recipient, absent "
		  "fields null", p)


def unknown(res, st):
	"""case 3: about a message nobody sent: kept, no webhook."""
	hdrs = "From: %s\r\nTo: %s\r\nSubject: Not ours\r\n" \
	       "Message-ID: <never-sent-1@app.test>\r\n" % (SENDER, RCPT)
	report = arf("r3", [("Feedback-Type", "abuse"),
			    ("User-Agent", "ExampleFBL/2.1"), ("Version", "1"),
			    ("Original-Mail-From", "<b+aaaaaaaaaaaa@%s>" % DOMAIN),
			    ("Original-Rcpt-To", "<%s>" % RCPT)],
		     hdrs, "text/rfc822-headers")
	to_bounce(st, from_provider(st, FBL, report))
	r = st.ctl("--json", "bounces", "list")
	kept = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
	res.check(len(kept) == 1 and kept[0]["outcome"] == "feedback" and
		  kept[0]["envelope_recipient"] == FBL,
		  "the unmatched report is kept: posthookctl bounces list", kept)


def refused(res, st):
	"""case 4: sender.test takes the feedback address alone."""
	try:
		from_provider(st, "someone@sender.test", b"Subject: x\r\n\r\nx\r\n")
		res.check(False, "another address of sender.test is refused")
	except smtplib.SMTPRecipientsRefused as e:
		code = list(e.recipients.values())[0][0]
		res.check(code == 550, "another address of sender.test is refused",
			  e.recipients)


def exactly(res, st):
	st.quiet(3)
	got = sorted(e.get("event") for e in st.events())
	res.check(got == ["MessageComplained", "MessageComplained", "MessageSent"],
		  "exactly: MessageSent and two MessageComplained", got)


def main():
	res = E.begin()
	mx = H.ScriptedMX()
	st = E.Stack(routes={"isp.test": mx.port},
		     conf={"return_path_domain": DOMAIN,
			   "internal_hosts": "127.0.0.1/32"},
		     main={"mynetworks": "127.0.0.1/32",
			   "relay_domains": "%s, sender.test" % DOMAIN,
			   "posthook-bounce_destination_recipient_limit": "1"})
	env = st.san.env()
	# The README's lines: master.cf, transport_maps, the recipient map.
	st.pf.master_extra += (
		"posthook-bounce unix - n n - 4 pipe\n"
		"  flags=q user=posthook argv=%s -c %s -s ${sender} -r ${recipient}\n"
		% (os.path.join(E.build_dir(), "bounce", "posthook-bounce"),
		   st.conf_path))
	rmap = os.path.join(st.pf.conf, "posthook_verp_recipients")
	with open(rmap, "w") as f:
		f.write("/^b\\+[a-z2-7]+@%s$/ OK\n/^%s$/ OK\n"
			% (re.escape(DOMAIN), re.escape(FBL)))
	os.chmod(rmap, 0o644)
	st.pf.set(relay_recipient_maps="regexp:" + rmap,
		  import_environment="MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG "
		  + " ".join("%s=%s" % (k, env[k]) for k in SAN_VARS),
		  export_environment="TZ MAIL_CONFIG LANG " + " ".join(SAN_VARS))
	st.pf.route(DOMAIN, "posthook-bounce:")
	st.pf.route(FBL, "posthook-bounce:")
	with st:
		state = {}
		res.case("a report of our message: a signed MessageComplained",
			 delivered, res, st, mx, state)
		res.case("a redacted report: linked by Message-ID", redacted,
			 res, st, state["mid"])
		res.case("a report of an unknown message: kept", unknown, res, st)
		res.case("other addresses refused", refused, res, st)
		return E.finish(res, st, exactly)


if __name__ == "__main__":
	sys.exit(main())
