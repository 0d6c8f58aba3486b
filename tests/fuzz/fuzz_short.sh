#!/bin/sh
# fuzz_short.sh - run every libFuzzer harness briefly (FUZZ_SECONDS each,
# default 15), so that a crash once found is caught again.  `make fuzz`
# runs them longer.
FUZZ_BUILD="$top_builddir/tests/fuzz-build"
export FUZZ_BUILD
exec sh "$top_srcdir/tests/fuzz/fuzz.sh" -t "${FUZZ_SECONDS:-15}"
