#!/usr/bin/env bash
# scripts/soak.sh (make soak) runs each seeded property test with its seeds
# multiplied and moved, in both builds and the families asked for, and
# fails when one run fails, saying which and with what environment. Run
# here against stub test programs that write down how they were called.
# Usage (from CMake): test_soak.sh <build dir> <source dir>
set -u
src=${2:?source dir}
dir=$(mktemp -d /tmp/hsk-test_soak.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# stubs: each call appends "build name family offset count-variables" to
# calls; the one named in $dir/fail prints a seed and fails
for b in normal asan; do
	mkdir -p "$dir/$b/tests"
	for t in test_random test_fastpath test_stream test_shortcuts test_timer_defer test_lwip; do
		cat >"$dir/$b/tests/$t" <<EOF
#!/bin/sh
echo "$b $t \$HSK_SIM_FAMILY \$HSK_SEED_OFFSET \$(env | grep -E '^HSK_[A-Z]+_(RUNS|SEEDS)=' | sort | tr '\n' ' ')" >>"$dir/calls"
if [ "$b $t" = "\$(cat "$dir/fail" 2>/dev/null)" ]; then echo "seed 4242 conn 3: bad"; seq 40 | sed 's/^/trace /'; exit 1; fi
exit 0
EOF
		chmod +x "$dir/$b/tests/$t"
	done
done
soak() { "$src/scripts/soak.sh" "$dir/normal" "$dir/asan" "$@" 2>&1; }
calls() { grep -c . "$dir/calls"; }

# all pass: exit 0; the counts are make check's times SCALE (a quarter of
# that under the sanitizers), the offset is passed on
out=$(soak 3 777) || fail "soak failed with every run passing: $out"
[ "$(calls)" = 20 ] || fail "expected 20 runs (6 tests, 4 of them twice, 2 builds): $(cat "$dir/calls")"
grep -qx "normal test_random 4 777 HSK_RANDOM_RUNS=360 " "$dir/calls" || fail "test_random IPv4: $(cat "$dir/calls")"
grep -qx "normal test_random 6 777 HSK_RANDOM_RUNS=360 " "$dir/calls" || fail "test_random IPv6: $(cat "$dir/calls")"
grep -qx "asan test_stream 6 777 HSK_STREAM_RUNS=375 " "$dir/calls" || fail "test_stream under ASan: $(cat "$dir/calls")"
grep -qx "asan test_fastpath 4 777 HSK_FASTPATH_RUNS=8 " "$dir/calls" || fail "test_fastpath under ASan: $(cat "$dir/calls")"
grep -q "test_shortcuts 6\|test_timer_defer 6" "$dir/calls" && fail "HSK_SIM_FAMILY=6 given to a test that takes IPv6 on its own"
grep -qx "normal test_timer_defer 4 777 HSK_DEFER_SEEDS=36 " "$dir/calls" || fail "test_timer_defer: $(cat "$dir/calls")"
grep -qx "normal test_lwip 6 777 HSK_LWIP_SEEDS=210 " "$dir/calls" || fail "test_lwip IPv6: $(cat "$dir/calls")"
grep -qx "asan test_lwip 4 777 HSK_LWIP_SEEDS=53 " "$dir/calls" || fail "test_lwip under ASan: $(cat "$dir/calls")"
echo "$out" | grep -q "^soak: 20 runs, 0 failed" || fail "no summary: $out"

# one run fails: the others still run, exit non-zero, the run named with
# the environment that replays it, and its seed line shown
rm -f "$dir/calls"
echo "asan test_stream" >"$dir/fail"
out=$(soak 1 5) && fail "soak passed with a failing run: $out"
[ "$(calls)" = 20 ] || fail "a failure stopped the other runs: $(cat "$dir/calls")"
echo "$out" | grep -q "FAILED  (exit 1) HSK_SIM_FAMILY=4 HSK_SEED_OFFSET=5 HSK_STREAM_RUNS=125 $dir/asan/tests/test_stream" ||
	fail "the failing run is not named with its environment: $out"
echo "$out" | grep -q "seed 4242 conn 3" || fail "the failing run's seed is not shown: $out"
echo "$out" | grep -q "^soak: 20 runs, 2 failed" || fail "wrong summary (IPv4 and IPv6 fail): $out"

# without OFFSET: one from the clock, printed; bad arguments refused
rm -f "$dir/fail"
out=$(soak 1) || fail "soak failed: $out"
echo "$out" | grep -qE "^soak: scale 1, HSK_SEED_OFFSET=[1-9][0-9]{9,}$" || fail "no offset from the clock: $out"
soak x >/dev/null && fail "SCALE x accepted"
soak 0 >/dev/null && fail "SCALE 0 accepted"
rm -f "$dir/asan/tests/test_random"
soak 1 1 | grep -q "FAILED: $dir/asan/tests/test_random is missing" || fail "a missing program not reported"
echo "soak.sh: counts, offset and families passed on; a failing run named and failing the soak"
