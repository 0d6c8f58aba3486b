#!/usr/bin/env python3
"""logtail_tail.py - the posthook-logtail daemon with log_source = file.

Follows the log through rename rotation (lines written to the old file
after the rename included, also for a second after the new file exists:
the writer reopens only at "postfix reload") and copytruncate (also while
the tailer is behind: the unread lines are finished in the copy), reads
the last line of a rotated file that lost its newline, finds its file
after two rotations (down, or stopped: log_file.2, then log_file.1),
also when they were compressed meanwhile (logrotate's .2.gz beside a
plain .1, "postfix logrotate"'s log_file.DATE.gz; SIGKILLed while reading
the .gz, it resumes inside it), notices a copytruncate whose new file grew past its offset before it
looked, waits (saying so once) for a log_file that is a directory, a FIFO
or unreadable, keeping its saved position, stops cleanly on SIGTERM,
and survives SIGKILL at random moments: every delivery line ends up as
exactly one event in the outbox (counted in the real Berkeley DB store).
A line is committed within milliseconds of being written (inotify, no
sleeping poll), also right after a rotation, and the idle tailer uses no
CPU to speak of.  A hold line logged before the milter's record exists
waits for it (bounded), also across a SIGKILL.
"""
import glob
import gzip
import json
import os
import pwd
import grp
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from posthook_test import harness as H

TAILER = H.built("logtail", "posthook-logtail")
DUMP = H.built("tests", "logtail", "logtail_store_tool")
CTL = H.built("ctl", "posthookctl")

CHECKS = H.Checks(quiet=True)
check = CHECKS.check


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.state = os.path.join(tmp, "state")
        self.log = os.path.join(tmp, "mail.log")
        self.san = os.path.join(tmp, "san")
        os.makedirs(self.san, exist_ok=True)
        self.conf = os.path.join(tmp, "posthook.conf")
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        with open(self.conf, "w") as f:
            f.write(f"state_dir = {self.state}\nlog_file = {self.log}\n"
                    f"pid_dir = {tmp}\nreport = all\nuser = {user}\n"
                    f"group = {group}\n")
        self.proc = None
        self.seq = 0

    def start(self, *extra):
        env = dict(os.environ, TZ="UTC",
                   ASAN_OPTIONS=f"log_path={self.san}/asan",
                   UBSAN_OPTIONS=f"log_path={self.san}/ubsan:print_stacktrace=1")
        self.proc = subprocess.Popen([TAILER, "-f", "-c", self.conf] + list(extra),
                                     stderr=open(os.path.join(self.tmp, "tail.err"), "a"),
                                     env=env)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            check(False, "tailer did not stop on SIGTERM")
        self.proc = None
        return rc

    def events(self):
        p = subprocess.run([DUMP, self.state], capture_output=True, timeout=60)
        if p.returncode != 0:
            return None
        return [json.loads(l) for l in p.stdout.decode().splitlines() if l]

    def message(self, rcpt):
        """The lines of one message to rcpt, sent at once."""
        self.seq += 1
        qid = "%010X" % (0x1000000 + self.seq)
        s = "Nov 23 14:02:11 mx1"
        return [
            f"{s} postfix/qmgr[12]: {qid}: from=<app@example.com>, size=9, nrcpt=1 (queue active)",
            f"{s} postfix/smtp[13]: {qid}: to=<{rcpt}>, relay=mx[192.0.2.7]:25, "
            f"delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)",
            f"{s} postfix/qmgr[12]: {qid}: removed",
        ]

    def append(self, path, lines):
        with open(path, "a") as f:
            f.write("".join(l + "\n" for l in lines))


def wait_events(env, want, timeout=60):
    deadline = time.time() + timeout
    ev = []
    while time.time() < deadline:
        ev = env.events() or []
        if len(ev) >= want:
            time.sleep(0.5)
            return env.events() or ev
        time.sleep(0.2)
    return ev


def recipients(ev):
    return sorted(e["payload"]["message"]["to"] for e in ev)


