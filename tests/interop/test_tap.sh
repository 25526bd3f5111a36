#!/usr/bin/env bash
# The same stack over a TAP device: Ethernet framing and ARP.
#  1. handshake connects first, so it must resolve the kernel with an ARP
#     request (its SYN waits in the pending queue meanwhile);
#  2. a new `serve` process starts with an empty cache: it learns the
#     kernel from the kernel's request (RFC 826 merge) or asks itself; the
#     kernel's neighbour entry shows handshake's MAC (02:68:73:12:00:02,
#     derived from 198.18.0.2);
#  3. ping, a 4 MB echo and curl then run as over TUN.
MODE=tap
NEED_TOOLS=curl
. "$(dirname "$0")/lib.sh"

head -c $((4 * 1024 * 1024)) /dev/urandom >"$TMP/data"
mkdir "$TMP/www" && cp "$TMP/data" "$TMP/www/data.bin"

echo hi >"$TMP/hi"
start_peer_server sink sink-server 5001 "$TMP/hi"
hsk_connect $KADDR:5001 --send "$TMP/hi" --recv "$TMP/hi.back" --stats >"$TMP/connect.log" 2>&1 ||
	fail "connect over TAP failed"
wait $PEER_PID || fail "kernel: $(tail -n 1 "$TMP/sink.log")"
cmp -s "$TMP/hi" "$TMP/hi.back" || fail "reply over TAP differs"
grep -Eq "^arp: .* requests [1-9][0-9]* sent, .* replies [0-9]+ sent, [1-9][0-9]* received" \
	"$TMP/connect.log" || fail "handshake did not resolve the kernel with a request"
echo "connect $(grep '^arp:' "$TMP/connect.log")"

start_serve --port 7 --echo --stats
peer ping $HADDR 3 56 >"$TMP/ping.log" 2>&1 || fail "ping: $(tail -n 1 "$TMP/ping.log")"
nsx ip neigh show $HADDR dev $DEV >"$TMP/neigh.txt"
grep -q "02:68:73:12:00:02" "$TMP/neigh.txt" || fail "kernel neighbour entry: $(cat "$TMP/neigh.txt")"
echo "kernel neighbour: $(cat "$TMP/neigh.txt")"
peer echo-client $HADDR 7 $((4 * 1024 * 1024)) >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
echo "echo 4 MB each way over TAP: $(jfield "$TMP/echo.log" mbps) MB/s"
stop_serve
grep -Eq "^arp: [1-9]" "$TMP/serve.log" || fail "serve has no ARP entry for the kernel"
echo "serve $(grep '^arp:' "$TMP/serve.log")"

start_serve --port 80 --http "$TMP/www"
nsx timeout --foreground -k 10 30 curl -sS -o "$TMP/curl.out" http://$HADDR/data.bin || fail "curl failed"
[ "$(sha "$TMP/curl.out")" = "$(sha "$TMP/data")" ] || fail "curl download differs"
stop_serve
echo "PASS: ARP both ways, connect, ping, echo and curl over TAP"
