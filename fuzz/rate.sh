#!/bin/sh
# The executions per second of a fuzz harness, measured as docs/fuzzing.md "Measurements" does:
# libFuzzer with the harness's .options and dictionary, from a fresh copy of its seeds (the seed
# corpus, the committed reproducers and the globs of fuzz/targets.txt), one core, for SECONDS,
# with the corpus on tmpfs (/dev/shm, else $TMPDIR); the rate is libFuzzer's count of executed
# units over the time. With a second build directory both run side by side (one core each) and
# the line ends with the ratio A/B.
# Usage: fuzz/rate.sh TARGET [SECONDS] [BUILD_A] [BUILD_B]
#        (from the repository root; defaults: 60 s, build-fuzz; e.g. BUILD_A = a no-sanitizer
#        build made as docs/fuzzing.md "Building" says)
set -u
t=${1:?usage: fuzz/rate.sh TARGET [SECONDS] [BUILD_A] [BUILD_B]}
secs=${2:-60}
a=${3:-build-fuzz}
b=${4:-}
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}

opts() {
	awk -v dir=fuzz '/^\[libfuzzer\]/ { on = 1; next } /^\[/ { on = 0 }
		on && /=/ { gsub(/ /, ""); split($0, kv, "=");
			if (kv[1] == "dict") printf "-dict=%s/%s ", dir, kv[2];
			else printf "-%s=%s ", kv[1], kv[2] }' "fuzz/$t.options"
}

# run BUILD OUT: one measurement; writes "execs/s cov" to OUT
run() {
	bin=$1/fuzz/$t
	d=$(mktemp -d "$base/hvsim-rate.XXXXXX") || exit 3
	mkdir -p "$d/corpus"
	for src in "fuzz/corpus/$t" "fuzz/crashes/$t"; do
		[ -d "$src" ] && cp "$src"/* "$d/corpus/" 2>/dev/null
	done
	for g in $(awk -v t="$t" '$1 == t && $2 != "planned" { for (i = 2; i <= NF; i++) print $i }' \
		fuzz/targets.txt); do
		for f in $g; do # unquoted: the glob expands here
			[ -f "$f" ] && cp "$f" "$d/corpus/"
		done
	done
	# shellcheck disable=SC2046 # opts is a list of separate arguments
	"$bin" $(opts) -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$d/" "$d/corpus" >"$d/log" 2>&1
	n=$(awk '/stat::number_of_executed_units/ { print $2 }' "$d/log")
	cov=$(grep -E '#[0-9]+.*cov: ' "$d/log" | tail -1 | sed 's/.*cov: \([0-9]*\).*/\1/')
	echo "$((${n:-0} / secs)) ${cov:-0}" >"$2"
	rm -rf "$d"
}

for build in $a $b; do
	if [ ! -x "$build/fuzz/$t" ]; then
		echo "rate: no $build/fuzz/$t (make fuzz, or a build as docs/fuzzing.md says)" >&2
		exit 2
	fi
done
out=$(mktemp -d "$base/hvsim-rate-out.XXXXXX") || exit 3
if [ -n "$b" ]; then
	run "$b" "$out/b" &
	run "$a" "$out/a"
	wait
	read -r ra ca <"$out/a"
	read -r rb cb <"$out/b"
	echo "$t ${secs}s: $a $ra execs/s (cov $ca), $b $rb execs/s (cov $cb), A/B" \
		"$(awk -v x="$ra" -v y="$rb" 'BEGIN { printf "%.2f", y ? x / y : 0 }')"
else
	run "$a" "$out/a"
	read -r ra ca <"$out/a"
	echo "$t ${secs}s: $a $ra execs/s (cov $ca)"
fi
rm -rf "$out"
