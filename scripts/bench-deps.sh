#!/usr/bin/env bash
# What `make bench` needs beyond scripts/deps.sh (which installs valgrind
# and Debian's liblwip-dev): Debian's lwIP source package, unpacked into
# DEST, so that scripts/bench.sh can build lwIP from source (NO_SYS, with
# bench/lwip/lwipopts.h) beside Debian's build of it.
#
#   scripts/bench-deps.sh [DEST]     DEST defaults to build/bench/lwip-src
#
# apt-get source needs a deb-src entry, which a stock Debian 12 lacks; this
# uses one of its own (a private source list and package lists under
# DEST's parent), leaving the machine's apt configuration alone. Does
# nothing when DEST already holds the source. Exits non-zero, saying why,
# when it cannot fetch it; bench.sh then reports lwIP from source as not
# measured.
set -u
cd "$(dirname "$0")/.."
DEST=${1:-build/bench/lwip-src}
[ -f "$DEST/src/core/tcp_in.c" ] && exit 0
./scripts/deps.sh || exit 1
if ! command -v dpkg-source >/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench-deps.sh: dpkg-dev is missing (run as root to install it)" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null || exit 1
fi
APT=$(dirname "$DEST")/apt
mkdir -p "$APT/lists/partial" "$APT/src"
APT=$(cd "$APT" && pwd)
. /etc/os-release
echo "deb-src http://deb.debian.org/debian ${VERSION_CODENAME:-bookworm} main" >"$APT/sources.list"
opts=(-o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$APT/lists" -o APT::Sandbox::User=root)
echo "bench-deps.sh: fetching Debian's lwip source package"
apt-get "${opts[@]}" -qq update >/dev/null 2>&1 &&
	(cd "$APT/src" && rm -rf lwip-* && apt-get "${opts[@]}" -qq source lwip >/dev/null 2>&1) || {
	echo "bench-deps.sh: apt-get source lwip failed (no deb-src reachable?)" >&2
	exit 1
}
src=$(ls -d "$APT"/src/lwip-*/ 2>/dev/null | head -1)
[ -n "$src" ] && [ -f "$src/src/core/tcp_in.c" ] || { echo "bench-deps.sh: no lwip source unpacked" >&2; exit 1; }
rm -rf "$DEST"
mv "$src" "$DEST"
rm -rf "$APT"
echo "bench-deps.sh: lwIP source in $DEST ($(head -1 "$DEST/debian/changelog" | cut -d' ' -f2))"