def started(tmp, *extra):
    """A tailer started (with options extra) on a log that holds no
    delivery yet."""
    env = Env(tmp)
    env.append(env.log, ["Nov 23 14:02:10 mx1 postfix/master[1]: daemon started"])
    env.start(*extra)
    time.sleep(1)
    return env


def tailer_status(env):
    """posthookctl status's view of the tailer, and the process run."""
    p = subprocess.run([CTL, "-c", env.conf, "--json", "status"],
                       capture_output=True, timeout=60)
    return json.loads(p.stdout or b"{}").get("tailer") or {}, p


def check_once_and_stop(env, want, what):
    """Every line of want gave one event (none more a second later), each
    with a key of its own; the tailer stops on SIGTERM."""
    wait_events(env, len(want), timeout=30)
    time.sleep(1)
    ev = env.events() or []
    check(recipients(ev) == sorted(want),
          f"{what}: every line once: {recipients(ev)}")
    check(env.stop() == 0, f"{what}: SIGTERM")
    keys = [e["key"] for e in ev]
    check(len(set(keys)) == len(keys), f"{what}: keys unique")


def test_rotation(tmp):
    env = Env(tmp)
    env.append(env.log, env.message("before-start@x.example"))
    env.start()             # first start: at the end, that line is not read
    time.sleep(1)
    env.append(env.log, env.message("r1@x.example"))
    check(len(wait_events(env, 1)) == 1, "first line after start")

    # rename rotation, the writer still appending to the old file a moment
    os.rename(env.log, env.log + ".1")
    env.append(env.log + ".1", env.message("r2-late-old@x.example"))
    env.append(env.log, env.message("r3-new@x.example"))
    ev = wait_events(env, 3)
    check(recipients(ev) == ["r1@x.example", "r2-late-old@x.example",
                             "r3-new@x.example"], f"rename rotation {recipients(ev)}")

    # copytruncate
    env.append(env.log, env.message("r4@x.example"))
    wait_events(env, 4)
    copytruncate(env, ".2")
    env.append(env.log, env.message("r5-after-truncate@x.example"))
    ev = wait_events(env, 5)
    check(recipients(ev)[-1] == "r5-after-truncate@x.example" and len(ev) == 5,
          f"copytruncate {recipients(ev)}")

    # Restart that finds the saved file rotated to mail.log.1.
    rc = env.stop()
    check(rc == 0, f"SIGTERM exit status {rc}")
    env.append(env.log, env.message("r6-while-down@x.example"))
    os.rename(env.log, env.log + ".1")
    env.append(env.log, env.message("r7-new-while-down@x.example"))
    env.start()
    ev = wait_events(env, 7)
    check(len(ev) == 7 and "r6-while-down@x.example" in recipients(ev)
          and "r7-new-while-down@x.example" in recipients(ev),
          f"restart after rotation {recipients(ev)}")
    env.stop()
    keys = [e["key"] for e in ev]
    check(len(set(keys)) == len(keys), "keys unique")
    return env


def test_rotation_late_writer(tmp):
    """logrotate renames, creates the new file, then "postfix reload":
    postlogd appends to the renamed file for a moment (~1 s here) while
    the new file already exists and has lines."""
    env = started(tmp)
    want = []
    for i in range(3):
        want.append(f"g{i}-before@x.example")
        env.append(env.log, env.message(want[-1]))
    os.rename(env.log, env.log + ".1")
    want.append("g-new-first@x.example")
    env.append(env.log, env.message(want[-1]))
    time.sleep(0.3)         # the tailer has noticed the new file
    for i in range(10):
        want.append(f"g{i}-late-old@x.example")
        env.append(env.log + ".1", env.message(want[-1]))
        time.sleep(0.1)
    env.append(env.log + ".1",
               ["Nov 23 14:02:12 mx1 postfix/master[1]: reload -- version 3.7"])
    want.append("g-new-second@x.example")
    env.append(env.log, env.message(want[-1]))
    check_once_and_stop(env, want, "late writer")


