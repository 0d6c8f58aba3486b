#!/bin/sh
# style.sh - fail on any C file of the project that clang-format, with the
# checked-in .clang-format, would change.  Run from anywhere in a clone.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v clang-format >/dev/null || { echo "style.sh: clang-format is not installed" >&2; exit 2; }
bad=0
files=0
for f in $(git ls-files '*.c' '*.h'); do
	files=$((files + 1))
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "style: $f is not formatted (clang-format -i $f)"
		bad=$((bad + 1))
	fi
done
echo "style: $files C files, $bad not formatted"
[ "$bad" -eq 0 ]
