#!/usr/bin/env python3
"""logtail_postfix.py - posthook-logtail --print on a real Postfix's log.

A scratch Postfix (maillog_file, long queue ids, smtp_tls_loglevel = 1)
sends to a scripted MX with STARTTLS that answers per recipient: 250,
452 4.2.2 until the message expires, 550 5.1.1; one domain's port refuses
connections (deferred, then expired); a header_checks rule holds one
message; one goes in through sendmail(1).  Every delivery line of the log
must come out as the right event, field by field.
"""
import json
import os
import re
import subprocess
import sys

from posthook_test import harness as H

TAILER = H.built("logtail", "posthook-logtail")

OK = "ok@dest.test"
FULL = "full@dest.test"
UNKNOWN = "unknown@dest.test"
CLI = "cli@dest.test"
HELD = "held@dest.test"
REFUSED = "nobody@refused.test"
SENDER = "app@app.test"

CHECKS = H.Checks()
check = CHECKS.check


def events_of(ev, rcpt):
    return [e for e in ev if e["payload"]["message"]["to"] == rcpt]


def content_filter(san):
    """A message through an amavis-like filter that re-injects it: one
    event, for the final delivery, carrying the original's identity."""
    mx = H.ScriptedMX(script={"far@dest.test": "250 2.1.5 Ok",
                              "gone@dest.test": "550 5.1.1 no such user"})
    pf = H.ScratchPostfix(routes={"dest.test": mx.port}, reinject=True)
    filt = H.ContentFilter(pf.reinject_port)
    pf.use_content_filter(filt.port)
    with pf:
        q1 = pf.send_smtp(SENDER, "far@dest.test",
                          H.make_message(SENDER, "far@dest.test"))
        q2 = pf.send_smtp(SENDER, "gone@dest.test",
                          H.make_message(SENDER, "gone@dest.test"))
        pf.wait_log(r"to=<far@dest\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d"
                    r".*status=sent" % mx.port)
        pf.wait_log(r"to=<gone@dest\.test>.*status=bounced")
        env = san.env()
        env["TZ"] = "UTC"
        p = subprocess.run([TAILER, "--print", pf.maillog], capture_output=True,
                           env=env, timeout=120)
        ev = [json.loads(l) for l in p.stdout.decode().splitlines()]
        mids = {q: re.search(r"%s: message-id=<([^>]*)>" % q, pf.log()).group(1)
                for q in (q1, q2)}
        far = events_of(ev, "far@dest.test")
        gone = events_of(ev, "gone@dest.test")
        check(len(filt.reinjected) == 2, "the filter re-injected both")
        check(len(far) == 1 and far[0]["event"] == "MessageSent"
              and ":%d " % mx.port in far[0]["payload"]["details"],
              "filter hop: one Sent, for the final delivery")
        check(far and far[0]["payload"]["message"]["message_id"] == mids[q1],
              "filter hop: the original's Message-ID")
        check(len(gone) == 1 and gone[0]["event"] == "MessageDeliveryFailed",
              "filter hop: one HardFail for the final delivery")
        if CHECKS.failures:
            pf.save_log()
    filt.stop()
    mx.stop()


