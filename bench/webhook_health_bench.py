#!/usr/bin/env python3
"""webhook_health_bench - what a dead endpoint costs the healthy ones: ten
endpoints subscribed to MessageSent, nine on one loopback receiver, the
tenth either dead (a closed port: connection refused) or healthy (a second
receiver), in interleaved rounds (dead, healthy, dead, ...).  Per round:
the nine's deliveries per second, the daemon's CPU time per delivery made
(to the nine, and to the tenth when it is healthy), and event-to-receipt
latency (p50) at a light load.  Medians over the
rounds are printed last.

    python3 bench/webhook_health_bench.py BUILD_DIR [EVENTS] [ROUNDS]

BUILD_DIR as for webhook_bench.py (no sanitizers; tests/webhook_queue
built).  EVENTS (default 2000) wait in the outbox before the daemon starts,
so a round delivers 9 x EVENTS to the nine; ROUNDS (default 3) of each
kind."""

import json
import os
import statistics
import sys
import time

import webhook_bench as B  # noqa: E402 (sets top_builddir from argv)

W = B.W
ARGS = [a for a in sys.argv[2:] if not a.startswith("--")]
N = int(ARGS[0]) if ARGS else 2000
ROUNDS = int(ARGS[1]) if len(ARGS) > 1 else 3


def one_round(dead):
	"""one_round - deliver N events to ten endpoints; the nine's figures."""
	nine = B.CReceiver()
	tenth = None if dead else B.CReceiver()
	closed = W.H.ClosedPort() if dead else None
	env = W.Env(webhook_max_per_endpoint="8", webhook_max_in_flight="64",
		    retry_schedule="0 1m")
	for i in range(9):
		env.create("healthy %d" % i, nine.url, "MessageSent")
	env.create("tenth", "http://127.0.0.1:%d/hook" % closed.port if dead
		   else tenth.url, "MessageSent")
	for i in range(0, N, 5000):
		env.queue("MessageSent", min(5000, N - i))
	nine.reset()
	env.daemon = W.H.Daemon([W.DAEMON, "-f", "-c", env.conf_path],
				env=env.san.env(),
				log=os.path.join(env.dir, "webhook.log"))
	W.H.wait_until(lambda: nine.stats()[0] >= 1, 60, interval=0.01,
		       what="the first delivery")
	cpu0 = B.cpu_seconds(env.daemon.pid)
	W.H.wait_until(lambda: nine.stats()[0] >= 9 * N, 600, interval=0.1,
		       what="%d deliveries" % (9 * N))
	count, first, last = nine.stats()
	cpu = B.cpu_seconds(env.daemon.pid) - cpu0
	rate = (9 * N - 1) / (last - first)
	nine.reset()
	for i in range(100):
		env.queue("MessageSent", 1)
		time.sleep(0.02)
	W.H.wait_until(lambda: len(nine.lags()) >= 900, 60, what="latency sample")
	lag = nine.lags()
	st = json.loads(env.ctl("--json", "status", check=False).stdout)
	state = [e["state"] for e in st["endpoints"] if e["name"] == "tenth"][0]
	env.finish()
	nine.stop()
	if tenth:
		tenth.stop()
	if closed:
		closed.stop()
	# per delivery made: the healthy tenth's N count too, the dead one's
	# handful of failed attempts do not
	made = 9 * N if dead else 10 * N
	return {"dead": dead, "per_s": round(rate), "cpu_us": round(cpu / made * 1e6),
		"p50_ms": round(B.percentile(lag, 50) * 1000, 1),
		"tenth": state, "load": B.loadavg()}


def main():
	runs = []
	for r in range(ROUNDS):
		for dead in (True, False):
			runs.append(one_round(dead))
			print(json.dumps(runs[-1]))
			sys.stdout.flush()
	for dead in (True, False):
		rs = [x for x in runs if x["dead"] == dead]
		print("%s: median %d deliveries/s to the nine, %d us CPU a delivery, p50 %.1f ms"
		      % ("one dead" if dead else "all healthy",
			 statistics.median(x["per_s"] for x in rs),
			 statistics.median(x["cpu_us"] for x in rs),
			 statistics.median(x["p50_ms"] for x in rs)))
	return 0


if __name__ == "__main__":
	sys.exit(main())
