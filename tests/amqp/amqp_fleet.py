#!/usr/bin/env python3
"""amqp_fleet - two posthook hosts publish every event to one RabbitMQ.

A scratch broker on loopback (posthook_test.rabbit); two stacks, each its
own Postfix, state dir and posthook-amqp (host-a, host-b), feed one topic
exchange and one quorum queue.  An independent client (pika) reads the
queue: every event the hosts' HTTP endpoints got is there too, from both
hosts, with its properties and headers, in order per message, duplicates
only with the same uuid.  Then the broker is stopped mid-run: HTTP goes
on, posthookctl status shows the sink down with its last error, and once
the broker is back nothing is missing; nor after one posthook-amqp is
killed with SIGKILL while it publishes.  A broker refusing the login
gives a clear log line; /metrics counts publishes and confirms.
"""

import json
import sys
import time
import urllib.request

from posthook_test import e2e_stack as E
from posthook_test import harness as H
from posthook_test import rabbit as R

EXCHANGE = "posthook.events"
QUEUE = "fleet"
PER_HOST = 4  # messages per host and phase; each makes two events


def http_events(st):
	"""(event, recipient, message token) of what the HTTP endpoint got."""
	with st.rcv._cond:
		bodies = [r.json for r in st.rcv.requests if r.json is not None]
	return {(b["event"], b["payload"]["message"]["to"],
		 b["payload"]["message"]["token"]) for b in bodies}


def amqp_events(reader, host):
	return {(m["body"]["event"], m["body"]["payload"]["message"]["to"],
		 m["body"]["payload"]["message"]["token"])
		for m in reader.messages
		if m["props"].headers.get("host_name") == host}


def send_batch(st, tag, n):
	"""n messages, each to an accepting and a refusing recipient."""
	qids = []
	for i in range(n):
		msg = H.make_message("app@app.test",
				     "ok-%s-%d@fleet.test" % (tag, i),
				     subject="%s %d" % (tag, i))
		qids.append(st.pf.send_smtp(
			"app@app.test", ["ok-%s-%d@fleet.test" % (tag, i),
					 "no-%s-%d@fleet.test" % (tag, i)], msg))
	return qids


