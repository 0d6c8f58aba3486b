#!/usr/bin/env python3
"""webhook_bench - posthook-webhook's signed deliveries per second to a
loopback receiver, side by side (one run) with the RSA-2048 signing rate of
`openssl speed -multi 2 rsa2048` and the receiver's own capacity (`wrk`);
then event-to-receipt latency (p50, p99) at a light load.  The signing
rate is measured just before and just after the deliveries and the mean
taken; the deliveries/s is EVENTS queued before the daemon starts, over the
time from the first receipt to the last.

    python3 bench/webhook_bench.py BUILD_DIR [EVENTS] [--receiver=c|python]
        [--perf=FILE] [--callgrind=FILE]

BUILD_DIR holds webhook/posthook-webhook, ctl/posthookctl and
tests/webhook/webhook_queue (a build configured without sanitizers; `make -C
BUILD_DIR/tests webhook/webhook_queue` makes the last).

The receiver (default `c`) is a small single-threaded epoll HTTP/1.1 server
whose source is below, compiled with cc -O2 at run time: it answers 200 and
notes each body's arrival time and envelope timestamp, no verification (the
tests verify; this measures the sender).  `python` is an asyncio server
instead, far slower per request, so it takes more of the CPU the sender
needs.  wrk measures whichever receiver is used, with a request shaped like
a delivery (an envelope body and the two signature headers).  The daemon's
and the receiver's CPU time over the timed run and the load average are
printed too: other work on the machine lowers every figure.  --perf=FILE
records the daemon's timed run with `perf record -g` into FILE (for the
split of its CPU time; the sampling costs it a little).  --callgrind=FILE
runs the daemon under callgrind and dumps the timed run's instruction
counts (FILE.1): a figure the machine's load does not move."""

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("top_builddir", os.path.abspath(sys.argv[1]))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from posthook_test import webhook as W  # noqa: E402

ARGS = [a for a in sys.argv[2:] if not a.startswith("--")]
N = int(ARGS[0]) if ARGS else 20000
RECEIVER = "c"
PERF = None
CALLGRIND = None
for a in sys.argv[2:]:
	if a.startswith("--receiver="):
		RECEIVER = a.split("=", 1)[1]
	elif a.startswith("--perf="):
		PERF = a.split("=", 1)[1]
	elif a.startswith("--callgrind="):
		CALLGRIND = a.split("=", 1)[1]

RECEIVER_C = r"""
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536
struct conn { int fd; size_t len; char buf[BUF]; };
static double *arr, *lag; static size_t narr, nlag, cap, lcap;
static char *out; static size_t outcap;

static double now(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec + t.tv_nsec / 1e9; }
static void note(const char *body, size_t len) {
	double t = now(); const char *p;
	if (narr == cap) { cap = cap ? cap * 2 : 65536; arr = realloc(arr, cap * sizeof(*arr)); }
	arr[narr++] = t;
	p = memmem(body, len, "\"timestamp\":", 12);
	if (p && memmem(body, len, "\"uuid\"", 6)) {
		if (nlag == lcap) { lcap = lcap ? lcap * 2 : 65536; lag = realloc(lag, lcap * sizeof(*lag)); }
		lag[nlag++] = t - strtod(p + 12, NULL);
	}
}
static void reply(int fd, const char *body) {
	char h[128]; size_t bl = strlen(body);
	int n = snprintf(h, sizeof(h), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", bl);
	if (outcap < n + bl + 1) { outcap = n + bl + 1; out = realloc(out, outcap); }
	memcpy(out, h, n); memcpy(out + n, body, bl);
	size_t off = 0, tot = n + bl;
	while (off < tot) { ssize_t w = write(fd, out + off, tot - off);
		if (w < 0) { if (errno == EAGAIN) { usleep(100); continue; } return; } off += w; }
}
static void stats(int fd, int lags) {
	size_t i, room = 64 + (lags ? nlag * 24 : 0); char *b = malloc(room), *p = b;
	if (lags) for (i = 0; i < nlag; i++) p += sprintf(p, "%.6f\n", lag[i]);
	else sprintf(p, "%zu %.6f %.6f\n", narr, narr ? arr[0] : 0.0, narr ? arr[narr - 1] : 0.0);
	reply(fd, b); free(b);
}
/* handle - every complete request in c->buf; -1 to close */
static int handle(struct conn *c) {
	for (;;) {
		char *e = memmem(c->buf, c->len, "\r\n\r\n", 4), *p;
		size_t hl, bl = 0, i;
		if (!e) return c->len == BUF ? -1 : 0;
		hl = e + 4 - c->buf;
		for (p = c->buf; p < e; p = memchr(p, '\n', e - p) + 1) {
			if (strncasecmp(p, "content-length:", 15) == 0) bl = strtoul(p + 15, NULL, 10);
			if (!memchr(p, '\n', e - p)) break;
		}
		if (hl + bl > BUF) return -1;
		if (c->len < hl + bl) return 0;
		if (strncmp(c->buf, "GET /stats", 10) == 0) stats(c->fd, 0);
		else if (strncmp(c->buf, "GET /lags", 9) == 0) stats(c->fd, 1);
		else if (strncmp(c->buf, "GET /reset", 10) == 0) { narr = nlag = 0; reply(c->fd, "ok"); }
		else { note(c->buf + hl, bl); reply(c->fd, "ok"); }
		i = hl + bl; memmove(c->buf, c->buf + i, c->len - i); c->len -= i;
	}
}
int main(void) {
	int ls = socket(AF_INET, SOCK_STREAM, 0), ep = epoll_create1(0), one = 1, i, n;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a); struct epoll_event ev, evs[256];
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (void *)&a, sizeof(a)) || listen(ls, 1024)) return 1;
	getsockname(ls, (void *)&a, &al);
	printf("%d\n", ntohs(a.sin_port)); fflush(stdout);
	fcntl(ls, F_SETFL, O_NONBLOCK);
	ev.events = EPOLLIN; ev.data.ptr = NULL; epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) { int fd;
				while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					c = calloc(1, sizeof(*c)); c->fd = fd;
					ev.events = EPOLLIN; ev.data.ptr = c; epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
				if (r > 0) { c->len += r; if (handle(c) < 0) r = 0; else continue; }
				if (r == 0 || errno != EAGAIN) { close(c->fd); free(c); }
				break;
			}
		}
	}
}
"""


