#!/usr/bin/env python3
"""bounce_e2e.py - the return path end to end, with the real milter.

Two scratch Postfix instances on loopback.  "ours" (mta.posthook.test) has
posthook-milter in smtpd_milters and non_smtpd_milters with
return_path_domain = bounces.sender.test, and routes that domain to
posthook-bounce through pipe(8) with the README's main.cf and master.cf
lines (relay_domains, transport, relay_recipient_maps, the pipe service).
"remote" (mx.remote.test) connects from 127.0.0.2, an outside address for
ours (mynetworks and internal_hosts are 127.0.0.1/32), so that its DSNs
come in as any remote server's would.

  1. The app sends over SMTP (and through sendmail(1)); the milter sets
     the envelope sender b+TOKEN@bounces.sender.test; the remote accepts
     the message, fails to deliver it (a scripted MX answers 550 5.1.1)
     and sends its DSN to the VERP address; posthook-bounce links it by
     the token: exactly one MessageBounced per message, whose
     original_message.from is the application's sender.
  2. Our own Postfix's NDR (the scripted MX refuses our own delivery) goes
     to the VERP address too, and produces nothing: no event, nothing kept.
  3. Mail for the return-path domain that is no VERP address is refused
     at RCPT time (relay_recipient_maps), and the milter never touches the
     incoming DSNs (no record, no token header).
Runs as root (Postfix); the milter and posthook-bounce run as posthook and
their sanitizer reports fail the test.
"""
import json
import os
import pwd
import re
import shutil
import smtplib
import subprocess
import sys

from posthook_test import harness as H

TOP = os.environ.get("top_builddir", os.path.dirname(os.path.dirname(
	os.path.abspath(__file__))))
BOUNCE = os.path.join(TOP, "bounce", "posthook-bounce")
MILTER = os.path.join(TOP, "milter", "posthook-milter")
CTL = os.environ.get("POSTHOOKCTL") or os.path.join(TOP, "ctl", "posthookctl")
TOOL = os.path.join(TOP, "tests", "bounce", "bounce_tool")
DOMAIN = "bounces.sender.test"
APP = "app@app.test"
SAN_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


def expect(cond, what):
	if not cond:
		raise AssertionError(what)


def main():
	if os.geteuid() != 0:
		print("SKIP: needs root (Postfix)")
		return 77
	for path in (BOUNCE, MILTER, CTL, TOOL):
		expect(os.access(path, os.X_OK), "%s is missing" % path)
	base = H.scratch_dir("posthook-bounce-e2e-")
	san = H.SanitizerDir(base)
	env = san.env()
	pw = pwd.getpwnam("posthook")
	state = os.path.join(base, "state")
	run = os.path.join(base, "run")
	sock = os.path.join(base, "sock", "milter.sock")
	for d in (state, run):
		os.makedirs(d)
		shutil.chown(d, "posthook", "posthook")
	conf = os.path.join(base, "posthook.conf")
	with open(conf, "w") as f:
		f.write("state_dir = %s\npid_dir = %s\nmilter_socket = unix:%s\n"
			"internal_hosts = 127.0.0.1/32\nreturn_path_domain = %s\n"
			% (state, run, sock, DOMAIN))

	def as_posthook():
		os.setgid(pw.pw_gid)
		os.setuid(pw.pw_uid)

	def posthook_run(argv):
		return subprocess.run(argv, check=True, capture_output=True, text=True,
				      env=env, preexec_fn=as_posthook, timeout=60).stdout

	milter = H.Daemon([MILTER, "-f", "-c", conf], env=env,
			  log=os.path.join(base, "milter.log"))
	H.wait_until(lambda: os.path.exists(sock), 20, what="milter socket")

	mx = H.ScriptedMX(script={
		"gone@dest.test": "550 5.1.1 <gone@dest.test>: Recipient address "
				  "rejected: User unknown in virtual mailbox table",
		"gone2@dest.test": "550 5.1.1 <gone2@dest.test>: Recipient address "
				   "rejected: User unknown in virtual mailbox table",
		"own@dest2.test": "550 5.1.1 <own@dest2.test>: no such user"})
	# master.cf and main.cf lines as the README gives them.
	pipe = ("posthook-bounce unix - n n - 4 pipe\n"
		"  flags=q user=posthook argv=%s -c %s -s ${sender} -r ${recipient}\n"
		% (BOUNCE, conf))
	imports = " ".join("%s=%s" % (k, env[k]) for k in SAN_VARS)
	ours = H.ScratchPostfix(hostname="mta.posthook.test", master_extra=pipe,
				smtpd_milters="unix:" + sock,
				non_smtpd_milters="unix:" + sock, main={
		"mynetworks": "127.0.0.1/32",
		"relay_domains": DOMAIN,
		"posthook-bounce_destination_recipient_limit": "1",
		"milter_connect_timeout": "10s",
		"milter_command_timeout": "10s",
		"milter_content_timeout": "30s",
		"import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG " + imports,
		"export_environment": "TZ MAIL_CONFIG LANG " + " ".join(SAN_VARS),
	})
	ours.set(relay_recipient_maps="regexp:%s/verp_recipients" % ours.conf)
	with open(os.path.join(ours.conf, "verp_recipients"), "w") as f:
		f.write("/^b\\+[a-z2-7]+@%s$/ OK\n" % re.escape(DOMAIN))
	remote = H.ScratchPostfix(hostname="mx.remote.test", discard_domains=(),
				  main={"smtp_bind_address": "127.0.0.2"})
	ours.route("dest.test", remote.port)
	ours.route("dest2.test", mx.port)
	ours.route(DOMAIN, "posthook-bounce:")
	remote.route("dest.test", mx.port)
	remote.route(DOMAIN, ours.port)
	try:
		with ours, remote:
			run_cases(ours, remote, conf, posthook_run)
	except BaseException:
		H.mark_failed()
		print("---- milter log\n" + milter.output())
		raise
	rc = milter.stop()
	expect(rc == 0, "milter exit status %r\n%s" % (rc, milter.output()))
	san.assert_clean()
	print("PASS: VERP set by the milter, remote DSNs reported once with the"
	      " app's sender, own NDR and non-VERP mail produce nothing")
	return 0


