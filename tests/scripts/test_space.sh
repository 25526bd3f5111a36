#!/usr/bin/env bash
# scripts/space.sh (make check's first step) warns when a directory has
# less free disk than asked for, and only then; it never fails the build.
# Usage (from CMake): test_space.sh <build dir> <source dir>
set -u
src=${2:?source dir}
dir=$(mktemp -d /tmp/hsk-test_space.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# more than any disk has: the warning, and still exit 0
out=$("$src/scripts/space.sh" 999999999 "$dir" 2>&1) || fail "space.sh failed on a warning"
echo "$out" | grep -q "WARNING: .* MiB free in $dir; make check needs about 999999999 MiB" ||
	fail "no warning for 999999999 MiB: $out"

# 1 MiB: no warning, the free figure given
out=$("$src/scripts/space.sh" 1 "$dir" 2>&1) || fail "space.sh failed"
echo "$out" | grep -q WARNING && fail "a warning for 1 MiB: $out"
echo "$out" | grep -qE "^space.sh: [0-9]+ MiB free in $dir\$" || fail "no free figure: $out"

# a directory that does not exist yet is made (make check's build dir)
out=$("$src/scripts/space.sh" 1 "$dir/new" 2>&1) || fail "space.sh failed on a new directory"
[ -d "$dir/new" ] || fail "the new directory was not made"
echo "space.sh: warns below the need, quiet above it, makes the directory"