def test_rotation_partial_line(tmp):
    """A rotated file whose last line lost its newline (the writer died
    mid-line): the line is read once the old file is finished, once, and
    the lines of the new file after it."""
    env = started(tmp)
    lines = env.message("p1-no-newline@x.example")
    with open(env.log, "a") as f:
        f.write("\n".join(lines[:2]))     # the delivery line, no newline
    time.sleep(0.5)
    check(not env.events(), "partial line: not read while the file is live")
    os.rename(env.log, env.log + ".1")
    env.append(env.log, env.message("p2-new@x.example"))
    check_once_and_stop(env, ["p1-no-newline@x.example", "p2-new@x.example"],
                        "partial last line of a rotated file")
    err = open(os.path.join(tmp, "tail.err")).read()
    check("has no newline; reading it as it is" in err,
          "partial line: the tailer says so in its log")


def test_tls_across_restart(tmp):
    """A delivery over a TLS connection that was opened before the tailer
    restarted is still sent_with_ssl (the sessions are saved with the
    queue states); the process's next connection, with no TLS line, not."""
    env = started(tmp)
    s = "Nov 23 14:02:11 mx1 postfix"
    env.append(env.log, [
        f"{s}/smtp[77]: Untrusted TLS connection established to "
        f"mx[192.0.2.7]:25: TLSv1.3 with cipher X",
        f"{s}/smtp[77]: 00000000A1: to=<t1@x.example>, relay=mx[192.0.2.7]:25, "
        f"delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)"])
    wait_events(env, 1)
    check(env.stop() == 0, "tls restart: SIGTERM")
    env.start()
    env.append(env.log, [
        f"{s}/smtp[77]: 00000000A2: to=<t2@x.example>, relay=mx[192.0.2.7]:25, "
        f"conn_use=2, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)",
        f"{s}/smtp[77]: 00000000A3: to=<t3@x.example>, relay=mx[192.0.2.7]:25, "
        f"delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)"])
    ev = wait_events(env, 3)
    ssl = {e["payload"]["message"]["to"]: e["payload"]["sent_with_ssl"] for e in ev}
    check(ssl == {"t1@x.example": True, "t2@x.example": True,
                  "t3@x.example": False}, f"tls across a restart: {ssl}")
    check(env.stop() == 0, "tls restart: second SIGTERM")
    err = open(os.path.join(tmp, "tail.err")).read()
    check("unreadable saved queue state" not in err,
          "tls restart: the saved sessions read back")


def copytruncate(env, copy=".1"):
    """logrotate's copytruncate: the log copied to mail.log.1 (or copy),
    then emptied in place."""
    shutil.copy(env.log, env.log + copy)
    with open(env.log, "r+") as f:
        f.truncate(0)


def test_copytruncate_behind(tmp):
    """copytruncate while the tailer is behind: the lines between its
    position and the end of the copy are only in mail.log.1."""
    env = started(tmp)
    want = ["c1@x.example"]
    env.append(env.log, env.message(want[-1]))
    check(len(wait_events(env, 1)) == 1, "copytruncate behind: first event")

    # Stopped: append, copytruncate, append to the live file, start.
    check(env.stop() == 0, "copytruncate behind: SIGTERM")
    for i in range(3):
        want.append(f"c{i}-down-copied@x.example")
        env.append(env.log, env.message(want[-1]))
    copytruncate(env)
    want.append("c-down-live@x.example")
    env.append(env.log, env.message(want[-1]))
    env.start()
    ev = wait_events(env, len(want), timeout=30)
    check(recipients(ev) == sorted(want),
          f"copytruncate while stopped: every line once: {recipients(ev)}")

    # Running but behind (SIGSTOP): it notices the truncation itself.
    env.proc.send_signal(signal.SIGSTOP)
    for i in range(3):
        want.append(f"c{i}-behind-copied@x.example")
        env.append(env.log, env.message(want[-1]))
    copytruncate(env)
    env.append(env.log, ["Nov 23 14:02:12 mx1 postfix/master[1]: reload"])
    env.proc.send_signal(signal.SIGCONT)
    time.sleep(1)
    want.append("c-behind-live@x.example")
    env.append(env.log, env.message(want[-1]))
    check_once_and_stop(env, want, "copytruncate while behind")


