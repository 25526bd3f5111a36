#!/usr/bin/env bash
# Plumbing: namespace, TUN, the event loop, IPv4 and ICMP. The kernel pings
# handshake (raw ICMP socket), payloads must come back intact; a ping larger
# than the MTU reaches handshake in fragments, which it must reassemble
# (ReasmOKs) — its reply would exceed the MTU and is not sent, by design.
# Then a device that does not exist yet: serve creates it, gives the kernel
# side the first other host of the prefix, and it vanishes when serve exits.
. "$(dirname "$0")/lib.sh"

start_serve --port 7 --echo --stats
peer ping $HADDR 5 56 >"$TMP/ping.log" 2>&1 || fail "ping: $(cat "$TMP/ping.log")"
echo "ping: $(tail -n 1 "$TMP/ping.log")"
peer ping $HADDR 2 1400 >"$TMP/ping-big.log" 2>&1 || fail "1400-byte ping: $(cat "$TMP/ping-big.log")"
# 3000 bytes: fragmented by the kernel, reassembled by handshake, no reply.
peer ping $HADDR 1 3000 >"$TMP/ping-frag.log" 2>&1
stop_serve
[ "$(counter "$TMP/serve.log" IcmpOutEchoReps)" = 7 ] || fail "expected 7 echo replies"
[ "$(counter "$TMP/serve.log" ReasmOKs)" = 1 ] || fail "expected one reassembled datagram"

ip netns exec "$NS" timeout --foreground -k 10 30 "$HSK" serve --tun hskauto --addr 198.18.1.2/24 --port 7 "${NETOPTS[@]}" \
	>"$TMP/auto.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do
	grep -q "listening on" "$TMP/auto.log" && break
	sleep 0.05
done
nsx ip -4 addr show dev hskauto | grep -q "inet 198.18.1.1/24" ||
	fail "the new device did not get 198.18.1.1/24: $(nsx ip addr show dev hskauto 2>&1)"
peer ping 198.18.1.2 2 56 >"$TMP/ping-auto.log" 2>&1 || fail "ping through the created device"
stop_serve
sleep 0.2
! nsx ip link show dev hskauto >/dev/null 2>&1 || fail "the created device outlived serve"
echo "PASS: 7 echo replies, 1 fragmented ping reassembled; a created TUN configured and removed"
