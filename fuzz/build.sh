#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for hvsim's fuzz harnesses (docs/fuzzing.md "Scale-out").
# The infrastructure sets:
#   CC, CFLAGS           compiler and flags, sanitizer and coverage included (-fsanitize=fuzzer-no-link,...)
#   LIB_FUZZING_ENGINE   the engine to link (-fsanitize=fuzzer, or AFL++'s / honggfuzz's driver)
#   OUT                  where fuzz targets, seed corpora, dictionaries and options go
#   SRC, WORK            source checkout root and scratch space (the hvsim tree is $SRC/hvsim)
# By hand, from the repository root:
#   CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined,fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/fuzz-out fuzz/build.sh
# For each fuzz/fuzz_*.c harness T it writes $OUT/T, $OUT/T_seed_corpus.zip (when zip exists),
# $OUT/T.dict and $OUT/T.options (when the harness has them).

root=${HVSIM_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
work=${WORK:-$(mktemp -d)}
obj="$work/hvsim-fuzz-obj"
mkdir -p "$obj" "$OUT"
flags="-std=c11 -Iinclude -D_GNU_SOURCE $CFLAGS"
# Invariant checks are not coverage-instrumented (fuzz/coverage-ignore.txt), where the compiler
# takes the list (clang, afl-clang-fast).
ignore="-fsanitize-coverage-ignorelist=$root/fuzz/coverage-ignore.txt"
if echo 'int x;' | $CC $CFLAGS $ignore -x c -c - -o /dev/null 2>/dev/null; then
	flags="$flags $ignore"
fi

# The library's directories, as the Makefile lists them (LIB_DIRS).
lib_dirs=$(sed -n 's/^LIB_DIRS *:= *//p' Makefile)
lib_objs=()
for d in $lib_dirs; do
	for c in "$d"/*.c; do
		[ -f "$c" ] || continue
		o="$obj/$(echo "$c" | tr / _).o"
		$CC $flags -c "$c" -o "$o"
		lib_objs+=("$o")
	done
done
# VMX CPU profiles embedded as a generated source, as the Makefile does (tools/embed.c).
${HOST_CC:-cc} -std=c11 -O2 -o "$obj/embed" tools/embed.c
"$obj/embed" "$obj/vmx_profiles_data.c" profiles/*.json
$CC $flags -c "$obj/vmx_profiles_data.c" -o "$obj/vmx_profiles_data.o"
lib_objs+=("$obj/vmx_profiles_data.o")
rm -f "$obj/libhvsim.a"
ar rcs "$obj/libhvsim.a" "${lib_objs[@]}"

fz_objs=()
for c in fuzz/fz_*.c; do # as fuzz.mk: the shared modules, an archive each harness takes from
	o="$obj/$(basename "$c" .c).o"
	$CC $flags -c "$c" -o "$o"
	fz_objs+=("$o")
done
rm -f "$obj/libfz.a"
ar rcs "$obj/libfz.a" "${fz_objs[@]}"
$CC $flags -c fuzz/fuzz_common.c -o "$obj/fuzz_common.o"
shared=("$obj/fuzz_common.o" "$obj/libfz.a")

# The runner image has none of the build image's shared libraries: link a static archive where
# there is one, else link the shared library and ship it in $OUT/lib (found through $ORIGIN/lib).
libs=()
rpath=""
for l in cjson unicorn Zydis Zycore; do
	a=$($CC -print-file-name="lib$l.a")
	if [ -f "$a" ]; then
		libs+=("$a")
	else
		so=$($CC -print-file-name="lib$l.so")
		libs+=("-l$l")
		if [ -f "$so" ]; then
			mkdir -p "$OUT/lib"
			for n in $(objdump -p "$so" 2>/dev/null | sed -n 's/^ *SONAME *//p'); do
				cp -L "$so" "$OUT/lib/$n"
			done
			rpath='-Wl,-rpath,$ORIGIN/lib'
		fi
	fi
done
libs+=("-lm" "-lpthread")

seeds_of() { # the seed files of harness $1: fuzz/corpus/$1/ and the globs in fuzz/targets.txt
	local t=$1 g f
	for f in fuzz/corpus/"$t"/* fuzz/crashes/"$t"/*; do
		[ -f "$f" ] && [ "${f%.expect}" = "$f" ] && echo "$f"
	done
	for g in $(awk -v t="$t" '$1 == t && $2 != "planned" { for (i = 2; i <= NF; i++) print $i }' \
		fuzz/targets.txt); do
		for f in $g; do
			[ -f "$f" ] && echo "$f"
		done
	done
	return 0
}

for h in fuzz/fuzz_*.c; do
	t=$(basename "$h" .c)
	[ "$t" = fuzz_common ] && continue
	$CC $flags -c "$h" -o "$obj/$t.o"
	$CC $CFLAGS "$obj/$t.o" "${shared[@]}" "$obj/libhvsim.a" $LIB_FUZZING_ENGINE \
		"${libs[@]}" $rpath -o "$OUT/$t"
	[ -f "fuzz/$t.dict" ] && cp "fuzz/$t.dict" "$OUT/$t.dict"
	[ -f "fuzz/$t.options" ] && cp "fuzz/$t.options" "$OUT/$t.options"
	if command -v zip >/dev/null 2>&1; then
		rm -f "$OUT/${t}_seed_corpus.zip"
		seeds_of "$t" | zip -q -j -@ "$OUT/${t}_seed_corpus.zip" || true
	fi
	echo "build.sh: $OUT/$t"
done
