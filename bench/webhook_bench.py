#!/usr/bin/env python3
"""webhook_bench - posthook-webhook's signed deliveries per second to a
loopback receiver, side by side (one run) with the RSA-2048 signing rate of
`openssl speed -multi 2 rsa2048` and the receiver's own capacity (`wrk`);
then event-to-receipt latency (p50, p99) at a light load.

    python3 bench/webhook_bench.py BUILD_DIR [EVENTS]

BUILD_DIR holds webhook/posthook-webhook, ctl/posthookctl and
tests/webhook_queue (a build configured without sanitizers)."""

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("top_builddir", os.path.abspath(sys.argv[1]))
os.environ.setdefault("srcdir", os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import webhook_lib as W  # noqa: E402

N = int(sys.argv[2]) if len(sys.argv) > 2 else 20000


class FastReceiver:
	"""A keep-alive HTTP/1.1 receiver on asyncio: answers 200 and notes
	each body's arrival time and envelope timestamp (no verification:
	the tests verify; this measures the sender)."""

	def __init__(self):
		self.times = []
		self.lag = []
		self.loop = asyncio.new_event_loop()
		self.ready = threading.Event()
		threading.Thread(target=self._run, daemon=True).start()
		self.ready.wait()

	def _run(self):
		asyncio.set_event_loop(self.loop)
		srv = self.loop.run_until_complete(
			asyncio.start_server(self._conn, "127.0.0.1", 0, backlog=512))
		self.port = srv.sockets[0].getsockname()[1]
		self.url = "http://127.0.0.1:%d/hook" % self.port
		self.ready.set()
		self.loop.run_forever()

	async def _conn(self, r, w):
		try:
			while True:
				head = await r.readuntil(b"\r\n\r\n")
				m = re.search(rb"(?i)content-length:\s*(\d+)", head)
				body = await r.readexactly(int(m.group(1))) if m else b""
				now = time.time()
				self.times.append(now)
				m = re.search(rb'"timestamp":([0-9.]+),"uuid"', body)
				if m:
					self.lag.append(now - float(m.group(1)))
				w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				await w.drain()
		except (asyncio.IncompleteReadError, ConnectionError):
			pass
		finally:
			w.close()


def openssl_rate():
	out = subprocess.run(["openssl", "speed", "-multi", "2", "-seconds", "5",
			      "rsa2048"], capture_output=True, text=True).stdout
	m = re.search(r"rsa 2048 bits\s+\S+\s+\S+\s+([0-9.]+)", out)
	return float(m.group(1))


def wrk_rate(url):
	lua = os.path.join(W.H.scratch_dir("bench-"), "post.lua")
	with open(lua, "w") as f:
		f.write('wrk.method = "POST"\nwrk.body = \'{"event":"x"}\'\n'
			'wrk.headers["Content-Type"] = "application/json"\n')
	out = subprocess.run(["wrk", "-t2", "-c64", "-d5s", "-s", lua, url],
			     capture_output=True, text=True).stdout
	return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))


def percentile(xs, p):
	xs = sorted(xs)
	return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def main():
	sign = openssl_rate()
	rcv = FastReceiver()
	wrk = wrk_rate(rcv.url)
	env = W.Env(webhook_max_per_endpoint="64", webhook_max_in_flight="64",
		    retry_schedule="0 1m")
	env.create("bench", rcv.url, "MessageSent")
	env.start()
	rcv.times.clear()
	rcv.lag.clear()
	t0 = time.time()
	for i in range(0, N, 5000):
		env.queue("MessageSent", min(5000, N - i))
	W.H.wait_until(lambda: len(rcv.times) >= N, 600, interval=0.2,
		       what="%d deliveries" % N)
	elapsed = rcv.times[N - 1] - t0
	rate = N / elapsed

	# latency at a light load: one event every 20 ms
	rcv.lag.clear()
	for i in range(200):
		env.queue("MessageSent", 1)
		time.sleep(0.02)
	W.H.wait_until(lambda: len(rcv.lag) >= 200, 60, what="latency sample")
	env.finish()
	limit = min(sign, wrk)
	print(json.dumps({
		"events": N,
		"deliveries_per_s": round(rate),
		"openssl_rsa2048_sign_per_s_2_cores": round(sign),
		"wrk_receiver_req_per_s": round(wrk),
		"share_of_lower_limit": round(rate / limit, 3),
		"latency_p50_ms": round(percentile(rcv.lag, 50) * 1000, 1),
		"latency_p99_ms": round(percentile(rcv.lag, 99) * 1000, 1),
	}, indent=1))


main()
