#!/bin/sh
# The default goal, then make install / uninstall into a temporary DESTDIR: the binary, both libraries, the headers and
# hvsim.pc land where promised; a program built with `pkg-config hvsim` against the installed copy
# links and runs; uninstall removes every file it installed.
set -eu
# `make` with no target builds the library and the CLI (the default goal is `all`)
goal=$(make -pnq 2>/dev/null | sed -n 's/^\.DEFAULT_GOAL := //p' | head -1)
[ "$goal" = all ] || { echo "make: default goal is '$goal', expected 'all'"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvsim-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
make -s --no-print-directory install PREFIX=/usr/local DESTDIR="$tmp" >/dev/null
p="$tmp/usr/local"
for f in bin/hvsim lib/libhvsim.a lib/libhvsim.so lib/pkgconfig/hvsim.pc include/hvsim/hv.h; do
	[ -f "$p/$f" ] || { echo "install: $f missing"; exit 1; }
done
cat >"$tmp/prog.c" <<'C'
#include <hvsim/hv.h>
#include <stdio.h>
int main(void)
{
	printf("%s\n", hvsim_version());
	return 0;
}
C
sed "s|^prefix=.*|prefix=$p|" "$p/lib/pkgconfig/hvsim.pc" >"$tmp/hvsim.pc"
cc -o "$tmp/prog" "$tmp/prog.c" $(PKG_CONFIG_PATH="$tmp" pkg-config --cflags --libs --static hvsim)
LD_LIBRARY_PATH="$p/lib" "$tmp/prog" | grep -q '^[0-9]' || { echo "install: program against the installed library failed"; exit 1; }
make -s --no-print-directory uninstall PREFIX=/usr/local DESTDIR="$tmp" >/dev/null
left=$(find "$p" -type f | wc -l)
[ "$left" -eq 0 ] || { echo "uninstall: $left files left"; find "$p" -type f; exit 1; }
echo "install: binary, libraries, headers and hvsim.pc installed, used and removed"