class CReceiver:
	"""The C receiver above, compiled and started in a scratch directory."""

	def __init__(self):
		d = W.H.scratch_dir("bench-recv-")
		src = os.path.join(d, "recv.c")
		exe = os.path.join(d, "recv")
		with open(src, "w") as f:
			f.write(RECEIVER_C)
		subprocess.run(["cc", "-O2", "-o", exe, src], check=True)
		self.proc = subprocess.Popen([exe], stdout=subprocess.PIPE, text=True)
		self.pid = self.proc.pid
		self.port = int(self.proc.stdout.readline())
		self.base = "http://127.0.0.1:%d" % self.port
		self.url = self.base + "/hook"

	def _get(self, path):
		with urllib.request.urlopen(self.base + path, timeout=30) as r:
			return r.read().decode()

	def reset(self):
		self._get("/reset")

	def stats(self):
		"""stats - (count, first arrival, last arrival)."""
		n, first, last = self._get("/stats").split()
		return int(n), float(first), float(last)

	def lags(self):
		return [float(x) for x in self._get("/lags").split()]

	def stop(self):
		self.proc.kill()
		self.proc.wait()


class PyReceiver:
	"""A keep-alive HTTP/1.1 receiver on asyncio in this process."""

	def __init__(self):
		self.times = []
		self.lag = []
		self.pid = os.getpid()
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

	def reset(self):
		self.times.clear()
		self.lag.clear()

	def stats(self):
		t = list(self.times)
		return len(t), (t[0] if t else 0.0), (t[-1] if t else 0.0)

	def lags(self):
		return list(self.lag)

	def stop(self):
		pass


def openssl_rate():
	out = subprocess.run(["openssl", "speed", "-multi", "2", "-seconds", "5",
			      "rsa2048"], capture_output=True, text=True).stdout
	m = re.search(r"rsa 2048 bits\s+\S+\s+\S+\s+([0-9.]+)", out)
	return float(m.group(1))


WRK_BODY = ('{"event":"MessageSent","timestamp":1700000000.123456,'
	    '"uuid":"6f1c2a52-7d55-4a8e-9d0c-3b1c2f0a9e11","payload":{"message":'
	    '{"id":1234,"token":"a1b2c3d4e5f6","direction":"outgoing","message_id":'
	    '"<20240101.abc@example.org>","to":"someone@example.com","from":'
	    '"sender@example.org","subject":"A subject line","timestamp":'
	    '1700000000.1,"spam_status":"NotChecked","tag":null},"status":"Sent",'
	    '"details":"250 2.0.0 Ok: queued as 4Tq1","output":"250 2.0.0 Ok",'
	    '"sent_with_ssl":true,"timestamp":1700000000.2,"time":0.31}}')


def wrk_rate(url):
	lua = os.path.join(W.H.scratch_dir("bench-"), "post.lua")
	with open(lua, "w") as f:
		f.write('wrk.method = "POST"\nwrk.body = %s\n'
			'wrk.headers["Content-Type"] = "application/json"\n'
			'wrk.headers["User-Agent"] = "posthook/bench"\n'
			'wrk.headers["X-Posthook-Signature"] = "%s"\n'
			'wrk.headers["X-Posthook-Signature-KID"] = "%s"\n'
			% (json.dumps(WRK_BODY), "A" * 343 + "=", "0" * 64))
	out = subprocess.run(["wrk", "-t2", "-c64", "-d5s", "-s", lua, url],
			     capture_output=True, text=True).stdout
	return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))


