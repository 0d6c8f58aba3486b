#!/usr/bin/env python3
"""logtail_print.py - posthook-logtail --print on real-looking logs.

Every prefix form, interleaved messages, and bad input (truncated lines,
lines over 64 KiB, NUL bytes, invalid UTF-8, other programs' lines, queue
ids never seen, a missing file): the output must be one valid JSON object
per event, with the right fields, and a clear log line for what is bad.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

from posthook_test import harness as H

TAILER = H.built("logtail", "posthook-logtail")
STORE_TOOL = H.built("tests", "logtail", "logtail_store_tool")

CHECKS = H.Checks(quiet=True)
check = CHECKS.check


def run(args, stdin=None):
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run([TAILER, "--print"] + args, input=stdin,
                       capture_output=True, env=env, timeout=120)
    events = []
    for line in p.stdout.decode("utf-8").splitlines():
        events.append(json.loads(line))
    return p.returncode, events, p.stderr.decode("utf-8", "replace")


def message_lines(stamp, qid, rcpt_lines, sender="app@example.com",
                  client="client=app[10.0.0.5], sasl_method=PLAIN, "
                         "sasl_username=app"):
    out = [
        f"{stamp} mx1 postfix/submission/smtpd[10]: {qid}: {client}",
        f"{stamp} mx1 postfix/cleanup[11]: {qid}: message-id=<{qid}@app.example>",
        f"{stamp} mx1 postfix/qmgr[12]: {qid}: from=<{sender}>, size=900, "
        f"nrcpt={len(rcpt_lines)} (queue active)",
    ]
    for r in rcpt_lines:
        out.append(f"{stamp} mx1 postfix/smtp[13]: {qid}: {r}")
    out.append(f"{stamp} mx1 postfix/qmgr[12]: {qid}: removed")
    return out


SENT = ("to=<ok@example.net>, relay=mx.example.net[192.0.2.7]:25, delay=1.2, "
        "delays=0.1/0.1/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued "
        "as 99AA88BB)")
BOUNCE = ("to=<bad@example.net>, relay=mx.example.net[192.0.2.7]:25, delay=1, "
          "delays=0/0/0.5/0.25, dsn=5.1.1, status=bounced (host "
          "mx.example.net[192.0.2.7] said: 550 5.1.1 <bad@example.net>: User "
          "unknown (in reply to RCPT TO command))")
DEFER = ("to=<full@example.net>, relay=mx.example.net[192.0.2.7]:25, delay=1, "
         "delays=0/0/0.5/0.25, dsn=4.2.2, status=deferred (host "
         "mx.example.net[192.0.2.7] said: 452 4.2.2 Mailbox full (in reply to "
         "RCPT TO command))")


def test_prefix_forms(tmp):
    stamps = {
        "classic": ("Nov  3 14:02:11", None),
        "maillog_file": ("Nov 03 14:02:11", None),
        "rfc3339": ("2026-11-03T14:02:11.250000+01:00", 1793710931.25),
    }
    for name, (stamp, epoch) in stamps.items():
        path = os.path.join(tmp, name + ".log")
        with open(path, "w") as f:
            f.write("\n".join(message_lines(stamp, "4BDD63F45",
                                            [SENT, BOUNCE, DEFER])) + "\n")
        rc, ev, err = run([path])
        check(rc == 0, f"{name}: exit {rc}: {err}")
        check([e["event"] for e in ev] == ["MessageSent", "MessageDeliveryFailed",
                                           "MessageDelayed"],
              f"{name}: events {[e['event'] for e in ev]}")
        if len(ev) != 3:
            continue
        p = ev[0]["payload"]
        check(p["status"] == "Sent", f"{name}: status")
        check(p["message"]["from"] == "app@example.com", f"{name}: from")
        check(p["message"]["message_id"] == "4BDD63F45@app.example",
              f"{name}: message_id")
        check(p["details"] == "Message for ok@example.net accepted by "
              "192.0.2.7:25 (mx.example.net)", f"{name}: details {p['details']}")
        check(p["time"] == 1.0, f"{name}: time {p['time']}")
        check(p["sent_with_ssl"] is False, f"{name}: ssl")
        check(len(ev[0]["uuid"]) == 36, f"{name}: uuid")
        if epoch is not None:
            check(abs(p["timestamp"] - epoch) < 1e-6,
                  f"{name}: timestamp {p['timestamp']} != {epoch}")
        else:
            # Yearless: local time (TZ=UTC), 3 November, 14:02:11.
            import time
            t = time.gmtime(p["timestamp"])
            check((t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
                  == (11, 3, 14, 2, 11), f"{name}: time stamp {t}")
        f = ev[1]["payload"]
        check(f["classification"] == "invalid_recipient"
              and f["classification_code"] == 10
              and f["smtp_enhanced_code"] == "5.1.1"
              and f["remote_host"] == "mx.example.net", f"{name}: bounce {f}")
        check(f["output"] == "550 5.1.1 <bad@example.net>: User unknown",
              f"{name}: output {f['output']}")
        d = ev[2]["payload"]
        check(d["status"] == "SoftFail" and d["classification"] == "mailbox_full",
              f"{name}: deferral {d}")


def test_interleaved_and_bad_input(tmp):
    a = message_lines("Nov  3 14:02:11", "1A1A1A1A1A", [SENT, DEFER])
    b = message_lines("Nov  3 14:02:12", "2B2B2B2B2B", [BOUNCE])
    lines = []
    for x, y in zip(a, b + [""] * len(a)):
        lines.append(x.encode())
        if y:
            lines.append(y.encode())
    bad = [
        b"Nov  3 14:02:13 mx1 dovecot[7]: imap-login: Login: user=<x>",
        b"Nov  3 14:02:13 mx1 postfix/smtp[13]: 3C3C3C3C3C: to=<trunc@exa",
        b"Nov  3 14:02:13 mx1 postfix/smtp[13]: 3C3C3C3C3C: to=<t@example.net>, "
        b"relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (conn",
        b"garbage \x00\x01\x02 line",
        b"Nov  3 14:02:13 mx1 postfix/smtp[13]: 4D4D4D4D4D: to=<u\xff\xfe@example.net>, "
        b"relay=mx[192.0.2.9]:25, delay=1, delays=0/0/1/0, dsn=5.7.1, status="
        b"bounced (host mx[192.0.2.9] said: 554 5.7.1 \xc3\x28 bad\x00byte "
        b"(in reply to end of DATA command))",
        b"Nov  3 14:02:13 mx1 postfix/smtp[13]: 5E5E5E5E5E: to=<big@example.net>, "
        b"relay=mx[192.0.2.9]:25, delay=1, delays=0/0/1/0, dsn=5.0.0, status="
        b"bounced (" + b"x" * 70000 + b")",
        b"Nov  3 14:02:13 mx1 postfix/smtp[13]: 6F6F6F6F6F: to=<huge@example.net>, "
        b"relay=mx[192.0.2.9]:25, delay=1, delays=0/0/1/0, dsn=5.0.0, status="
        b"bounced (" + b"y" * 400000 + b")",
        b"",
        b"Nov  3 14:02:14 mx1 postfix/smtp[13]: 7A7A7A7A7A: to=<last@example.net>, "
        b"relay=mx[192.0.2.9]:25, delay=1, delays=0/0/1/0, dsn=2.0.0, status=sent "
        b"(250 ok)",
    ]
    data = b"\n".join(lines + bad)   # the last line has no newline
    path = os.path.join(tmp, "bad.log")
    with open(path, "wb") as f:
        f.write(data)
    rc, ev, err = run([path])
    check(rc == 0, f"bad input: exit {rc}")
    got = [(e["event"], e["payload"]["message"]["to"]) for e in ev]
    want = [
        ("MessageSent", "ok@example.net"),
        ("MessageDeliveryFailed", "bad@example.net"),
        ("MessageDelayed", "full@example.net"),
        ("MessageDelayed", "t@example.net"),
        ("MessageDeliveryFailed", "u\ufffd\ufffd@example.net"),
        ("MessageDeliveryFailed", "big@example.net"),
        ("MessageDeliveryFailed", "huge@example.net"),
        ("MessageSent", "last@example.net"),
    ]
    check(got == want, f"bad input: events {got}")
    for e in ev:
        if e["payload"]["message"]["to"] == "big@example.net":
            check(len(e["payload"]["output"]) == 70000, "64 KiB line read whole")
        if e["payload"]["message"]["to"] == "u\ufffd\ufffd@example.net":
            check("\ufffd( bad\ufffdbyte" in e["payload"]["output"],
                  f"invalid UTF-8 and NUL replaced: {e['payload']['output']}")
    check("longer than" in err, f"cut line logged: {err[:300]}")
    # Queue id never seen: no sender known.
    last = ev[-1]["payload"]["message"]
    check(last["from"] is None and last["message_id"] is None, f"unseen qid {last}")


def test_stdin_missing_file_and_config(tmp):
    log = "\n".join(message_lines("Nov  3 14:02:11", "1A1A1A1A1A", [SENT])) + "\n"
    rc, ev, err = run([], stdin=log.encode())
    check(rc == 0 and len(ev) == 1, f"stdin: {rc} {len(ev)}")
    good = os.path.join(tmp, "good.log")
    with open(good, "w") as f:
        f.write(log)
    rc, ev, err = run([os.path.join(tmp, "missing.log"), good])
    check(rc == 1, f"missing file: exit {rc}")
    check("missing.log" in err and "cannot open" in err, f"missing file logged: {err}")
    check(len(ev) == 1, "the good file is still read")

    # A gzip-compressed rotated log reads as the plain one; a damaged one
    # keeps what decompresses and says why the rest is not read.
    packed = gzip.compress(log.encode())
    gz = os.path.join(tmp, "good.log.2.gz")
    with open(gz, "wb") as f:
        f.write(packed)
    rc, gev, err = run([gz])
    check(rc == 0 and [e["payload"]["message"]["to"] for e in gev]
          == [e["payload"]["message"]["to"] for e in ev],
          f"gzip file: {rc} {len(gev)} {err}")
    cut = os.path.join(tmp, "cut.log.gz")
    with open(cut, "wb") as f:
        f.write(gzip.compress((log * 200).encode())[:-20])
    rc, cev, err = run([cut])
    check(rc == 1 and "cut.log.gz: read:" in err and 0 < len(cev) <= 200,
          f"cut gzip file: exit {rc}, {len(cev)} events, {err!r}")

    # report = outgoing from a config: incoming mail is not reported.
    incoming = "\n".join(message_lines(
        "Nov  3 14:02:11", "2B2B2B2B2B", [SENT],
        client="client=mail.other.example[198.51.100.9]")) + "\n"
    both = os.path.join(tmp, "both.log")
    with open(both, "w") as f:
        f.write(log + incoming)
    rc, ev, err = run([both])
    check(len(ev) == 2, f"report=all by default: {len(ev)}")
    conf = os.path.join(tmp, "posthook.conf")
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    with open(conf, "w") as f:
        f.write(f"state_dir = {state}\nreport = outgoing\n")
    rc, ev, err = run(["-c", conf, both])
    check(rc == 0, f"with -c: exit {rc} {err}")
    check([e["payload"]["message"]["message_id"] for e in ev]
          == ["1A1A1A1A1A@app.example"], f"report=outgoing: {len(ev)} events")


def test_milter_records(tmp):
    """With -c, --print fills id, token, tag, subject and metadata from the
    milter's records (read-only); report = recorded keeps only those."""
    state = os.path.join(tmp, "recstate")
    os.mkdir(state)
    rec = {"id": 77, "token": "tok77", "queue_id": "1A1A1A1A1A",
           "message_id": "app-given@example.com", "from": "app@example.com",
           "subject": "Welcome", "timestamp": 1793710900.5, "tag": "onboarding",
           "metadata": {"user_id": "usr_1"}, "recipients": ["ok@example.net"],
           "direction": "outgoing", "spam_status": "NotSpam"}
    p = subprocess.run([STORE_TOOL, state, json.dumps(rec)], capture_output=True,
                       timeout=60)
    check(p.returncode == 0, f"record stored: {p.stderr}")
    log = ("\n".join(message_lines("Nov  3 14:02:11", "1A1A1A1A1A", [SENT],
                                    sender="bounce+x@example.com"))
           + "\n" + "\n".join(message_lines("Nov  3 14:02:12", "2B2B2B2B2B", [SENT]))
           + "\n")
    path = os.path.join(tmp, "rec.log")
    with open(path, "w") as f:
        f.write(log)
    conf = os.path.join(tmp, "rec.conf")
    with open(conf, "w") as f:
        f.write(f"state_dir = {state}\n")
    rc, ev, err = run(["-c", conf, path])
    check(rc == 0 and len(ev) == 2, f"-c: {rc} {len(ev)} {err}")
    if len(ev) == 2:
        m = ev[0]["payload"]["message"]
        check((m["id"], m["token"], m["tag"], m["subject"], m["metadata"],
               m["from"], m["message_id"], m["spam_status"], m["timestamp"])
              == (77, "tok77", "onboarding", "Welcome", {"user_id": "usr_1"},
                  "app@example.com", "app-given@example.com", "NotSpam",
                  1793710900.5), f"record fields {m}")
        m = ev[1]["payload"]["message"]
        check(m["id"] is None and m["token"] is None, "no record: nulls")
    with open(conf, "a") as f:
        f.write("report = recorded\n")
    rc, ev, err = run(["-c", conf, path])
    check([e["payload"]["message"]["token"] for e in ev] == ["tok77"],
          f"report = recorded: {len(ev)} events")


