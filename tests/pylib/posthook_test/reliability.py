"""reliability - what the reliability runs share (RELIABILITY.md): a plan of
messages with scripted outcomes, the SMTP senders, a receiver that can be
switched off and on, the expected events from sources independent of
posthook (the scripted MX's record of what it answered and a small
reader of Postfix's log files) and the count of what arrived against
them.  Used by tests/e2e/chaos.py and tests/e2e/reliability_outage.py.

Every recipient address is unique in a run (its local part carries the
message's number), so events are counted per recipient: a recipient is
one (message, recipient) pair.

Outcomes (the local part's prefix): ok (250), tf (452 4.2.2, then 250),
uu (550 5.1.1), qu (552 5.2.2), bl (554 5.7.1 blocklist) at the MX of
dest.test; ex at refused.test, a closed port, until the message expires.
"""

import glob
import gzip
import json
import random
import re
import smtplib
import socket
import sys
import threading
import time

from posthook_test import e2e_stack as E
from posthook_test import harness as H

SENDER = "app@app.test"
MX_DOMAIN = "dest.test"
DEAD_DOMAIN = "refused.test"

OK = "250 2.1.5 Ok"
REPLY = {
	"tf": "452 4.2.2 Recipient address rejected: Mailbox full",
	"uu": "550 5.1.1 Recipient address rejected: User unknown in "
	      "virtual mailbox table",
	"qu": "552 5.2.2 Mailbox full, over quota",
	"bl": "554 5.7.1 Service unavailable; Client host [127.0.0.1] "
	      "blocked using zen.spamhaus.org",
}
# what the classifier must say for each scripted reply
CLASS = {"tf": ("mailbox_full", "4.2.2"), "uu": ("invalid_recipient", "5.1.1"),
	 "qu": ("mailbox_full", "5.2.2"), "bl": ("spam_block", "5.7.1"),
	 "ex": ("connection_error", None)}

SENT, DELAYED, FAILED = "MessageSent", "MessageDelayed", \
	"MessageDeliveryFailed"
TYPES = (SENT, DELAYED, FAILED)


# ---------------------------------------------------------------------------
# The plan


class Plan:
	"""n messages; each has one recipient, some two.  weights: outcome ->
	weight.  rcpts: address -> (message number, outcome)."""

	DEFAULT = {"ok": 70, "tf": 10, "uu": 5, "qu": 4, "bl": 4, "ex": 2}

	def __init__(self, n, seed, weights=None, two=0.1, run="c"):
		self.rng = random.Random(seed)
		self.weights = dict(weights or self.DEFAULT)
		self.run = run
		self.messages = []
		self.rcpts = {}
		for i in range(n):
			k = 2 if self.rng.random() < two else 1
			self.messages.append(self._message(i, k))

	def _pick(self):
		names = sorted(self.weights)
		return self.rng.choices(names, [self.weights[x] for x in
						names])[0]

	def _message(self, i, k, kinds=None):
		rcpts = []
		for j in range(k):
			kind = kinds[j] if kinds else self._pick()
			dom = DEAD_DOMAIN if kind == "ex" else MX_DOMAIN
			addr = "%s-%s%d-%d@%s" % (kind, self.run, i, j, dom)
			rcpts.append(addr)
			self.rcpts[addr] = (i, kind)
		return {"i": i, "rcpts": rcpts, "tag": "chaos-%d" % i,
			"metadata": {"n": str(i), "run": self.run},
			"mid": None, "qid": None, "error": None}

	def add(self, *kinds):
		"""a message to one recipient of each outcome given."""
		m = self._message(len(self.messages), len(kinds), kinds)
		self.messages.append(m)
		return m

	def extend(self, k=1):
		"""a new message at the end (a resend after a failed submit)."""
		m = self._message(len(self.messages), k)
		self.messages.append(m)
		return m


def kind_of(addr):
	return addr.split("-", 1)[0]


def mx_script(rcpt, attempt):
	"""the scripted MX's answer to RCPT, by the local part's prefix."""
	k = kind_of(rcpt.lower())
	if k == "tf":
		return REPLY["tf"] if attempt == 0 else OK
	return REPLY.get(k, OK)


# ---------------------------------------------------------------------------
# Submitting


def _message_bytes(m, to):
	h = {"X-Posthook-Tag": m["tag"],
	     "X-Posthook-Metadata": json.dumps(m["metadata"])}
	msg = H.make_message(SENDER, to, subject="chaos %d" % m["i"],
			     headers=h)
	mid = re.search(rb"Message-ID: (<[^>]+>)", msg).group(1).decode()
	return msg, mid


