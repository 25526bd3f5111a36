#!/usr/bin/env bash
# Says how much disk `make check` has before it starts. A full disk makes
# tests fail far from the cause (a log that cannot be written, a server
# that "did not start"); this names the cause first. It warns and does
# not fail: a test that really lacks space still fails on its own.
# Usage: space.sh NEED_MIB DIR...
set -euo pipefail
need=$1
shift
for dir in "$@"; do
	mkdir -p "$dir"
	free=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
	if [ "$free" -lt "$need" ]; then
		echo "space.sh: WARNING: ${free} MiB free in $dir; make check needs about ${need} MiB" \
			"(the two builds and the tests' files): tests may fail for want of space" >&2
	else
		echo "space.sh: ${free} MiB free in $dir"
	fi
done
