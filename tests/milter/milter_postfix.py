"""milter_postfix.py - posthook-milter in a real Postfix.

A scratch Postfix on loopback (enable_long_queue_ids = yes) has
posthook-milter in both smtpd_milters and non_smtpd_milters.  Mail
submitted over SMTP and through sendmail(1) must reach the scripted MX
with the application's headers gone and the token header present, and
`posthookctl messages show QUEUEID` must print the record under the queue
id Postfix gave the message.  Also: Message-ID added by Postfix, a huge
metadata header, a message re-injected by a content filter keeping its
token, and internal_hosts narrowed by a reload (SMTP from loopback becomes
incoming, sendmail(1) and a submission service with
milter_macro_daemon_name = ORIGINATING stay outgoing).  Runs as root (Postfix needs it).
"""

import json
import os
import re
import signal
import subprocess
import sys

from posthook_test.harness import (ContentFilter, Daemon, SanitizerDir,
				   ScratchPostfix, ScriptedMX, make_message,
				   mark_failed, scratch_dir, wait_until)

TOP = os.environ["top_builddir"]
MILTER = os.path.join(TOP, "milter", "posthook-milter")
CTL = os.environ.get("POSTHOOKCTL") or os.path.join(TOP, "ctl", "posthookctl")
APP_HEADERS = ("X-Posthook-Tag", "X-Posthook-Metadata")


def expect(cond, what):
	if not cond:
		raise AssertionError(what)


class Milter:
	"""posthook-milter run as the postfix user, so smtpd can reach it."""

	def __init__(self):
		self.dir = scratch_dir("posthook-milter-pf-")
		self.san = SanitizerDir(self.dir)
		self.conf = os.path.join(self.dir, "posthook.conf")
		self.sock = os.path.join(self.dir, "sock", "milter.sock")
		self.write_config()
		self.daemon = Daemon([MILTER, "-f", "-c", self.conf], env=self.san.env(),
				     log=os.path.join(self.dir, "milter.log"))
		wait_until(lambda: os.path.exists(self.sock), 20, what="milter socket")

	def write_config(self, **extra):
		cfg = {
			"state_dir": os.path.join(self.dir, "state"),
			"pid_dir": os.path.join(self.dir, "run"),
			"milter_socket": "unix:" + self.sock,
			"user": "postfix",
			"group": "postfix",
		}
		cfg.update(extra)
		os.makedirs(cfg["pid_dir"], exist_ok=True)
		os.chmod(cfg["pid_dir"], 0o777)
		with open(self.conf, "w") as f:
			f.write("".join("%s = %s\n" % kv for kv in cfg.items()))

	def reload(self, **extra):
		mark = self.log().count("configuration reloaded")
		self.write_config(**extra)
		self.daemon.send_signal(signal.SIGUSR1)
		wait_until(lambda: self.log().count("configuration reloaded") > mark,
			   10, what="milter reload")

	def log(self):
		return self.daemon.output()

	def show(self, key):
		p = subprocess.run([CTL, "-c", self.conf, "--json", "messages", "show", key],
				   capture_output=True, text=True, timeout=60)
		if p.returncode == 1 and "no message" in p.stderr:
			return None
		expect(p.returncode == 0, "posthookctl messages show %s: exit %d: %s"
		       % (key, p.returncode, p.stderr))
		return json.loads(p.stdout)

	def stop(self):
		rc = self.daemon.stop()
		expect(rc == 0, "milter exit status %r" % rc)
		self.san.assert_clean()


def received(mx, rcpt, n=1):
	"""received - the nth message the MX got for rcpt."""
	wait_until(lambda: len(mx.messages_for(rcpt)) >= n, 30,
		   what="message for %s at the MX" % rcpt)
	return mx.messages_for(rcpt)[n - 1]


def check_delivered(m, mx, qid, rcpt, want_tag, want_meta, outgoing=True):
	"""check_delivered - headers at the MX and the record under qid."""
	got = received(mx, rcpt)
	for h in APP_HEADERS:
		expect(got.header(h) is None, "%s reached the MX: %r" % (h, got.header(h)))
	token = got.header("X-Posthook-Token")
	r = m.show(qid)
	if not outgoing:
		expect(token is None, "incoming message got token %r" % token)
		expect(r is None, "incoming message %s recorded: %r" % (qid, r))
		return got, None
	expect(token is not None and re.fullmatch(r"[a-z2-7]{20,}", token.strip()),
	       "bad token header %r" % token)
	expect(r is not None, "no record under queue id %s" % qid)
	expect(r["queue_id"] == qid and r["token"] == token.strip(), r)
	expect(rcpt in r["recipients"], r)
	expect(r["tag"] == want_tag and r["metadata"] == want_meta, r)
	expect(r["message_id"] == got.header("Message-ID").strip().strip("<>"),
	       "record message_id %r, delivered %r" % (r["message_id"],
						       got.header("Message-ID")))
	return got, r