def rotate_twice(env, want, tag, compress=False):
    """Two rotations as logrotate does them, a message to want before
    each and one in the new log_file; with compress, log_file.2 is gzipped
    (compress with delaycompress).  The pauses keep modification times
    apart, as a day between rotations does."""
    want.append(f"{tag}-first@x.example")
    env.append(env.log, env.message(want[-1]))
    os.rename(env.log, env.log + ".1")
    time.sleep(0.05)
    want.append(f"{tag}-second@x.example")
    env.append(env.log, env.message(want[-1]))
    ext = ".gz" if compress else ""
    for k in (3, 2):
        if os.path.exists(f"{env.log}.{k}{ext}"):
            os.rename(f"{env.log}.{k}{ext}", f"{env.log}.{k + 1}{ext}")
    os.rename(env.log + ".1", env.log + ".2")
    if compress:
        gzip_away(env.log + ".2", env.log + ".2.gz")
    os.rename(env.log, env.log + ".1")
    time.sleep(0.05)
    want.append(f"{tag}-live@x.example")
    env.append(env.log, env.message(want[-1]))


def check_lag_and_start(env, want, read, what):
    """After rotate_twice() while the tailer was down (it had read read
    bytes of the file now log_file.2 or .2.gz): posthookctl status counts
    the lag through that file, .1 and the live one (three messages of three
    lines); started, the tailer makes one event of each line."""
    t, p = tailer_status(env)
    if os.path.exists(env.log + ".2.gz"):
        with gzip.open(env.log + ".2.gz", "rb") as f:
            lag = len(f.read()) - read
    else:
        lag = os.path.getsize(env.log + ".2") - read
    lag += os.path.getsize(env.log + ".1") + os.path.getsize(env.log)
    check(t.get("reading") == "rotated" and t.get("lag_bytes") == lag
          and t.get("lag_lines") == 9,
          f"{what}: status counts the lag in .2, .1 and the live file: "
          f"{t}, want {lag} bytes ({p.stderr[-200:]!r})")
    env.start()
    ev = wait_events(env, len(want), timeout=20)
    check(recipients(ev) == sorted(want),
          f"{what} while down: every line once: {recipients(ev)}")


def test_two_rotations(tmp):
    """Two rename rotations while the tailer is down: its file is
    log_file.2; then log_file.1, then the new log_file.  The same while it
    runs but is stopped (SIGSTOP): it finishes its file, now .2, then .1."""
    env = started(tmp)
    want = ["d0@x.example"]
    env.append(env.log, env.message(want[-1]))
    check(len(wait_events(env, 1)) == 1, "two rotations: first event")

    check(env.stop() == 0, "two rotations: SIGTERM")
    read = os.path.getsize(env.log)
    rotate_twice(env, want, "down")
    check_lag_and_start(env, want, read, "two rotations")
    env.proc.send_signal(signal.SIGSTOP)
    rotate_twice(env, want, "stopped")
    env.proc.send_signal(signal.SIGCONT)
    check_once_and_stop(env, want, "two rotations while stopped")
    err = open(os.path.join(tmp, "tail.err")).read()
    check("is gone" not in err, "two rotations: the file read before is found")


def gzip_away(path, dest):
    """Compress path to dest and remove path, as gzip(1) does (the
    compressed file keeps the modification time)."""
    st = os.stat(path)
    with open(path, "rb") as src, gzip.open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.unlink(path)