def test_tls_reused_and_hold_reasons(tmp):
    """A TLS connection cached by one smtp process and taken up by another
    (Postfix logs "TLS connection reused to"): its delivery was over TLS.
    Hold lines whose content holds " from " and "]: ", or whose client sent
    no HELO: the reason is the trigger, or the text after the envelope."""
    s = "Nov  3 14:02:11 mx1 postfix"
    lines = [
        f"{s}/smtp[20]: Untrusted TLS connection established to "
        "mx.example.net[192.0.2.7]:25: TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits)",
        f"{s}/smtp[20]: 5AAA00001: {SENT}",
        f"{s}/smtp[21]: Untrusted TLS connection reused to "
        "mx.example.net[192.0.2.7]:25: TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits)",
        f"{s}/smtp[21]: 5AAA00002: " + SENT.replace(
            ":25, delay=", ":25, conn_use=2, delay="),
        f"{s}/cleanup[22]: 5AAA00003: hold: header Subject: Re: [ops]: "
        "disk full from app[10.0.0.5]; from=<app@example.com> "
        "to=<ops@example.net> proto=ESMTP helo=<app>",
        f"{s}/cleanup[22]: 5AAA00004: hold: header Subject: hi from "
        "app[10.0.0.5]; from=<app@example.com> to=<ops@example.net> "
        "proto=SMTP: needs review",
    ]
    path = os.path.join(tmp, "reused.log")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    rc, ev, err = run([path])
    check(rc == 0 and len(ev) == 4, f"reused: exit {rc}, {len(ev)} events {err}")
    ssl = [e["payload"]["sent_with_ssl"] for e in ev[:2]]
    check(ssl == [True, True], f"sent_with_ssl over a reused TLS connection: {ssl}")
    details = [e["payload"]["details"] for e in ev[2:]]
    check(details == ["Message held: header Subject: Re: [ops]: disk full",
                      "Message held: needs review"],
          f"hold reasons: {details}")