def verp_of(ours, qid):
	"""verp_of - the envelope sender qmgr logged for qid."""
	m = ours.wait_log(r"%s: from=<([^>]*)>" % qid, timeout=30)
	return m.group(1)


def show(conf, posthook_run, key):
	return json.loads(posthook_run([CTL, "-c", conf, "--json", "messages", "show", key]))


def run_cases(ours, remote, conf, posthook_run):
	sent = {}		# rcpt -> (queue id, token)

	# 1. Over SMTP and through sendmail(1): VERP set, bounced later by mail.
	hdrs = {"X-Posthook-Tag": "e2e", "X-Posthook-Metadata": '{"user_id": "u1"}'}
	qid = ours.send_smtp(APP, "gone@dest.test",
			     H.make_message(APP, "gone@dest.test", headers=hdrs))
	sent["gone@dest.test"] = qid
	qid = ours.sendmail(APP, ["gone2@dest.test"],
			    H.make_message(APP, "gone2@dest.test", headers=hdrs))
	sent["gone2@dest.test"] = qid
	# 2. Refused by the scripted MX on our own delivery: Postfix's own NDR.
	qid = ours.send_smtp(APP, "own@dest2.test",
			     H.make_message(APP, "own@dest2.test", headers=hdrs))
	sent["own@dest2.test"] = qid

	tokens = {}
	for rcpt, qid in sent.items():
		r = show(conf, posthook_run, qid)
		tok = r["token"]
		want = "b+%s@%s" % (tok, DOMAIN)
		tokens[rcpt] = tok
		expect(r["from"] == APP, "record from %r" % r["from"])
		expect(r.get("verp_sender") == want, "verp_sender %r, want %r"
		       % (r.get("verp_sender"), want))
		got = verp_of(ours, qid)
		expect(got == want, "%s left with sender %r, want %r" % (qid, got, want))

	# The remote got the VERP sender, and sends its DSNs back to it.
	for rcpt in ("gone@dest.test", "gone2@dest.test"):
		want = "b+%s@%s" % (tokens[rcpt], DOMAIN)
		remote.wait_log(r"from=<%s>" % re.escape(want), timeout=60)
		ours.wait_log(r"to=<%s>.*relay=posthook-bounce.*status=sent" % re.escape(want),
			      timeout=90)
	# Our own NDR for own@dest2.test went to its VERP address too.
	own = "b+%s@%s" % (tokens["own@dest2.test"], DOMAIN)
	ours.wait_log(r"%s: to=<own@dest2.test>.*status=bounced" % sent["own@dest2.test"],
		      timeout=60)
	ours.wait_log(r"to=<%s>.*relay=posthook-bounce.*status=sent" % re.escape(own),
		      timeout=60)

	# 3. Not a VERP address: refused at RCPT by relay_recipient_maps.
	try:
		ours.send_smtp("someone@outside.test", "postmaster-x@%s" % DOMAIN,
			       H.make_message("someone@outside.test", "x@%s" % DOMAIN))
		raise AssertionError("non-VERP recipient of %s accepted" % DOMAIN)
	except smtplib.SMTPRecipientsRefused as e:
		code = list(e.recipients.values())[0][0]
		expect(code == 550, "refused with %r" % (e.recipients,))

	out = posthook_run([TOOL, "take", os.path.join(os.path.dirname(conf), "state")])
	events = [json.loads(l) for l in out.splitlines()]
	by_rcpt = {}
	for ev in events:
		expect(ev["event"] == "MessageBounced", ev)
		by_rcpt.setdefault(ev["payload"]["recipient"], []).append(ev["payload"])
	expect(sorted(by_rcpt) == ["gone2@dest.test", "gone@dest.test"],
	       "events for %r (want one each for gone@ and gone2@): %r"
	       % (sorted(by_rcpt), events))
	for rcpt, ps in by_rcpt.items():
		expect(len(ps) == 1, "%d events for %s: %r" % (len(ps), rcpt, ps))
		p = ps[0]
		expect(list(p) == H.BOUNCED_KEYS, "payload members %r" % list(p))
		o = p["original_message"]
		expect(o["from"] == APP, "original_message.from %r" % o["from"])
		expect(o["token"] == tokens[rcpt], o)
		expect(o["tag"] == "e2e" and o["metadata"] == {"user_id": "u1"}, o)
		expect(p["status"] == "HardFail" and p["smtp_enhanced_code"] == "5.1.1", p)
		expect(p["classification"] == "invalid_recipient", p)
		expect("User unknown" in (p["diagnostic"] or ""), p)
		expect(p["bounce"]["to"] == "b+%s@%s" % (tokens[rcpt], DOMAIN), p)
		expect("MAILER-DAEMON" in (p["bounce"]["from"] or ""), p)
	kept = posthook_run([CTL, "-c", conf, "--json", "bounces", "list"]).splitlines()
	expect(kept == [], "bounces kept: %r" % kept)
	# No record beyond the app's three messages (the DSNs are incoming).
	listed = posthook_run([CTL, "-c", conf, "--json", "messages", "list"]).splitlines()
	expect(len(listed) == 3, "%d records: %r" % (len(listed), listed))


if __name__ == "__main__":
	sys.exit(main())
