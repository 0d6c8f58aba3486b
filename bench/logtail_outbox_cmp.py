#!/usr/bin/env python3
"""logtail_outbox_cmp.py - compare what two posthook-logtail runs stored.

Usage: bench/logtail_outbox_cmp.py STATE_DIR_A STATE_DIR_B

Two daemon runs (posthook-logtail -f --once --from-start, e.g. an old and
a new binary, each with a fresh state_dir) on the same log must leave the
same store: the same outbox records in the same order (compared as parsed
JSON, members in the same order), the same event keys in events_seen.db
(their values are the time of the run), and the same queue states,
positions and sequences.  Prints one line per table and exits 1 when
something differs.  Needs db5.3_dump (db5.3-util).
"""
import json
import subprocess
import sys


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


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split('\n\n')[1])
    a, b = sys.argv[1], sys.argv[2]
    bad = 0
    oa, ob = dump(a, 'outbox.db'), dump(b, 'outbox.db')
    differ = 0
    if [k for k, _ in oa] != [k for k, _ in ob]:
        differ = max(len(oa), len(ob))
    else:
        for (_, va), (_, vb) in zip(oa, ob):
            ja, jb = json.loads(va), json.loads(vb)
            if ja != jb or list(ja) != list(jb):
                differ += 1
    same_bytes = sum(1 for (_, va), (_, vb) in zip(oa, ob)
                     if va.replace(b'\\/', b'/') == vb.replace(b'\\/', b'/'))
    print('outbox.db: %d and %d records, %d differ; %d byte for byte the same '
          'but for "\\/"; %d and %d bytes' % (len(oa), len(ob), differ, same_bytes,
                                            sum(len(v) for _, v in oa),
                                            sum(len(v) for _, v in ob)))
    bad += differ
    ka = [k for k, _ in dump(a, 'events_seen.db')]
    kb = [k for k, _ in dump(b, 'events_seen.db')]
    print('events_seen.db: %d and %d keys, %s' % (len(ka), len(kb),
                                                 'the same' if ka == kb else 'DIFFERENT'))
    bad += ka != kb
    for table in ('queue.db', 'positions.db', 'meta.db'):
        same = dump(a, table) == dump(b, table)
        print('%s: %s' % (table, 'the same' if same else 'DIFFERENT'))
        bad += not same
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
