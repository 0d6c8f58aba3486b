"""DomainDNSError and DomainDNSOK at a receiver, through posthook-webhook,
as the hourly `domains check --all --events` makes them: once when a domain
breaks (not again every run), again when its errors change and every
dns_error_repeat while it stays broken, DomainDNSOK when it is fixed; a
flapping resolver (a timeout) changes nothing; the payload is docs/events.md's."""

import socket
import sys
import time

import dns_lib as D

if not D.isolate():
	print("SKIP: needs root, unshare and nsd (Debian package nsd)")
	sys.exit(77)

W, H = D.W, D.H
env = W.Env(dns_timeout="2s", sending_ips="198.18.0.10",
	    mx_hostnames="mx.posthook.example",
	    return_path_domain="rp.posthook.example", dns_error_repeat="24h")
base = [
	"ns A 127.0.0.1",
	"mx.posthook A 198.18.0.10",
	"rp.posthook MX 10 mx.posthook.example.",
	"rp.posthook TXT " + D.txt("v=spf1 ip4:198.18.0.10 -all"),
	"flip MX 10 mx.posthook.example.",
]
reverse = D.zone("0.18.198.in-addr.arpa", ["10 PTR mx.posthook.example."])


def zones(*extra):
	return {"example": D.zone("example", base + list(extra)),
		"0.18.198.in-addr.arpa": reverse}


nsd = D.Nsd(zones())
D.start_responder()
rcv = env.receiver()
# the events of tenant ev's domain go to ev's webhooks alone
env.ctl("tenants", "create", "ev")
env.create("dns", rcv.url, "DomainDNSError,DomainDNSOK", "--tenant", "ev")
env.start()
env.ctl("domains", "add", "flip.example", "--tenant", "ev")
env.ctl("domains", "add", "other.example")	# another tenant: not checked


def run(expect_rc=1):
	p = env.ctl("domains", "check", "--all", "--events", "--tenant", "ev",
		    check=False, timeout=120)
	assert p.returncode == expect_rc, p
	assert "other.example" not in p.stdout, p
	return p.stdout


def events(n, settle=2.0):
	"""Exactly n requests have arrived (waiting settle for a surplus)."""
	got = rcv.wait_requests(n, timeout=30) if n else []
	time.sleep(settle)
	assert len(rcv.requests) == n, [r.json for r in rcv.requests]
	assert all(r.verified for r in rcv.requests)
	return [r.json for r in rcv.requests]


SEED_KEYS = ["server", "domain", "uuid", "dns_checked_at", "spf_status",
	     "spf_error", "dkim_status", "dkim_error", "mx_status", "mx_error",
	     "return_path_status", "return_path_error"]
EXTRA_KEYS = ["dmarc_status", "dmarc_error", "dmarc_policy",
	      "dmarc_spf_aligned", "dmarc_dkim_aligned", "fcrdns_status",
	      "fcrdns_error", "tenant"]

# 1. broken: one DomainDNSError, the hosted API's fields first
out = run()
assert "DomainDNSError queued" in out, out
ev = events(1)[0]
assert ev["event"] == "DomainDNSError", ev
p = ev["payload"]
assert list(p.keys()) == SEED_KEYS + EXTRA_KEYS, list(p.keys())
assert list(p["server"].keys()) == ["uuid", "name"], p["server"]
assert p["server"]["name"] == socket.gethostname(), p["server"]
assert p["domain"] == "flip.example" and p["tenant"] == "ev", p
assert p["spf_status"] == "Missing", p
assert p["spf_error"] == "No SPF record exists for this domain", p
assert p["mx_status"] == "OK" and p["mx_error"] is None, p
assert p["return_path_status"] == "OK", p
assert isinstance(p["dns_checked_at"], float), p
server = p["server"]["uuid"]
print("broken: one DomainDNSError")

# 2. still broken, the same errors: nothing, run after run
run()
run()
events(1)
print("still broken: no event again")

# 3. the resolver times out: the last status stands, no event
D.dns_responder.SILENT.add("flip.example")
out = run()
assert "the last status is kept" in out, out
events(1)
shown = env.ctl_json("domains", "show", "flip.example", "--tenant", "ev")
assert shown["checks"]["spf"]["status"] == "Missing", shown
D.dns_responder.SILENT.discard("flip.example")
print("timeout: no event, Missing kept")

# 4. other errors: a new DomainDNSError
nsd.reload(zones("flip TXT " + D.txt("v=spf1 ip4:198.51.100.1 ~all")))
run()
ev = events(2)[1]
assert ev["event"] == "DomainDNSError", ev
assert ev["payload"]["spf_status"] == "Invalid", ev
assert "softfail" in ev["payload"]["spf_error"], ev
assert ev["payload"]["server"]["uuid"] == server
print("errors changed: DomainDNSError")

# 5. fixed: DomainDNSOK, once
nsd.reload(zones("flip TXT " + D.txt("v=spf1 ip4:198.18.0.10 -all")))
out = run(0)
assert "DomainDNSOK queued" in out, out
ev = events(3)[2]
assert ev["event"] == "DomainDNSOK", ev
assert all(ev["payload"][k + "_status"] == "OK"
	   for k in ("spf", "dkim", "mx", "return_path")), ev
run(0)
events(3)
print("fixed: one DomainDNSOK")

# 6. broken again, and still broken after dns_error_repeat: sent again
env.conf["dns_error_repeat"] = "3s"
env.write_conf()
nsd.reload(zones())
run()
events(4)
run()
events(4, settle=0)
time.sleep(3.2)
run()
ev = events(5)[4]
assert ev["event"] == "DomainDNSError" and ev["payload"]["spf_status"] == "Missing"
print("dns_error_repeat: DomainDNSError again while broken")

env.finish()
nsd.stop()
print("PASS")
