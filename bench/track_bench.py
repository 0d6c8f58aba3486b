#!/usr/bin/env python3
"""track_bench.py - what open and click tracking costs posthook-milter.

    sudo python3 bench/track_bench.py BUILDDIR [--messages N] [--rounds R]

1. In process (bench/track_cpu.c, linked with BUILDDIR's libposthook.a):
   CPU per rewrite of a 60 KB HTML newsletter with 40 links
   (multipart/alternative, HTML quoted-printable, text part), tokens
   signed as the milter signs them.  An untracked message costs the
   milter no rewrite at all: its body is neither kept nor parsed.
2. Through a real Postfix (bench/milter_bench.py's harness): the same
   message sent by smtp-source to smtp-sink with no milter, with
   posthook-milter with tracking off, and with tracking on, in one run,
   round after round; medians of msg/s and of CPU ms per message of the
   milter and of Postfix.  Needs root.
"""

import argparse
import os
import quopri
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from milter_bench import Sink, run_once  # noqa: E402
from posthook_test.harness import Daemon, scratch_dir, wait_until  # noqa: E402

LINKS = 40


def newsletter(path, crlf):
	"""A 60 KB HTML newsletter with LINKS links; returns its size."""
	para = ("<p style=\"font-family:Arial,sans-serif;font-size:14px;color:#333\">"
		"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
		"tempor incididunt ut labore et dolore magna aliqua. Caf\u00e9 cr\u00e8me.</p>\n")
	items = []
	for i in range(LINKS):
		items.append("<tr><td>%s<a href=\"https://shop.example.com/item/%d?utm_source="
			     "news&amp;utm_medium=email&amp;utm_campaign=dec\">Item %d</a>"
			     "</td></tr>\n" % (para * 6, i, i))
	html = ("<html><head><meta charset=\"utf-8\"></head><body><table>\n%s"
		"</table></body></html>\n" % "".join(items))
	text = "Hello, see https://shop.example.com/\n"
	nl = "\r\n" if crlf else "\n"
	body = ("--ALT\nContent-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: 7bit\n\n" + text +
		"--ALT\nContent-Type: text/html; charset=utf-8\n"
		"Content-Transfer-Encoding: quoted-printable\n\n" +
		quopri.encodestring(html.encode()).decode() + "\n--ALT--\n")
	head = ("From: app@app.test\nTo: rcpt@dest.test\nSubject: newsletter\n"
		"Message-ID: <bench@app.test>\nMIME-Version: 1.0\n"
		"Content-Type: multipart/alternative; boundary=\"ALT\"\n\n")
	data = (head + body).replace("\n", nl)
	with open(path, "w") as f:
		f.write(data)
	return len(data)


def cpu_bench(builddir, d, runs):
	src = os.path.join(HERE, "..")
	exe = os.path.join(d, "track_cpu")
	flags = subprocess.run(["pkg-config", "--cflags", "--libs", "gmime-3.0", "json-c",
				"libcrypto"], capture_output=True, text=True, check=True)
	subprocess.run(["cc", "-O2", "-I", os.path.join(src, "lib"), "-o", exe,
			os.path.join(HERE, "track_cpu.c"),
			os.path.join(builddir, "lib", "libposthook.a")] + flags.stdout.split(),
		       check=True)
	msg = os.path.join(d, "newsletter.eml")
	newsletter(msg, True)
	out = subprocess.run([exe, msg, str(runs)], capture_output=True, text=True,
			     check=True)
	print(out.stdout.strip(), flush=True)


class Milter:
	"""posthook-milter on a unix socket, tracking on or off."""

	def __init__(self, builddir, tracking):
		self.dir = scratch_dir("posthook-bench-track-")
		sock = os.path.join(self.dir, "sock", "milter.sock")
		conf = os.path.join(self.dir, "posthook.conf")
		with open(conf, "w") as f:
			f.write("state_dir = %s/state\npid_dir = %s\nmilter_socket = unix:%s\n"
				"user = postfix\ngroup = postfix\n%s"
				% (self.dir, self.dir, sock,
				   "tracking_url = https://track.example.com\n" if tracking
				   else ""))
		os.chmod(self.dir, 0o777)
		self.d = Daemon([os.path.join(builddir, "milter", "posthook-milter"),
				 "-f", "-c", conf])
		wait_until(lambda: os.path.exists(sock), 20, what="milter socket")
		self.spec = "unix:" + sock

	def stop(self):
		self.d.stop()


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("builddir")
	ap.add_argument("--messages", type=int, default=1000)
	ap.add_argument("--rounds", type=int, default=3)
	ap.add_argument("--cpu-runs", type=int, default=2000)
	a = ap.parse_args()
	builddir = os.path.abspath(a.builddir)
	d = scratch_dir("posthook-bench-")
	os.chmod(d, 0o755)
	cpu_bench(builddir, d, a.cpu_runs)
	msgfile = os.path.join(d, "message.txt")
	size = newsletter(msgfile, False)
	sink = Sink()
	off = Milter(builddir, False)
	on = Milter(builddir, True)
	setups = [("no milter", None, None), ("tracking off", off.spec, off.d.pid),
		  ("tracking on", on.spec, on.d.pid)]
	res = {s[0]: ([], [], []) for s in setups}
	try:
		for r in range(a.rounds):
			for name, spec, pid in setups:
				got = run_once(sink, spec, msgfile, a.messages, pid)
				for lst, v in zip(res[name], got):
					lst.append(v)
				print("round %d: %-13s %7.1f msg/s  CPU ms/msg: milter %.2f"
				      " Postfix %.2f" % ((r + 1, name) + got), flush=True)
	finally:
		off.stop()
		on.stop()
		sink.d.stop()
	print("\n%d messages of %d bytes, %d links, %d rounds (median):"
	      % (a.messages, size, LINKS, a.rounds))
	print("| setup | msg/s | CPU ms/msg: milter | Postfix |")
	print("| --- | ---: | ---: | ---: |")
	for name, _, _ in setups:
		rate, cpu, pcpu = (statistics.median(x) for x in res[name])
		print("| %s | %.1f | %.2f | %.2f |" % (name, rate, cpu, pcpu))


if __name__ == "__main__":
	main()
