#!/usr/bin/env python3
"""bounce_postfix.py - DSNs made by a real Postfix, through posthook-bounce.

Two scratch Postfix instances on loopback: "ours" (mta.posthook.test) sends
with a VERP envelope sender b+TOKEN@bounces.sender.test and routes that
domain to posthook-bounce through pipe(8), as the README says; "remote"
(mx.remote.test) accepts the message, then fails to deliver it (a scripted
MX answers 550 5.1.1) and sends its DSN back to the VERP address.

  1. The remote's DSN becomes exactly one MessageBounced for the recorded
     message, with the reason, the codes and the classification.
  2. Our own Postfix's NDR (the scripted MX refuses our own delivery; the
     tailer reports that HardFail from the log) produces nothing: its
     X-Postfix-Queue-ID is the recorded message's queue id.
  3. A DSN for a token nobody recorded is kept (posthookctl bounces list).
posthook-bounce runs as the posthook user with sanitizer reports collected.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys

from posthook_test import harness as H

TOP = os.environ.get("top_builddir", os.path.dirname(os.path.dirname(
	os.path.abspath(__file__))))
BOUNCE = os.path.join(TOP, "bounce", "posthook-bounce")
CTL = os.path.join(TOP, "ctl", "posthookctl")
TOOL = os.path.join(TOP, "tests", "bounce", "bounce_tool")
DOMAIN = "bounces.sender.test"


def main():
	if os.geteuid() != 0:
		print("SKIP: needs root (Postfix)")
		return 77
	base = H.scratch_dir("posthook-bounce-")
	san = H.SanitizerDir(base)
	state = os.path.join(base, "state")
	os.makedirs(state)
	conf = os.path.join(base, "posthook.conf")
	# No bounce_own_hostnames: our own NDR is known by its queue id alone.
	with open(conf, "w") as f:
		f.write("state_dir = %s\nreturn_path_domain = %s\n" % (state, DOMAIN))
	os.chmod(base, 0o755)
	shutil.chown(state, "posthook", "posthook")
	env = san.env()
	pw = pwd.getpwnam("posthook")

	def as_posthook():
		os.setgid(pw.pw_gid)
		os.setuid(pw.pw_uid)

	def seed(qid, token, mid, rcpt):
		subprocess.run([TOOL, "seed", state, qid, token, mid, rcpt], check=True,
			       env=env, preexec_fn=as_posthook)

	seed("SEEDQID1", "tok1remote", "orig-1@app.test", "gone@dest.test")

	mx = H.ScriptedMX(script={
		"gone@dest.test": "550 5.1.1 <gone@dest.test>: Recipient address "
				  "rejected: User unknown in virtual mailbox table",
		# Deferred once, so that the record below is written (with the
		# queue id Postfix gave) before Postfix bounces the message.
		"own@dest2.test": ["450 4.2.0 try again later",
				   "550 5.1.1 <own@dest2.test>: no such user"]})
	san_vars = "ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS"
	pipe = ("posthook-bounce unix - n n - 4 pipe\n"
		"  flags=q user=posthook argv=%s -c %s -s ${sender} -r ${recipient}\n"
		% (BOUNCE, conf))
	imports = " ".join("%s=%s" % (k, env[k]) for k in san_vars.split())
	ours = H.ScratchPostfix(hostname="mta.posthook.test", master_extra=pipe, main={
		"posthook-bounce_destination_recipient_limit": "1",
		"import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG " + imports,
		"export_environment": "TZ MAIL_CONFIG LANG " + san_vars,
	})
	remote = H.ScratchPostfix(hostname="mx.remote.test", discard_domains=())
	ours.route("dest.test", remote.port)
	ours.route("dest2.test", mx.port)
	ours.route(DOMAIN, "posthook-bounce:")
	remote.route("dest.test", mx.port)
	remote.route(DOMAIN, ours.port)
	with ours, remote:

		# 1. Accepted by the remote, bounced later by mail.
		msg = H.make_message("app@app.test", "gone@dest.test")
		ours.send_smtp("b+tok1remote@%s" % DOMAIN, "gone@dest.test", msg)
		ours.wait_log(r"to=<b\+tok1remote@%s>.*relay=posthook-bounce.*status=sent"
			      % DOMAIN, timeout=60)
		# 2. Our own NDR to the VERP address (the tailer reports that
		# HardFail from the log): its X-Postfix-Queue-ID is the record's.
		msg = H.make_message("app@app.test", "own@dest2.test")
		qid = ours.send_smtp("b+tok2own@%s" % DOMAIN, "own@dest2.test", msg)
		seed(qid, "tok2own", "orig-2@app.test", "own@dest2.test")
		ours.wait_log(r"%s: to=<own@dest2.test>.*status=deferred" % qid, timeout=60)
		# The retry comes after minimal_backoff_time (1 s); but when qmgr's
		# scan meets the file while smtp still holds it ("skipped, still
		# being delivered") Postfix waits far longer: flush until it bounced.
		for _ in range(12):
			ours.flush()
			try:
				ours.wait_log(r"%s: to=<own@dest2.test>.*status=bounced" % qid,
					      timeout=5)
				break
			except TimeoutError:
				continue
		else:
			raise AssertionError("the deferred message never bounced")
		ours.wait_log(r"to=<b\+tok2own@%s>.*relay=posthook-bounce.*status=sent"
			      % DOMAIN, timeout=60)
		# 3. A token nobody recorded.
		msg = H.make_message("app@app.test", "gone@dest.test")
		ours.send_smtp("b+nobody0000@%s" % DOMAIN, "gone@dest.test", msg)
		ours.wait_log(r"to=<b\+nobody0000@%s>.*relay=posthook-bounce.*status=sent"
			      % DOMAIN, timeout=60)

	out = subprocess.run([TOOL, "take", state], check=True, capture_output=True,
			     text=True, env=env, preexec_fn=as_posthook).stdout
	events = [json.loads(l) for l in out.splitlines()]
	assert len(events) == 1, "want one event, got %r" % events
	ev = events[0]
	p = ev["payload"]
	assert ev["event"] == "MessageBounced", ev
	assert p["status"] == "HardFail", p
	assert p["recipient"] == "gone@dest.test", p
	assert p["classification"] == "invalid_recipient", p
	assert p["classification_code"] == 10, p
	assert p["smtp_enhanced_code"] == "5.1.1", p
	assert "User unknown in virtual mailbox table" in p["diagnostic"], p
	assert p["remote_host"], p
	assert p["original_message"]["token"] == "tok1remote", p
	assert p["original_message"]["message_id"] == "orig-1@app.test", p
	assert p["bounce"]["direction"] == "incoming", p
	assert p["bounce"]["to"] == "b+tok1remote@%s" % DOMAIN, p
	assert "MAILER-DAEMON" in (p["bounce"]["from"] or ""), p

	out = subprocess.run([CTL, "-c", conf, "--json", "bounces", "list"], check=True,
			     capture_output=True, text=True, env=env).stdout
	kept = [json.loads(l) for l in out.splitlines()]
	assert len(kept) == 1, "want the unmatched bounce only, got %r" % kept
	assert kept[0]["outcome"] == "unmatched", kept
	assert kept[0]["envelope_recipient"] == "b+nobody0000@%s" % DOMAIN, kept
	assert kept[0]["dsn"]["reporting_mta"] == "mx.remote.test", kept
	san.assert_clean()
	print("PASS: remote DSN reported once, own NDR skipped, unmatched kept")
	return 0


if __name__ == "__main__":
	sys.exit(main())
