#!/usr/bin/env python3
"""chaos - the chaos run (RELIABILITY.md): many messages through the real stack
(a scratch Postfix, posthook-milter, -logtail and -webhook under the
sanitizers, a scripted MX, a verifying receiver) while a driver, at random
moments, SIGKILLs each daemon and restarts it, restarts a daemon with a
named crash point armed (POSTHOOK_FAULT: webhook-before-record,
logtail-before-commit, logtail-after-commit, store-in-txn; needs
./configure --enable-fault-injection), rotates the Postfix log by rename
(logrotate's create + postfix reload; --rename-style postfix: rename,
reload, postlogd creates the file) and by copytruncate, and switches the
receiver off for a while: once for --breaker-outage seconds (30), long
enough for the webhook endpoint's circuit breaker to open, park what is
due, probe (breaker_cooldown 2s here) and close again.

At the end, with everything up again, it waits for the Postfix queue to
empty and posthook to settle, recovers failed deliveries with posthookctl
deliveries recover, and counts per recipient the events expected (from
the scripted MX's record of its answers and a small reader of Postfix's
log files, not posthook's parser) against the events received: lost,
duplicated with the same uuid, duplicated with a different uuid, wrong.
Exit 0 when 0 lost, 0 wrong, 0 duplicated with a different uuid, no
daemon died other than by our kills, and no sanitizer report.

Not part of `make check` (it runs for minutes): `make chaos`, or
    top_builddir=BUILD PYTHONPATH=tests/pylib python3 tests/e2e/chaos.py \
	[--messages N] [--record]
as root.  --record writes the figures into tests/RELIABILITY.md.
"""

import argparse
import collections
import os
import random
import shutil
import sys
import threading
import time

from posthook_test import reliability as R
from posthook_test import e2e_stack as E, harness as H

MILTER, LOGTAIL, WEBHOOK = E.Stack.DAEMONS

# (weight, action, argument)
ACTIONS = [
	(3, "kill", MILTER), (3, "kill", LOGTAIL), (3, "kill", WEBHOOK),
	(2, "fault", (WEBHOOK, "webhook-before-record")),
	(1, "fault", (LOGTAIL, "logtail-before-commit")),
	(1, "fault", (LOGTAIL, "logtail-after-commit")),
	(1, "fault", (MILTER, "store-in-txn")),
	(1, "fault", (LOGTAIL, "store-in-txn")),
	(1, "fault", (WEBHOOK, "store-in-txn")),
	(1, "rotate", "rename"), (1, "rotate", "copytruncate"),
	(1, "receiver", None),
]