def test_compressed_rotations(tmp):
    """The file read before was compressed while the tailer was down or
    stopped: logrotate with compress and delaycompress (log_file.2.gz, then
    the plain log_file.1), and "postfix logrotate" (log_file.DATE.gz at
    once).  Its unread lines are read from the compressed file, then the
    files rotated after it, each line once."""
    env = started(tmp)
    want = ["z0@x.example"]
    env.append(env.log, env.message(want[-1]))
    check(len(wait_events(env, 1)) == 1, "compressed: first event")

    check(env.stop() == 0, "compressed: SIGTERM")
    read = os.path.getsize(env.log)
    rotate_twice(env, want, "down", compress=True)
    check_lag_and_start(env, want, read, "compressed")
    err = open(os.path.join(tmp, "tail.err")).read()
    check("mail.log.2.gz: finishing the rotated file" in err,
          "compressed while down: read from .2.gz")

    env.proc.send_signal(signal.SIGSTOP)
    rotate_twice(env, want, "stopped", compress=True)
    env.proc.send_signal(signal.SIGCONT)
    wait_events(env, len(want), timeout=20)
    ev = env.events() or []
    check(recipients(ev) == sorted(want),
          f"compressed while stopped: every line once: {recipients(ev)}")

    # postfix logrotate: maillog_file renamed with a date, gzipped at once.
    check(env.stop() == 0, "compressed: SIGTERM again")
    want.append("pf-first@x.example")
    env.append(env.log, env.message(want[-1]))
    dated = env.log + ".20261124-010203"
    os.rename(env.log, dated)
    gzip_away(dated, dated + ".gz")
    time.sleep(0.05)
    want.append("pf-live@x.example")
    env.append(env.log, env.message(want[-1]))
    env.start()
    check_once_and_stop(env, want, "postfix logrotate while down")
    err = open(os.path.join(tmp, "tail.err")).read()
    check("is gone" not in err, "compressed: the file read before is found")


def test_compressed_sigkill(tmp):
    """SIGKILL while the tailer reads a gzip-compressed rotated file: the
    position inside it (an offset in its decompressed bytes, the .gz's
    device and inode) brings the restart back to the next line."""
    env = started(tmp)
    check(env.stop() == 0, "compressed SIGKILL: SIGTERM")
    want = []
    lines = []
    for i in range(40000):
        want.append(f"k{i}@x.example")
        lines += env.message(want[-1])
    env.append(env.log, lines)
    os.rename(env.log, env.log + ".1")
    gzip_away(env.log + ".1", env.log + ".1.gz")
    time.sleep(0.05)
    want.append("k-live@x.example")
    env.append(env.log, env.message(want[-1]))
    rnd = random.Random(11)
    counts = []
    for _ in range(4):
        env.start()
        time.sleep(rnd.uniform(0.1, 0.6))
        env.stop(signal.SIGKILL)
        counts.append(len(env.events() or []))
    env.start()
    check_once_and_stop(env, want, f"SIGKILL in a .gz (events after each "
                        f"kill: {counts})")
    # A kill before the .gz was done: the next start resumed inside it.
    if any(0 < n < len(want) - 1 for n in counts):
        err = open(os.path.join(tmp, "tail.err")).read()
        check(err.count("mail.log.1.gz: finishing the rotated file") >= 2,
              f"compressed SIGKILL: resumed inside the .gz ({counts})")


def test_copytruncate_regrown(tmp):
    """copytruncate, then the live file written past the tailer's offset
    before it looks (stopped): the first line tells; the copy is finished
    and the new file read from its start, no line lost or read twice."""
    env = started(tmp)
    want = ["e0@x.example"]
    env.append(env.log, env.message(want[-1]))
    check(len(wait_events(env, 1)) == 1, "copytruncate regrown: first event")
    env.proc.send_signal(signal.SIGSTOP)
    for i in range(2):
        want.append(f"e{i}-copied@x.example")
        env.append(env.log, env.message(want[-1]))
    copytruncate(env)
    for i in range(8):
        want.append(f"e{i}-live@x.example")
        env.append(env.log, env.message(want[-1]))
    env.proc.send_signal(signal.SIGCONT)
    check_once_and_stop(env, want, "copytruncate regrown past the offset")


