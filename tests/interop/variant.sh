# Runs the interop tests that drive `handshake serve`/`connect` over TUN
# once more under a variant of lib.sh (sourced by test_variant_*.sh, with
# the test's BUILD and SRC): the same scripts, checks and bounds, with
# environment variables that lib.sh turns into options (HSK_SHARDS,
# HSK_OFFLOAD, HSK_URING). Not in the list: the TAP test, the device tests
# (hsk-devtest), the examples (their own programs) and the argument checks.
#   run_variant NAME VAR=VALUE...
BUILD=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
# The ASan build runs the five that work the threads hardest (200 clients
# at once, both close orders, signals forwarded to every shard, 16 MB
# each way) and leaves the rest to the normal build: the 13 take some
# 2-3 minutes per variant, and test_shards, test_xdp_serve and the device
# tests run whole under ASan anyway.
if grep -q '^HSK_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
	VARIANT_TESTS=${VARIANT_TESTS:-"close concurrency handshake_client kernel_client shutdown"}
fi
VARIANT_TESTS=${VARIANT_TESTS:-"bigmtu close concurrency handshake_client kernel_client loss pcap ping pmtu refused serve_http serve_limits shutdown"}
# Each test's output, removed however the run ends: a timeout's TERM
# (ctest's, mutate.py's) exits through the EXIT trap too.
VARIANT_LOG=$(mktemp "/tmp/hsk-variant.XXXXXX")
trap 'rm -f "$VARIANT_LOG"' EXIT
trap 'exit 130' INT TERM

run_variant() {
	local name=$1 t rc ran=0 failed="" log=$VARIANT_LOG t0
	shift
	for t in $VARIANT_TESTS; do
		t0=$(date +%s%N)
		env "$@" bash "$SRC/tests/interop/test_$t.sh" "$BUILD" "$SRC" >"$log" 2>&1
		rc=$?
		case $rc in
		0)
			ran=$((ran + 1))
			echo "ok   $t ($(( ($(date +%s%N) - t0) / 1000000 )) ms): $(tail -n 1 "$log")"
			;;
		77)
			echo "skip $t: $(tail -n 1 "$log")"
			;;
		*)
			ran=$((ran + 1))
			failed="$failed $t"
			echo "FAIL $t (exit $rc), last 30 lines:"
			tail -n 30 "$log" | sed 's/^/    /'
			;;
		esac
	done
	if [ -n "$failed" ]; then
		echo "FAIL: with $name ($*):$failed"
		exit 1
	fi
	if [ $ran = 0 ]; then
		echo "SKIP: no test could run"
		exit 77
	fi
	echo "PASS: $ran TUN tests with $name ($*): $VARIANT_TESTS"
}
