#!/usr/bin/env python3
"""fleet_consumer - contrib/fleet/posthook-fleet-consumer stores a fleet's
events in PostgreSQL, once per uuid.

A scratch RabbitMQ and a scratch PostgreSQL cluster on loopback; envelopes
as posthook-amqp publishes them (two hosts, properties and headers), some
published twice, one message that is no event.  The consumer, run as an
admin would, leaves one row per uuid with host, queue id, tenant and
token, and nothing in the queue; run again, it adds nothing.
"""

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
import uuid as uuidlib

from posthook_test import e2e_stack as E
from posthook_test import harness as H
from posthook_test import rabbit as R

PG_BIN = "/usr/lib/postgresql/15/bin"
QUEUE = "fleet"
EXCHANGE = "posthook"


class Postgres:
	"""A scratch cluster run by the postgres user, trust on loopback."""

	def __init__(self):
		pw = pwd.getpwnam("postgres")
		self.base = H.scratch_dir("posthook-pg-")
		os.chown(self.base, pw.pw_uid, pw.pw_gid)
		self.data = os.path.join(self.base, "data")
		self.port = H.free_port()
		self.dsn = "host=127.0.0.1 port=%d user=postgres dbname=postgres" \
			% self.port
		self._pg(["initdb", "-A", "trust", "-U", "postgres", "-D",
			  self.data])
		self._pg(["pg_ctl", "-D", self.data, "-l",
			  os.path.join(self.base, "log"), "-w", "-o",
			  "-p %d -k %s -c listen_addresses=127.0.0.1"
			  % (self.port, self.base), "start"])

	def _pg(self, argv):
		subprocess.run(["runuser", "-u", "postgres", "--",
				os.path.join(PG_BIN, argv[0])] + argv[1:],
			       check=True, capture_output=True, timeout=120,
			       cwd=self.base)

	def stop(self):
		self._pg(["pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])
		shutil.rmtree(self.base, ignore_errors=True)


def envelope(host, i, event="MessageSent"):
	u = str(uuidlib.uuid4())
	body = {"event": event, "timestamp": 1700000000.5 + i, "uuid": u,
		"payload": {"message": {"id": i, "token": "tok%s%d" % (host, i),
					"to": "r%d@fleet.test" % i}}}
	return u, json.dumps(body, separators=(",", ":")).encode()


def consumer(url, dsn):
	prog = os.path.join(os.environ["top_srcdir"], "contrib", "fleet",
			    "posthook-fleet-consumer")
	env = dict(os.environ, PYTHONPATH="/usr/lib/python3/dist-packages")
	return subprocess.run(["/usr/bin/python3", prog, "--amqp", url,
			       "--queue", QUEUE, "--dsn", dsn, "--batch", "7",
			       "--idle-exit", "2"],
			      capture_output=True, text=True, timeout=120,
			      env=env)


def main():
	if not R.available() or not os.path.exists(PG_BIN):
		print("Bail out! rabbitmq-server or postgresql is not "
		      "installed (tests/install-deps.sh)")
		return 1
	pika = R.import_pika()
	sys.path.append("/usr/lib/python3/dist-packages")
	import psycopg2
	res = E.Results()
	broker = R.Broker()
	pg = None
	try:
		broker.start()
		pg = Postgres()
		conn = pika.BlockingConnection(pika.URLParameters(broker.url))
		ch = conn.channel()
		ch.exchange_declare(EXCHANGE, exchange_type="topic",
				    durable=True)
		ch.queue_declare(QUEUE, durable=True,
				 arguments={"x-queue-type": "quorum"})
		ch.queue_bind(QUEUE, EXCHANGE, "#")
		ch.confirm_delivery()
		sent = {}
		for host in ("host-a", "host-b"):
			for i in range(25):
				u, body = envelope(host, i)
				props = pika.BasicProperties(
					content_type="application/json",
					delivery_mode=2, message_id=u,
					type="MessageSent", app_id="posthook",
					headers={"host_name": host,
						 "tenant": "default",
						 "queue_id": "Q%s%d" % (host[-1], i)})
				ch.basic_publish(EXCHANGE, "MessageSent.default",
						 body, props)
				if i % 5 == 0:  # a republish: the same message
					ch.basic_publish(EXCHANGE,
							 "MessageSent.default",
							 body, props)
				sent[u] = (host, "Q%s%d" % (host[-1], i),
					   "tok%s%d" % (host, i))
		ch.basic_publish(EXCHANGE, "x.default", b"not json",
				 pika.BasicProperties(delivery_mode=2))
		conn.close()
		r = consumer(broker.url, pg.dsn)
		print("# " + (r.stdout + r.stderr).strip().replace("\n", "\n# "))
		res.check(r.returncode == 0, "the consumer ran and exited")
		res.check("no posthook event skipped" in r.stderr,
			  "the message that is no event was reported")
		db = psycopg2.connect(pg.dsn)
		with db.cursor() as cur:
			cur.execute("SELECT uuid::text, host_name, queue_id, "
				    "message_token, tenant, event FROM "
				    "posthook_events")
			rows = {u: (h, q, t) for u, h, q, t, ten, ev in
				cur.fetchall()}
			res.check(rows == sent,
				  "one row per uuid, with host, queue id and "
				  "token", "%d rows, %d sent" % (len(rows),
								 len(sent)))
			cur.execute("SELECT count(DISTINCT host_name), "
				    "min(event_time), max(event_time) "
				    "FROM posthook_events")
			hosts, lo, hi = cur.fetchone()
			res.check(hosts == 2 and lo < hi,
				  "both hosts, event times kept")
		q = R.Reader(broker.url, QUEUE)
		res.check(q.drain() == 0, "the queue is empty: all acked")
		r = consumer(broker.url, pg.dsn)
		with db.cursor() as cur:
			cur.execute("SELECT count(*) FROM posthook_events")
			res.check(cur.fetchone()[0] == len(sent),
				  "a second run adds nothing")
		db.close()
	except BaseException:
		H.mark_failed()
		print("# ---- broker\n# " +
		      broker.output()[-2000:].replace("\n", "\n# "))
		raise
	finally:
		if pg is not None:
			pg.stop()
		broker.close()
	return res.exit_code()


if __name__ == "__main__":
	sys.exit(main())
