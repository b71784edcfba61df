#!/bin/sh
# The hvsim command line, end to end: golden diff reporting (first divergent line, three lines of
# context, expected and actual), exit statuses, --shard, --junit, bless refusing in CI, --help and
# --version. Works on a copy of the smoke scenario in a temporary directory.
set -u
HVSIM=${HVSIM:-bin/hvsim}
EXAMPLES=${EXAMPLES:-build/examples}
case "$HVSIM" in /*) ;; *) HVSIM="$PWD/$HVSIM" ;; esac
case "$EXAMPLES" in /*) ;; *) EXAMPLES="$PWD/$EXAMPLES" ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvsim-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

mkdir -p "$tmp/scenarios" "$tmp/golden"
cp scenarios/smoke.json "$tmp/scenarios/"
cp golden/smoke.*.jsonl "$tmp/golden/"
cd "$tmp"

# 1. A golden with line 7 changed: exit 1, and the report shows lines 4-6, then expected/actual 7.
sed -i '7s/"vector":"0x2a"/"vector":"0x2b"/' golden/smoke.default.jsonl
"$HVSIM" check scenarios >out 2>err
rc=$?
want_ctx=$(sed -n '4,6p' golden/smoke.default.jsonl)
want_exp=$(sed -n '7p' golden/smoke.default.jsonl)
if [ $rc -eq 1 ] && grep -q "first difference at line 7" out &&
	grep -qF -- "- $want_exp" out && grep -qF "$(echo "$want_ctx" | sed -n 1p)" out &&
	grep -qF "$(echo "$want_ctx" | sed -n 3p)" out &&
	grep -qF -- "+ $(echo "$want_exp" | sed 's/0x2b/0x2a/')" out &&
	grep -q "FAIL smoke/default" out && grep -q "PASS smoke/block" out; then
	ok "golden mismatch: exit 1, first divergent line, context, expected and actual"
else
	bad "golden mismatch report (exit $rc)"; cat out err
fi

# 2. A golden shorter than the trace: the missing line is reported as end of golden.
cp golden/smoke.block.jsonl block.bak
head -n 5 block.bak >golden/smoke.block.jsonl
"$HVSIM" check --run block scenarios >out 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "first difference at line 6" out && grep -q "(end of golden)" out; then
	ok "short golden: reports end of golden"
else
	bad "short golden (exit $rc)"; cat out
fi
cp block.bak golden/smoke.block.jsonl

# 3. JUnit XML names each run and marks the failure.
"$HVSIM" check --junit junit.xml scenarios >/dev/null 2>&1
if grep -q '<testsuite name="hvsim" tests="2" failures="1">' junit.xml &&
	grep -q '<testcase classname="smoke" name="default"' junit.xml &&
	grep -q '<failure message="trace differs from golden">' junit.xml; then
	ok "junit: two cases, one failure"
else
	bad "junit output"; cat junit.xml
fi

# 4. Shards partition the runs.
a=$("$HVSIM" check --shard 1/2 scenarios 2>/dev/null | grep -c '^[A-Z]* smoke/')
b=$("$HVSIM" check --shard 2/2 scenarios 2>/dev/null | grep -c '^[A-Z]* smoke/')
if [ "$a" -eq 1 ] && [ "$b" -eq 1 ]; then ok "shards 1/2 and 2/2 run one run each"; else bad "shards ($a, $b)"; fi
"$HVSIM" check --shard 3/2 scenarios >/dev/null 2>&1
[ $? -eq 2 ] && ok "--shard 3/2 is a usage error" || bad "--shard 3/2 exit status"

# 5. bless refuses in CI, and without a terminal unless --yes.
CI=true "$HVSIM" bless --yes scenarios/smoke.json >/dev/null 2>err
[ $? -eq 2 ] && grep -q "refusing to rewrite goldens in CI" err && ok "bless refuses when CI is set" || bad "bless in CI"
env -u CI "$HVSIM" bless scenarios/smoke.json </dev/null >/dev/null 2>err
[ $? -eq 2 ] && grep -q "pass --yes" err && ok "bless without a terminal needs --yes" || bad "bless without tty"
env -u CI "$HVSIM" bless --yes scenarios/smoke.json >out 2>&1
if [ $? -eq 0 ] && "$HVSIM" check scenarios >/dev/null 2>&1; then
	ok "bless --yes rewrites the broken golden; check passes again"
else
	bad "bless --yes"; cat out
fi

# 6. An unexpected finding fails a run with exit 1.
sed 's/"findings": \["idle_hang"\]/"findings": []/' scenarios/smoke.json >scenarios/smoke2.json
sed -i 's/"name": "smoke"/"name": "smoke2"/' scenarios/smoke2.json
"$HVSIM" run --no-trace --run block scenarios/smoke2.json >out 2>&1
[ $? -eq 1 ] && grep -q "unexpected finding idle_hang" out && ok "unexpected finding: exit 1" || bad "unexpected finding"
rm scenarios/smoke2.json

# 7. Help, version, usage errors.
"$HVSIM" --version | grep -q '^hvsim [0-9]' && ok "--version" || bad "--version"
for c in run check bless list; do
	"$HVSIM" $c --help | grep -q "^usage: hvsim $c" && ok "$c --help" || bad "$c --help"
done
"$HVSIM" frobnicate >/dev/null 2>&1
[ $? -eq 2 ] && ok "unknown command: exit 2" || bad "unknown command"
"$HVSIM" run >/dev/null 2>&1
[ $? -eq 2 ] && ok "run without a scenario: exit 2" || bad "run without scenario"
"$HVSIM" list --quirks | grep -q "halt_with_if_clear" && ok "list --quirks" || bad "list --quirks"
# kvm takes every quirk again at hvsim_vm_reload; minimal has no reload callback
"$HVSIM" list --quirks | grep -q "quirk tdx_insn_exit: .*; a reload may change it)" &&
	! "$HVSIM" list --quirks | grep "quirk rdtsc_exiting" | grep -q "reload" &&
	ok "list --quirks marks the quirks a reload may change" ||
	bad "list --quirks marks the quirks a reload may change"

# 8. Plug-in algorithms: the example runs the smoke scenario; a wrong ABI version is refused.
"$HVSIM" run --no-trace --run default --hv "$EXAMPLES/libexample_hv.so" scenarios/smoke.json >out 2>&1
if [ $? -eq 0 ] && grep -q "algorithm example" out && grep -q "result    pass" out; then
	ok "plug-in: the example algorithm runs the smoke scenario"
else
	bad "plug-in example"; cat out
fi
"$HVSIM" run --no-trace --hv "$EXAMPLES/libexample_hv_badabi.so" scenarios/smoke.json >out 2>&1
if [ $? -eq 2 ] && grep -q "algorithm ABI version [0-9]*, expected [0-9]*: rebuild it" out; then
	ok "plug-in: ABI version mismatch is refused with exit 2"
else
	bad "plug-in ABI check"; cat out
fi
"$HVSIM" run --no-trace --hv ./no-such.so scenarios/smoke.json >out 2>&1
[ $? -eq 2 ] && grep -q "cannot load" out && ok "plug-in: missing file is exit 2" || bad "missing plug-in"

# hvsim fuzz's final progress line reads a finished libFuzzer log even when a long recommended
# dictionary follows its last status line (a stand-in harness writes such a log).
mkdir -p fakebuild/fuzz
cat >fakebuild/fuzz/fuzz_scenario_json <<'FAKE'
#!/bin/sh
{
	echo "#2	INITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb"
	echo "#4242	DONE   cov: 123 ft: 456 corp: 78/9Kb lim: 4 exec/s: 4242 rss: 40Mb"
	echo "###### Recommended dictionary. ######"
	i=0
	while [ $i -lt 600 ]; do echo "\"a-dictionary-entry-$i\" # Uses: 100"; i=$((i + 1)); done
	echo "###### End of recommended dictionary. ######"
	echo "stat::number_of_executed_units: 4242"
	echo "stat::average_exec_per_sec:     4242"
} >fuzz-0.log
FAKE
chmod +x fakebuild/fuzz/fuzz_scenario_json
mkdir -p fuzz/out/fuzz_scenario_json/artifacts # an earlier campaign's report is not this one's
touch fuzz/out/fuzz_scenario_json/artifacts/crash-earlier
"$HVSIM" fuzz fuzz_scenario_json --time 1 --build fakebuild >out 2>&1
if [ $? -eq 0 ] && grep -q "execs 4242 .*cov 123  ft 456  corpus 78  findings 0" out; then
	ok "fuzz: the final progress line reads a finished log past its dictionary, counts only its own findings"
else
	bad "fuzz final progress line"; cat out
fi

# A timeout named in both the driver's log and the job's log is one finding, of kind timeout.
cat >fakebuild/fuzz/fuzz_lapic_ioapic <<'FAKE'
#!/bin/sh
echo "artifact_prefix='./'; Test unit written to ./timeout-abc"
{
	echo "#7	DONE   cov: 5 ft: 6 corp: 2/2b lim: 4 exec/s: 7 rss: 30Mb"
	echo "ALARM: working on the last Unit for 14 seconds"
	echo "artifact_prefix='./'; Test unit written to ./timeout-abc"
	echo "==1== ERROR: libFuzzer: timeout after 14 seconds"
} >fuzz-0.log
FAKE
chmod +x fakebuild/fuzz/fuzz_lapic_ioapic
"$HVSIM" fuzz fuzz_lapic_ioapic --time 1 --build fakebuild >out 2>&1
if [ $? -eq 1 ] && grep -q "^1 finding$" out && grep -q "libFuzzer: timeout" out; then
	ok "fuzz: a finding two logs name is listed once, a timeout as a timeout"
else
	bad "fuzz findings list"; cat out
fi

# A slow unit libFuzzer saved is reported as such, not as a finding.
cat >fakebuild/fuzz/fuzz_pmu_msr <<'FAKE'
#!/bin/sh
{
	echo "#7	DONE   cov: 5 ft: 6 corp: 2/2b lim: 4 exec/s: 7 rss: 30Mb"
	echo "Slowest unit: 12 s:"
	echo "artifact_prefix='./'; Test unit written to ./slow-unit-abc"
} >fuzz-0.log
FAKE
chmod +x fakebuild/fuzz/fuzz_pmu_msr
"$HVSIM" fuzz fuzz_pmu_msr --time 1 --build fakebuild >out 2>&1
if [ $? -eq 0 ] && grep -q "^0 findings$" out && grep -q "^1 slow input report" out; then
	ok "fuzz: a slow unit is reported, not listed as a finding"
else
	bad "fuzz slow unit"; cat out
fi

# --record names an absolute directory the jobs record to; one job does not reread the corpus.
cat >fakebuild/fuzz/fuzz_tdx_seamcall <<FAKE
#!/bin/sh
echo "seq=\$HVSIM_FUZZ_SEQUENCE args=\$*" >"$PWD/fake-args"
echo "#7	DONE   cov: 5 ft: 6 corp: 2/2b lim: 4 exec/s: 7 rss: 30Mb" >fuzz-0.log
FAKE
chmod +x fakebuild/fuzz/fuzz_tdx_seamcall
"$HVSIM" fuzz fuzz_tdx_seamcall --time 1 --build fakebuild --record rec/seq >out 2>&1
if [ $? -eq 0 ] && [ -d rec/seq ] &&
	grep -q "^seq=$(cd rec/seq && pwd -P) args=.* -reload=0" fake-args; then
	ok "fuzz: --record hands the jobs an absolute directory; one job does not reload the corpus"
else
	bad "fuzz --record"; cat out fake-args
fi

echo "cli: $fail failures"
[ "$fail" -eq 0 ]
