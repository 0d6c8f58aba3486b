#!/usr/bin/env python3
"""milter_bench.py - messages per second through a real Postfix with no
milter, with a null milter, with posthook-milter, and with Debian's opendkim
signing, side by side in one run.

    sudo python3 bench/milter_bench.py BUILDDIR [--messages N] [--rounds R]

A null milter (bench/milter_null.c: the same protocol steps, no work)
shows what the milter protocol itself costs.

smtp-source (20 sessions, one message of about 2 KB per connection, with
X-Posthook-Tag and X-Posthook-Metadata headers) -> a scratch Postfix on
loopback (posthook_test.harness) -> smtp-sink.  Each round runs the three setups
one after the other on fresh Postfix instances; the figure is the median
rate of smtp-source's wall time.  Needs root (Postfix, opendkim).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from posthook_test.harness import (Daemon, ScratchPostfix, free_port,  # noqa: E402
				   scratch_dir, wait_until)

SESSIONS = 20


def message_file(d):
	"""A 2 KB message with the application's headers."""
	body = "".join("line %04d of a benchmark message, padding it to about 2 KB.\n" % i
		       for i in range(24))
	text = ("From: app@app.test\nTo: rcpt@dest.test\nSubject: benchmark\n"
		"Message-ID: <bench@app.test>\nX-Posthook-Tag: bench\n"
		"X-Posthook-Metadata: {\"user_id\": \"usr_123456\", \"campaign_id\": "
		"\"camp_789\"}\n\n" + body)
	path = os.path.join(d, "message.txt")
	with open(path, "w") as f:
		f.write(text)
	return path, len(text)


class Sink:
	def __init__(self):
		self.port = free_port()
		self.d = Daemon(["/usr/sbin/smtp-sink", "-u", "postfix",
				 "127.0.0.1:%d" % self.port, "1024"])
		wait_until(self._up, 10, what="smtp-sink")

	def _up(self):
		import socket
		try:
			socket.create_connection(("127.0.0.1", self.port), 1).close()
			return True
		except OSError:
			return False


class PosthookMilter:
	"""posthook-milter on a unix socket, or with inet on 127.0.0.1."""

	def __init__(self, builddir, inet=False):
		self.dir = scratch_dir("posthook-bench-milter-")
		self.sock = os.path.join(self.dir, "sock", "milter.sock")
		if inet:
			port = free_port()
			listen = "inet:%d@127.0.0.1" % port
			self.spec = "inet:127.0.0.1:%d" % port
		else:
			listen = self.spec = "unix:" + self.sock
		conf = os.path.join(self.dir, "posthook.conf")
		with open(conf, "w") as f:
			f.write("state_dir = %s/state\npid_dir = %s\nmilter_socket = %s\n"
				"user = postfix\ngroup = postfix\n"
				% (self.dir, self.dir, listen))
		os.chmod(self.dir, 0o777)
		self.d = Daemon([os.path.join(builddir, "milter", "posthook-milter"),
				 "-f", "-c", conf])
		wait_until(lambda: os.path.exists(
			os.path.join(self.dir, "posthook-milter.pid")), 20,
			what="milter pid file")
		if inet:
			wait_until(lambda: self._listening(port), 20, what="milter port")
		else:
			wait_until(lambda: os.path.exists(self.sock), 20,
				   what="milter socket")

	@staticmethod
	def _listening(port):
		import socket
		try:
			socket.create_connection(("127.0.0.1", port), 1).close()
			return True
		except OSError:
			return False

	def stop(self):
		self.d.stop()


class NullMilter:
	"""bench/milter_null.c: the milter protocol's own cost."""

	def __init__(self):
		self.dir = scratch_dir("posthook-bench-null-")
		os.chmod(self.dir, 0o777)
		exe = os.path.join(self.dir, "milter_null")
		subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "milter_null.c"),
				"-lmilter", "-lpthread"], check=True)
		self.sock = os.path.join(self.dir, "null.sock")
		self.d = Daemon(["setpriv", "--reuid=postfix", "--regid=postfix",
				 "--clear-groups", exe, "unix:" + self.sock])
		wait_until(lambda: os.path.exists(self.sock), 20, what="null milter socket")
		self.spec = "unix:" + self.sock

	def stop(self):
		self.d.stop()


class OpenDKIM:
	"""opendkim signing for app.test; its files live under /var/lib,
	since it refuses a key or config in a directory others can write."""

	def __init__(self):
		self.dir = tempfile.mkdtemp(prefix="posthook-bench-dkim-", dir="/var/lib")
		os.chmod(self.dir, 0o750)
		subprocess.run(["/usr/sbin/opendkim-genkey", "-b", "2048", "-d", "app.test",
				"-s", "bench", "-D", self.dir], check=True)
		for name in os.listdir(self.dir):
			shutil.chown(os.path.join(self.dir, name), "postfix", "postfix")
		shutil.chown(self.dir, "postfix", "postfix")
		self.sock = os.path.join(self.dir, "opendkim.sock")
		conf = os.path.join(self.dir, "opendkim.conf")
		with open(conf, "w") as f:
			f.write("Syslog no\nMode s\nDomain app.test\nSelector bench\n"
				"KeyFile %s/bench.private\nSocket local:%s\nUserID postfix\n"
				"Canonicalization relaxed/simple\nInternalHosts 127.0.0.1\n"
				"PidFile %s/opendkim.pid\n" % (self.dir, self.sock, self.dir))
		self.d = Daemon(["/usr/sbin/opendkim", "-f", "-x", conf])
		wait_until(lambda: os.path.exists(self.sock), 20, what="opendkim socket")
		self.spec = "unix:" + self.sock

	def stop(self):
		self.d.stop()
		shutil.rmtree(self.dir, ignore_errors=True)


