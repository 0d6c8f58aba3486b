#!/usr/bin/env python3
"""limits_bench.py - posthook-milter's rate with send limits off and on,
side by side in one run (issue 17: counting must cost no measurable rate).

    sudo python3 bench/limits_bench.py BUILDDIR [--messages N] [--rounds R]

The setup of milter_bench.py (smtp-source, 20 sessions -> a scratch
Postfix on loopback -> smtp-sink), with two posthook-milters on unix
sockets: "limits off" (send_limit = 0, domains_learn = no: the volume is
still counted, as it always is) and "limits on" (send_limit far above what
is sent, send_limit_action = hold, domains_learn = yes: every message also
reads the rolling hour, the limit state and the sender's domain).  Rounds
alternate the two on fresh Postfix instances; figures are medians.  The
milters' logs are searched for store failures ("not recorded"), which
would mean milter_store_timeout was hit.
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import milter_bench as M  # noqa: E402


class Milter(M.PosthookMilter):
	"""posthook-milter with extra posthook.conf keys, logging to a file."""

	def __init__(self, builddir, extra):
		self.dir = M.scratch_dir("posthook-bench-limits-")
		self.sock = os.path.join(self.dir, "sock", "milter.sock")
		self.spec = "unix:" + self.sock
		self.log = os.path.join(self.dir, "milter.log")
		conf = os.path.join(self.dir, "posthook.conf")
		with open(conf, "w") as f:
			f.write("state_dir = %s/state\npid_dir = %s\nmilter_socket = %s\n"
				"user = postfix\ngroup = postfix\n"
				% (self.dir, self.dir, self.spec))
			for k, v in extra.items():
				f.write("%s = %s\n" % (k, v))
		os.chmod(self.dir, 0o777)
		self.d = M.Daemon([os.path.join(builddir, "milter", "posthook-milter"),
				   "-f", "-c", conf], log=self.log)
		M.wait_until(lambda: os.path.exists(self.sock), 20, what="milter socket")

	def store_failures(self):
		with open(self.log, errors="replace") as f:
			return sum(1 for l in f if "not recorded" in l)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("builddir")
	ap.add_argument("--messages", type=int, default=2000)
	ap.add_argument("--rounds", type=int, default=3)
	ap.add_argument("--keep-sessions", action="store_true")
	a = ap.parse_args()
	d = M.scratch_dir("posthook-bench-")
	msgfile, size = M.message_file(d)
	os.chmod(d, 0o755)
	sink = M.Sink()
	b = os.path.abspath(a.builddir)
	off = Milter(b, {"send_limit": 0, "domains_learn": "no"})
	on = Milter(b, {"send_limit": 100000000, "send_limit_action": "hold",
			"domains_learn": "yes"})
	setups = [("limits off", off), ("limits on", on)]
	rates = {n: [] for n, _ in setups}
	cpus = {n: [] for n, _ in setups}
	try:
		for r in range(a.rounds):
			for name, m in (setups if r % 2 == 0 else setups[::-1]):
				rate, cpu, _ = M.run_once(sink, m.spec, msgfile, a.messages,
							  m.d.pid, a.keep_sessions)
				rates[name].append(rate)
				cpus[name].append(cpu)
				print("round %d: %-10s %7.1f msg/s  milter CPU %.3f ms/msg"
				      % (r + 1, name, rate, cpu), flush=True)
	finally:
		fails = {n: m.store_failures() for n, m in setups}
		off.stop()
		on.stop()
	print("\n%d messages of %d bytes, %d sessions, %d rounds (median):"
	      % (a.messages, size, M.SESSIONS, a.rounds))
	print("| setup | msg/s | milter CPU ms/msg | store failures |")
	print("| --- | ---: | ---: | ---: |")
	for name, _ in setups:
		print("| %s | %.1f | %.3f | %d |" % (
			name, statistics.median(rates[name]),
			statistics.median(cpus[name]), fails[name]))


if __name__ == "__main__":
	main()