class Driver:
	"""kills, faults, rotations and receiver outages; restarts what died."""

	def __init__(self, st, sw, rng, args):
		self.st = st
		self.sw = sw
		self.rng = rng
		self.args = args
		self.lock = threading.RLock()
		self.pending = {}	# name -> (restart at, fault)
		self.fault_of = {}
		self.stats = collections.Counter()
		self.crashes = []
		self.rcv_on_at = None
		self.long_outage_done = False
		self.last_rotation = 0.0
		self.tailer_since = time.monotonic()
		self.acting = False
		self.stop = threading.Event()
		self.thread = threading.Thread(target=self._loop, daemon=True)

	def log(self, text):
		print("# %7.1fs %s" % (time.monotonic() - self.args.t0, text))
		sys.stdout.flush()

	# -- daemons

	def start(self, name, fault=None):
		env = self.st.san.env()
		if fault:
			env["POSTHOOK_FAULT"] = fault
		argv = [E.program(name), "-c", self.st.conf_path, "-f"]
		self.st.daemons[name] = H.Daemon(argv, env=env,
						 log=self.st._log(name))
		self.fault_of[name] = fault
		if name == LOGTAIL:
			self.tailer_since = time.monotonic()

	def kill(self, name, fault=None):
		with self.lock:
			d = self.st.daemons.get(name)
			if name in self.pending:
				t, f = self.pending[name]
				self.pending[name] = (t, fault or f)
				return
			if d is not None:
				d.kill()
				self.stats["SIGKILL " + name] += 1
			self.pending[name] = (time.monotonic() +
					      self.rng.uniform(0.2, 3.0), fault)

	def watch(self):
		"""restart what is due; notice what died by itself."""
		with self.lock:
			now = time.monotonic()
			for name in E.Stack.DAEMONS:
				if name in self.pending:
					t, fault = self.pending[name]
					if now >= t:
						del self.pending[name]
						self.start(name, fault)
						self.log("started %s%s" % (name, (
							" with POSTHOOK_FAULT=" + fault)
							if fault else ""))
					continue
				d = self.st.daemons.get(name)
				if d is None or d.running():
					continue
				rc = d.proc.returncode
				d.stop()
				f = self.fault_of.get(name)
				if rc == -9 and f:
					self.stats["fault %s hit in %s" % (f, name)] += 1
					self.log("%s died at %s" % (name, f))
				else:
					out = d.output()[-1500:]
					self.crashes.append((name, rc, out))
					self.log("%s EXITED %s by itself:\n%s" % (
						name, rc, out))
				self.pending[name] = (now + self.rng.uniform(0.2, 1.5),
						      None)
			if self.rcv_on_at is not None and now >= self.rcv_on_at:
				self.sw.on()
				self.rcv_on_at = None
				self.log("receiver on")

	# -- rotation

	def _tailer_ready(self):
		"""rotate only when the tailer is up, was up through the last
		rotation, and reads the live file: posthookctl status, which
		measures its lag, knows only log_file and log_file.1 (tail.c
		itself finds its file up to log_file.20; logtail_tail.py tests
		two rotations while it is down)."""
		now = time.monotonic()
		d = self.st.daemons.get(LOGTAIL)
		if LOGTAIL in self.pending or d is None or not d.running():
			return False
		if now - self.tailer_since < 5 or now - self.last_rotation < 10:
			return False
		s = R.status(self.st)
		t = (s or {}).get("tailer") or {}
		return t.get("reading") == "current" and \
			t.get("lag_bytes") is not None

	def _shift(self):
		log = self.st.pf.maillog
		n = 1
		while os.path.exists("%s.%d" % (log, n)):
			n += 1
		for k in range(n - 1, 0, -1):
			os.rename("%s.%d" % (log, k), "%s.%d" % (log, k + 1))

	def rotate(self, how):
		if not self._tailer_ready():
			self.stats["rotation skipped (tailer not ready)"] += 1
			return
		log = self.st.pf.maillog
		st = os.stat(log)
		self._shift()
		if how == "rename" and self.args.rename_style == "postfix":
			# postfix logrotate's order (without the compression):
			# rename, reload; postlogd creates the new file
			os.rename(log, log + ".1")
			self.st.pf.reload()
			H.wait_until(lambda: os.path.exists(log), 30,
				     what="postlogd's new maillog")
			os.chmod(log, st.st_mode & 0o777)
		elif how == "rename":
			# logrotate's create + postrotate: a new file, then
			# postlogd reopens it on reload
			os.rename(log, log + ".1")
			fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
				     st.st_mode & 0o777)
			os.fchown(fd, st.st_uid, st.st_gid)
			os.close(fd)
			self.st.pf.reload()
		else:
			shutil.copy2(log, log + ".1")
			os.truncate(log, 0)
		self.last_rotation = time.monotonic()
		self.stats["rotate by " + how] += 1
		self.log("rotated by %s" % how)

	# -- the loop

	def act(self):
		w = [a[0] for a in ACTIONS]
		_, what, arg = self.rng.choices(ACTIONS, w)[0]
		if what == "kill":
			self.log("SIGKILL %s" % arg)
			self.kill(arg)
		elif what == "fault":
			name, fault = arg
			self.log("SIGKILL %s, restart with POSTHOOK_FAULT=%s"
				 % (name, fault))
			self.stats["armed %s in %s" % (fault, name)] += 1
			self.kill(name, fault)
		elif what == "rotate":
			self.rotate(arg)
		elif what == "receiver":
			if self.rcv_on_at is None:
				secs = self.rng.uniform(3, self.args.max_outage)
				self.sw.off()
				self.rcv_on_at = time.monotonic() + secs
				self.stats["receiver off"] += 1
				self.log("receiver off for %.1fs" % secs)

	def long_outage(self):
		"""the receiver off long enough to open the breaker, once."""
		with self.lock:
			self.long_outage_done = True
			self.sw.off()
			self.rcv_on_at = time.monotonic() + self.args.breaker_outage
			self.stats["receiver off"] += 1
			self.log("receiver off for %.1fs (the breaker opens)"
				 % self.args.breaker_outage)

	def _loop(self):
		next_act = time.monotonic() + 3
		while not self.stop.is_set():
			try:
				self.watch()
				if self.acting and not self.long_outage_done and \
				   self.rcv_on_at is None and \
				   time.monotonic() - self.args.t0 > 10:
					self.long_outage()
				if self.acting and time.monotonic() >= next_act:
					self.act()
					next_act = time.monotonic() + self.rng.uniform(
						0.5, 2 * self.args.interval)
			except Exception as e:	# keep driving; note it
				import traceback
				self.crashes.append(("driver", None,
						     traceback.format_exc()))
				self.log("driver error: %s" % e)
			self.stop.wait(0.1)

	def calm(self):
		"""stop acting: receiver on, every daemon up without a fault."""
		self.acting = False
		with self.lock:
			if self.rcv_on_at is not None:
				self.rcv_on_at = time.monotonic()
			for name in E.Stack.DAEMONS:
				if name in self.pending:
					self.pending[name] = (time.monotonic(), None)
				elif self.fault_of.get(name):
					self.log("disarming %s" % name)
					self.kill(name)
					self.pending[name] = (time.monotonic(), None)
		time.sleep(0.5)