def cpu_seconds(pid):
	"""cpu_seconds - user + system CPU time of a process so far."""
	with open("/proc/%d/stat" % pid) as f:
		fields = f.read().rsplit(")", 1)[1].split()
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postfix_cpu_seconds(pf):
	"""postfix_cpu_seconds - CPU time of Postfix's processes so far: the
	master with the children it reaped, plus the children still alive.
	Unlike the rate, this hardly depends on what else the host runs."""
	master = pf.master_pid()
	with open("/proc/%d/stat" % master) as f:
		fields = f.read().rsplit(")", 1)[1].split()
	total = sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
	for d in os.listdir("/proc"):
		if not d.isdigit():
			continue
		try:
			with open("/proc/%s/stat" % d) as f:
				fields = f.read().rsplit(")", 1)[1].split()
		except OSError:
			continue
		if int(fields[1]) == master:
			total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
	return total


def run_once(sink, milter_spec, msgfile, count, milter_pid=None, keep=False,
	     sessions=SESSIONS):
	"""One Postfix, one smtp-source run: messages per second, and CPU
	milliseconds per message of the milter and of Postfix."""
	pf = ScratchPostfix(routes={"dest.test": sink.port},
			    smtpd_milters=milter_spec or "",
			    main={"milter_default_action": "tempfail"})
	pf.start()
	try:
		src = ["/usr/sbin/smtp-source", "-s", str(sessions), "-F", msgfile,
		       "-f", "app@app.test", "-t", "rcpt@dest.test"] + (["-d"] if keep else [])
		dest = ["127.0.0.1:%d" % pf.port]
		subprocess.run(src + ["-m", "200"] + dest, check=True, timeout=300)
		pf.wait_queue_empty(120)
		cpu0 = cpu_seconds(milter_pid) if milter_pid else 0
		pcpu0 = postfix_cpu_seconds(pf)
		t0 = time.monotonic()
		subprocess.run(src + ["-m", str(count)] + dest, check=True, timeout=600)
		took = time.monotonic() - t0
		pf.wait_queue_empty(300)
		cpu = (cpu_seconds(milter_pid) - cpu0) if milter_pid else 0
		pcpu = postfix_cpu_seconds(pf) - pcpu0
		log = pf.log()
		bad = [l for l in log.splitlines() if "milter" in l and "warning" in l]
		if bad:
			raise RuntimeError("milter trouble:\n" + "\n".join(bad[:5]))
		return count / took, 1000.0 * cpu / count, 1000.0 * pcpu / count
	finally:
		pf.stop()


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("builddir")
	ap.add_argument("--messages", type=int, default=3000)
	ap.add_argument("--rounds", type=int, default=3)
	ap.add_argument("--sessions", type=int, default=SESSIONS,
			help="parallel SMTP sessions of smtp-source (-s)")
	ap.add_argument("--keep-sessions", action="store_true",
			help="smtp-source -d: many messages per SMTP session")
	a = ap.parse_args()
	d = scratch_dir("posthook-bench-")
	msgfile, size = message_file(d)
	os.chmod(d, 0o755)
	sink = Sink()
	ph = PosthookMilter(os.path.abspath(a.builddir))
	phi = PosthookMilter(os.path.abspath(a.builddir), inet=True)
	null = NullMilter()
	dkim = OpenDKIM()
	setups = [("no milter", None, None), ("null milter", null.spec, null.d.pid),
		  ("posthook-milter", ph.spec, ph.d.pid),
		  ("posthook-milter inet:", phi.spec, phi.d.pid),
		  ("opendkim signing", dkim.spec, dkim.d.pid)]
	rates = {s[0]: [] for s in setups}
	cpus = {s[0]: [] for s in setups}
	pcpus = {s[0]: [] for s in setups}
	try:
		for r in range(a.rounds):
			for name, spec, pid in setups:
				rate, cpu, pcpu = run_once(sink, spec, msgfile, a.messages, pid,
							   a.keep_sessions, a.sessions)
				rates[name].append(rate)
				cpus[name].append(cpu)
				pcpus[name].append(pcpu)
				print("round %d: %-17s %7.1f msg/s  CPU ms/msg: milter %.2f"
				      " Postfix %.2f" % (r + 1, name, rate, cpu, pcpu), flush=True)
	finally:
		ph.stop()
		phi.stop()
		null.stop()
		dkim.stop()
	base = statistics.median(rates["no milter"])
	print("\n%d messages of %d bytes, %d sessions%s, %d rounds (median):"
	      % (a.messages, size, a.sessions,
		 " kept open" if a.keep_sessions else " (one message each)", a.rounds))
	pbase = statistics.median(pcpus["no milter"])
	print("| setup | msg/s | of no milter | CPU ms/msg: milter | Postfix"
	      " | total | total vs no milter |")
	print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for name, _, _ in setups:
		m = statistics.median(rates[name])
		c = statistics.median(cpus[name])
		p = statistics.median(pcpus[name])
		print("| %s | %.1f | %.1f %% | %.2f | %.2f | %.2f | +%.0f %% |"
		      % (name, m, 100.0 * m / base, c, p, c + p,
			 100.0 * (c + p - pbase) / pbase))


if __name__ == "__main__":
	main()
