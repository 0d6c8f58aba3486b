"""refuse_private_endpoints (security review, RELIABILITY.md): with yes, the
sender never connects to a loopback or private address (here 127.0.0.1,
and ::1 when the host has it): the attempt fails with the reason and the
receiver sees nothing.  With no (the default) the same endpoint gets its
events.  A SIGHUP that turns the option on also stops connections that
were opened before and kept alive from being used again."""

import signal
import socket

from posthook_test import webhook as W

env = W.Env(retry_schedule="0", refuse_private_endpoints="yes")
rcv = env.receiver()
a = env.create("loopback", rcv.url, "MessageSent")

# a listener on ::1 that only counts connections, where IPv6 is up
v6 = None
try:
	v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
	v6.bind(("::1", 0))
	v6.listen(8)
	v6.settimeout(0)
	b = env.create("loopback6", "http://[::1]:%d/hook" % v6.getsockname()[1],
		       "MessageHeld")
except OSError:
	v6 = None
env.start()


def refused(endpoint, event, n):
	env.queue(event, 1)
	recs = env.wait_attempts(n, "--webhook", endpoint)
	rec = recs[-1]
	assert rec["success"] is False and rec["statusCode"] is None, rec
	assert rec["willRetry"] is False, rec
	return rec


# 1. yes: 127.0.0.1 refused before any connection
rec = refused(a, "MessageSent", 1)
print("127.0.0.1 refused:", rec["error"])
assert not rcv.requests, "a request reached 127.0.0.1"
assert "refuse_private_endpoints" in rec["error"], rec
W.H.wait_until(lambda: "refusing a connection to the private address "
	       "127.0.0.1" in env.daemon.output(), 10,
	       what="the refusal in the log")

# 2. yes: ::1 refused too
if v6 is not None:
	rec = refused(b, "MessageHeld", 1)
	print("::1 refused:", rec["error"])
	try:
		v6.accept()
		raise AssertionError("a connection reached ::1")
	except BlockingIOError:
		pass
else:
	print("no IPv6 loopback here: ::1 not tried")

# 3. no: the same endpoint gets its events (SIGHUP applies it)
env.conf["refuse_private_endpoints"] = "no"
env.write_conf()
env.daemon.send_signal(signal.SIGHUP)
W.H.wait_until(lambda: env.daemon.output().count("configuration reloaded")
	       >= 1, 10, what="reload")
env.queue("MessageSent", 2)
reqs = rcv.wait_requests(2, timeout=30)
assert all(q.verified for q in reqs)
recs = env.wait_attempts(3, "--webhook", a)
assert [r["success"] for r in recs] == [False, True, True], recs
print("refuse_private_endpoints = no: delivered to 127.0.0.1")

# 4. yes again by SIGHUP: the kept-alive connection to 127.0.0.1 is not
# used again
env.conf["refuse_private_endpoints"] = "yes"
env.write_conf()
env.daemon.send_signal(signal.SIGHUP)
W.H.wait_until(lambda: env.daemon.output().count("configuration reloaded")
	       >= 2, 10, what="second reload")
rec = refused(a, "MessageSent", 4)
assert len(rcv.requests) == 2, "a kept-alive connection was used: %r" % (
	rcv.requests,)
print("after SIGHUP: refused again, no kept-alive connection reused")

if v6 is not None:
	v6.close()
env.finish()
print("ok")