def main():
	if os.geteuid() != 0:
		print("milter_postfix.py needs root to run Postfix")
		sys.exit(77)
	mx = ScriptedMX()
	m = Milter()
	milter = "unix:" + m.sock
	pf = ScratchPostfix(routes={"dest.test": mx.port}, smtpd_milters=milter,
			    non_smtpd_milters=milter, reinject=True,
			    reinject_options={"smtpd_milters": milter,
					      "milter_macro_daemon_name": "ORIGINATING"},
			    main={"milter_connect_timeout": "10s",
				  "milter_command_timeout": "10s",
				  "milter_content_timeout": "30s"})
	try:
		pf.start()
		meta = {"user_id": "usr_123456", "campaign_id": "camp_789"}
		hdrs = {"X-Posthook-Tag": "welcome",
			"X-Posthook-Metadata": json.dumps(meta)}

		# Over SMTP from loopback (internal_hosts), two recipients.
		qid = pf.send_smtp("app@app.test", ["a@dest.test", "b@dest.test"],
				   make_message("app@app.test", "a@dest.test",
						subject="=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=",
						headers=hdrs))
		expect(qid and len(qid) > 11, "long queue id expected, got %r" % qid)
		got, r = check_delivered(m, mx, qid, "a@dest.test", "welcome", meta)
		expect(r["recipients"] == ["a@dest.test", "b@dest.test"], r)
		expect(r["from"] == "app@app.test" and r["subject"] == "Gr\u00fc\u00dfe", r)

		# Through sendmail(1).
		qid = pf.sendmail("app@app.test", ["c@dest.test"],
				  make_message("app@app.test", "c@dest.test", headers=hdrs))
		check_delivered(m, mx, qid, "c@dest.test", "welcome", meta)
		expect("%s: id=" % qid in m.log() and "outgoing (sendmail)" in m.log(),
		       "sendmail(1) mail not seen as such")

		# No Message-ID: the record has the one Postfix's cleanup added.
		msg = b"From: app@app.test\r\nTo: d@dest.test\r\nSubject: no id\r\n" \
		      b"X-Posthook-Tag: noid\r\n\r\nHello.\r\n"
		qid = pf.send_smtp("app@app.test", ["d@dest.test"], msg)
		got, r = check_delivered(m, mx, qid, "d@dest.test", "noid", None)
		expect(r["message_id"], "no message_id recorded: %r" % r)

		# A huge metadata header (40 KB) and a repeated tag.
		big = json.dumps({"blob": "x" * 40000})
		msg = make_message("app@app.test", "e@dest.test",
				   headers={"X-Posthook-Metadata": big,
					    "X-Posthook-Tag": "first"})
		msg = msg.replace(b"\r\n\r\n", b"\r\nX-Posthook-Tag: second\r\n\r\n", 1)
		qid = pf.send_smtp("app@app.test", ["e@dest.test"], msg)
		check_delivered(m, mx, qid, "e@dest.test", "first", None)
		expect("%s: X-Posthook-Metadata ignored: metadata is larger than 4 KiB" % qid
		       in m.log(), "huge metadata not logged")

		# Through a content filter that re-injects: one token, one record,
		# now under the queue id of the re-injected message.
		filt = ContentFilter(pf.reinject_port)
		pf.use_content_filter(filt.port)
		qid = pf.send_smtp("app@app.test", ["f@dest.test"],
				   make_message("app@app.test", "f@dest.test", headers=hdrs))
		got = received(mx, "f@dest.test")
		wait_until(lambda: filt.reinjected, 30, what="re-injection")
		qid2 = filt.reinjected[0]
		token = got.header("X-Posthook-Token").strip()
		expect(len(got.message.get_all("X-Posthook-Token")) == 1,
		       "token header repeated: %r" % got.message.get_all("X-Posthook-Token"))
		r = m.show(qid2)
		expect(r is not None and r["token"] == token and r["tag"] == "welcome",
		       "re-injected %s: %r (token %s)" % (qid2, r, token))
		expect(m.show(qid) is None, "first queue id %s still recorded" % qid)
		pf.set(content_filter="")

		# internal_hosts without loopback: SMTP is now incoming (app
		# headers still removed), sendmail(1) stays outgoing.
		m.reload(internal_hosts="10.99.0.0/16")
		qid = pf.send_smtp("app@app.test", ["g@dest.test"],
				   make_message("app@app.test", "g@dest.test", headers=hdrs))
		check_delivered(m, mx, qid, "g@dest.test", None, None, outgoing=False)
		qid = pf.sendmail("app@app.test", ["h@dest.test"],
				  make_message("app@app.test", "h@dest.test", headers=hdrs))
		check_delivered(m, mx, qid, "h@dest.test", "welcome", meta)
		# The second smtpd says milter_macro_daemon_name=ORIGINATING.
		qid = pf.send_smtp("app@app.test", ["i@dest.test"],
				   make_message("app@app.test", "i@dest.test", headers=hdrs),
				   port=pf.reinject_port)
		check_delivered(m, mx, qid, "i@dest.test", "welcome", meta)
		expect(re.search(r"%s: id=\d+ token=\S+ outgoing \(daemon_name\)" % qid,
				 m.log()), "ORIGINATING not seen for %s" % qid)

		log = pf.log()
		expect(not re.search(r"warning: .*milter", log),
		       "Postfix warned about the milter:\n%s" % "\n".join(
			       l for l in log.splitlines() if "milter" in l))
		pf.stop()
		print("---- milter log\n" + m.log())
		m.stop()
	except BaseException:
		mark_failed()
		print("---- milter log\n" + m.log())
		print("---- postfix log\n" + pf.log())
		raise
	print("milter with real Postfix: ok")


if __name__ == "__main__":
	main()