def main():
	if not R.available():
		print("Bail out! rabbitmq-server is not installed "
		      "(tests/install-deps.sh)")
		return 1
	res = E.Results()
	broker = R.Broker()
	mx = H.ScriptedMX()
	stacks = []
	try:
		broker.start()
		print("# broker %s up" % broker.node)
		for i in range(PER_HOST):
			for tag in ("a1", "b1", "a2", "b2", "a3"):
				mx.script["no-%s-%d@fleet.test" % (tag, i)] = \
					"550 5.1.1 no such user"
		for host in ("host-a", "host-b"):
			st = E.Stack(routes={"fleet.test": mx.port}, conf={
				"amqp_url": broker.url,
				"amqp_exchange": EXCHANGE,
				"amqp_queue": QUEUE,
				"amqp_host_name": host,
				"amqp_batch": "50",
				"amqp_backoff_max": "2s",
				"api_listen": "127.0.0.1:%d" % H.free_port(),
			})
			stacks.append(st)
			st.start()
			st.host = host
		a, b = stacks
		# a refusing broker (wrong password): a clear error, events wait
		good = b.conf["amqp_url"]
		b.conf["amqp_url"] = good.replace("guest:guest", "guest:wrong")
		b._write_conf()
		b.start_daemon("posthook-amqp")
		refused = H.wait_until(lambda: "ACCESS_REFUSED" in
				       b.daemons["posthook-amqp"].output() and
				       b.daemons["posthook-amqp"].output(), 60,
				       what="posthook-amqp refused by the broker")
		line = [l for l in refused.splitlines() if "ACCESS_REFUSED" in l][0]
		print("# " + line)
		res.check("login" in line and "guest:wrong" not in line and
			  "connecting again in" in line,
			  "wrong credentials: a clear log line, no password")
		b.daemons.pop("posthook-amqp").stop()
		b.conf["amqp_url"] = good
		b._write_conf()
		for st in stacks:
			st.start_daemon("posthook-amqp")
		reader = R.Reader(broker.url, QUEUE)

		def have_all(want):
			reader.drain()
			return all(want[st.host] <= amqp_events(reader, st.host)
				   for st in stacks)

		def http_count(n):
			return all(len(http_events(st)) >= n for st in stacks)

		# phase 1: the broker is up
		qids = {"host-a": send_batch(a, "a1", PER_HOST),
			"host-b": send_batch(b, "b1", PER_HOST)}
		H.wait_until(lambda: http_count(2 * PER_HOST), 120,
			     what="phase 1 on the HTTP endpoints")
		want = {st.host: http_events(st) for st in stacks}
		H.wait_until(lambda: have_all(want), 60,
			     what="phase 1 events in the queue")
		res.check(True, "phase 1: every event of both hosts in the queue")

		# phase 2: the broker goes away mid-run
		broker.stop()
		print("# broker stopped")
		qids["host-a"] += send_batch(a, "a2", PER_HOST)
		qids["host-b"] += send_batch(b, "b2", PER_HOST)
		H.wait_until(lambda: http_count(4 * PER_HOST), 120,
			     what="phase 2 on the HTTP endpoints")
		res.check(True, "broker down: HTTP deliveries went on")
		def sink_down():
			r = a.ctl("--json", "status", check=False)
			try:
				doc = json.loads(r.stdout)
			except ValueError:
				return None
			s = doc.get("amqp") or {}
			return s if s.get("state") == "down" and \
				s.get("last_error") else None
		status = H.wait_until(sink_down, 30, what="status: sink down")
		res.check(status.get("waiting", 0) > 0 or
			  status.get("oldest_due", 0) > 0,
			  "status shows events waiting for the broker",
			  json.dumps(status))
		broker.start()
		print("# broker started again")
		want = {st.host: http_events(st) for st in stacks}
		H.wait_until(lambda: have_all(want), 120,
			     what="every event in the queue after the outage")
		res.check(True, "after the outage: nothing missing")

		# phase 3: posthook-amqp killed (SIGKILL) while it publishes
		qids["host-a"] += send_batch(a, "a3", PER_HOST)
		H.wait_until(lambda: len(http_events(a)) > 4 * PER_HOST, 120,
			     what="phase 3 under way")
		d = a.daemons.pop("posthook-amqp")
		d.proc.kill()
		d.proc.wait()
		print("# host-a's posthook-amqp killed")
		a.start_daemon("posthook-amqp")
		H.wait_until(lambda: http_count(4 * PER_HOST) and
			     len(http_events(a)) >= 6 * PER_HOST, 120,
			     what="phase 3 on the HTTP endpoint")
		want = {st.host: http_events(st) for st in stacks}
		H.wait_until(lambda: have_all(want), 120,
			     what="every event in the queue after SIGKILL")
		time.sleep(1)
		reader.drain()
		res.check(True, "after SIGKILL: nothing missing")

		# what each message carries
		by_uuid = {}
		dups = 0
		for m in reader.messages:
			u = m["body"]["uuid"]
			if u in by_uuid:
				dups += 1
				res.check(by_uuid[u]["raw"] == m["raw"],
					  "a duplicate is the same message", u)
			by_uuid[u] = m
		print("# %d messages, %d distinct, %d duplicates" % (
			len(reader.messages), len(by_uuid), dups))
		res.check(len(by_uuid) == sum(len(w) for w in want.values()),
			  "one distinct uuid per event",
			  "%d vs %d" % (len(by_uuid),
					sum(len(w) for w in want.values())))
		bad = []
		for m in by_uuid.values():
			p, body = m["props"], m["body"]
			h = p.headers or {}
			tenant = h.get("tenant")
			ok = (m["exchange"] == EXCHANGE
			      and m["key"] == "%s.default" % body["event"]
			      and tenant == "default"
			      and p.message_id == body["uuid"]
			      and p.type == body["event"]
			      and p.app_id == "posthook"
			      and p.delivery_mode == 2
			      and p.content_type == "application/json"
			      and abs(p.timestamp - body["timestamp"]) < 2
			      and h.get("host_name") in ("host-a", "host-b")
			      and h.get("queue_id") in qids[h.get("host_name")]
			      and h.get("event_key"))
			if not ok:
				bad.append((m["key"], str(p), body.get("uuid")))
		res.check(not bad, "routing key, properties and headers",
			  repr(bad[:3]))
		# per message, the order the events were made
		order = {}
		for m in reader.messages:
			t = m["body"]["payload"]["message"]["token"]
			order.setdefault(t, []).append(m["body"]["timestamp"])
		res.check(all(ts == sorted(ts) for ts in order.values()),
			  "events of one message arrive in the order made")
		for st in stacks:
			r = st.ctl("status")
			print("# %s status:\n# %s" % (
				st.host, r.stdout.replace("\n", "\n# ")))
			res.check("amqp" in r.stdout and "connected" in r.stdout,
				  "%s: posthookctl status shows the sink "
				  "connected" % st.host)
		# the metrics count publishes and confirms
		a.start_daemon("posthook-api")
		url = "http://%s/metrics" % a.conf["api_listen"]

		def metrics():
			try:
				with urllib.request.urlopen(url, timeout=5) as f:
					return f.read().decode()
			except OSError:
				return None
		text = H.wait_until(metrics, 30, what="posthook-api /metrics")
		got = dict(l.split() for l in text.splitlines()
			   if l.startswith("posthook_amqp_"))
		res.check(int(got.get("posthook_amqp_confirmed_total", 0)) > 0
			  and int(got["posthook_amqp_published_total"])
			  >= int(got["posthook_amqp_confirmed_total"])
			  and got.get("posthook_amqp_connected") == "1",
			  "/metrics counts publishes and confirms", repr(got))
	except BaseException:
		H.mark_failed()
		for st in stacks:
			st.dump()
			print("# ---- posthook-amqp")
			try:
				with open(st._log("posthook-amqp")) as f:
					for line in f.read().splitlines()[-30:]:
						print("# " + line)
			except OSError:
				pass
		print("# ---- broker\n# " +
		      broker.output()[-2000:].replace("\n", "\n# "))
		raise
	finally:
		for st in stacks:
			for name in ("posthook-api", "posthook-amqp"):
				d = st.daemons.pop(name, None)
				if d is not None:
					d.stop()
			st.stop()
		mx.stop()
		broker.close()
	# LeakSanitizer and UBSan report when a daemon exits: only now
	for st in stacks:
		reports = st.san.reports()
		for path, text in reports:
			print("# ==== %s\n%s" % (path, text[:3000]))
		res.check(not reports, "%s: no sanitizer report from the daemons"
			  % st.host)
	return res.exit_code()


if __name__ == "__main__":
	sys.exit(main())
