#!/usr/bin/env bash
# `make install` into a scratch prefix, then what a user of the installed
# library gets:
#   - libhandshake.a defines no global name but the hsk_ interface (its own
#     names are local: CMakeLists.txt's dist archive);
#   - every function handshake.h and handshake_loop.h declare is there;
#   - a program built with pkg-config's flags, linking lwIP first
#     (lwip_first.c), runs a connection between the two stacks over IPv6.
#     With a plain archive there, handshake's IPv6 input was lwIP's and
#     the program's tcp_output and ip_input were handshake's.
# The sanitizer build's library is shared and exports its internals for
# the tests (CMakeLists.txt): skipped there.
# Usage (from CMake): test_install.sh <build dir> <source dir>
set -u
build=$(cd "${1:?build dir}" && pwd)
src=$(cd "${2:?source dir}" && pwd)
if grep -q '^HSK_SHARED:BOOL=ON' "$build/CMakeCache.txt"; then
	echo "SKIP: a shared build (its library exports the internals for the tests)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp" >"$tmp/install.log" 2>&1 || {
	cat "$tmp/install.log"
	exit 1
}
lib=$tmp/lib/libhandshake.a
[ -f "$lib" ] || { echo "no $lib"; exit 1; }

others=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $3 !~ /^hsk_/ { print $3 }')
if [ -n "$others" ]; then
	echo "libhandshake.a defines global names outside hsk_:"
	echo "$others" | head -20
	exit 1
fi
declared=$(cat "$tmp/include/handshake.h" "$tmp/include/handshake_loop.h" |
	grep -oE '\bhsk_[a-z0-9_]+\(' | tr -d '(' | sort -u)
inline=$(grep -ohE 'static inline [a-z_ *]*\bhsk_[a-z0-9_]+\(' "$tmp/include/"*.h |
	grep -oE 'hsk_[a-z0-9_]+' | sort -u)
defined=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
missing=$(comm -23 <(comm -23 <(echo "$declared") <(echo "$inline")) <(echo "$defined"))
if [ -n "$missing" ]; then
	echo "declared but not in libhandshake.a:"
	echo "$missing"
	exit 1
fi
echo "libhandshake.a: $(echo "$defined" | wc -l) global names, all hsk_, every declared function"

if [ ! -f /usr/include/lwip/lwip/tcp.h ]; then
	echo "SKIP: lwIP missing for the linking check (scripts/deps.sh installs liblwip-dev)"
	exit 77
fi
export PKG_CONFIG_PATH=$tmp/lib/pkgconfig
flags=$(pkg-config --cflags handshake) && libs=$(pkg-config --static --libs handshake) || exit 1
# lwIP first: the order that broke
gcc -O2 -Wall -Wextra -Werror -I/usr/include/lwip $flags "$src/tests/install/lwip_first.c" \
	-llwip $libs -o "$tmp/lwip_first" || exit 1
timeout 20 "$tmp/lwip_first"