class Submitter:
	"""threads SMTP senders of plan.messages[first:], each on a kept
	connection of up to per_conn messages, at most rate messages a second
	in all.  A message whose submission failed is noted (error) and sent
	again as a new message."""

	def __init__(self, pf, plan, threads=4, rate=25.0, per_conn=5,
		     first=0):
		self.pf = pf
		self.plan = plan
		self.rate = rate
		self.per_conn = per_conn
		self.lock = threading.Lock()
		self.first = self.next = first
		self.sent = 0
		self.errors = 0
		self.t0 = None
		self.threads = [threading.Thread(target=self._run, daemon=True)
				for _ in range(threads)]

	def start(self):
		self.t0 = time.monotonic()
		for t in self.threads:
			t.start()
		return self

	def done(self):
		return not any(t.is_alive() for t in self.threads)

	def join(self, timeout=None):
		for t in self.threads:
			t.join(timeout)

	def _take(self):
		with self.lock:
			if self.next >= len(self.plan.messages):
				return None
			m = self.plan.messages[self.next]
			self.next += 1
			slot = self.t0 + (self.next - self.first) / self.rate
		d = slot - time.monotonic()
		if d > 0:
			time.sleep(d)
		return m

	def _run(self):
		s = None
		n = 0
		while True:
			m = self._take()
			if m is None:
				break
			try:
				if s is None:
					s = smtplib.SMTP(H.LOOPBACK, self.pf.port,
							 "app.test", timeout=60)
					s.ehlo("app.test")
					n = 0
				self._send(s, m)
				n += 1
				with self.lock:
					self.sent += 1
			except (smtplib.SMTPException, OSError) as e:
				m["error"] = "%s: %s" % (type(e).__name__, e)
				with self.lock:
					self.errors += 1
					self.plan.extend(len(m["rcpts"]))
				s = self._close(s, quit=False)
				continue
			if n >= self.per_conn:
				s = self._close(s)
		self._close(s)

	@staticmethod
	def _close(s, quit=True):
		if s is not None:
			try:
				if quit:
					s.quit()
				else:
					s.close()
			except (smtplib.SMTPException, OSError):
				pass
		return None

	def _send(self, s, m):
		msg, mid = _message_bytes(m, m["rcpts"])
		m["mid"] = mid
		code, resp = s.mail(SENDER)
		if code != 250:
			raise smtplib.SMTPSenderRefused(code, resp, SENDER)
		for r in m["rcpts"]:
			code, resp = s.rcpt(r)
			if code not in (250, 251):
				raise smtplib.SMTPRecipientsRefused({r: (code, resp)})
		code, resp = s.data(msg)
		if code != 250:
			raise smtplib.SMTPDataError(code, resp)
		q = re.search(rb"queued as ([0-9A-Za-z]+)", resp)
		m["qid"] = q.group(1).decode() if q else None


# ---------------------------------------------------------------------------
# A receiver that can be switched off (listener and open connections)


class _QuietHTTPServer(H._HTTPServer):
	def handle_error(self, request, client_address):
		pass


class ReceiverSwitch:
	"""off(): the receiver's port refuses connections and every open
	connection is cut; on(): it listens again on the same port."""

	def __init__(self, rcv):
		self.rcv = rcv
		self.port = rcv.port
		self.lock = threading.Lock()
		self.conns = set()
		self.is_on = True
		self.off_seconds = 0.0
		self.offs = 0
		self._since = None
		sw = self
		base = rcv.server.RequestHandlerClass

		class Tracked(base):
			def setup(self):
				super().setup()
				with sw.lock:
					sw.conns.add(self.connection)

			def finish(self):
				try:
					super().finish()
				finally:
					with sw.lock:
						sw.conns.discard(self.connection)

		self.handler = Tracked
		self._close()
		self._open()

	def _close(self):
		srv = self.rcv.server
		srv.shutdown()
		srv.server_close()
		with self.lock:
			conns = list(self.conns)
		for c in conns:
			try:
				c.shutdown(socket.SHUT_RDWR)
			except OSError:
				pass

	def _open(self):
		for _ in range(100):
			try:
				srv = _QuietHTTPServer((H.LOOPBACK, self.port),
						       self.handler)
				break
			except OSError:
				time.sleep(0.1)
		else:
			raise RuntimeError("cannot listen on %d again" % self.port)
		threading.Thread(target=srv.serve_forever,
				 kwargs={"poll_interval": 0.1},
				 daemon=True).start()
		self.rcv.server = srv

	def off(self):
		if self.is_on:
			self._close()
			self.is_on = False
			self.offs += 1
			self._since = time.monotonic()

	def on(self):
		if not self.is_on:
			self._open()
			self.is_on = True
			self.off_seconds += time.monotonic() - self._since