def cpu_seconds(pid):
	"""cpu_seconds - user + system CPU time of a process, all threads."""
	with open("/proc/%d/stat" % pid) as f:
		fields = f.read().rsplit(")", 1)[1].split()
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
	with open("/proc/loadavg") as f:
		return float(f.read().split()[0])


def percentile(xs, p):
	xs = sorted(xs)
	return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def main():
	load0 = loadavg()
	sign0 = openssl_rate()
	rcv = CReceiver() if RECEIVER == "c" else PyReceiver()
	wrk = wrk_rate(rcv.url)
	# under callgrind a request waits long for its turn: no time limit hit
	env = W.Env(webhook_max_per_endpoint="64", webhook_max_in_flight="64",
		    retry_schedule="0 1m",
		    webhook_timeout="600s" if CALLGRIND else "2s")
	env.create("bench", rcv.url, "MessageSent")
	# the events wait in the outbox before the daemon starts, so that
	# queueing them (5,000 to a transaction) does not contend with it
	for i in range(0, N, 5000):
		env.queue("MessageSent", min(5000, N - i))
	rcv.reset()
	load1 = loadavg()
	cpu_r0 = cpu_seconds(rcv.pid)
	# no -v: debug lines off, as in production (one info line per attempt)
	cmd = [W.DAEMON, "-f", "-c", env.conf_path]
	if CALLGRIND:
		cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + CALLGRIND
		       ] + cmd
	env.daemon = W.H.Daemon(cmd,
				env=env.san.env(),
				log=os.path.join(env.dir, "webhook.log"))
	W.H.wait_until(lambda: rcv.stats()[0] >= 1, 600 if CALLGRIND else 60,
		       interval=0.01,
		       what="the first delivery")
	if CALLGRIND:
		subprocess.run(["callgrind_control", "-z", str(env.daemon.pid)],
			       stdout=subprocess.DEVNULL, check=True)
	cpu_d0 = cpu_seconds(env.daemon.pid)
	perf = None
	if PERF:
		perf = subprocess.Popen(["perf", "record", "-q", "-F", "2000", "-g",
					 "-o", PERF, "-p", str(env.daemon.pid)],
					stdout=subprocess.DEVNULL,
					stderr=subprocess.DEVNULL)
	W.H.wait_until(lambda: rcv.stats()[0] >= N, 600, interval=0.2,
		       what="%d deliveries" % N)
	if perf:
		perf.send_signal(2)
		perf.wait()
	if CALLGRIND:
		subprocess.run(["callgrind_control", "-d", str(env.daemon.pid)],
			       stdout=subprocess.DEVNULL, check=True)
	count, first, last = rcv.stats()
	elapsed = last - first
	cpu_d = cpu_seconds(env.daemon.pid) - cpu_d0
	cpu_r = cpu_seconds(rcv.pid) - cpu_r0
	load2 = loadavg()
	threads = len(os.listdir("/proc/%d/task" % env.daemon.pid))
	rate = (N - 1) / elapsed
	# the signing rate again right after: the load of a shared machine
	# moves, and the limit is the mean of the two
	sign1 = openssl_rate()
	sign = (sign0 + sign1) / 2

	# latency at a light load: one event every 20 ms
	rcv.reset()
	for i in range(200):
		env.queue("MessageSent", 1)
		time.sleep(0.02)
	W.H.wait_until(lambda: len(rcv.lags()) >= 200, 60, what="latency sample")
	lag = rcv.lags()
	env.finish()
	rcv.stop()
	limit = min(sign, wrk)
	print(json.dumps({
		"events": N,
		"receiver": RECEIVER,
		"deliveries_per_s": round(rate),
		"openssl_rsa2048_sign_per_s_2_cores": round(sign),
		"openssl_before_after": [round(sign0), round(sign1)],
		"wrk_receiver_req_per_s": round(wrk),
		"share_of_lower_limit": round(rate / limit, 3),
		"latency_p50_ms": round(percentile(lag, 50) * 1000, 1),
		"latency_p99_ms": round(percentile(lag, 99) * 1000, 1),
		"daemon_cpu_s_per_s": round(cpu_d / elapsed, 2),
		"receiver_cpu_s_per_s": round(cpu_r / elapsed, 2),
		"daemon_cpu_us_per_delivery": round(cpu_d / N * 1e6),
		"daemon_threads": threads,
		"loadavg_start_run_end": [load0, load1, load2],
	}, indent=1))


if __name__ == "__main__":
	main()
