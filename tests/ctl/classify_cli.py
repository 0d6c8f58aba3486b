#!/usr/bin/env python3
"""classify_cli.py - `posthookctl classify` end to end: one valid JSON object
per input line, in order, whatever the bytes of the line; smtp_enhanced_code
only when the reply has one (as in the webhook), the X.Y.Z given as dsn."""
import json
import os
import subprocess
import sys

CTL = os.path.join(os.environ.get("top_builddir", "."), "ctl", "posthookctl")

CASES = [
    (b"5.1.1\thost mx.example.com[192.0.2.1] said: 550-5.1.1 The email account "
     b"that you tried to reach does not exist. 550 5.1.1 NoSuchUser (in reply to "
     b"RCPT TO command)",
     {"classification": "invalid_recipient", "classification_code": 10,
      "smtp_code": 550, "smtp_enhanced_code": "5.1.1",
      "remote_host": "mx.example.com", "dsn": "5.1.1"}),
    (b"",
     {"classification": None, "classification_code": None, "smtp_code": None,
      "smtp_enhanced_code": None, "remote_host": None, "dsn": None}),
    (b"250 2.0.0 Ok: queued as 4XyZ",
     {"classification": None, "classification_code": None, "smtp_code": 250,
      "smtp_enhanced_code": "2.0.0", "remote_host": None, "dsn": None}),
    (b"4.4.1\tconnect to mx.example.com[192.0.2.1]:25: Connection refused\r",
     {"classification": "connection_error", "classification_code": 40,
      "smtp_code": None, "smtp_enhanced_code": None, "remote_host": None,
      "dsn": "4.4.1"}),
    (b"4.4.3\tHost or domain name not found. Name service error for "
     b"name=example.com type=MX: Host not found, try again",
     {"classification": "dns_failure", "classification_code": 21,
      "smtp_code": None, "smtp_enhanced_code": None, "remote_host": None,
      "dsn": "4.4.3"}),
    (b"no code, no known words",
     {"classification": "unclassified", "classification_code": 99,
      "smtp_code": None, "smtp_enhanced_code": None, "remote_host": None, "dsn": None}),
    (b"5.7.1\t",
     {"classification": "policy_rejection", "classification_code": 32,
      "smtp_code": None, "smtp_enhanced_code": None, "remote_host": None,
      "dsn": "5.7.1"}),
    # invalid UTF-8 and a NUL byte in the text and in the host name
    (b"host \xff\xfe[192.0.2.1] said: 550 \xc3\x28 \x00 user unknown \x01\x7f",
     {"classification": "invalid_recipient", "classification_code": 10,
      "smtp_code": 550, "smtp_enhanced_code": None, "remote_host": None, "dsn": None}),
    # a tab that is not after a dsn is part of the text
    (b"mailbox\tfull",
     {"classification": "unclassified", "classification_code": 99,
      "smtp_code": None, "smtp_enhanced_code": None, "remote_host": None, "dsn": None}),
    # a line of 1 MiB
    (b"552 5.2.2 mailbox full " + b"x" * (1 << 20),
     {"classification": "mailbox_full", "classification_code": 12,
      "smtp_code": 552, "smtp_enhanced_code": "5.2.2", "remote_host": None, "dsn": None}),
]


def main():
    data = b"\n".join(c[0] for c in CASES) + b"\n"
    p = subprocess.run([CTL, "classify"], input=data, capture_output=True,
                       check=False, timeout=60)
    if p.returncode != 0:
        sys.exit("posthookctl classify exited %d: %r" % (p.returncode, p.stderr))
    out = p.stdout.decode("utf-8", errors="strict").splitlines()
    if len(out) != len(CASES):
        sys.exit("%d output lines for %d input lines" % (len(out), len(CASES)))
    for (line, want), got in zip(CASES, out):
        obj = json.loads(got)
        if obj != want or list(obj) != list(want):
            sys.exit("for %r: got %s, want %s" % (line[:80], got, json.dumps(want)))
    # No newline at the end of the last line still gives its line.
    p = subprocess.run([CTL, "classify"], input=b"550 5.1.1 x", capture_output=True,
                       check=True, timeout=60)
    if json.loads(p.stdout)["classification"] != "invalid_recipient":
        sys.exit("last line without newline: %r" % p.stdout)
    p = subprocess.run([CTL, "classify", "extra"], input=b"", capture_output=True,
                       check=False, timeout=60)
    if p.returncode != 2:
        sys.exit("an extra argument should be a usage error, got %d" % p.returncode)
    print("ok: %d cases" % len(CASES))


if __name__ == "__main__":
    main()