# ---------------------------------------------------------------------------
# Postfix's log, read without posthook's parser


_TO = re.compile(r"postfix/[\w/-]+\[\d+\]: ([0-9A-Za-z]+): to=<([^>]*)>,"
		 r".*? status=(\w+)")
_EXPIRED = re.compile(r"postfix/[\w/-]+\[\d+\]: ([0-9A-Za-z]+): from=<[^>]*>,"
		      r" status=expired")
_MSGID = re.compile(r"postfix/cleanup\[\d+\]: ([0-9A-Za-z]+): "
		    r"message-id=(<[^>]*>)")


def log_files(maillog):
	"""maillog and every rotated copy beside it (maillog.N, .gz too)."""
	return sorted(set([maillog] + glob.glob(glob.escape(maillog) + ".*")))


def read_log(maillog):
	"""read_log - {rcpt: {"qid", "sent", "deferred", "bounced",
	"expired"}} and the number of lines read, from every log file."""
	out = {}
	expired = set()
	rq = {}
	lines = 0
	for p in log_files(maillog):
		opener = gzip.open if p.endswith(".gz") else open
		try:
			with opener(p, "rt", errors="replace") as f:
				for line in f:
					lines += 1
					m = _TO.search(line)
					if m:
						qid, to, st = m.groups()
						d = out.setdefault(to.lower(), {
							"sent": 0, "deferred": 0,
							"bounced": 0, "other": 0,
							"qids": set()})
						d["qids"].add(qid)
						d[st if st in d else "other"] += 1
						rq.setdefault(qid, set()).add(
							to.lower())
						continue
					m = _EXPIRED.search(line)
					if m:
						expired.add(m.group(1))
		except OSError:
			continue
	for to, d in out.items():
		d["expired"] = int(bool(d["qids"] & expired) and
				   d["sent"] == 0 and d["bounced"] == 0)
	return out, lines


def log_events(d):
	"""the events Postfix's log says a recipient should have."""
	return {SENT: d["sent"], DELAYED: d["deferred"],
		FAILED: d["bounced"] + d["expired"]}


class MXRecord:
	"""the scripted MX's record, indexed by recipient: its RCPT answers
	and the DATA answers of the messages it took."""

	def __init__(self, mx):
		self.rcpt = {}
		self.data = {}
		with mx._lock:
			replies = list(mx.replies)
			messages = list(mx.messages)
		for r in replies:
			if r["command"] == "RCPT":
				self.rcpt.setdefault(r["arg"].lower(), []).append(
					r["reply"])
		for m in messages:
			for r in m.rcpts:
				self.data.setdefault(r.lower(), set()).add(m.reply)

	def events(self, rcpt):
		"""the events the MX's answers say a recipient should have: RCPT
		2xx (DATA is always 250 here) sent, 4xx delayed, 5xx failed."""
		ev = {SENT: 0, DELAYED: 0, FAILED: 0}
		for r in self.rcpt.get(rcpt.lower(), []):
			ev[{"2": SENT, "4": DELAYED, "5": FAILED}.get(r[:1],
								      FAILED)] += 1
		return ev


# ---------------------------------------------------------------------------
# Waiting for the end


def status(st):
	"""status - posthookctl status as JSON; exit 1 is "degraded" (an
	endpoint's breaker is open, lag or outbox over a threshold), 2 a
	daemon down: the report is whole."""
	try:
		r = st.ctl("--json", "status", check=False, timeout=60)
		if r.returncode not in (0, 1, 2):
			raise RuntimeError("posthookctl status: exit %d: %s" % (
				r.returncode, r.stderr))
		return json.loads(r.stdout)
	except (RuntimeError, ValueError, OSError) as e:
		print("# status: %s" % e)
		return None


def settled(st, endpoint="e2e"):
	"""the tailer at the end of the log, the outbox empty, nothing being
	retried for the endpoint."""
	s = status(st)
	if s is None:
		return None
	eps = {e["name"]: e for e in s.get("endpoints", [])}
	t = s.get("tailer") or {}
	ep = eps.get(endpoint) or {}
	if t.get("lag_bytes") == 0 and s.get("outbox_depth") == 0 and \
	   ep.get("retrying", 1) == 0:
		return s
	return None


