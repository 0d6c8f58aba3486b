#!/bin/sh
# summary.sh DIR - print each failed test's log and a last line
# "N passed, N failed, N skipped" from automake's .trs files under DIR
# (the build's tests/, whose suites are in one folder per program).
set -eu
dir=${1:-tests}
passed=0 failed=0 skipped=0
for trs in $(find "$dir" -name '*.trs' | sort); do
	result=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	case "$result" in
	PASS|XFAIL) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*)
		failed=$((failed + 1))
		name=${trs#"$dir"/}
		echo "=== $result: ${name%.trs}"
		tail -n 60 "${trs%.trs}.log" 2>/dev/null || true
		;;
	esac
done
echo "$passed passed, $failed failed, $skipped skipped"
