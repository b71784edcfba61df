#!/bin/sh
# The scenario/golden suite: every scenario in the library against its golden, then the
# determinism check (the library twice, with -j 1 and -j 2: traces must be byte-identical).
set -eu
HVSIM=${HVSIM:-bin/hvsim}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvsim-suite-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== scenario library against goldens"
"$HVSIM" check -j 2 scenarios

echo "== determinism: the library twice, -j 1 and -j 2, byte-identical traces"
"$HVSIM" check -j 1 --traces "$tmp/a" scenarios >/dev/null
"$HVSIM" check -j 2 --traces "$tmp/b" scenarios >/dev/null
n=$(ls "$tmp/a" | wc -l)
if [ "$n" -eq 0 ]; then
	echo "determinism: no traces were written" >&2
	exit 1
fi
if ! diff -r "$tmp/a" "$tmp/b" >"$tmp/diff"; then
	echo "determinism: traces differ between runs:" >&2
	head -20 "$tmp/diff" >&2
	exit 1
fi
echo "determinism: $n traces identical across runs and job counts"
