#!/bin/sh
# Makes sure the Debian packages hvsim builds against are installed.
# As root it installs what is missing with apt-get; otherwise it prints the one command to run.
# Usage: scripts/deps.sh [extra-package...]
set -u
pkgs="libunicorn-dev libzydis-dev libcjson-dev libcriterion-dev pkg-config binutils $*"

if ! command -v dpkg-query >/dev/null 2>&1; then
	# Not Debian: trust the compiler to find the libraries, and say so once.
	echo "deps: dpkg-query not found; assuming $pkgs (or equivalents) are installed" >&2
	exit 0
fi

missing=""
for p in $pkgs; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "hvsim needs these Debian packages:$missing" >&2
	echo "Run:  sudo apt-get install -y$missing" >&2
	exit 1
fi

echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update && apt-get install -y --no-install-recommends $missing || {
		echo "deps: apt-get could not install$missing" >&2
		exit 1
	}
fi