def test_pipe_releases_waiting_holds():
    """Reading a pipe that stays open (tail -f | --print): a hold whose
    Message-ID line never comes is printed once the pipe has been quiet
    for a while, not only at the end of the input."""
    import select
    hold = ("Nov  3 14:02:11 mx1 postfix/cleanup[22]: 5AAA00009: hold: header "
            "Subject: x from app[10.0.0.5]; from=<app@example.com> "
            "to=<ops@example.net> proto=ESMTP helo=<app>: needs review\n")
    p = subprocess.Popen([TAILER, "--print"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, TZ="UTC"))
    try:
        p.stdin.write(hold.encode())
        p.stdin.flush()
        ready, _, _ = select.select([p.stdout], [], [], 30)
        line = p.stdout.readline() if ready else b""
        check(line and json.loads(line)["payload"]["status"] == "Held",
              f"pipe kept open: the waiting hold came out ({line[:80]!r})")
    finally:
        p.stdin.close()
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()


def main():
    test_pipe_releases_waiting_holds()
    with tempfile.TemporaryDirectory() as tmp:
        test_tls_reused_and_hold_reasons(tmp)
        test_milter_records(tmp)
        test_prefix_forms(tmp)
        test_interleaved_and_bad_input(tmp)
        test_stdin_missing_file_and_config(tmp)
    return CHECKS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
