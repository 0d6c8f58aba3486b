"""e2e_stack - the whole posthook stack on a scratch Postfix, for the
end-to-end suites (tests/e2e/e2e_*.py) and the demo (contrib/demo/demo.py).

Stack starts, in a scratch directory: a ScratchPostfix (long queue ids,
smtp_tls_loglevel = 1, maillog_file, the milter on smtpd_milters and
non_smtpd_milters with milter_default_action = accept), posthook-milter,
posthook-logtail and posthook-webhook as Daemons (started as root, they
drop to the posthook user; sanitizer reports land in a SanitizerDir), one
webhook endpoint for all events pointing at a Receiver that verifies every
signature through the daemon's jwks_file.

expect_delivery() builds the whole expected webhook body of a delivery
event (docs/events.md: Envelope, Delivery events, details and output);
match() compares a body with it key by key and says what differs.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

from posthook_test import harness as H

_here = os.path.dirname(os.path.abspath(__file__))

PH_USER = "posthook"
PH_GROUP = "posthook"
SKIP = 77			# the exit code of a skipped test (automake)


def build_dir():
	"""Where the programs are: $top_builddir, else the source tree."""
	return os.environ.get("top_builddir") or \
		os.path.dirname(os.path.dirname(os.path.dirname(_here)))


def program(name):
	sub = {"posthook-milter": "milter", "posthook-logtail": "logtail",
	       "posthook-webhook": "webhook", "posthookctl": "ctl",
	       "posthook-amqp": "amqp", "posthook-api": "api"}[name]
	return os.path.join(build_dir(), sub, name)


# ---------------------------------------------------------------------------
# Matching whole bodies

class Any:
	"""A matcher: pred(value) -> bool, with a name for messages."""

	def __init__(self, pred, name):
		self.pred = pred
		self.name = name

	def __call__(self, v):
		try:
			return bool(self.pred(v))
		except Exception:
			return False

	def __repr__(self):
		return "<%s>" % self.name


def _is_num(v):
	return isinstance(v, (int, float)) and not isinstance(v, bool)


NUMBER = Any(_is_num, "number")
NONNEG = Any(lambda v: _is_num(v) and v >= 0, "number >= 0")
NOW = Any(lambda v: _is_num(v) and abs(v - time.time()) < 3600,
	  "unix time within the hour")
UUID = Any(lambda v: re.fullmatch(
	r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
	r"[0-9a-f]{12}", v), "uuid v4 (lowercase)")
ID = Any(lambda v: isinstance(v, int) and not isinstance(v, bool)
	 and v > 0, "positive integer")
TOKEN = Any(lambda v: re.fullmatch(r"[a-z2-7]{20,}", v),
	    "lowercase base32 token, >= 20 chars")


def regex(rx):
	return Any(lambda v: isinstance(v, str) and re.fullmatch(rx, v),
		   "/%s/" % rx)


def one_of(*vals):
	return Any(lambda v: any(_eq(v, x) for x in vals),
		   "one of %r" % (vals,))


def _eq(v, x):
	if isinstance(x, Any):
		return x(v)
	if type(v) is bool or type(x) is bool:
		return type(v) is type(x) and v == x
	return v == x


def match(actual, expected, path=""):
	"""match - list of differences (empty: actual matches expected).

	Dicts must have exactly the expected keys; an Any checks a value."""
	diffs = []
	if isinstance(expected, Any):
		if not expected(actual):
			diffs.append("%s: %r is not %r" % (path or ".", actual,
							    expected))
	elif isinstance(expected, dict):
		if not isinstance(actual, dict):
			return ["%s: %r is not an object" % (path or ".", actual)]
		miss = sorted(set(expected) - set(actual))
		extra = sorted(set(actual) - set(expected))
		if miss:
			diffs.append("%s: missing keys %s" % (path or ".", miss))
		if extra:
			diffs.append("%s: unexpected keys %s" % (path or ".",
								 extra))
		for k in expected:
			if k in actual:
				diffs += match(actual[k], expected[k],
					       "%s.%s" % (path, k))
	elif not _eq(actual, expected):
		diffs.append("%s: %r, expected %r" % (path or ".", actual,
						       expected))
	return diffs


STATUS = {"MessageSent": "Sent", "MessageDelayed": "SoftFail",
	  "MessageDeliveryFailed": "HardFail", "MessageHeld": "Held"}
CLASS_CODE = {"invalid_recipient": 10, "inactive_mailbox": 11,
	      "mailbox_full": 12, "invalid_domain": 20, "dns_failure": 21,
	      "routing_error": 22, "spam_block": 30, "spam_content": 31,
	      "policy_rejection": 32, "connection_error": 40,
	      "protocol_error": 41, "transient_failure": 42,
	      "unclassified": 99}


def expect_message(to, sender, message_id, subject=None, tag=None,
		   metadata=None, recorded=True, token=None, id=None):
	"""docs/events.md, The message object.  recorded: the milter saw the message
	(id, token, subject, tag, metadata come from its record); else those
	are null (docs/events.md: "no milter record")."""
	return {
		"id": (id or ID) if recorded else None,
		"token": (token or TOKEN) if recorded else None,
		"direction": "outgoing",
		"message_id": message_id.strip("<>"),
		"to": to,
		"from": sender,
		"subject": subject if recorded else None,
		"timestamp": NOW if recorded else one_of(NOW, None),
		"spam_status": "NotChecked",
		"tag": tag if recorded else None,
		"metadata": metadata if recorded else None,
	}


def expect_delivery(event, message, details, output, ssl,
		    classification=None, enhanced=None, remote_host=None,
		    time_=NONNEG):
	"""The whole webhook body of a delivery event."""
	payload = {
		"message": message,
		"status": STATUS[event],
		"details": details,
		"output": output,
		"sent_with_ssl": ssl,
		"timestamp": NOW,
		"time": time_,
	}
	if event in ("MessageDelayed", "MessageDeliveryFailed"):
		payload["classification"] = classification
		payload["classification_code"] = CLASS_CODE.get(classification,
								 Any(lambda v: False, "?"))
		payload["smtp_enhanced_code"] = enhanced
		payload["remote_host"] = remote_host
	return {"event": event, "timestamp": NOW, "uuid": UUID,
		"payload": payload}


def sent_details(to, port, host="127.0.0.1", ip="127.0.0.1"):
	return "Message for %s accepted by %s:%d (%s)" % (to, ip, port, host)


def expect_sent(stack, mx, message, ssl=False):
	"""The whole body of the MessageSent of message's recipient, accepted
	by the scripted mx with the reply it gave."""
	to = message["to"]
	return expect_delivery("MessageSent", message, sent_details(to, mx.port),
			       stack.mx_reply(mx, to), ssl)


def check_sent(res, stack, mx, message, what, ssl=False):
	"""Wait for the MessageSent webhook of message's recipient and check
	it whole (expect_sent); the event, or None."""
	ev = stack.wait_event("MessageSent", message["to"])
	res.body(ev, expect_sent(stack, mx, message, ssl), what)
	return ev


def failed_details(code, classification, to, port, host="127.0.0.1",
		   ip="127.0.0.1"):
	return "%s %s: Delivery to %s failed at %s:%d (%s)" % (
		code, classification, to, ip, port, host)


def connection_details(domain):
	return "Connection error: Could not connect to any mail server for %s" \
		% domain


# ---------------------------------------------------------------------------
# Results: one failure does not hide the next case

class Results:
	def __init__(self):
		self.failures = []
		self.passed = 0
		self.isolated = False	# begin() cut the network off

	def check(self, cond, what, detail=None):
		if cond:
			self.passed += 1
			print("ok - " + what)
		else:
			self.failures.append(what)
			print("not ok - " + what)
			if detail:
				for line in str(detail).splitlines():
					print("#   " + line)
		sys.stdout.flush()
		return bool(cond)

	def body(self, ev, expected, what):
		"""check one whole webhook body against the expected shape."""
		if ev is None:
			return self.check(False, what, "no such webhook arrived")
		d = match(ev, expected)
		return self.check(not d, what, "\n".join(d) + "\nbody: " +
				  json.dumps(ev, sort_keys=True))

	def case(self, name, fn, *a, **kw):
		"""run one case; an exception is its failure, not the file's."""
		print("# case: " + name)
		try:
			fn(*a, **kw)
		except Exception as e:
			import traceback
			self.check(False, "%s: %s: %s" % (name, type(e).__name__,
							  e),
				   traceback.format_exc())

	def exit_code(self):
		print("# %d passed, %d failed" % (self.passed,
						   len(self.failures)))
		for f in self.failures:
			print("# FAILED: " + f)
		if self.failures:
			H.mark_failed()
			return 1
		return 0


