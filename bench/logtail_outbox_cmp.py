#!/usr/bin/env python3
"""logtail_outbox_cmp.py - compare what two posthook-logtail runs stored.

Usage: bench/logtail_outbox_cmp.py TOOL STATE_DIR_A STATE_DIR_B

Two daemon runs (posthook-logtail -f --once --from-start, e.g. an old and
a new binary, each with a fresh state_dir) on the same log must leave the
same events for the sender.  The outbox's records may differ in shape
(one event a record before issue #20, up to 64 since), so the events are
compared as the sender reads them: TOOL (a build's
tests/logtail/logtail_store_tool) takes them out of a copy of each store
with outbox_take(), 200 a transaction as posthook-webhook does, and
prints each; the two lists must be equal, event by event, body by body
(parsed JSON, members in the same order).  Also compared: the queue
states, positions and sequences.  Of events_seen.db it says how many
event keys (one per event before) and high-water marks (one per log
file since) each has.  Prints one line per table
and exits 1 when something differs.  Needs db5.3_dump (db5.3-util).
"""
import json
import shutil
import subprocess
import sys
import tempfile


def dump(state, table):
    """(key, value) byte pairs of one table, in key order."""
    out = subprocess.run(['db5.3_dump', '-h', state, table],
                         capture_output=True, text=True, check=True).stdout
    lines = out.split('\n')
    i = lines.index('HEADER=END') + 1
    rows = []
    while lines[i].startswith(' '):
        rows.append((bytes.fromhex(lines[i][1:]), bytes.fromhex(lines[i + 1][1:])))
        i += 2
    return rows


def taken(tool, state):
    """The events the sender takes out of (a copy of) the store."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = shutil.copytree(state, tmp + '/state')
        out = subprocess.run([tool, copy, '--take'], capture_output=True,
                             check=True).stdout
    return out.decode().splitlines()


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split('\n\n')[1])
    tool, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
    bad = 0
    ea, eb = taken(tool, a), taken(tool, b)
    differ = sum(1 for x, y in zip(ea, eb)
                 if json.loads(x) != json.loads(y) or list(json.loads(x)) != list(json.loads(y)))
    differ += abs(len(ea) - len(eb))
    same_bytes = sum(1 for x, y in zip(ea, eb) if x == y)
    ra, rb = dump(a, 'outbox.db'), dump(b, 'outbox.db')
    print('outbox: %d and %d events taken, %d differ, %d byte for byte the same; '
          'in %d and %d records of %d and %d bytes' % (
              len(ea), len(eb), differ, same_bytes, len(ra), len(rb),
              sum(len(v) for _, v in ra), sum(len(v) for _, v in rb)))
    bad += differ
    for name, state in (('A', a), ('B', b)):
        keys = [k for k, _ in dump(state, 'events_seen.db')]
        marks = [k for k in keys if k.count(b'/') == 1]
        print('events_seen.db %s: %d event keys, %d high-water marks' % (
            name, len(keys) - len(marks), len(marks)))
    for table in ('queue.db', 'positions.db', 'meta.db'):
        same = dump(a, table) == dump(b, table)
        print('%s: %s' % (table, 'the same' if same else 'DIFFERENT'))
        bad += not same
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
