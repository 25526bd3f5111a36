#!/usr/bin/env bash
# ctest: the benchmarks still build and run (scripts/bench.sh --smoke):
# every program, handshake's and the peers' (lwIP from Debian's .so, lwIP
# from source when bench-deps.sh has fetched it, Linux loopback), briefly,
# each reporting no error; the callgrind path once. No figure is checked:
# benchmarks never fail on a time. A few seconds.
# Usage (from CMake): test_smoke.sh <build dir> <source dir>
set -u
build=${1:?build dir}
src=${2:?source dir}
command -v gcc >/dev/null || { echo "gcc not found: skipped"; exit 77; }
[ -f "$build/libhandshake.a" ] || [ -f "$build/libhandshake.so" ] ||
	{ echo "no libhandshake.a or .so in $build: skipped"; exit 77; }
exec "$src/scripts/bench.sh" --smoke "$(cd "$build" && pwd)"
