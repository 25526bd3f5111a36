#!/usr/bin/env bash
# Plumbing: namespace, TUN, the event loop, IPv4 and ICMP. The kernel pings
# handshake (raw ICMP socket), payloads must come back intact; a ping larger
# than the MTU reaches handshake in fragments, which it must reassemble
# (ReasmOKs) — its reply would exceed the MTU and is not sent, by design.
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
echo "PASS: 7 echo replies, 1 fragmented ping reassembled"
