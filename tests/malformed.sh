#!/bin/sh
# Malformed scenarios: each tests/malformed/NN-name.json must make hvsim exit with status 2 and print
# exactly the message in NN-name.expected (whose optional first line "# check" selects `hvsim check`
# instead of `hvsim run`). Then: a library with one bad file must run nothing at all.
set -u
HVSIM=${HVSIM:-bin/hvsim}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvsim-malformed-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
for json in tests/malformed/*.json; do
	exp=${json%.json}.expected
	n=$((n + 1))
	if head -1 "$exp" | grep -q '^# check'; then
		cmd="check"
		tail -n +2 "$exp" >"$tmp/want"
	else
		cmd="run"
		cp "$exp" "$tmp/want"
	fi
	if [ "$cmd" = check ]; then
		"$HVSIM" check "$json" >"$tmp/out" 2>"$tmp/got"
	else
		"$HVSIM" run --no-trace "$json" >"$tmp/out" 2>"$tmp/got"
	fi
	rc=$?
	if [ "$rc" -ne 2 ] || ! cmp -s "$tmp/want" "$tmp/got" || [ -s "$tmp/out" ]; then
		echo "FAIL $json (hvsim $cmd): wanted exit 2 and:"
		sed 's/^/    /' "$tmp/want"
		echo "  got exit $rc and:"
		sed 's/^/    /' "$tmp/got" "$tmp/out"
		fail=$((fail + 1))
	fi
done
# Never a partial run: one bad file among good ones and nothing runs.
"$HVSIM" check scenarios tests/malformed/11-vcpus-string.json >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 2 ] || [ -s "$tmp/out" ]; then
	echo "FAIL a library with a bad file must exit 2 and run nothing (exit $rc):"
	sed 's/^/    /' "$tmp/out"
	fail=$((fail + 1))
fi
echo "malformed scenarios: $((n - fail + 1)) of $((n + 1)) cases behave"
[ "$fail" -eq 0 ]