# ---------------------------------------------------------------------------
# The stack

def postfix_in_group():
	"""Is the postfix user in the posthook group (README step 2)?"""
	import grp
	try:
		return "postfix" in grp.getgrnam(PH_GROUP).gr_mem
	except KeyError:
		return False


def _is_socket(path):
	import stat
	try:
		return stat.S_ISSOCK(os.stat(path).st_mode)
	except OSError:
		return False


class Stack:
	"""Postfix + posthook-milter/-logtail/-webhook + a Receiver.

	routes, header_checks, reinject, queue_lifetime, main go to
	ScratchPostfix.  conf: extra posthook.conf keys.  receiver_script:
	Receiver's script.  start() starts everything; stop_daemons() and
	start_daemons() stop and restart the three daemons alone."""

	DAEMONS = ("posthook-milter", "posthook-logtail", "posthook-webhook")

	def __init__(self, routes, header_checks=None, reinject=False,
		     queue_lifetime="1h", main=None, conf=None,
		     receiver_script=None, retry_schedule="0 1s 2s 2s",
		     milter_on_hop=False, content_filter=False,
		     milter_socket="auto"):
		import grp
		import pwd
		try:
			pwd.getpwnam(PH_USER)
			grp.getgrnam(PH_GROUP)
		except KeyError:
			raise RuntimeError("no %s user or group: run "
					   "tests/install-deps.sh as root"
					   % PH_USER) from None
		self.base = H.scratch_dir("posthook-e2e-")
		self.ph = H.make_dir(os.path.join(self.base, "ph"),
				     PH_USER, PH_GROUP, 0o755)
		self.state_dir = os.path.join(self.ph, "state")
		self.pid_dir = H.make_dir(os.path.join(self.ph, "run"),
					  PH_USER, PH_GROUP, 0o755)
		keys = H.make_dir(os.path.join(self.ph, "keys"), PH_USER,
				  PH_GROUP, 0o700)
		self.signing_key = os.path.join(keys, "signing.key")
		pub = H.make_dir(os.path.join(self.ph, "public"), PH_USER,
				 PH_GROUP, 0o755)
		self.jwks_file = os.path.join(pub, "jwks.json")
		if milter_socket == "auto":
			milter_socket = "unix" if postfix_in_group() else "inet"
		self.milter_port = self.milter_path = None
		print("# milter socket: %s" % (
			"unix (postfix is in the posthook group)"
			if milter_socket == "unix" else
			"inet on loopback (postfix is not in the posthook group:"
			" usermod -aG posthook postfix)"))
		if milter_socket == "unix":
			# what the README sets up: Postfix reaches the socket
			# through the posthook group (usermod -aG posthook postfix)
			self.milter_path = os.path.join(self.ph, "milter",
							"milter.sock")
			self.milter_spec = "unix:" + self.milter_path
			self.postfix_milter = self.milter_spec
		else:
			# the milter's (libmilter's) spelling, and Postfix's
			self.milter_port = H.free_port()
			self.milter_spec = "inet:%d@%s" % (self.milter_port,
							   H.LOOPBACK)
			self.postfix_milter = "inet:%s:%d" % (H.LOOPBACK,
							      self.milter_port)
		self.san = H.SanitizerDir(self.base)
		pf_base = H.make_dir(os.path.join(self.base, "postfix"))
		# The README's advice: the app's headers never leave the site,
		# even while the milter is down.
		hc = os.path.join(pf_base, "conf", "posthook_header_checks")
		pf_main = {"smtp_header_checks": "regexp:" + hc}
		pf_main.update(main or {})
		ro = {"smtpd_milters": self.postfix_milter} if milter_on_hop \
			else None
		self.pf = H.ScratchPostfix(
			base=pf_base,
			routes=routes, header_checks=header_checks,
			reinject=reinject, queue_lifetime=queue_lifetime,
			smtpd_milters=self.postfix_milter,
			non_smtpd_milters=self.postfix_milter,
			reinject_options=ro,
			main=dict(pf_main, milter_default_action="accept",
				  milter_connect_timeout="5s",
				  milter_command_timeout="5s",
				  milter_content_timeout="10s"))
		with open(hc, "w") as f:
			f.write("/^X-Posthook-(Tag|Metadata):/ IGNORE\n")
		os.chmod(hc, 0o644)
		self.filter = None
		if content_filter:
			# amavis-like: every message goes through it and comes
			# back into the second (reinject) smtpd
			self.filter = H.ContentFilter(self.pf.reinject_port)
			self.pf.use_content_filter(self.filter.port)
		self.conf_path = os.path.join(self.ph, "posthook.conf")
		self.conf = {
			"state_dir": self.state_dir,
			"pid_dir": self.pid_dir,
			"user": PH_USER,
			"group": PH_GROUP,
			"milter_socket": self.milter_spec,
			"log_source": "file",
			"log_file": self.pf.maillog,
			"report": "outgoing",
			"signing_key": self.signing_key,
			"jwks_file": self.jwks_file,
			"retry_schedule": retry_schedule,
			"webhook_timeout": "3s",
		}
		self.conf.update(conf or {})
		self._write_conf()
		self.rcv = H.Receiver(jwks=self._jwks, script=receiver_script)
		# http.server writes headers and body apart: without
		# TCP_NODELAY each answer waits for a delayed ACK (~40 ms),
		# which caps a keep-alive connection at ~25 requests/s
		self.rcv.server.RequestHandlerClass.disable_nagle_algorithm = True
		self.daemons = {}
		self.webhook_id = None
		self.started_once = False

	def _jwks(self):
		with open(self.jwks_file) as f:
			return f.read()

	def _write_conf(self):
		with open(self.conf_path, "w") as f:
			for k, v in self.conf.items():
				f.write("%s = %s\n" % (k, v))
		os.chmod(self.conf_path, 0o644)

	# -- programs

	def ctl(self, *args, check=True, timeout=60):
		"""ctl - run posthookctl -c CONF ARGS; CompletedProcess."""
		r = subprocess.run([program("posthookctl"), "-c", self.conf_path]
				   + list(args), capture_output=True, text=True,
				   env=self.san.env(), timeout=timeout)
		if check and r.returncode != 0:
			raise RuntimeError("posthookctl %s: exit %d: %s%s" % (
				" ".join(args), r.returncode, r.stdout, r.stderr))
		return r

	def _log(self, name):
		return os.path.join(self.base, name + ".log")

	def start_daemon(self, name, extra=()):
		argv = [program(name), "-c", self.conf_path, "-f"] + list(extra)
		if not os.access(argv[0], os.X_OK):
			raise RuntimeError("%s is not built" % argv[0])
		d = H.Daemon(argv, env=self.san.env(), log=self._log(name))
		self.daemons[name] = d
		return d

	def _wait_up(self, name, what, pred, timeout=20):
		d = self.daemons[name]

		def ok():
			if not d.running():
				raise RuntimeError("%s exited (%s): %s" % (
					name, d.proc.returncode,
					d.output()[-2000:]))
			return pred()
		H.wait_until(ok, timeout, what="%s: %s" % (name, what))

	def start_daemons(self, first=False):
		"""start_daemons - milter, logtail, webhook; wait until up."""
		self.start_daemon("posthook-milter")
		if self.milter_path:
			up = lambda: _is_socket(self.milter_path)  # noqa: E731
		else:
			up = lambda: self.milter_port in H.listening_ports()  # noqa: E731
		self._wait_up("posthook-milter", "listening on %s"
			      % self.milter_spec, up)
		self.start_daemon("posthook-webhook")
		self._wait_up("posthook-webhook", "jwks_file",
			      lambda: os.path.exists(self.jwks_file))
		self.start_daemon("posthook-logtail",
				  ["--from-start"] if first else [])
		self._wait_up("posthook-logtail", "pid file",
			      lambda: os.path.exists(os.path.join(
				      self.pid_dir, "posthook-logtail.pid")))

	def stop_daemons(self):
		for name in reversed(self.DAEMONS):
			d = self.daemons.pop(name, None)
			if d is not None:
				rc = d.stop()
				if rc not in (0, None):
					print("# %s exited %s on SIGTERM" % (name, rc))

	def start(self):
		"""start - Postfix, the webhook endpoint, the three daemons."""
		self.pf.start()
		H.wait_until(lambda: os.path.exists(self.pf.maillog), 10,
			     what="maillog_file")
		self._maillog_readable()
		H.make_dir(self.state_dir, PH_USER, PH_GROUP, 0o750)
		self.start_daemons(first=True)
		# an admin adds the endpoint to the running daemons
		self.create_webhook()
		self.started_once = True
		return self

	def _maillog_readable(self):
		"""The tailer (posthook user) reads the maillog: what
		"usermod -aG adm posthook" gives on a real site."""
		st = os.stat(self.pf.maillog)
		os.chmod(self.pf.maillog, st.st_mode | 0o044)

	def create_webhook(self):
		r = self.ctl("webhooks", "create", "--name", "e2e", "--url",
			     self.rcv.url, "--all-events")
		doc = json.loads(r.stdout)
		self.webhook_id = doc.get("id")
		return doc

	def stop(self):
		self.stop_daemons()
		self.pf.stop()
		self.rcv.stop()
		if self.filter:
			self.filter.stop()

	def __enter__(self):
		try:
			return self.start()
		except BaseException:
			H.mark_failed()
			self.dump()
			raise

	def __exit__(self, etype, e, tb):
		if etype is not None:
			H.mark_failed()
		if H.failed():
			self.dump()
		self.stop()
		# LeakSanitizer reports when a daemon exits: only now are
		# they all written, after common_checks() has looked.
		reports = self.san.reports()
		if reports and etype is None:
			H.mark_failed()
			for p, t in reports:
				print("# ==== %s\n%s" % (p, t[:3000]))
			raise AssertionError("%d sanitizer report(s) from the "
					     "daemons at their exit" % len(reports))
		return False

	def dump(self):
		"""dump - daemon logs to stdout and the artifact dir."""
		for name in self.DAEMONS:
			p = self._log(name)
			if os.path.exists(p):
				with open(p, errors="replace") as f:
					text = f.read()
				print("# ---- %s (last 40 lines)" % name)
				for l in text.splitlines()[-40:]:
					print("# " + l)
				try:
					shutil.copy(p, os.path.join(
						H.artifact_dir(), "%s-%s.log" %
						(H.test_name(), name)))
				except OSError:
					pass
		self.pf.save_log()

	# -- mail

	def send(self, to, subject="e2e", tag=None, metadata=None,
		 headers=None, sender="app@app.test", via="smtp"):
		"""send - one message with the app's headers; (qid, msgid)."""
		h = dict(headers or {})
		if tag is not None:
			h["X-Posthook-Tag"] = tag
		if metadata is not None:
			h["X-Posthook-Metadata"] = json.dumps(metadata)
		msg = H.make_message(sender, to, subject=subject, headers=h)
		mid = re.search(rb"Message-ID: (<[^>]+>)", msg).group(1).decode()
		if via == "smtp":
			qid = self.pf.send_smtp(sender, to, msg)
		else:
			qid = self.pf.sendmail(sender, to, msg)
		return qid, mid

	# -- webhooks

	def requests(self):
		with self.rcv._cond:
			return list(self.rcv.requests)

	def events(self):
		"""every body received (verified or not)."""
		return [r.json for r in self.requests() if r.json is not None]

	def events_for(self, to, event=None):
		out = []
		for ev in self.events():
			try:
				t = ev["payload"]["message"]["to"]
			except (KeyError, TypeError):
				continue
			if t == to and (event is None or ev.get("event") == event):
				out.append(ev)
		return out

	def wait_event(self, event, to, n=1, timeout=60):
		"""wait_event - the nth (1-based) webhook `event` for `to`."""
		try:
			return H.wait_until(
				lambda: len(self.events_for(to, event)) >= n and
				self.events_for(to, event)[n - 1], timeout,
				interval=0.1, what="%s for %s" % (event, to))
		except TimeoutError:
			return None

	def quiet(self, seconds=3):
		"""quiet - wait until no webhook arrived for `seconds`."""
		deadline = time.monotonic() + 30
		n = -1
		while time.monotonic() < deadline:
			m = len(self.requests())
			if m == n:
				return
			n = m
			time.sleep(seconds)

	def mx_reply(self, mx, to):
		"""the DATA reply the MX gave the message for `to`."""
		msgs = mx.messages_for(to)
		return msgs[-1].reply if msgs else None

	def hold_text(self, qid):
		m = re.search(r"postfix/cleanup\[\d+\]: %s: (hold: .*)$" % qid,
			      self.pf.log(), re.M)
		return m.group(1) if m else None


