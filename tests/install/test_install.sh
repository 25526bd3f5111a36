#!/usr/bin/env bash
# `make install` into a scratch prefix, then what a user of the installed
# library gets:
#   - libhandshake.a and libhandshake.so define no global name but the
#     hsk_ interface (the archive's own names are local, the shared
#     library's version script exports hsk_* alone: CMakeLists.txt);
#   - every function handshake.h and handshake_loop.h declare is there;
#   - the shared library is named libhandshake.so.0 (its SONAME);
#   - a program built with pkg-config's flags, linking lwIP first
#     (lwip_first.c), runs a connection between the two stacks over IPv6,
#     once with each library. With a plain archive there, handshake's IPv6
#     input was lwIP's and the program's tcp_output and ip_input were
#     handshake's.
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
declared=$(cat "$tmp/include/handshake.h" "$tmp/include/handshake_loop.h" |
	grep -oE '\bhsk_[a-z0-9_]+\(' | tr -d '(' | sort -u)
inline=$(grep -ohE 'static inline [a-z_ *]*\bhsk_[a-z0-9_]+\(' "$tmp/include/"*.h |
	grep -oE 'hsk_[a-z0-9_]+' | sort -u)
functions=$(comm -23 <(echo "$declared") <(echo "$inline"))

# exports NAME LIST: LIST (the names NAME defines, one a line) holds only
# hsk_ names and every function the headers declare
exports() {
	local others missing
	others=$(echo "$2" | grep -v '^hsk_')
	if [ -n "$others" ]; then
		echo "$1 defines global names outside hsk_:"
		echo "$others" | head -20
		return 1
	fi
	missing=$(comm -23 <(echo "$functions") <(echo "$2"))
	if [ -n "$missing" ]; then
		echo "declared but not in $1:"
		echo "$missing"
		return 1
	fi
	echo "$1: $(echo "$2" | wc -l) global names, all hsk_, every declared function"
}

a=$tmp/lib/libhandshake.a
so=$tmp/lib/libhandshake.so
[ -f "$a" ] || { echo "no $a"; exit 1; }
[ -L "$so" ] || { echo "no $so"; exit 1; }
exports libhandshake.a "$(nm -g --defined-only "$a" | awk 'NF == 3 { print $3 }' | sort -u)" || exit 1
# the version node (HANDSHAKE_0, an absolute symbol) is not a name of code
exports libhandshake.so "$(nm -D --defined-only "$so" | awk 'NF == 3 && $2 != "A" { print $3 }' |
	sed 's/@.*//' | sort -u)" || exit 1
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libhandshake.so.0 ] || { echo "libhandshake.so's SONAME is '$soname'"; exit 1; }
[ -e "$tmp/lib/$soname" ] || { echo "no $tmp/lib/$soname"; exit 1; }

if [ ! -f /usr/include/lwip/lwip/tcp.h ]; then
	echo "SKIP: lwIP missing for the linking check (scripts/deps.sh installs liblwip-dev)"
	exit 77
fi
export PKG_CONFIG_PATH=$tmp/lib/pkgconfig
flags=$(pkg-config --cflags handshake) && libs=$(pkg-config --libs handshake) &&
	static_libs=$(pkg-config --static --libs handshake) || exit 1
# lwIP first: the order that broke. pkg-config's own line takes the
# shared library (README's "Linking an application"); the static one is
# named by its file, with the libraries it needs.
gcc -O2 -Wall -Wextra -Werror -I/usr/include/lwip $flags "$src/tests/install/lwip_first.c" \
	-llwip $libs -o "$tmp/lwip_shared" || exit 1
gcc -O2 -Wall -Wextra -Werror -I/usr/include/lwip $flags "$src/tests/install/lwip_first.c" \
	-llwip "$a" ${static_libs/-lhandshake/} -o "$tmp/lwip_static" || exit 1
loaded=$(LD_LIBRARY_PATH=$tmp/lib ldd "$tmp/lwip_shared" | awk '$1 == "libhandshake.so.0" { print $3 }')
[ "$loaded" = "$tmp/lib/libhandshake.so.0" ] || { echo "lwip_shared loads libhandshake from '$loaded'"; exit 1; }
if ldd "$tmp/lwip_static" | grep -q libhandshake; then
	echo "lwip_static loads a libhandshake.so"
	exit 1
fi
echo "shared:"
LD_LIBRARY_PATH=$tmp/lib timeout 20 "$tmp/lwip_shared" || exit 1
echo "static:"
timeout 20 "$tmp/lwip_static"