def breaker_log(path):
	"""breaker_log - how often the webhook log says a breaker opened and
	closed."""
	opened = closed = 0
	with open(path, errors="replace") as f:
		for line in f:
			opened += ": breaker open after " in line
			closed += ": breaker closed" in line
	return opened, closed


def record(path, text):
	"""replace the chaos section of RELIABILITY.md between its markers."""
	begin, end = "<!-- chaos:begin -->", "<!-- chaos:end -->"
	try:
		with open(path) as f:
			doc = f.read()
	except FileNotFoundError:
		doc = "# Reliability\n\n%s\n%s\n" % (begin, end)
	if begin not in doc or end not in doc:
		doc += "\n%s\n%s\n" % (begin, end)
	a = doc.index(begin) + len(begin)
	b = doc.index(end)
	doc = doc[:a] + "\n" + text.rstrip("\n") + "\n" + doc[b:]
	with open(path, "w") as f:
		f.write(doc)


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--messages", type=int, default=10000)
	ap.add_argument("--rate", type=float, default=25.0,
			help="messages submitted a second (default 25)")
	ap.add_argument("--threads", type=int, default=4)
	ap.add_argument("--interval", type=float, default=4.0,
			help="mean seconds between chaos actions (default 4)")
	ap.add_argument("--max-outage", type=float, default=25.0,
			help="longest receiver outage, seconds (default 25)")
	ap.add_argument("--breaker-outage", type=float, default=30.0,
			help="one receiver outage this long: the breaker opens "
			"(default 30 s)")
	ap.add_argument("--min-chaos", type=float, default=60.0,
			help="chaos lasts at least this long (default 60 s)")
	ap.add_argument("--lifetime", default="60s",
			help="maximal_queue_lifetime (default 60s)")
	ap.add_argument("--retry-schedule", default="0 1s 2s 4s 8s 15s 30s")
	ap.add_argument("--rename-style", choices=("create", "postfix"),
			default="create",
			help="rename rotation as logrotate's create + reload "
			"(default) or as postfix logrotate: rename, reload, "
			"postlogd creates the new file")
	ap.add_argument("--seed", type=int, default=None)
	ap.add_argument("--record", action="store_true",
			help="write the figures into tests/RELIABILITY.md")
	args = ap.parse_args()
	if os.geteuid() != 0:
		print("SKIP: a scratch Postfix needs root")
		return 77
	isolated = H.isolate_network()
	if args.seed is None:
		args.seed = random.SystemRandom().randrange(1 << 30)
	argv = " ".join(a for a in sys.argv[1:] if a != "--record")
	print("# chaos: seed %d, %s" % (args.seed, argv))
	rng = random.Random(args.seed)
	plan = R.Plan(args.messages, args.seed)
	mx = H.ScriptedMX(script=R.mx_script)
	closed = H.ClosedPort()
	st = E.Stack(routes={R.MX_DOMAIN: mx.port, R.DEAD_DOMAIN: closed.port},
		     queue_lifetime=args.lifetime,
		     retry_schedule=args.retry_schedule,
		     conf={"breaker_cooldown": "2s"})
	t_start = time.time()
	args.t0 = time.monotonic()
	with st:
		sw = R.ReceiverSwitch(st.rcv)
		drv = Driver(st, sw, rng, args)
		drv.thread.start()
		sub = R.Submitter(st.pf, plan, threads=args.threads,
				  rate=args.rate).start()
		time.sleep(3)
		drv.acting = True
		while not sub.done() or \
		      time.monotonic() - args.t0 < args.min_chaos:
			time.sleep(1)
			if int(time.monotonic() - args.t0) % 30 == 0:
				drv.log("submitted %d of %d, %d webhooks so far"
					% (sub.sent, len(plan.messages),
					   len(st.requests())))
		drv.log("chaos over; %d submitted (%d errors)" % (
			sub.sent, sub.errors))
		drv.calm()
		t_sent = time.monotonic()
		lifetime = float(args.lifetime.rstrip("s"))
		if not R.wait_queue_empty(st.pf, lifetime * 2 + 600):
			drv.log("the Postfix queue is not empty")
		drv.log("Postfix queue empty after %.0fs" % (
			time.monotonic() - t_sent))
		s = R.wait_settled(st, 900)
		drv.log("settled: %s" % bool(s))
		recovered = 0
		eps = {e["name"]: e for e in (R.status(st) or {}).get(
			"endpoints", [])}
		if eps.get("e2e", {}).get("failed"):
			recovered = R.recover(st)
			R.wait_settled(st, 600)
		drv.stop.set()
		drv.thread.join(5)
		count = R.Count(plan, mx, st.pf.maillog, st.requests())
		# SIGTERM: LeakSanitizer reports at exit count too
		st.stop_daemons()
		reports = st.san.reports()
		elapsed = time.monotonic() - args.t0
		stats = dict(drv.stats)
		stats["receiver off, seconds in all"] = round(sw.off_seconds, 1)
		stats["deliveries recovered"] = recovered
		stats["breaker opened"], stats["breaker closed"] = breaker_log(
			st._log(WEBHOOK))
		stats["daemons that died by themselves"] = len(
			[c for c in drv.crashes if c[0] != "driver"])
		stats["driver errors"] = len([c for c in drv.crashes
					      if c[0] == "driver"])
		stats["sanitizer reports"] = len(reports)
		print("\n# ---- figures")
		count.report()
		for k in sorted(stats):
			print("%-42s %s" % (k + ":", stats[k]))
		for name, rc, out in drv.crashes:
			print("# died: %s exit %s\n%s" % (name, rc, out))
		for p, text in reports:
			print("# ==== %s\n%s" % (p, text[:4000]))
		ok = count.ok() and not drv.crashes and not reports and \
			s is not None and stats["breaker opened"] > 0
		if isolated and H.dns_trap.queries:
			print("# DNS queries: %s" % H.dns_trap.queries)
			ok = False
		print("# %s in %.0f s" % ("PASS" if ok else "FAIL", elapsed))
		if not ok:
			H.mark_failed()
		if args.record:
			lines = ["Run of %s UTC, %.0f s (seed %d):" % (
				time.strftime("%Y-%m-%d %H:%M", time.gmtime(t_start)),
				elapsed, args.seed), "",
				"    python3 tests/e2e/chaos.py " + argv, "", "```"]
			f = count.figures
			for k in ["messages submitted", "recipients",
				  "expected events", "expected MessageSent",
				  "expected MessageDelayed",
				  "expected MessageDeliveryFailed",
				  "requests received", "distinct uuids",
				  "lost", "lost (not in any log file)",
				  "duplicated, same uuid",
				  "duplicated, different uuid", "wrong",
				  "events without the milter's record",
				  "log/MX disagreements"]:
				lines.append("%-42s %s" % (k + ":", f.get(k)))
			for k in sorted(stats):
				lines.append("%-42s %s" % (k + ":", stats[k]))
			lines += ["```", "", "Result: %s." % (
				"PASS (0 lost, 0 wrong, 0 duplicated with a "
				"different uuid, no sanitizer report)" if ok
				else "FAIL")]
			record(os.path.join(os.environ.get("top_srcdir") or
					    os.path.dirname(os.path.dirname(os.path.dirname(
						    os.path.abspath(__file__)))),
					    "tests", "RELIABILITY.md"), "\n".join(lines))
	closed.stop()
	mx.stop()
	return 0 if ok else 1


if __name__ == "__main__":
	sys.exit(main())