def common_checks(res, stack):
	"""Every request of the run: verified through the JWKS with the
	daemon's key, JSON, one uuid each; no sanitizer report."""
	reqs = stack.requests()
	for r in reqs:
		print("# webhook (verified %s): %s" % (
			r.verified, r.body.decode(errors="replace")))
	try:
		with open(stack.jwks_file) as f:
			kids = [k.get("kid") for k in json.load(f)["keys"]]
	except (OSError, ValueError, KeyError):
		kids = []
	bad = [r for r in reqs if not r.verified]
	res.check(reqs and not bad,
		  "all %d webhooks verified through the JWKS" % len(reqs),
		  "\n".join("%s kid=%s: %s" % (r.path, r.kid, r.verify_error)
			    for r in bad) or "no webhook arrived")
	res.check(all(r.kid in kids for r in reqs),
		  "every signature names a kid published in jwks_file",
		  "kids %s, published %s" % (sorted({r.kid for r in reqs}),
					     kids))
	res.check(all(r.header("content-type", "").startswith(
		"application/json") and r.method == "POST" and
		r.path == "/hook" for r in reqs),
		"every webhook is a JSON POST to the endpoint's path")
	uuids = [r.json.get("uuid") for r in reqs if isinstance(r.json, dict)]
	res.check(len(uuids) == len(reqs) and len(set(uuids)) == len(uuids),
		  "every webhook has its own uuid (no event delivered twice)",
		  "%d requests, %d distinct uuids" % (len(reqs), len(set(uuids))))
	reports = stack.san.reports()
	res.check(not reports, "no sanitizer report from the daemons",
		  "\n".join("==== %s\n%s" % (p, t[:3000]) for p, t in reports))


