#!/usr/bin/env python3
"""logtail_journal.py - posthook-logtail with log_source = journal.

CI machines run no journald: journal files are written by
systemd-journal-remote from export-format input into a directory, which
the tailer opens (journal_dir).  Checks: events with the record's time
stamp to the microsecond, other facilities' and programs' records
ignored, resume after the saved cursor across SIGTERM and SIGKILL with
no event lost or repeated; a journal_dir that does not exist yet is
waited for (said once), not a reason to exit.
"""
import glob
import grp
import json
import os
import pwd
import signal
import subprocess
import sys
import tempfile
import time

from posthook_test import harness as H

TAILER = H.built("logtail", "posthook-logtail")
DUMP = H.built("tests", "logtail", "logtail_store_tool")
REMOTE = next((p for p in ("/lib/systemd/systemd-journal-remote",
                           "/usr/lib/systemd/systemd-journal-remote")
               if os.path.exists(p)), None)
BOOT = "0123456789abcdef0123456789abcdef"
BASE = 1795466434123456         # 2026-11-23T20:40:34.123456Z

CHECKS = H.Checks()
check = CHECKS.check


def entry(i, ident, msg, facility=2, pid=13):
    return (f"__REALTIME_TIMESTAMP={BASE + i}\n__MONOTONIC_TIMESTAMP={1000 + i}\n"
            f"_BOOT_ID={BOOT}\nSYSLOG_FACILITY={facility}\n"
            f"SYSLOG_IDENTIFIER={ident}\n_PID={pid}\n_HOSTNAME=mx1\n"
            f"MESSAGE={msg}\n\n")


def messages(first, n):
    """Export text for n messages, numbered from first."""
    out = []
    for k in range(first, first + n):
        qid = "%010X" % (0x2000000 + k)
        i = k * 10
        out.append(entry(i, "postfix/qmgr",
                         f"{qid}: from=<app@example.com>, size=9, nrcpt=1 (queue active)"))
        out.append(entry(i + 1, "sshd", "Accepted publickey for x", facility=4))
        out.append(entry(i + 2, "dovecot", "imap-login: Login", facility=2))
        out.append(entry(i + 3, "postfix/smtp",
                         f"{qid}: to=<j{k}@x.example>, relay=mx[192.0.2.1]:25, "
                         f"delay=1, delays=0/0/0.5/0.25, dsn=2.0.0, status=sent (250 ok)"))
        out.append(entry(i + 4, "postfix/qmgr", f"{qid}: removed"))
    return "".join(out)


def write_journal(jdir, name, text):
    src = os.path.join(jdir, "..", name + ".export")
    with open(src, "w") as f:
        f.write(text)
    p = subprocess.run([REMOTE, "-o", os.path.join(jdir, name + ".journal"), src],
                       capture_output=True, timeout=60)
    check(p.returncode == 0, "systemd-journal-remote wrote %s (%s)"
          % (name, p.stderr.decode()[-200:]))


def main():
    if REMOTE is None:
        print("systemd-journal-remote is not installed (Debian package "
              "systemd-journal-remote)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        jdir = os.path.join(tmp, "journal")
        state = os.path.join(tmp, "state")
        san = os.path.join(tmp, "san")
        for d in (jdir, san):
            os.makedirs(d)
        conf = os.path.join(tmp, "posthook.conf")
        with open(conf, "w") as f:
            f.write(f"state_dir = {state}\nlog_source = journal\n"
                    f"journal_dir = {jdir}\npid_dir = {tmp}\nreport = all\n"
                    f"user = {pwd.getpwuid(os.geteuid()).pw_name}\n"
                    f"group = {grp.getgrgid(os.getegid()).gr_name}\n")
        env = dict(os.environ, TZ="UTC",
                   ASAN_OPTIONS=f"log_path={san}/asan",
                   UBSAN_OPTIONS=f"log_path={san}/ubsan:print_stacktrace=1")
        err = open(os.path.join(tmp, "tail.err"), "w")

        def start(*extra):
            return subprocess.Popen([TAILER, "-f", "-c", conf] + list(extra),
                                    stderr=err, env=env)

        def events(want, timeout=60):
            deadline = time.time() + timeout
            ev = []
            while time.time() < deadline:
                p = subprocess.run([DUMP, state], capture_output=True, timeout=60)
                if p.returncode == 0:
                    ev = [json.loads(l) for l in p.stdout.decode().splitlines()]
                    if len(ev) >= want:
                        time.sleep(0.5)
                        p = subprocess.run([DUMP, state], capture_output=True)
                        return [json.loads(l) for l in p.stdout.decode().splitlines()]
                time.sleep(0.2)
            return ev

        write_journal(jdir, "a", messages(0, 50))
        proc = start("--from-start")
        ev = events(50)
        check(len(ev) == 50, "first file: 50 events (%d)" % len(ev))
        if ev:
            p = ev[0]["payload"]
            check(p["status"] == "Sent" and p["message"]["to"] == "j0@x.example",
                  "event from a journal record")
            check(abs(p["timestamp"] - (BASE + 3) / 1e6) < 1e-6,
                  "time stamp from the record, to the microsecond")
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=30) == 0, "SIGTERM: exit 0")

        # New records while stopped: read after the saved cursor only.
        write_journal(jdir, "b", messages(50, 50))
        proc = start()
        ev = events(100)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        write_journal(jdir, "c", messages(100, 400))
        proc = start()
        ev = events(500)
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=30) == 0, "SIGTERM after SIGKILL: exit 0")
        to = [e["payload"]["message"]["to"] for e in ev]
        check(len(ev) == 500, "500 events for 500 delivery records (%d)" % len(ev))
        check(len(set(to)) == len(to), "no event twice")
        with open(os.path.join(tmp, "tail.err")) as f:
            said = f.read()
        check(said.count("journal: first start: reading from the start") == 1
              and said.count("journal: resuming after the saved cursor") == 2
              and "unusable" not in said and "is gone" not in said,
              "the start and each resumption said as they were")

        # journal_dir missing at start: wait for it.
        late = os.path.join(tmp, "late")
        state = os.path.join(tmp, "state-late")
        with open(conf) as f:
            text = f.read().replace(f"journal_dir = {jdir}", f"journal_dir = {late}")
        with open(conf, "w") as f:
            f.write(text.replace(os.path.join(tmp, "state"), state))
        err.flush()
        mark = os.path.getsize(os.path.join(tmp, "tail.err"))
        proc = start("--from-start")
        time.sleep(2)
        check(proc.poll() is None, "journal_dir missing: still running")
        os.makedirs(late)
        write_journal(late, "a", messages(0, 5))
        ev = events(5, timeout=20)
        check(len(ev) == 5, "journal_dir created later: its 5 events (%d)" % len(ev))
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=30) == 0, "journal_dir late: SIGTERM, exit 0")
        with open(os.path.join(tmp, "tail.err")) as f:
            f.seek(mark)
            said = f.read()
        check(said.count("No such file or directory; waiting for it") == 1,
              "journal_dir missing: said once")
        reports = glob.glob(os.path.join(san, "*"))
        for r in reports:
            print(open(r).read()[:3000])
        check(not reports, "no sanitizer reports")
        err.close()
        if CHECKS.failures:
            print(open(os.path.join(tmp, "tail.err")).read()[-3000:])
    return CHECKS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
