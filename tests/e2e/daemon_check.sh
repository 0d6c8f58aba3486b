#!/bin/sh
# daemon_check.sh - every daemon's --check accepts a good file (exit 0) and
# names the file, line and key of a bad one (exit 1).
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0

printf '# good\nstate_dir = %s/state\nwebhook_timeout = 2s\n' "$dir" > "$dir/good.conf"
printf 'state_dir = %s/state\n\nwebhook_timeout = soon\n' "$dir" > "$dir/bad.conf"
printf 'no_such_key = 1\n' > "$dir/unknown.conf"

for prog in milter/posthook-milter logtail/posthook-logtail webhook/posthook-webhook api/posthook-api; do
	bin="$top_builddir/$prog"
	if ! "$bin" --check -c "$dir/good.conf" > "$dir/out" 2>&1; then
		echo "FAIL: $prog --check rejects a good file:"; cat "$dir/out"; fail=1
	fi
	"$bin" --check -c "$dir/bad.conf" > "$dir/out" 2>&1
	st=$?
	if [ "$st" -ne 1 ] || ! grep -q "$dir/bad.conf, line 3: webhook_timeout:" "$dir/out"; then
		echo "FAIL: $prog --check on a bad value (exit $st):"; cat "$dir/out"; fail=1
	fi
	"$bin" --check -c "$dir/unknown.conf" > "$dir/out" 2>&1
	st=$?
	if [ "$st" -ne 1 ] || ! grep -q "unknown.conf, line 1: no_such_key: unknown key" "$dir/out"; then
		echo "FAIL: $prog --check on an unknown key (exit $st):"; cat "$dir/out"; fail=1
	fi
	"$bin" --check -c "$dir/missing.conf" > "$dir/out" 2>&1
	st=$?
	if [ "$st" -ne 1 ] || ! grep -q "missing.conf: cannot open" "$dir/out"; then
		echo "FAIL: $prog --check on a missing -c file (exit $st):"; cat "$dir/out"; fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "all daemons check their configuration"
exit "$fail"
