#!/usr/bin/env bash
# Line and branch coverage of make check's tests (docs/coverage.md):
# builds the tree with gcc --coverage in OUT (default build-cov), runs
# every test of the normal build with ctest (the interop tests too when
# root), and prints per file of src/ the lines, the lines run and the
# lines never run (gcovr's "Missing" column). OUT/branches.txt is the
# same per branch: its "Missing" column lists the lines that ran with a
# side of a condition never taken. bench_test_smoke is left out: it
# links its own programs, without coverage. gcovr (Debian's) is
# installed if missing.
#
#   scripts/coverage.sh              into build-cov (make coverage)
#   scripts/coverage.sh /tmp/cov     elsewhere
#
# A line or a branch no test runs is one whose removal no test notices:
# the report is where to look for the next test (docs/coverage.md says
# what the runs found, and which lines are left unrun on purpose).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build-cov}
if ! command -v gcovr >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "coverage.sh: gcovr missing (run as root to install it)" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq gcovr >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq gcovr >/dev/null; }
fi
cmake -S . -B "$OUT" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="--coverage -O0" \
	-DCMAKE_EXE_LINKER_FLAGS=--coverage -DHSK_REQUIRE_TESTS=ON >/dev/null
cmake --build "$OUT" -j "$(nproc)" >/dev/null
find "$OUT" -name '*.gcda' -delete
rc=0
ctest --test-dir "$OUT" -j "$(nproc)" -E '^bench_test_smoke$' >"$OUT/ctest.log" 2>&1 || rc=$?
tail -n 3 "$OUT/ctest.log"
# Tests that run at once may both update a counter: gcov then reads the
# rare impossible count, which gcovr would otherwise refuse.
gcovr --gcov-ignore-parse-errors -r . "$OUT/CMakeFiles/handshake.dir" --filter 'src/' \
	2>/dev/null | tee "$OUT/coverage.txt"
gcovr --gcov-ignore-parse-errors -b -r . "$OUT/CMakeFiles/handshake.dir" --filter 'src/' \
	2>/dev/null >"$OUT/branches.txt"
grep '^TOTAL' "$OUT/branches.txt" | sed 's/^TOTAL/branches:/'
[ "$rc" = 0 ] || echo "coverage.sh: some tests failed ($OUT/ctest.log); the coverage is of the rest" >&2
exit "$rc"
