#!/usr/bin/env python3
"""harness_smoke - the shared test harness works against real parts.

A scratch Postfix relays to a scripted MX (250, 452 then 250, 550 5.1.1,
STARTTLS) and to a refusing port; the maillog, the MX's record and the
queue must agree.  The webhook Receiver verifies signatures through a
JWKS (rotation included) and answers from its script.
"""

import http.client
import json
import os
import re
import socket
import sys
import time

from posthook_test import harness as H

OK = "ok@dest.test"
FULL = "full@dest.test"
UNKNOWN = "unknown@dest.test"
VIA_SENDMAIL = "cli@dest.test"
REFUSED = "nobody@refused.test"
SENDER = "app@app.test"


def check(cond, what):
	if not cond:
		raise AssertionError(what)
	print("ok - " + what)


def status_of(pf, qid, rcpt, status):
	return [d for d in pf.deliveries()
		if d[0] == qid and d[1] == rcpt and d[2] == status]


def etc_postfix():
	"""Each file of the system's /etc/postfix and its mtime (a Postfix
	installed with "No configuration", as tests/install-deps.sh does, has
	no main.cf)."""
	out = {}
	for p in ("/etc/postfix/main.cf", "/etc/postfix/master.cf"):
		try:
			out[p] = os.stat(p).st_mtime_ns
		except FileNotFoundError:
			out[p] = None
	return out


def postfix_smoke():
	etc = etc_postfix()
	mx = H.ScriptedMX(tls=True, script={
		OK: "250 2.1.5 Ok",
		FULL: ["452 4.2.2 <full@dest.test>: Mailbox full",
		       "250 2.1.5 Ok"],
		UNKNOWN: "550 5.1.1 <unknown@dest.test>: Recipient address "
			 "rejected: User unknown in virtual mailbox table",
	})
	closed = H.ClosedPort()
	pf = H.ScratchPostfix(routes={"dest.test": mx.port,
				      "refused.test": closed.port},
			      queue_lifetime="1h")
	with pf:
		q_ok = pf.send_smtp(SENDER, OK, H.make_message(SENDER, OK))
		q_full = pf.send_smtp(SENDER, FULL,
				      H.make_message(SENDER, FULL))
		q_unk = pf.send_smtp(SENDER, UNKNOWN,
				     H.make_message(SENDER, UNKNOWN))
		q_cli = pf.sendmail(SENDER, VIA_SENDMAIL,
				    H.make_message(SENDER, VIA_SENDMAIL,
						   subject="via sendmail"))
		q_ref = pf.send_smtp(SENDER, REFUSED,
				     H.make_message(SENDER, REFUSED))
		check(len({q_ok, q_full, q_unk, q_cli, q_ref}) == 5 and
		      all(len(q) >= 12 for q in (q_ok, q_cli)),
		      "five distinct long queue ids")

		pf.wait_log(r"%s: to=<%s>.*status=sent" % (q_ok, OK))
		pf.wait_log(r"%s: to=<%s>.*status=bounced" % (q_unk, UNKNOWN))
		pf.wait_log(r"%s: to=<%s>.*status=sent" % (q_cli, VIA_SENDMAIL))
		pf.wait_log(r"%s: to=<%s>.*status=deferred.*452 4\.2\.2"
			    % (q_full, FULL))
		pf.wait_log(r"%s: to=<%s>.*status=sent" % (q_full, FULL))
		pf.wait_log(r"%s: to=<%s>.*status=deferred.*[Cc]onnection "
			    r"refused" % (q_ref, REFUSED))

		check(status_of(pf, q_ok, OK, "sent"), "250: status=sent")
		check(status_of(pf, q_full, FULL, "deferred") and
		      status_of(pf, q_full, FULL, "sent"),
		      "452 then 250: status=deferred, then status=sent")
		check(status_of(pf, q_unk, UNKNOWN, "bounced"),
		      "550 5.1.1: status=bounced")
		check(status_of(pf, q_cli, VIA_SENDMAIL, "sent"),
		      "sendmail(1): status=sent")
		check(re.search(r"Untrusted TLS connection established to "
				r"127\.0\.0\.1\[127\.0\.0\.1\]:%d" % mx.port,
				pf.log()), "smtp_tls_loglevel=1 logs STARTTLS")

		check(mx.rcpt_replies(FULL) == [
			"452 4.2.2 <full@dest.test>: Mailbox full",
			"250 2.1.5 Ok"], "MX recorded its replies to FULL")
		check(len(mx.messages_for(OK)) == 1 and
		      len(mx.messages_for(FULL)) == 1 and
		      not mx.messages_for(UNKNOWN),
		      "MX received OK and FULL once, UNKNOWN never")
		cli = mx.messages_for(VIA_SENDMAIL)
		check(len(cli) == 1 and cli[0].header("Subject") ==
		      "via sendmail" and cli[0].mail_from == SENDER,
		      "MX received the sendmail(1) message with its headers")
		check(all(m.tls for m in mx.messages), "MX sessions used TLS")

		check(os.path.isfile(pf.maillog) and
		      pf.maillog.startswith(pf.base + "/") and
		      pf.postconf("maillog_file") == pf.maillog,
		      "maillog_file is inside the scratch dir")
		check(pf.postconf("default_transport").startswith("error:"),
		      "default_transport is error:")
		check(not re.search(r"warning: .*(host not found|name service"
				    r"|Name or service)", pf.log()),
		      "no name-service lookups in the log")

		pf.set(maximal_queue_lifetime="0", bounce_queue_lifetime="0")
		pf.flush()
		pf.wait_log(r"%s: from=<%s>, status=expired" % (q_ref, SENDER))
		pf.wait_queue_empty()
		check(pf.queue() == [], "expired mail leaves an empty queue")
	check(pf.master_pid() is None and not pf._our_pids(),
	      "Postfix stopped, no process left")
	check(etc_postfix() == etc,
	      "/etc/postfix untouched")
	mx.stop()
	closed.stop()


