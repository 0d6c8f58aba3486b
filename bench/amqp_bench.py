#!/usr/bin/env python3
"""amqp_bench - posthook-amqp's events per second, published with confirms
to a scratch RabbitMQ on loopback, beside the limit: a minimal rabbitmq-c
publisher (bench/amqp_pub_min.c, compiled at run time) sending messages of
the same size over one connection, confirms awaited per batch of the same
size, in the same run against the same broker.  The minimal publisher's
rate without confirms is printed too.

    python3 bench/amqp_bench.py BUILD_DIR [EVENTS] [BATCH]

BUILD_DIR holds amqp/posthook-amqp, webhook/posthook-webhook,
ctl/posthookctl and tests/webhook/webhook_queue (a build without
sanitizers).  EVENTS (default 20000) MessageSent events are queued and
fanned out into the sink's deliveries before posthook-amqp starts; the
rate is EVENTS over the time from its start to the last confirm recorded
in the store (each delivery completed with its attempt record), read from
posthookctl status.  Root: the broker runs as the rabbitmq user.
AMQP_BENCH_PERF=FILE records the timed run with perf(1);
AMQP_BENCH_CALLGRIND=FILE runs it under valgrind's callgrind instead."""

import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("top_builddir", os.path.abspath(sys.argv[1]))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from posthook_test import harness as H  # noqa: E402
from posthook_test import rabbit as R  # noqa: E402
from posthook_test import webhook as W  # noqa: E402

EXCHANGE = "posthook.bench"


def status(env):
	doc = json.loads(env.ctl("--json", "status", check=False).stdout)
	return doc.get("amqp") or {}


def main():
	build = os.path.abspath(sys.argv[1])
	events = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
	batch = int(sys.argv[3]) if len(sys.argv) > 3 else 500
	broker = R.Broker()
	env = None
	try:
		broker.start()
		env = W.Env(amqp_url=broker.url, amqp_exchange=EXCHANGE,
			    amqp_queue="bench", amqp_batch=str(batch),
			    amqp_host_name="bench-host")
		amqp = [os.path.join(build, "amqp", "posthook-amqp"), "-f", "-v",
			"-c", env.conf_path]
		# its endpoint first, then the events and their fan-out
		d = H.Daemon(amqp, log=os.path.join(env.dir, "amqp0.log"))
		H.wait_until(lambda: status(env).get("state") == "connected",
			     30, what="posthook-amqp connected")
		d.stop()
		env.queue("MessageSent", events)
		env.start()
		H.wait_until(lambda: json.loads(env.ctl(
			"--json", "status", check=False).stdout)
			     ["outbox_depth"] == 0, 300, interval=0.5,
			     what="fan-out")
		env.stop()
		base = status(env).get("confirmed", 0)
		t0 = time.monotonic()
		cg = os.environ.get("AMQP_BENCH_CALLGRIND")
		prefix = (["valgrind", "--tool=callgrind",
			   "--callgrind-out-file=" + cg] if cg else [])
		d = H.Daemon(prefix + amqp,
			     log=os.path.join(env.dir, "amqp.log"))
		if os.environ.get("AMQP_BENCH_PERF"):
			perf = subprocess.Popen(["perf", "record", "-g", "-o",
						 os.environ["AMQP_BENCH_PERF"],
						 "-p", str(d.proc.pid)],
						stderr=subprocess.DEVNULL)
		H.wait_until(lambda: status(env).get("confirmed", 0) - base
			     >= events and status(env).get("oldest_due") == 0,
			     600, interval=0.5, what="all confirmed")
		took = time.monotonic() - t0
		if os.environ.get("AMQP_BENCH_PERF"):
			perf.send_signal(2)
			perf.wait()
		d.stop()
		q = broker.ctl("list_queues", "name", "messages").stdout
		size = 0
		reader = R.Reader(broker.url, "bench")
		conn = reader.pika.BlockingConnection(
			reader.pika.URLParameters(broker.url))
		m = conn.channel().basic_get("bench")
		size = len(m[2]) if m[0] is not None else 0
		conn.close()
		ours = events / took
		# the limit, same broker, same size
		exe = os.path.join(tempfile.mkdtemp(), "amqp_pub_min")
		subprocess.run(["cc", "-O2", "-o", exe,
				os.path.join(HERE, "amqp_pub_min.c"),
				"-lrabbitmq"], check=True)
		argv = [exe, "127.0.0.1", str(broker.port), EXCHANGE,
			str(events), str(size)]
		lim = float(subprocess.run(argv + [str(batch)], check=True,
					   capture_output=True, text=True)
			    .stdout)
		raw = float(subprocess.run(argv + ["0"], check=True,
					   capture_output=True, text=True)
			    .stdout)
		print("queue after the run:\n%s" % q.strip())
		print("message size %d bytes, batch %d, %d events" % (
			size, batch, events))
		print("posthook-amqp (store to confirm, attempts recorded): "
		      "%.0f events/s" % ours)
		print("minimal rabbitmq-c publisher, confirms per batch:     "
		      "%.0f msg/s" % lim)
		print("minimal rabbitmq-c publisher, no confirms:            "
		      "%.0f msg/s" % raw)
		print("posthook-amqp / limit: %.0f %%" % (100 * ours / lim))
		print("load average: %s" % open("/proc/loadavg").read().strip())
		with open(os.path.join(env.dir, "amqp.log")) as f:
			steps = [l for l in f if "published" in l]
		print("posthook-amqp's batches (first and last three):")
		print("".join(steps[:3] + steps[-3:]).rstrip())
	finally:
		if env is not None:
			env.finish()
		broker.close()


if __name__ == "__main__":
	main()