def main():
    if os.geteuid() != 0:
        print("needs root to run Postfix")
        return 77
    san = H.SanitizerDir()
    content_filter(san)
    mx = H.ScriptedMX(tls=True, script={
        OK: "250 2.1.5 Ok",
        CLI: "250 2.1.5 Ok",
        HELD: "250 2.1.5 Ok",
        FULL: "452 4.2.2 <full@dest.test>: Mailbox full",
        UNKNOWN: "550 5.1.1 <unknown@dest.test>: Recipient address "
                 "rejected: User unknown in virtual mailbox table",
    })
    closed = H.ClosedPort()
    pf = H.ScratchPostfix(routes={"dest.test": mx.port,
                                  "refused.test": closed.port},
                          header_checks=["/^Subject: hold me/ HOLD needs review"],
                          queue_lifetime="6s")
    with pf:
        q_ok = pf.send_smtp(SENDER, OK, H.make_message(SENDER, OK))
        q_full = pf.send_smtp(SENDER, FULL, H.make_message(SENDER, FULL))
        q_unk = pf.send_smtp(SENDER, UNKNOWN, H.make_message(SENDER, UNKNOWN))
        q_ref = pf.send_smtp(SENDER, REFUSED, H.make_message(SENDER, REFUSED))
        q_held = pf.send_smtp(SENDER, HELD, H.make_message(
            SENDER, HELD, subject="hold me please"))
        q_cli = pf.sendmail(SENDER, CLI, H.make_message(SENDER, CLI))
        pf.wait_log(r"%s: to=<%s>.*status=sent" % (q_ok, OK))
        pf.wait_log(r"%s: to=<%s>.*status=sent" % (q_cli, CLI))
        pf.wait_log(r"%s: to=<%s>.*status=bounced" % (q_unk, UNKNOWN))
        pf.wait_log(r"%s: hold: " % q_held)
        pf.wait_log(r"%s: from=<%s>, status=expired" % (q_full, SENDER), 90)
        pf.wait_log(r"%s: from=<%s>, status=expired" % (q_ref, SENDER), 90)
        pf.wait_log(r"%s: removed" % q_ref, 30)
        log = pf.maillog
        env = san.env()
        env["TZ"] = "UTC"
        p = subprocess.run([TAILER, "--print", log], capture_output=True,
                           env=env, timeout=120)
        check(p.returncode == 0, "--print exit status 0 (%s)" % p.stderr[-300:])
        ev = [json.loads(l) for l in p.stdout.decode().splitlines()]
        if CHECKS.failures:
            pf.save_log()

    ok = events_of(ev, OK)
    check(len(ok) == 1 and ok[0]["event"] == "MessageSent", "250: one MessageSent")
    if ok:
        p = ok[0]["payload"]
        check(re.fullmatch(r"Message for ok@dest\.test accepted by "
                           r"127\.0\.0\.1:%d \(127\.0\.0\.1\)" % mx.port,
                           p["details"]) is not None, "sent details: " + p["details"])
        check(p["output"].startswith("250 2.0.0 Ok: queued as"), "sent output")
        check(p["sent_with_ssl"] is True, "STARTTLS seen through the TLS line")
        check(p["message"]["from"] == SENDER, "from")
        check(p["message"]["message_id"] is not None
              and "<" not in p["message"]["message_id"], "message_id")
        check(isinstance(p["time"], float) and p["time"] >= 0, "time")

    cli = events_of(ev, CLI)
    check(len(cli) == 1 and cli[0]["event"] == "MessageSent", "sendmail: Sent")

    unk = events_of(ev, UNKNOWN)
    check(len(unk) == 1 and unk[0]["event"] == "MessageDeliveryFailed",
          "550: one MessageDeliveryFailed")
    if unk:
        p = unk[0]["payload"]
        check(p["classification"] == "invalid_recipient"
              and p["classification_code"] == 10, "550: invalid_recipient")
        check(p["smtp_enhanced_code"] == "5.1.1", "550: enhanced code")
        check(p["details"].startswith("550 invalid_recipient: Delivery to "
                                      "unknown@dest.test failed at 127.0.0.1:"),
              "550 details: " + p["details"])
        check(p["output"] == "550 5.1.1 <unknown@dest.test>: Recipient address "
              "rejected: User unknown in virtual mailbox table", "550 output")

    full = events_of(ev, FULL)
    kinds = [e["event"] for e in full]
    check(len(full) >= 2 and set(kinds[:-1]) == {"MessageDelayed"}
          and kinds[-1] == "MessageDeliveryFailed",
          "452: SoftFail until it expired: %s" % kinds)
    if full:
        d = full[0]["payload"]
        check(d["classification"] == "mailbox_full"
              and d["smtp_enhanced_code"] == "4.2.2", "452: mailbox_full")
        x = full[-1]["payload"]
        check(x["details"].startswith("Message expired after ")
              and "mailbox_full: Delivery to full@dest.test" in x["details"],
              "expiry details: " + x["details"])
        check(x["output"] == "452 4.2.2 <full@dest.test>: Mailbox full",
              "expiry output: " + x["output"])

    ref = events_of(ev, REFUSED)
    kinds = [e["event"] for e in ref]
    check(len(ref) >= 2 and kinds[-1] == "MessageDeliveryFailed"
          and set(kinds[:-1]) == {"MessageDelayed"}, "refused: %s" % kinds)
    if ref:
        d = ref[0]["payload"]
        check(d["details"] == "Connection error: Could not connect to any mail "
              "server for refused.test", "refused details: " + d["details"])
        check(d["classification"] == "connection_error"
              and d["smtp_enhanced_code"] is None and d["remote_host"] is None,
              "refused classification")
        check("Connection refused" in d["output"], "refused output")

    held = events_of(ev, HELD)
    check(len(held) == 1 and held[0]["event"] == "MessageHeld"
          and held[0]["payload"]["details"] == "Message held: needs review",
          "hold: MessageHeld: %s" % [e["payload"]["details"] for e in held])

    # Postfix's own bounce notices (from=<>) are no events.
    check(not events_of(ev, SENDER), "no events for notifications")
    n_lines = len([1 for l in open(log, errors="replace")
                   if re.search(r" to=<[^>]*>.*status=(sent|deferred|bounced)", l)
                   and "to=<%s>" % SENDER not in l])
    check(len(ev) == n_lines + 3,
          "one event per delivery line plus 2 expiries and 1 hold (%d, %d)"
          % (len(ev), n_lines))
    san.assert_clean()
    mx.stop()
    closed.stop()
    return CHECKS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