def postfix_filter_hold():
	mx = H.ScriptedMX()
	pf = H.ScratchPostfix(routes={"dest.test": mx.port}, reinject=True,
			      header_checks=["/^X-Hold-Me:/ HOLD held by test"])
	filt = H.ContentFilter(pf.reinject_port)
	pf.use_content_filter(filt.port)
	with pf:
		held = pf.send_smtp(SENDER, OK, H.make_message(
			SENDER, OK, headers={"X-Hold-Me": "yes"}))
		pf.wait_log(r"%s: hold: header X-Hold-Me" % held)
		check([q["queue_name"] for q in pf.queue()] == ["hold"],
		      "header_checks HOLD puts the message on hold")
		pf.release_hold()
		pf.flush()
		m = pf.wait_log(r"%s: to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1"
				r"\]:%d, .*status=sent \(250 2\.0\.0 from MTA"
				r".*queued as (\w+)\)" % (held, OK, filt.port))
		hop = m.group(1)
		check(filt.reinjected == [hop],
		      "released mail passes the content filter, re-injected")
		pf.wait_log(r"%s: to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1"
			    r"\]:%d, .*status=sent" % (hop, OK, mx.port))
		check(len(mx.messages_for(OK)) == 1 and
		      mx.messages_for(OK)[0].header("X-Hold-Me") == "yes",
		      "the re-injected copy reaches the MX once")
	filt.stop()
	mx.stop()


def post(url_port, body, headers, timeout=5):
	c = http.client.HTTPConnection(H.LOOPBACK, url_port, timeout=timeout)
	try:
		c.request("POST", "/hook", body, headers)
		r = c.getresponse()
		return r.status, dict(r.getheaders()), r.read()
	finally:
		c.close()


def receiver_smoke():
	base = H.scratch_dir()
	key = H.SigningKey()
	jwks = key.write_jwks(os.path.join(base, "jwks.json"))
	rcv = H.Receiver(jwks=jwks, script=[
		H.Reply.error(500), H.Reply.retry_after(7),
		H.Reply.redirect("http://127.0.0.1:1/elsewhere"),
		H.Reply.hang(2), H.Reply.garbage()])
	body = json.dumps({"event": "MessageSent", "payload": {}}).encode()
	hdr = dict(key.headers(body), **{"Content-Type": "application/json"})

	check(post(rcv.port, body, hdr)[0] == 500, "scripted 500")
	st, h, _ = post(rcv.port, body, hdr)
	check(st == 429 and h.get("Retry-After") == "7",
	      "scripted 429 with Retry-After")
	st, h, _ = post(rcv.port, body, hdr)
	check(st == 302 and h.get("Location", "").endswith("/elsewhere"),
	      "scripted 302 redirect")
	t = time.monotonic()
	try:
		post(rcv.port, body, hdr, timeout=0.5)
		hung = False
	except (socket.timeout, TimeoutError):
		hung = True
	check(hung and time.monotonic() - t < 2, "scripted hang times out")
	try:
		post(rcv.port, body, hdr)
		garbage = False
	except (http.client.HTTPException, OSError):
		garbage = True
	check(garbage, "scripted garbage is no HTTP")
	check(post(rcv.port, body, hdr)[0] == 200, "default 200")

	reqs = rcv.wait_requests(6)
	check(all(r.verified and r.kid == key.kid for r in reqs),
	      "every signed request verified with the right kid")
	check(rcv.events()[0]["event"] == "MessageSent",
	      "events() gives parsed JSON")

	bad = dict(hdr)
	bad["X-Posthook-Signature"] = key.sign(body + b" ")
	post(rcv.port, body, bad)
	r = rcv.wait_requests(7)[-1]
	check(not r.verified and r.verify_error == "bad signature",
	      "a wrong signature is not verified")

	key2 = H.SigningKey()
	with open(jwks, "w") as f:
		json.dump({"keys": [key.jwk(), key2.jwk()]}, f)
	post(rcv.port, body, key2.headers(body))
	r = rcv.wait_requests(8)[-1]
	check(r.verified and r.kid == key2.kid,
	      "a new kid is found by re-reading the JWKS")
	post(rcv.port, body, H.SigningKey().headers(body))
	check(not rcv.wait_requests(9)[-1].verified, "unknown kid rejected")
	rcv.stop()

	san = H.SanitizerDir(base)
	san.assert_clean()
	env = san.env()
	check("log_path=%s/asan" % san.path in env["ASAN_OPTIONS"],
	      "SanitizerDir env points into its dir")
	with open(os.path.join(san.path, "ubsan.123"), "w") as f:
		f.write("runtime error: test\n")
	try:
		san.assert_clean()
		caught = False
	except AssertionError as e:
		caught = "runtime error: test" in str(e)
	check(caught, "SanitizerDir.assert_clean fails on a report")



def main():
	if os.geteuid() != 0:
		print("SKIP: a scratch Postfix needs root")
		return 77
	isolated = H.isolate_network()
	try:
		receiver_smoke()
		postfix_smoke()
		postfix_filter_hold()
		if isolated:
			H.dns_trap.assert_none()
			check(True, "no DNS query in a private network namespace")
			try:
				socket.getaddrinfo("probe.harness.invalid", 25)
			except socket.gaierror:
				pass
			check("probe.harness.invalid" in H.dns_trap.queries,
			      "the DNS trap sees a query (so none were made)")
	except BaseException:
		H.mark_failed()
		raise
	return 0


if __name__ == "__main__":
	sys.exit(main())
