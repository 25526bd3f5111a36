#!/usr/bin/env bash
# The soak (`make soak`): the seeded property tests on SCALE times the
# seeds `make check` gives them, and on other seeds than it does
# (HSK_SEED_OFFSET, tests/support/sim.h), in the normal build and under
# ASan+UBSan, over IPv4 and IPv6. The simulator is deterministic, so a
# failure found here is replayed by running the one test with the
# environment this prints for it. Exits non-zero when any run fails.
#
#   scripts/soak.sh BUILD ASAN_BUILD [SCALE [OFFSET]]
#     SCALE    times make check's seeds (default 10: about half an hour,
#              one run at a time)
#     OFFSET   HSK_SEED_OFFSET (default: the clock's seconds times 10,000,
#              so that each soak runs seeds no earlier one ran)
#   SOAK_TIMEOUT=3600   seconds a run may take before it counts as failed
set -uo pipefail
if [ $# -lt 2 ]; then
	echo "usage: soak.sh BUILD ASAN_BUILD [SCALE [OFFSET]]" >&2
	exit 2
fi
build=$1 asan=$2 scale=${3:-10} offset=${4:-$(($(date +%s) * 10000))}
limit=${SOAK_TIMEOUT:-3600}
case "$scale$offset" in
*[!0-9]*) echo "soak.sh: SCALE and OFFSET are whole numbers" >&2; exit 2 ;;
esac
[ "$scale" -ge 1 ] || { echo "soak.sh: SCALE is at least 1" >&2; exit 2; }

# test, the variable that sets its seeds, make check's count (the normal
# build's; under the sanitizers, 3-10 times slower, a quarter of it), the
# families asked for with HSK_SIM_FAMILY (test_shortcuts and
# test_timer_defer take IPv6 on their own, from a bit of the seed)
tests=(
	"test_random HSK_RANDOM_RUNS 120 4,6"
	"test_fastpath HSK_FASTPATH_RUNS 10 4,6"
	"test_stream HSK_STREAM_RUNS 500 4,6"
	"test_shortcuts HSK_SHORTCUT_SEEDS 16 4"
	"test_timer_defer HSK_DEFER_SEEDS 12 4"
	"test_lwip HSK_LWIP_SEEDS 70 4,6"
)
echo "soak: scale $scale, HSK_SEED_OFFSET=$offset"
# each run's output, kept for its failure's lines; gone however the soak ends
log=$(mktemp /tmp/hsk-soak.XXXXXX)
trap 'rm -f "$log"' EXIT
trap 'exit 130' INT TERM
failed=0 runs=0
start=$(date +%s)
for dir in "$build" "$asan"; do
	for t in "${tests[@]}"; do
		read -r name var count families <<<"$t"
		for family in ${families//,/ }; do
			n=$((count * scale))
			[ "$dir" = "$asan" ] && n=$(((n + 3) / 4))
			bin=$dir/tests/$name
			env=(HSK_SIM_FAMILY=$family HSK_SEED_OFFSET=$offset "$var=$n")
			if [ ! -x "$bin" ]; then
				echo "soak: FAILED: $bin is missing (build it first)"
				failed=$((failed + 1))
				continue
			fi
			t0=$(date +%s)
			env "${env[@]}" timeout "$limit" "$bin" >"$log" 2>&1
			rc=$?
			runs=$((runs + 1))
			if [ $rc -eq 0 ]; then
				echo "soak: ok      $((  $(date +%s) - t0 )) s  ${env[*]} $bin"
			else
				failed=$((failed + 1))
				echo "soak: FAILED  (exit $rc) ${env[*]} $bin"
				# the lines naming its seed (the trace printed after
				# them may be long), then what it said last, without
				# the tests that passed
				grep -E 'seed [0-9]' "$log" | head -n 5 | sed 's/^/        /'
				grep -vE '^\[ (RUN|      OK) ' "$log" | tail -n 25 | sed 's/^/        /'
			fi
		done
	done
done
echo "soak: $runs runs, $failed failed, $(($(date +%s) - start)) s"
[ $failed -eq 0 ]
