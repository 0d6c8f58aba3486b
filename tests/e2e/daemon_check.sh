#!/bin/sh
# daemon_check.sh - every daemon's --check accepts a good file (exit 0) and
# names the file, line and key of a bad one (exit 1) or a missing one, the
# default file too; every program answers -V and --help (each option on
# its own line) with exit 0, and posthookctl's commands take --help and
# --json anywhere without a configuration file.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0

printf '# good\nstate_dir = %s/state\nwebhook_timeout = 2s\n' "$dir" > "$dir/good.conf"
printf 'state_dir = %s/state\n\nwebhook_timeout = soon\n' "$dir" > "$dir/bad.conf"
printf 'no_such_key = 1\n' > "$dir/unknown.conf"

for prog in milter/posthook-milter logtail/posthook-logtail webhook/posthook-webhook api/posthook-api amqp/posthook-amqp; do
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
	# The default file: a build's sysconfdir never holds one in the tests.
	default=$("$bin" --help | sed -n 's/.*read FILE, not //p')
	if [ -e "$default" ]; then
		echo "SKIP: $default exists"
	else
		"$bin" --check > "$dir/out" 2>&1
		st=$?
		if [ "$st" -ne 1 ] || ! grep -q "$default: cannot open" "$dir/out"; then
			echo "FAIL: $prog --check without $default (exit $st):"; cat "$dir/out"; fail=1
		fi
	fi
done

for prog in milter/posthook-milter logtail/posthook-logtail webhook/posthook-webhook \
	bounce/posthook-bounce ctl/posthookctl amqp/posthook-amqp; do
	bin="$top_builddir/$prog"
	name=${prog#*/}
	if ! "$bin" -V > "$dir/out" 2>&1 || ! grep -q "^$name .*[0-9]\.[0-9]" "$dir/out" \
	   || ! "$bin" --version > "$dir/out2" 2>&1 || ! cmp -s "$dir/out" "$dir/out2"; then
		echo "FAIL: $prog -V / --version:"; cat "$dir/out"; fail=1
	fi
	if ! "$bin" --help > "$dir/out" 2>&1 || ! grep -q "^usage: $name" "$dir/out" \
	   || ! grep -q '^  -V, --version' "$dir/out" || ! grep -q '^  -h, --help' "$dir/out" \
	   || ! "$bin" -h | cmp -s - "$dir/out"; then
		echo "FAIL: $prog --help:"; cat "$dir/out"; fail=1
	fi
done

# posthookctl: every command's --help, and --json after the command.
ctl="$top_builddir/ctl/posthookctl"
for cmd in $("$ctl" --help | sed -n '/^commands:/,$s/^  \([a-z]*\) .*/\1/p'); do
	if ! "$ctl" -c "$dir/missing.conf" "$cmd" --help > "$dir/out" 2>&1 \
	   || ! grep -q "^usage: posthookctl $cmd" "$dir/out"; then
		echo "FAIL: posthookctl $cmd --help:"; cat "$dir/out"; fail=1
	fi
done
if ! "$ctl" webhooks create --help | grep -q "^usage: posthookctl webhooks create"; then
	echo "FAIL: posthookctl webhooks create --help"; fail=1
fi
if ! "$ctl" -c "$dir/missing.conf" config keys --json | head -n 1 | grep -q '^{"key":'; then
	echo "FAIL: posthookctl config keys --json without a config file"; fail=1
fi
printf 'state_dir = %s/state\nwebhook_timeout = 2s\n' "$dir" > "$dir/n.conf"
if [ "$("$ctl" -c "$dir/n.conf" config -n)" != "$(printf 'state_dir = %s/state\nwebhook_timeout = 2s' "$dir")" ]; then
	echo "FAIL: posthookctl config -n:"; "$ctl" -c "$dir/n.conf" config -n; fail=1
fi
if [ "$("$ctl" -c "$dir/n.conf" config -n webhook_timeout --json)" != '{"webhook_timeout":"2s"}' ]; then
	echo "FAIL: posthookctl config -n KEY --json"; fail=1
fi
[ "$fail" -eq 0 ] && echo "all daemons check their configuration"
exit "$fail"