def wait_settled(st, timeout, quiet=3):
	"""wait_settled - settled() and no webhook for `quiet` seconds."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		s = settled(st)
		if s is not None:
			n = len(st.requests())
			time.sleep(quiet)
			if len(st.requests()) == n and settled(st) is not None:
				return s
			continue
		time.sleep(1)
	return None


def recover(st, since="1d"):
	"""posthookctl deliveries recover for the endpoint; how many."""
	r = st.ctl("deliveries", "recover", "--webhook", st.webhook_id,
		   "--since", since, check=False)
	print("# deliveries recover: exit %d: %s%s" % (
		r.returncode, r.stdout.strip(), r.stderr.strip()))
	m = re.search(r"(\d+)", r.stdout)
	return int(m.group(1)) if m else 0


def wait_queue_empty(pf, timeout):
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		out = pf.run("postqueue", "-p", check=False).stdout.decode(
			errors="replace")
		if "Mail queue is empty" in out:
			return True
		if int(deadline - time.monotonic()) % 30 < 2:
			print("# queue: %s" % (out.strip().splitlines() or
					       [""])[-1])
		time.sleep(2)
	return False


# ---------------------------------------------------------------------------
# The count


class Count:
	"""expected against received, per recipient and event type."""

	def __init__(self, plan, mx, maillog, requests):
		self.plan = plan
		self.figures = {}
		self.problems = []	# (category, text)
		self._count(mx, maillog, requests)

	def _note(self, cat, text):
		self.figures[cat] = self.figures.get(cat, 0) + 1
		if sum(1 for c, _ in self.problems if c == cat) < 20:
			self.problems.append((cat, text))

	def _count(self, mx, maillog, requests):
		f = self.figures
		mx = MXRecord(mx)
		logd, f["log lines read"] = read_log(maillog)
		mids = {}
		msgs = {}
		for m in self.plan.messages:
			for r in m["rcpts"]:
				mids[r.lower()] = m["mid"]
				msgs[r.lower()] = m
		# expected: per recipient and type, the larger of the two
		# sources (each can miss what the other saw: the MX never sees
		# a refused connection or an expiry; the log can lose lines
		# written between copy and truncate)
		expected = {}
		unlogged = {}
		f["log/MX disagreements"] = 0
		for r, (i, kind) in self.plan.rcpts.items():
			r = r.lower()
			lg = log_events(logd[r]) if r in logd else \
				{SENT: 0, DELAYED: 0, FAILED: 0}
			if kind == "ex":
				mxe = {SENT: 0, DELAYED: 0, FAILED: 0}
			else:
				mxe = mx.events(r)
			e = {t: max(lg[t], mxe[t]) for t in TYPES}
			if kind != "ex" and any(mxe[t] > lg[t] for t in TYPES):
				f["log/MX disagreements"] += 1
				if len(self.problems) < 200:
					self.problems.append((
						"log/MX disagreement",
						"%s: MX %s, log %s" % (r, mxe, lg)))
			expected[r] = e
			unlogged[r] = {t: e[t] - lg[t] for t in TYPES}
		f["recipients"] = len(expected)
		f["messages submitted"] = sum(1 for m in self.plan.messages
					      if m["qid"] or m["mid"])
		f["submit errors (resent as new messages)"] = sum(
			1 for m in self.plan.messages if m["error"])
		for t in TYPES:
			f["expected " + t] = sum(e[t] for e in expected.values())
		f["expected events"] = sum(f["expected " + t] for t in TYPES)
		# received
		f["requests received"] = len(requests)
		f["requests not verified"] = 0
		got = {}
		for q in requests:
			if not q.verified:
				f["requests not verified"] += 1
				self._note("wrong", "not verified: %s %s" % (
					q.verify_error, q.body[:200]))
				continue
			ev = q.json
			try:
				to = ev["payload"]["message"]["to"].lower()
				typ = ev["event"]
				uuid = ev["uuid"]
			except (KeyError, TypeError, AttributeError):
				self._note("wrong", "not an event: %r" % q.body[:200])
				continue
			got.setdefault((to, typ), []).append((uuid, ev))
		f["distinct uuids"] = len({u for v in got.values()
					   for u, _ in v})
		for k in ("lost", "lost (not in any log file)",
			  "duplicated, same uuid",
			  "duplicated, different uuid", "wrong",
			  "events without the milter's record"):
			f.setdefault(k, 0)
		seen_uuid = {}
		for (to, typ), lst in sorted(got.items()):
			if to not in expected or typ not in TYPES:
				for u, ev in lst:
					self._note("wrong", "unexpected %s for %s "
						   "(uuid %s)" % (typ, to, u))
				continue
			uu = []
			for u, ev in lst:
				if u in seen_uuid and seen_uuid[u] != (to, typ):
					self._note("wrong", "uuid %s used for two "
						   "events" % u)
				seen_uuid[u] = (to, typ)
				if u in uu:
					self._note("duplicated, same uuid",
						   "%s %s uuid %s" % (to, typ, u))
					continue
				uu.append(u)
				self._check_body(ev, to, typ, msgs.get(to),
						 mids.get(to), mx)
			n = expected[to][typ]
			if n == 0:
				for u in uu:
					self._note("wrong", "%s for %s, which neither "
						   "the MX nor the log has (uuid %s)"
						   % (typ, to, u))
			elif len(uu) > n:
				for _ in range(len(uu) - n):
					self._note("duplicated, different uuid",
						   "%s %s: %d uuids, %d expected"
						   % (to, typ, len(uu), n))
		for to, e in sorted(expected.items()):
			for typ in TYPES:
				n = e[typ]
				have = len({u for u, _ in got.get((to, typ), [])})
				if have >= n:
					continue
				short = n - have
				off_log = min(short, unlogged[to][typ])
				for _ in range(off_log):
					self._note("lost (not in any log file)",
						   "%s %s: %d of %d, the log lacks %d"
						   % (to, typ, have, n,
						      unlogged[to][typ]))
				for _ in range(short - off_log):
					self._note("lost", "%s %s: %d of %d" % (
						to, typ, have, n))
		# one id and token per message (when recorded)
		ids = {}
		for (to, typ), lst in got.items():
			for u, ev in lst:
				msg = (ev.get("payload") or {}).get("message") or {}
				if msg.get("id") is not None and to in msgs:
					ids.setdefault(msgs[to]["i"], set()).add(
						(msg.get("id"), msg.get("token")))
		for i, s in ids.items():
			if len(s) > 1:
				self._note("wrong", "message %d: several ids/tokens "
					   "%s" % (i, sorted(s, key=str)))

	def _check_body(self, ev, to, typ, m, mid, mx):
		"""what makes a received event wrong."""
		p = ev.get("payload") or {}
		msg = p.get("message") or {}
		bad = []
		if p.get("status") != E.STATUS.get(typ):
			bad.append("status %r" % p.get("status"))
		if msg.get("from") != SENDER:
			bad.append("from %r" % msg.get("from"))
		if m is not None and mid and msg.get("message_id") != mid.strip("<>"):
			bad.append("message_id %r, sent %r" % (msg.get("message_id"),
							       mid))
		if msg.get("tag") is None and msg.get("metadata") is None:
			self.figures["events without the milter's record"] += 1
		elif m is not None and (msg.get("tag") != m["tag"] or
					msg.get("metadata") != m["metadata"]):
			bad.append("tag/metadata %r %r" % (msg.get("tag"),
							  msg.get("metadata")))
		kind = kind_of(to)
		if typ in (DELAYED, FAILED):
			cls, enh = CLASS.get(kind, (None, None))
			if typ == DELAYED and kind == "tf" or typ == FAILED and \
			   kind in ("uu", "qu", "bl"):
				if p.get("classification") != cls or \
				   p.get("smtp_enhanced_code") != enh:
					bad.append("classification %r %r" % (
						p.get("classification"),
						p.get("smtp_enhanced_code")))
			elif kind == "ex" and p.get("classification") != cls:
				bad.append("classification %r" %
					   p.get("classification"))
		if typ == SENT:
			if kind in ("uu", "qu", "bl", "ex"):
				bad.append("MessageSent for a refused recipient")
			replies = mx.data.get(to, set())
			if p.get("output") not in replies:
				bad.append("output %r not among the MX's DATA "
					   "replies %s" % (p.get("output"),
							   sorted(replies)))
		if bad:
			self._note("wrong", "%s %s uuid %s: %s" % (
				to, typ, ev.get("uuid"), "; ".join(bad)))

	def ok(self):
		f = self.figures
		return f["lost"] == 0 and f["wrong"] == 0 and \
			f["duplicated, different uuid"] == 0

	def report(self, out=sys.stdout):
		order = ["messages submitted",
			 "submit errors (resent as new messages)", "recipients",
			 "log lines read", "log/MX disagreements",
			 "expected events", "expected " + SENT,
			 "expected " + DELAYED, "expected " + FAILED,
			 "requests received", "requests not verified",
			 "distinct uuids", "events without the milter's record",
			 "lost", "lost (not in any log file)",
			 "duplicated, same uuid", "duplicated, different uuid",
			 "wrong"]
		for k in order + sorted(set(self.figures) - set(order)):
			print("%-42s %s" % (k + ":", self.figures.get(k)), file=out)
		for cat, text in self.problems[:60]:
			print("#   %s: %s" % (cat, text), file=out)
