#!/bin/sh
# Checks fuzz/coverage-ignore.txt against the sources: every src: entry names at least one file and
# every fun: entry at least one function defined in sim/, models/, hv/ or fuzz/ (.c or .h; a definition
# starts at column 0, as clang-format lays them out). A renamed file or function would otherwise
# silently return to coverage instrumentation, and the fuzzing rates with it.
# Usage: fuzz/coverage-ignore-check.sh   (from the repository root; exit 1 on a stale entry)
list=fuzz/coverage-ignore.txt
dirs="sim models hv fuzz"
status=0
n=0
for entry in $(grep -E '^(src|fun):' "$list"); do
	n=$((n + 1))
	kind=${entry%%:*}
	pat=${entry#*:}
	if [ "$kind" = src ]; then
		# src:*dir/file.c: the glob is matched against the path the compiler sees
		found=$(find $dirs -path "${pat#\*}" -o -path "*${pat#\*}" 2>/dev/null | head -1)
	else
		re=$(printf '%s' "$pat" | sed 's/\*/[A-Za-z0-9_]*/g')
		found=$(grep -rlE --include='*.c' --include='*.h' "(^|^[^ 	#/].*[ *])${re}\(" $dirs | head -1)
	fi
	if [ -z "$found" ]; then
		echo "coverage-ignore: stale entry $entry (no such ${kind} in $dirs)" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "coverage-ignore: $n entries, each names a file or function that exists"
exit $status
