#!/usr/bin/env python3
"""dns_bench.py - time `posthookctl domains check --all` over N domains
(default 1,000) served by a local nsd, in a private network namespace.

Usage (as root, in the build directory):
    top_srcdir=SRC top_builddir=. python3 SRC/bench/dns_bench.py [N] [PARALLEL...]

Each domain has an MX, an SPF policy with one include shared by all, a DKIM
key record (RSA, checked against the key given at add), a _dmarc record and
the return path; so one check asks about ten questions per domain, and the
run about ten thousand.  The zones are written once; each PARALLEL value
(dns_check_parallel; default 16) is timed on a fresh store.  Uses the test
namespace of tests/dns (nsd on 127.0.0.1, the stdlib responder in front).
"""
import os
import subprocess
import sys
import time

src = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("srcdir", os.path.join(src, "tests"))
sys.path.insert(0, os.path.join(src, "tests", "pylib"))
sys.path.insert(0, os.path.join(src, "tests", "dns"))
import dns_lib as D  # noqa: E402

if not D.isolate():
	sys.exit("dns_bench: needs root, unshare and nsd")
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
parallels = [int(a) for a in sys.argv[2:]] or [16]
keys = D.H.scratch_dir("posthook-dnsbench-")
keyfile, p = D.dkim_key(keys, "mail")
records = ["ns A 127.0.0.1", "mx.posthook A 198.18.0.10",
	   "rp.posthook MX 10 mx.posthook.example.",
	   "rp.posthook TXT " + D.txt("v=spf1 ip4:198.18.0.10 -all"),
	   "spf.posthook TXT " + D.txt("v=spf1 ip4:198.18.0.0/24 -all")]
for i in range(n):
	d = "d%d" % i
	records += ["%s MX 10 mx.posthook.example." % d,
		    "%s TXT %s" % (d, D.txt("v=spf1 include:spf.posthook.example -all")),
		    "mail._domainkey.%s TXT %s" % (d, D.txt("v=DKIM1; k=rsa; p=" + p)),
		    "_dmarc.%s TXT %s" % (d, D.txt("v=DMARC1; p=reject"))]
rev = D.zone("0.18.198.in-addr.arpa", ["10 PTR mx.posthook.example."])
nsd = D.Nsd({"example": D.zone("example", records), "0.18.198.in-addr.arpa": rev})
D.start_responder()
for par in parallels:
	env = D.W.Env(sending_ips="198.18.0.10", mx_hostnames="mx.posthook.example",
		      return_path_domain="rp.posthook.example",
		      dns_check_parallel=str(par))
	for i in range(n):
		env.ctl("domains", "add", "d%d.example" % i, "--dkim-selector", "mail",
			"--dkim-public-key", keyfile)
	start = time.monotonic()
	r = subprocess.run([D.W.CTL, "-c", env.conf_path, "--json", "domains", "check",
			    "--all"], capture_output=True, text=True, timeout=600)
	took = time.monotonic() - start
	lines = r.stdout.splitlines()
	ok = sum('"broken":false' in l for l in lines)
	print("%d domains, dns_check_parallel %d: %.2f s (%d OK, exit %d)"
	      % (n, par, took, ok, r.returncode), flush=True)
nsd.stop()