def begin():
	"""the start of an e2e suite: without root it exits, skipped (SKIP);
	else the network is cut off (DNS goes to H.dns_trap) so that the
	servers the suite starts next live in it, and the Results."""
	if os.geteuid() != 0:
		print("SKIP: a scratch Postfix needs root")
		sys.exit(SKIP)
	res = Results()
	res.isolated = H.isolate_network()
	return res


def finish(res, stack, exactly):
	"""the end of an e2e suite, inside its Stack: the case "nothing else"
	(exactly(res, stack): no webhook beyond the expected ones),
	common_checks(), no DNS query asked (when begin() could cut the
	network off); the exit code."""
	res.case("nothing else", exactly, res, stack)
	common_checks(res, stack)
	if res.isolated:
		res.check(not H.dns_trap.queries, "no DNS query",
			  H.dns_trap.queries)
	return res.exit_code()


def filter_hop(stack, qid, to):
	"""The queue id the content filter's re-injection got, from Postfix's
	log line of the hop of qid's message to `to`."""
	return stack.pf.wait_log(r"%s: to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1"
				 r"\]:%d, .*status=sent .*queued as (\w+)\)"
				 % (qid, re.escape(to), stack.filter.port)).group(1)


def outcomes(stack):
	"""(event, recipient) of every webhook, sorted, once the stack has
	been quiet for 3 seconds."""
	stack.quiet(3)
	return sorted((e.get("event"), e["payload"]["message"]["to"])
		      for e in stack.events())


def same_message(res, evs, what):
	"""the events of one message carry one id and one token."""
	ids = {(e["payload"]["message"].get("id"),
		e["payload"]["message"].get("token")) for e in evs if e}
	res.check(len(ids) == 1, what, "ids/tokens: %s" % ids)
