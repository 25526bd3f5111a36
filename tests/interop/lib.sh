# Shared by tests/interop/test_*.sh (sourced). Arguments of the test: the
# build directory and the source directory.
#
# Each test gets its own network namespace (hsk-<test>-<pid>) with a TUN (or
# TAP) device hsk0: the kernel owns 198.18.0.1/24 on it and handshake runs
# as 198.18.0.2, reached through the device. Everything is deleted on exit,
# whatever happens. Set HSK_BIN to test another handshake binary and
# HSK_KEEP=1 to keep the temporary directory (logs, pcaps).
#
# Variants (test_variant_*.sh run the TUN tests under them; docs/scale.md):
#   HSK_SHARDS=N     hsk0 is made multi_queue and serve/connect run N shards
#                    (--threads N: N queues, the eBPF steering program)
#   HSK_OFFLOAD=L    serve/connect take --offload L (e.g. "all")
#   HSK_URING=1      ... and --uring
# NETOPTS holds those options; a test that runs the handshake program
# itself passes "${NETOPTS[@]}" too.

NEED_TOOLS="ss pgrep $NEED_TOOLS"
. "$(dirname "${BASH_SOURCE[0]}")/base.sh"

HSK=${HSK_BIN:-$BUILD/handshake}
DEV=hsk0
MODE=${MODE:-tun}

# so that serve's --stats land in the log of a failed test
fail_hook() {
	stop_serve
}

if [ ! -x "$HSK" ]; then
	echo "FAIL: $HSK is not built"
	exit 1
fi
if ! "$HSK" serve --help >/dev/null 2>&1; then
	echo "FAIL: '$HSK serve' is not available (tools/main.c must dispatch it)"
	exit 1
fi

NETOPTS=()
if [ -n "${HSK_SHARDS:-}${HSK_OFFLOAD:-}${HSK_URING:-}" ] && [ "$MODE" != tun ]; then
	echo "SKIP: the variant (HSK_SHARDS, HSK_OFFLOAD, HSK_URING) is for TUN"
	exit 77
fi
[ -n "${HSK_SHARDS:-}" ] && NETOPTS+=(--threads "$HSK_SHARDS")
[ -n "${HSK_OFFLOAD:-}" ] && NETOPTS+=(--offload "$HSK_OFFLOAD")
[ "${HSK_URING:-0}" = 1 ] && NETOPTS+=(--uring)

netns_up "$NS" "$MODE" "$DEV" "$KADDR/24" || fail "cannot create namespace $NS"
if [ "${HSK_SHARDS:-1}" -gt 1 ]; then
	# a device with one queue per shard takes only multi-queue attaches
	{ ip -n "$NS" link del "$DEV" &&
	  ip -n "$NS" tuntap add dev "$DEV" mode tun multi_queue &&
	  ip -n "$NS" addr add "$KADDR/24" dev "$DEV" &&
	  ip -n "$NS" link set "$DEV" up; } || fail "cannot make $DEV multi_queue"
fi

# Starts `handshake serve` in the namespace in the background; its output
# goes to $TMP/serve.log. Waits until it listens.
start_serve() {
	# Not through nsx: $! must be the process itself (ip execs timeout,
	# which passes our SIGTERM on to handshake). The log is emptied here,
	# not by the background job's redirection: a "listening" line left by
	# an earlier run must not be found before the new one truncates it.
	: >"$TMP/serve.log"
	ip netns exec "$NS" timeout --foreground -k 10 120 "$HSK" serve --$MODE $DEV --addr $HADDR/24 "${NETOPTS[@]}" \
		"$@" >"$TMP/serve.log" 2>&1 &
	SERVE_PID=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$TMP/serve.log" 2>/dev/null && return 0
		kill -0 $SERVE_PID 2>/dev/null || fail "serve exited early"
		sleep 0.05
	done
	fail "serve did not start"
}

# Sends a signal to the serve process itself (SERVE_PID is `timeout`,
# which would die of SIGUSR1 instead of passing it on).
serve_signal() {
	local child
	child=$(pgrep -P "$SERVE_PID" | head -n 1)
	[ -n "$child" ] || fail "serve is not running"
	kill -"$1" "$child"
}

# Stops it (SIGTERM: prints the table and counters with --stats, after
# the graceful close of --drain-timeout). One that does not exit within
# 10 s is killed, so a broken serve cannot hang the test. Returns serve's
# exit status.
stop_serve() {
	local rc
	[ -n "$SERVE_PID" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SERVE_PID" 2>/dev/null; then
		echo "serve ignored SIGTERM for 10 s: killed" >>"$TMP/serve.log"
		pkill -KILL -P "$SERVE_PID" 2>/dev/null
		kill -KILL "$SERVE_PID" 2>/dev/null
	fi
	wait "$SERVE_PID" 2>/dev/null
	rc=$?
	SERVE_PID=
	return $rc
}

# Runs `handshake connect` in the namespace (foreground, bounded in time).
hsk_connect() {
	nsx timeout --foreground -k 10 "${CONNECT_TIMEOUT:-60}" "$HSK" connect --$MODE $DEV --addr $HADDR/24 \
		"${NETOPTS[@]}" "$@"
}

# A counter's value from a --stats dump in a log (0 when absent).
counter() {
	local v
	v=$(grep -oE "\b$2 +[0-9]+" "$1" | tail -n 1 | awk '{print $2}')
	echo "${v:-0}"
}

MB16=$((16 * 1024 * 1024))

# handshake connects to a kernel sink-server on port 5001 and sends
# $TMP/up while the kernel sends $TMP/down back, within SECONDS; both
# hashes must match, and the kernel's close states (CLOSE-WAIT, then gone)
# unless SINK_NOSTATE=1. Extra arguments go to connect (e.g. an
# impairment); its output is $TMP/connect.log.
exchange_with_kernel_sink() {
	local secs=$1
	shift
	start_peer_server sink sink-server 5001 "$TMP/down" ${SINK_NOSTATE:+nostate}
	nsx timeout --foreground -k 10 "$secs" "$HSK" connect --$MODE $DEV --addr $HADDR/24 "${NETOPTS[@]}" \
		$KADDR:5001 --send "$TMP/up" --recv "$TMP/got" --stats "$@" >"$TMP/connect.log" 2>&1 ||
		fail "the exchange with the kernel sink failed or took over $secs s"
	wait $PEER_PID || fail "kernel sink-server: $(tail -n 1 "$TMP/sink.log")"
	[ "$(jfield "$TMP/sink.log" recv_sha)" = "$(sha "$TMP/up")" ] || fail "upload differs"
	[ "$(sha "$TMP/got")" = "$(sha "$TMP/down")" ] || fail "download differs"
}

# Starts a peer.py server mode in the background (output in $TMP/NAME.log)
# and waits until it listens. Sets PEER_PID.
start_peer_server() {
	local name=$1
	shift
	: >"$TMP/$name.log"     # (as in start_serve)
	ip netns exec "$NS" timeout --foreground -k 10 60 python3 "$PEER" "$@" >"$TMP/$name.log" 2>&1 &
	PEER_PID=$!
	for _ in $(seq 100); do
		grep -q "^listening" "$TMP/$name.log" 2>/dev/null && return 0
		kill -0 $PEER_PID 2>/dev/null || fail "peer $name exited early"
		sleep 0.05
	done
	fail "peer $name did not start"
}
