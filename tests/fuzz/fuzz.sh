#!/bin/sh
# fuzz.sh [-t SECONDS] [NAME...] - build posthook's libFuzzer harnesses with
# clang (ASan + UBSan) and run each for SECONDS (default 60), starting from
# its seed corpus (tests/fuzz/corpus/NAME, or the unit test's messages for
# dsn: tests/bounce/dsn).  New inputs go to a scratch
# corpus, never into the repository; a crash leaves its input in the build
# directory and makes the script fail.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=60
if [ "${1:-}" = "-t" ]; then
	secs=$2
	shift 2
fi
out=${FUZZ_BUILD:-${TMPDIR:-/tmp}/posthook-fuzz}
mkdir -p "$out"

cc=${FUZZ_CC:-clang}
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-D_GNU_SOURCE -DPACKAGE_VERSION=\"fuzz\" -I$src/lib -I$src/logtail -I$src/milter -I$src/api
	$(pkg-config --cflags json-c)"
libs="$(pkg-config --libs json-c libcrypto) -ldb-5.3 -lpthread"
common="lib/util/util.c lib/util/log.c lib/util/utf8.c lib/util/base64.c lib/util/json.c
	lib/event/event.c"

# name: the harness's own sources besides tests/fuzz/fuzz_NAME.c
sources() {
	case "$1" in
	config) echo "lib/config/config.c lib/config/config_keys.c lib/util/cidr.c lib/classify/classify.c lib/classify/prefilter.c lib/classify/classify_vocab.c lib/classify/classify_provider.c lib/classify/classify_status.c lib/classify/classify_local.c lib/util/file_atomic.c" ;;
	classify) echo "lib/classify/classify.c lib/classify/prefilter.c lib/classify/classify_vocab.c lib/classify/classify_provider.c lib/classify/classify_status.c lib/classify/classify_local.c lib/util/file_atomic.c" ;;
	parse_line) echo "logtail/parse_line.c logtail/parse_message.c" ;;
	app_headers) echo "milter/app_headers.c milter/rfc2047.c" ;;
	dsn) echo "lib/bounce/dsn.c lib/bounce/mime.c lib/bounce/dsn_report.c lib/bounce/dsn_text.c" ;;
	dns_records) echo "lib/dns/records.c lib/dns/spf.c lib/dns/answer.c" ;;
	api_router) echo "api/router.c" ;;
	api_body) echo "api/json_body.c lib/store/endpoint.c lib/store/endpoint_check.c lib/store/store.c lib/store/store_seq.c lib/store/store_table.c lib/store/store_txn.c lib/util/jsonw.c lib/event/event_ops.c" ;;
	tenant) echo "lib/tenant/tenant_rules.c lib/util/cidr.c" ;;
	track_hit) echo "lib/track/hit.c lib/track/token.c lib/util/cidr.c" ;;
	track) echo "lib/track/html_track.c lib/track/mime_track.c" ;;
	*) echo "fuzz: no source list for $1 in fuzz.sh" >&2; return 1 ;;
	esac
}

# seeds NAME: the harness's seed corpus, shared with its unit test if any
seeds() {
	case "$1" in
	dsn) echo "$src/tests/bounce/dsn" ;;
	*) echo "$src/tests/fuzz/corpus/$1" ;;
	esac
}

if [ $# -gt 0 ]; then
	names=$*
else
	names=$(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi
failed=0
for name in $names; do
	harness="$src/tests/fuzz/fuzz_$name.c"
	if [ ! -f "$harness" ]; then
		echo "fuzz: no harness $harness" >&2
		failed=1
		continue
	fi
	srcs=""
	for f in $common $(sources "$name"); do
		srcs="$srcs $src/$f"
	done
	extra=""
	[ "$name" = dns_records ] && extra="-lspf2"
	[ "$name" = track ] && extra="$(pkg-config --cflags --libs gmime-3.0)"
	# shellcheck disable=SC2086
	$cc $cflags -o "$out/fuzz_$name" "$harness" $srcs $libs $extra
	mkdir -p "$out/corpus-$name"
	echo "fuzz: $name for ${secs}s"
	if ! "$out/fuzz_$name" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$out/crash-$name-" -print_final_stats=1 \
		"$out/corpus-$name" "$(seeds "$name")" > "$out/$name.log" 2>&1; then
		echo "fuzz: $name FAILED; input and report in $out" >&2
		tail -n 40 "$out/$name.log" >&2
		failed=1
		continue
	fi
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$out/$name.log" \
		| sed "s/^/fuzz: $name /"
done
exit "$failed"
