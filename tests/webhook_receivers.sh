#!/bin/sh
# webhook_receivers.sh - run each example receiver of contrib/receivers whose
# runtime is installed against signed POSTs: good signatures are accepted, a
# repeated uuid is answered "duplicate" and processed once, bad signatures
# and unknown keys are refused, and a key added to the JWKS after the
# receiver cached it is fetched on first sight of its kid.
#
# The bodies are signed by sign_tool, built from lib/sign.c; the JWKS is
# served over HTTP on loopback.

set -eu

: "${top_builddir:=..}" "${top_srcdir:=..}"
tool=$top_builddir/tests/sign_tool
recv=$top_srcdir/contrib/receivers
work=$(mktemp -d /tmp/webhook_receivers.XXXXXX)
pids=
failed=0
ran=

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || :
	done
	wait 2>/dev/null || :
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*"
	failed=1
}

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT - until something listens there (10 s at most)
wait_port() {
	i=0
	while ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; do
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}

# body NAME UUID - an envelope as posthook sends it
body() {
	printf '{"event":"MessageSent","timestamp":1704672000.123456,' >"$work/$1"
	printf '"uuid":"%s",' "$2" >>"$work/$1"
	printf '"payload":{"message":{"id":1,"token":"t1","to":"a@example.test"},' >>"$work/$1"
	printf '"status":"Sent","details":"250 OK"}}' >>"$work/$1"
}

# post PORT PREFIX BODY KID SIG - "code text" of the receiver's answer
post() {
	code=$(curl -s --max-time 10 -o "$work/resp" -w '%{http_code}' \
		-H 'Content-Type: application/json' \
		-H "$2-Signature: $5" -H "$2-Signature-KID: $4" \
		--data-binary "@$work/$3" "http://127.0.0.1:$1/webhook") || :
	echo "$code $(cat "$work/resp" 2>/dev/null)"
}

# expect WHAT GOT WANT
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok: $1"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

kid_a=$("$tool" keygen "$work/a.pem")
kid_b=$("$tool" keygen "$work/b.pem")
"$tool" keygen "$work/c.pem" >/dev/null
for n in 1 2 3; do
	body "b$n" "uuid-$n"
done
set -- $("$tool" sign "$work/a.pem" "$work/b1"); sig_a1=$2
set -- $("$tool" sign "$work/c.pem" "$work/b2"); sig_c2=$2
set -- $("$tool" sign "$work/b.pem" "$work/b3"); sig_b3=$2
# The key id is what the openssl command line computes.
expect "kid of key A" "$(openssl rsa -in "$work/a.pem" -RSAPublicKey_out \
	-outform DER 2>/dev/null | sha256sum | cut -c1-64)" "$kid_a"

mkdir "$work/www"
www_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$www_port" \
	>"$work/www.log" 2>&1 &
pids="$pids $!"
wait_port "$www_port" || { echo "FAIL: JWKS server did not start"; exit 1; }
jwks_url="http://127.0.0.1:$www_port/jwks.json"

# run_receiver NAME PREFIX COMMAND... - the whole scenario against one receiver
run_receiver() {
	name=$1 prefix=$2
	shift 2
	"$tool" jwks "$work/a.pem" >"$work/www/jwks.json"
	port=$(free_port)
	POSTHOOK_STATE_DIR="$work/state-$name" "$@" "$jwks_url" "$port" "$prefix" \
		>"$work/$name.log" 2>"$work/$name.err" &
	pids="$pids $!"
	if ! wait_port "$port"; then
		fail "$name receiver did not start"
		cat "$work/$name.err"
		return
	fi
	ran="$ran $name"
	expect "$name: good signature" "$(post "$port" "$prefix" b1 "$kid_a" "$sig_a1")" "200 ok"
	expect "$name: same uuid again" "$(post "$port" "$prefix" b1 "$kid_a" "$sig_a1")" \
		"200 duplicate"
	expect "$name: body changed" "$(post "$port" "$prefix" b2 "$kid_a" "$sig_a1")" \
		"401 bad signature"
	expect "$name: signed by another key" \
		"$(post "$port" "$prefix" b2 "$kid_a" "$sig_c2")" "401 bad signature"
	expect "$name: garbage signature" \
		"$(post "$port" "$prefix" b2 "$kid_a" "not*base64")" "401 bad signature"
	expect "$name: no signature" "$(post "$port" "$prefix" b2 "" "")" \
		"401 bad signature"
	expect "$name: wrong header prefix" \
		"$(post "$port" X-Other b2 "$kid_a" "$sig_a1")" "401 bad signature"
	expect "$name: key not yet published" \
		"$(post "$port" "$prefix" b3 "$kid_b" "$sig_b3")" "401 bad signature"
	# A rotation publishes key B; the receiver fetches the JWKS again.
	"$tool" jwks "$work/a.pem" "$work/b.pem" >"$work/www/jwks.json.tmp"
	mv "$work/www/jwks.json.tmp" "$work/www/jwks.json"
	sleep 1.2
	expect "$name: rotated key" "$(post "$port" "$prefix" b3 "$kid_b" "$sig_b3")" "200 ok"
	expect "$name: old key still accepted" \
		"$(post "$port" "$prefix" b1 "$kid_a" "$sig_a1")" "200 duplicate"
	sleep 0.3
	expect "$name: events processed" "$(grep -c '^event ' "$work/$name.log")" 2
	expect "$name: uuid-1 processed once" "$(grep -c '^event uuid-1 MessageSent' \
		"$work/$name.log")" 1
	expect "$name: uuid-3 processed once" "$(grep -c '^event uuid-3 MessageSent' \
		"$work/$name.log")" 1
}

if python3 -c 'import cryptography' 2>/dev/null; then
	run_receiver python X-Posthook python3 "$recv/receiver.py"
else
	echo "SKIP python: python3-cryptography not installed"
fi
if command -v node >/dev/null; then
	run_receiver node X-Ark node "$recv/receiver.js"
else
	echo "SKIP node: not installed"
fi
if command -v ruby >/dev/null; then
	run_receiver ruby X-Posthook ruby "$recv/receiver.rb"
else
	echo "SKIP ruby: not installed"
fi
if command -v php >/dev/null && php -m | grep -qx openssl && php -m | grep -qx pcntl; then
	run_receiver php X-Ark php "$recv/receiver.php"
else
	echo "SKIP php: php-cli with openssl and pcntl not installed"
fi

echo "receivers run:$ran"
[ -n "$ran" ] || exit 77
exit $failed
