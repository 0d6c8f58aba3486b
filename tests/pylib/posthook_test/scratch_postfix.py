#!/usr/bin/env python3
"""scratch_postfix - run a scratch Postfix and a scripted MX by hand.

  PYTHONPATH=tests/pylib python3 -m posthook_test.scratch_postfix
      [--mx-script FILE.json] [--tls] [--milter SOCKET]
      [--domain dest.test] [--set name=value ...]

Prints the smtpd port, MX port, config dir and maillog, then runs until
interrupted (^C or SIGTERM) and stops everything.  FILE.json maps each
recipient to a reply or a list of replies (see ScriptedMX).
"""

import argparse
import json
import signal
import sys
import time

from posthook_test import harness as H


def _interrupt(sig, frame):
	raise KeyboardInterrupt


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--mx-script")
	ap.add_argument("--tls", action="store_true")
	ap.add_argument("--milter", default="")
	ap.add_argument("--domain", default="dest.test")
	ap.add_argument("--set", action="append", default=[],
			metavar="NAME=VALUE")
	a = ap.parse_args()
	signal.signal(signal.SIGTERM, _interrupt)
	script = {}
	if a.mx_script:
		with open(a.mx_script) as f:
			script = json.load(f)
	main_cf = dict(kv.split("=", 1) for kv in a.set)
	mx = H.ScriptedMX(script=script, tls=a.tls)
	pf = H.ScratchPostfix(routes={a.domain: mx.port}, main=main_cf,
			      smtpd_milters=a.milter,
			      non_smtpd_milters=a.milter)
	pf.start()
	print("smtpd 127.0.0.1:%d  mx 127.0.0.1:%d" % (pf.port, mx.port))
	print("config %s\nmaillog %s" % (pf.conf, pf.maillog))
	print("sendmail -C %s ...   postqueue -c %s -p" % (pf.conf, pf.conf))
	sys.stdout.flush()
	try:
		while True:
			time.sleep(3600)
	except KeyboardInterrupt:
		pass
	return 0


if __name__ == "__main__":
	sys.exit(main())
