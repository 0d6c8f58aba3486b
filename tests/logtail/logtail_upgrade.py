#!/usr/bin/env python3
"""logtail_upgrade.py - a store of the previous release, upgraded in place.

fixtures/upgrade (made by its make-fixture.sh with the tailer of main at
a16a640, which wrote one outbox record and one seen key per event) holds
the store that release left after reading the first half of mail.log,
and expected.jsonl, the events it queued reading the whole log at once.
This build's tailer, on that store and the whole log:
  - resuming at the saved position, queues the rest: the outbox then
    holds the old one-event records and the new batch records, and reads
    back (one event a line, as outbox_take() splits them) as exactly the
    expected events, in order, body for body; it adds no seen key per
    event, only the log file's high-water mark;
  - without the position, reading the log from its start, it passes over
    the lines the old release had read (their seen keys give the mark):
    again exactly the expected events, none twice.
Root (db5.3_load, db5.3-util).
"""
import json
import os
import subprocess
import sys
import tempfile

from posthook_test import harness as H

TAILER = H.built("logtail", "posthook-logtail")
DUMP = H.built("tests", "logtail", "logtail_store_tool")
FIXTURE = os.path.join(os.environ.get("top_srcdir", "."), "tests", "logtail",
                       "fixtures", "upgrade")

CHECKS = H.Checks()
check = CHECKS.check


def load(state, log, tables):
    """The fixture's tables into a new store, the position naming log."""
    os.makedirs(state)
    for t in tables:
        with open(os.path.join(FIXTURE, t + ".dump")) as f:
            text = f.read()
        if t == "positions":
            text = text.replace(b"file:LOG".hex(), ("file:" + log).encode().hex())
        subprocess.run(["db5.3_load", os.path.join(state, t + ".db")],
                       input=text.encode(), check=True)


def seen_keys(state):
    """The keys of events_seen.db."""
    out = subprocess.run(["db5.3_dump", "-h", state, "events_seen.db"],
                         capture_output=True, text=True, check=True).stdout
    lines = out.split("\n")
    i = lines.index("HEADER=END") + 1
    keys = []
    while lines[i].startswith(" "):
        keys.append(bytes.fromhex(lines[i][1:]).decode())
        i += 2
    return keys


def run(tmp, name, tables, *flags):
    """This build's tailer once over the whole log on the fixture's store:
    the events the outbox then holds, and the store's directory."""
    d = os.path.join(tmp, name)
    state, log = os.path.join(d, "state"), os.path.join(d, "mail.log")
    load(state, log, tables)
    with open(os.path.join(FIXTURE, "mail.log"), "rb") as src, open(log, "wb") as dst:
        dst.write(src.read())
    conf = os.path.join(d, "posthook.conf")
    with open(conf, "w") as f:
        f.write(f"state_dir = {state}\nlog_file = {log}\npid_dir = {d}\n"
                "report = all\nuser = root\ngroup = root\n")
    p = subprocess.run([TAILER, "-f", "-c", conf, "--once"] + list(flags),
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, TZ="UTC"))
    check(p.returncode == 0, f"{name}: the tailer ran"
          + ("" if p.returncode == 0 else f" ({p.stderr[-2000:]})"))
    p = subprocess.run([DUMP, state], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"{name}: the outbox reads"
          + ("" if p.returncode == 0 else f" ({p.stderr[-2000:]})"))
    return [l for l in p.stdout.split("\n") if l], state


def same_events(name, got, want):
    """got and want the same events, members in the same order."""
    check(len(got) == len(want), f"{name}: {len(got)} events, {len(want)} expected")
    bad = [i for i, (g, w) in enumerate(zip(got, want))
           if json.loads(g) != json.loads(w)
           or list(json.loads(g)) != list(json.loads(w))]
    check(not bad, f"{name}: every event as expected (first differing: "
          f"{bad[:1] and (got[bad[0]][:300], want[bad[0]][:300])})")
    keys = [json.loads(g)["key"] for g in got]
    check(len(set(keys)) == len(keys), f"{name}: no event twice")


def main():
    with open(os.path.join(FIXTURE, "expected.jsonl")) as f:
        want = [l.rstrip("\n") for l in f if l.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        old_seen = seen_keys_of_fixture(tmp)
        got, state = run(tmp, "resume",
                         ("events_seen", "meta", "outbox", "positions", "queue"))
        same_events("resume", got, want)
        new = sorted(set(seen_keys(state)) - set(old_seen))
        check(len(new) == 1 and new[0].startswith("F/") and new[0].count("/") == 1,
              f"resume: one seen key added, the file's mark ({new[:3]})")
        check(len(old_seen) < len(want), "resume: the old release's half was queued")

        got, _ = run(tmp, "reread", ("events_seen", "meta", "outbox", "queue"),
                     "--from-start")
        same_events("reread", got, want)
    return CHECKS.exit_code()


def seen_keys_of_fixture(tmp):
    """The seen keys the old release left."""
    state = os.path.join(tmp, "fixture")
    load(state, "unused", ("events_seen",))
    return seen_keys(state)


if __name__ == "__main__":
    sys.exit(main())