def test_not_a_file(tmp):
    """log_file a directory, then a FIFO (opening it must not block), then
    a log file: each said once, the file read when it is there."""
    env = Env(tmp)
    os.mkdir(env.log)
    env.start()
    time.sleep(2.5)
    os.rmdir(env.log)
    os.mkfifo(env.log)
    time.sleep(2.5)
    os.unlink(env.log)
    env.append(env.log, env.message("f1@x.example"))
    check_once_and_stop(env, ["f1@x.example"], "log_file not a regular file")
    err = open(os.path.join(tmp, "tail.err")).read()
    check(err.count("not a regular file") == 1 and "read: " not in err,
          f"not a regular file: said once, no read errors: {err[-600:]}")


def test_unreadable(tmp):
    """log_file unreadable (mode 000) when the tailer starts again: it says
    so, waits, and resumes at its saved offset (it does not read the file
    again from the start) once it can read it."""
    env = Env(tmp)
    if os.geteuid() == 0:
        # nobody must reach its files and write its sanitizer reports
        for d in (os.path.dirname(tmp), tmp, env.san):
            os.chmod(d, 0o777 if d != os.path.dirname(tmp) else 0o755)
        # root reads a file of mode 000: run as nobody
        text = open(env.conf).read().splitlines()
        text = [l for l in text if not l.startswith(("user", "group"))]
        text += ["user = nobody", "group = " + grp.getgrgid(
            pwd.getpwnam("nobody").pw_gid).gr_name]
        with open(env.conf, "w") as f:
            f.write("\n".join(text) + "\n")
    env.append(env.log, ["Nov 23 14:02:10 mx1 postfix/master[1]: daemon started"])
    env.start()
    time.sleep(1)
    env.append(env.log, env.message("u1@x.example"))
    check(len(wait_events(env, 1)) == 1, "unreadable: first event")
    check(env.stop() == 0, "unreadable: SIGTERM")
    env.append(env.log, env.message("u2-down@x.example"))
    os.chmod(env.log, 0)
    env.start()
    time.sleep(2)
    check(len(env.events() or []) == 1, "unreadable: nothing read meanwhile")
    os.chmod(env.log, 0o644)
    check_once_and_stop(env, ["u1@x.example", "u2-down@x.example"],
                        "unreadable, then readable")
    err = open(os.path.join(tmp, "tail.err")).read()
    check(err.count("cannot open: Permission denied; waiting for it") == 1
          and "resuming at offset" in err and "is gone" not in err,
          f"unreadable: said once, then resumed at the saved offset: {err[-600:]}")


def test_reload(tmp):
    """SIGHUP reads the config again: report changes take effect."""
    env = started(tmp)
    env.append(env.log, env.message("h1@x.example"))
    check(len(wait_events(env, 1)) == 1, "reload: first event")
    text = open(env.conf).read()
    with open(env.conf, "w") as f:
        f.write(text.replace("report = all", "report = recorded"))
    env.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    env.append(env.log, env.message("h2-not-recorded@x.example"))
    time.sleep(2)
    with open(env.conf, "w") as f:
        f.write(text)
    env.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    env.append(env.log, env.message("h3@x.example"))
    ev = wait_events(env, 2)
    check(recipients(ev) == ["h1@x.example", "h3@x.example"],
          f"reload: report = recorded then all again {recipients(ev)}")
    check(env.stop() == 0, "reload: SIGTERM")
    err = open(os.path.join(tmp, "tail.err")).read()
    check(err.count("configuration reloaded") == 2, "reload logged")


def committed_after(env, size, what, timeout=10):
    """Wait until tail.err grows a "committed N new events" line past size."""
    err = os.path.join(env.tmp, "tail.err")
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(err) as f:
            f.seek(size)
            if "committed 1 new events" in f.read():
                return True
        time.sleep(0.001)
    check(False, f"latency: {what}: no commit within {timeout} s")
    return False


