#!/bin/sh
# Replays every harness's seed corpus (fuzz/corpus/T/ and the seed globs of fuzz/targets.txt) and its
# committed crash reproducers (fuzz/crashes/T/) with the plain replay binaries of BUILD/fuzz/ (no
# fuzzer runtime). Built with sanitizers (make fuzz-replay: ASan + UBSan), any report fails the run.
# Usage: fuzz/replay.sh [BUILD]     (default build-asan; run from the repository root)
set -eu
build=${1:-build-asan}
status=0
found=0
for bin in "$build"/fuzz/*-replay; do
	[ -x "$bin" ] || continue
	found=$((found + 1))
	t=$(basename "$bin" -replay)
	set --
	for d in "fuzz/corpus/$t" "fuzz/crashes/$t"; do
		[ -d "$d" ] && set -- "$@" "$d"
	done
	globs=$(awk -v t="$t" '$1 == t && $2 != "planned" { for (i = 2; i <= NF; i++) print $i }' \
		fuzz/targets.txt)
	for g in $globs; do
		for f in $g; do # unquoted: the glob expands here
			[ -f "$f" ] && set -- "$@" "$f"
		done
	done
	if [ $# -eq 0 ]; then
		echo "fuzz-replay: $t has no seeds and no reproducers" >&2
		status=1
		continue
	fi
	"$bin" "$@" || status=1
done
if [ "$found" -eq 0 ]; then
	echo "fuzz-replay: no replay binaries in $build/fuzz" >&2
	exit 1
fi
exit $status
