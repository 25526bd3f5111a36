#!/usr/bin/env bash
# `serve` limits what one client can hold (kernel clients from two source
# addresses, 198.18.0.1 and 198.18.0.3):
#  - by default (--max-conn-per-source 256) the 257th connection from one
#    address is reset at once while another address is still served;
#  - --max-conn caps all connections together;
#  - --idle-timeout closes connections that stay silent;
# each counted in --stats (RefusedPerSource, RefusedTotal, IdleTimeouts).
. "$(dirname "$0")/lib.sh"

SRC2=198.18.0.3
ip -n "$NS" addr add $SRC2/24 dev $DEV || fail "cannot add $SRC2"

# conns_bg NAME SRC N HOLD: a `peer conns` in the background, waits until
# it has checked its connections; sets CONNS_PID. The wait is as long as
# the client may live (25 s of its 30): 257 connections opened and echoed
# one by one against the ASan build on a loaded machine may take more
# than the 10 s this waited; a client that ends without holding
# fails it at once.
conns_bg() {
	ip netns exec "$NS" timeout --foreground -k 10 30 python3 "$PEER" conns $HADDR 7 "$3" "$2" "$4" \
		>"$TMP/$1.log" 2>&1 &
	CONNS_PID=$!
	for _ in $(seq 500); do
		grep -q holding "$TMP/$1.log" && return 0
		# it may have printed and ended since the grep (hold 0.3 s)
		kill -0 $CONNS_PID 2>/dev/null || grep -q holding "$TMP/$1.log" ||
			fail "$1: $(cat "$TMP/$1.log")"
		sleep 0.05
	done
	fail "$1 did not finish connecting"
}

# The default per-source limit.
start_serve --port 7 --echo --stats
conns_bg one $KADDR 257 0.3
one=$CONNS_PID
peer conns $HADDR 7 2 $SRC2 0 >"$TMP/two.log" 2>&1 || fail "two: $(cat "$TMP/two.log")"
wait $one
[ "$(jfield "$TMP/one.log" served)" = 256 ] && [ "$(jfield "$TMP/one.log" refused)" = 1 ] ||
	fail "one source, 257 connections: $(tail -n 1 "$TMP/one.log")"
[ "$(jfield "$TMP/two.log" served)" = 2 ] ||
	fail "the other source was not served: $(tail -n 1 "$TMP/two.log")"
stop_serve
[ "$(counter "$TMP/serve.log" RefusedPerSource)" = 1 ] || fail "RefusedPerSource is not 1"
echo "per source: $KADDR $(tail -n 1 "$TMP/one.log" | cut -c1-80), $SRC2 served 2"

# The total limit (no idle timeout here: however slowly the second client
# starts, the first one's connections stay open).
start_serve --port 7 --echo --stats --max-conn 4 --max-conn-per-source 3 --idle-timeout 0
conns_bg one $KADDR 4 10
one=$CONNS_PID
peer conns $HADDR 7 2 $SRC2 0 >"$TMP/two.log" 2>&1 || fail "two: $(cat "$TMP/two.log")"
kill $one
wait $one
grep '^{' "$TMP/one.log" | head -n 1 >"$TMP/one.json"   # before the hold
[ "$(jfield "$TMP/one.json" served)" = 3 ] || fail "per source 3: $(cat "$TMP/one.json")"
[ "$(jfield "$TMP/two.log" served)" = 1 ] || fail "total 4: $(tail -n 1 "$TMP/two.log")"
stop_serve
[ "$(counter "$TMP/serve.log" RefusedPerSource)" = 1 ] || fail "RefusedPerSource is not 1"
[ "$(counter "$TMP/serve.log" RefusedTotal)" = 1 ] || fail "RefusedTotal is not 1"
echo "total: $(grep -E 'Refused' "$TMP/serve.log" | tr -s ' ' | tr '\n' ' ')"

# The idle timeout: silent connections are closed. The client waits
# 0.3 s and sends one byte on each before it falls silent: the timeout
# must leave room for that on a loaded machine (0.5 s did not: the first
# connection timed out before its byte, which then drew a RST).
start_serve --port 7 --echo --stats --idle-timeout 1.5
peer conns $HADDR 7 2 $KADDR 3 >"$TMP/idle.log" 2>&1 || fail "idle: $(cat "$TMP/idle.log")"
stop_serve
[ "$(jfield "$TMP/idle.log" closed_by_server)" = 2 ] ||
	fail "idle connections were not closed: $(tail -n 1 "$TMP/idle.log")"
[ "$(counter "$TMP/serve.log" IdleTimeouts)" = 2 ] || fail "IdleTimeouts is not 2"
echo "idle: $(tail -n 1 "$TMP/idle.log")"
echo "PASS: per-source and total limits, idle timeout"