def commit_ms(env, rcpt, what):
    """Milliseconds from the write of rcpt's delivery line to its commit
    (seen in the -v log tail.err), or None when it was not committed."""
    size = os.path.getsize(os.path.join(env.tmp, "tail.err"))
    t0 = time.monotonic()
    env.append(env.log, env.message(rcpt)[1:2])
    if not committed_after(env, size, what):
        return None
    return (time.monotonic() - t0) * 1000


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_latency(tmp):
    """From the write of a line to its commit: milliseconds, not a poll."""
    env = started(tmp, "-v")
    lat = []
    for i in range(15):
        ms = commit_ms(env, f"lat{i}@x.example", f"line {i}")
        if ms is None:
            break
        lat.append(ms)
        time.sleep(0.05)
    lat.sort()
    print("latency (ms):", [round(x, 1) for x in lat])
    check(len(lat) == 15 and lat[7] < 60,
          f"latency: median write-to-commit under 60 ms: {lat}")
    # Rename rotation: the new file is noticed when it is created.
    rot = []
    for i in range(5):
        os.rename(env.log, env.log + ".1")
        time.sleep(0.05)
        ms = commit_ms(env, f"rot{i}@x.example", f"rotation {i}")
        if ms is None:
            break
        rot.append(ms)
    rot.sort()
    print("after rotation (ms):", [round(x, 1) for x in rot])
    # The new file waits until the old one has been quiet for the grace
    # period (ROTATE_GRACE_MS, 2 s: the writer may still append to it).
    check(len(rot) == 5 and rot[2] < 2000 + 500,
          f"latency: a new file after rotation is read after the grace: {rot}")
    # Idle: no busy polling.
    c0 = cpu_seconds(env.proc.pid)
    time.sleep(3)
    used = cpu_seconds(env.proc.pid) - c0
    print(f"idle CPU: {used:.3f} s in 3 s")
    check(used < 0.1, f"idle: {used:.3f} s of CPU in 3 s")
    check(env.stop() == 0, "latency: SIGTERM")


def hold_lines(qid, rcpt):
    s = "Nov 23 14:02:11 mx1"
    return [
        f"{s} postfix/smtpd[10]: {qid}: client=app[10.1.2.3], sasl_method=PLAIN, sasl_username=app",
        f"{s} postfix/cleanup[11]: {qid}: hold: header Subject: promo from "
        f"app[10.1.2.3]; from=<app@example.com> to=<{rcpt}> proto=ESMTP "
        f"helo=<app>: needs review",
    ]


def put_record(env, qid, token, rcpts):
    rec = {"id": int(qid, 16) % 100000 + 1, "token": token,
           "direction": "outgoing", "from": "app@example.com",
           "subject": "promo", "timestamp": time.time(), "tag": "t-" + token,
           "queue_id": qid, "recipients": rcpts}
    p = subprocess.run([DUMP, env.state, json.dumps(rec)],
                       capture_output=True, timeout=60)
    check(p.returncode == 0, f"store record {qid}: {p.stderr}")


def queue_states(env):
    p = subprocess.run([DUMP, env.state], capture_output=True, timeout=60)
    return p.stderr.decode()


def test_hold_wait(tmp):
    """cleanup logs hold: before the milter commits its record."""
    env = started(tmp)
    # The record comes a moment after the line.
    env.append(env.log, hold_lines("AAAA000001", "h1@x.example"))
    time.sleep(0.3)
    check(env.events() == [], "hold: no Held before the record or the wait's end")
    check('"held"' in queue_states(env), "hold: the waiting hold is in the saved state")
    put_record(env, "AAAA000001", "tok1", ["h1@x.example", "h1b@x.example"])
    ev = wait_events(env, 2, timeout=10)
    check(recipients(ev) == ["h1@x.example", "h1b@x.example"] and
          all(e["payload"]["message"]["token"] == "tok1" for e in ev),
          f"hold: Held for every recipient of the record, with its token: {ev}")

    # SIGKILL while it waits: the restart finds it in the saved state.
    env.append(env.log, hold_lines("AAAA000002", "h2@x.example"))
    time.sleep(0.3)
    env.stop(signal.SIGKILL)
    put_record(env, "AAAA000002", "tok2", ["h2@x.example"])
    env.start()
    ev = wait_events(env, 3, timeout=10)
    h2 = [e for e in ev if e["payload"]["message"]["to"] == "h2@x.example"]
    check(len(ev) == 3 and len(h2) == 1 and
          h2[0]["payload"]["message"]["token"] == "tok2",
          f"hold: a waiting hold survives SIGKILL: {ev}")

    # No record ever (the milter was down): Held after the wait, with the
    # recipient the line names.
    t0 = time.time()
    env.append(env.log, hold_lines("AAAA000003", "h3@x.example"))
    ev = wait_events(env, 4, timeout=10)
    took = time.time() - t0
    h3 = [e for e in ev if e["payload"]["message"]["to"] == "h3@x.example"]
    check(len(ev) == 4 and len(h3) == 1 and
          h3[0]["payload"]["message"]["token"] is None and 1.5 < took < 6,
          f"hold: without a record, Held after the wait ({took:.1f} s): {ev}")
    check(env.stop() == 0, "hold: SIGTERM")
    check('"held"' not in queue_states(env), "hold: nothing left waiting")
    keys = [e["key"] for e in ev]
    check(len(set(keys)) == len(keys), "hold: keys unique")


def test_sigkill(tmp):
    env = Env(tmp)
    n = 20000
    lines = []
    for i in range(n):
        lines += env.message(f"k{i}@x.example")
    # Other programs' lines between them.
    for i in range(0, len(lines), 50):
        lines.insert(i, "Nov 23 14:02:11 mx1 dovecot[1]: imap(x): Disconnected")
    env.append(env.log, lines[: len(lines) // 2])
    env.start("--from-start")
    # Only a first start that got as far as committing counts as one.
    wait_events(env, 1)
    rnd = random.Random(7)
    kills = 0
    for round_ in range(8):
        time.sleep(rnd.uniform(0.02, 0.4))
        env.stop(signal.SIGKILL)
        kills += 1
        if round_ == 3:
            env.append(env.log, lines[len(lines) // 2:])
        env.start()
    ev = wait_events(env, n, timeout=240)
    rc = env.stop()
    check(rc == 0, f"SIGTERM after {kills} SIGKILLs: {rc}")
    rc = recipients(ev)
    check(len(ev) == n, f"SIGKILL: {len(ev)} events for {n} delivery lines")
    check(len(set(rc)) == len(rc), "SIGKILL: no event twice")
    return env


def main():
    with tempfile.TemporaryDirectory() as tmp:
        a = os.path.join(tmp, "rot")
        b = os.path.join(tmp, "kill")
        c = os.path.join(tmp, "hup")
        d_ = os.path.join(tmp, "lat")
        e = os.path.join(tmp, "hold")
        g = os.path.join(tmp, "late")
        h = os.path.join(tmp, "copy")
        p = os.path.join(tmp, "partial")
        t = os.path.join(tmp, "tls")
        r2 = os.path.join(tmp, "rot2")
        cg = os.path.join(tmp, "regrown")
        nf = os.path.join(tmp, "notfile")
        ur = os.path.join(tmp, "unreadable")
        gz = os.path.join(tmp, "compressed")
        gk = os.path.join(tmp, "compressed-kill")
        dirs = (a, b, c, d_, e, g, h, p, t, r2, cg, nf, ur, gz, gk)
        for d in dirs:
            os.makedirs(d)
        test_rotation(a)
        test_rotation_late_writer(g)
        test_copytruncate_behind(h)
        test_rotation_partial_line(p)
        test_two_rotations(r2)
        test_compressed_rotations(gz)
        test_compressed_sigkill(gk)
        test_copytruncate_regrown(cg)
        test_not_a_file(nf)
        test_unreadable(ur)
        test_tls_across_restart(t)
        test_reload(c)
        test_latency(d_)
        test_hold_wait(e)
        test_sigkill(b)
        reports = glob.glob(os.path.join(tmp, "*", "san", "*"))
        for r in reports:
            print("sanitizer report:", r)
            print(open(r).read()[:4000])
        check(not reports, "no sanitizer reports")
        if CHECKS.failures:
            for d in dirs:
                err = os.path.join(d, "tail.err")
                if os.path.exists(err):
                    print(f"--- {err}")
                    print(open(err).read()[-4000:])
    return CHECKS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
