#!/usr/bin/env bash
# Close variants with a kernel peer.
#  1. Simultaneous close: handshake (client) and the kernel (server) send
#     FIN before either has seen the other's. Made deterministic with the
#     impairment layer's --cross-fins, not with timing: handshake's FIN
#     (sent right after its data) is held until the kernel's FIN (sent
#     when the data arrives) has reached the layer, then released before
#     the kernel's FIN is handed to the stack; however late either side
#     runs, the FINs cross. Both ends must go through CLOSING to
#     TIME_WAIT. --delay 200 only keeps the CLOSING states long enough
#     for the kernel side to see its own (read from /proc/net/tcp every
#     millisecond).
#  2. Half-close: the kernel client shuts down writing right after
#     connecting; handshake, in CLOSE_WAIT, still sends 16 MB, then closes.
. "$(dirname "$0")/lib.sh"

echo hello >"$TMP/hello"
start_peer_server closer closer-server 5003
hsk_connect $KADDR:5003 --send "$TMP/hello" --cross-fins --delay 200 --stats \
	--trace text --trace-file "$TMP/simclose.trace" >"$TMP/connect.log" 2>&1 ||
	fail "connect failed"
wait $PEER_PID || fail "kernel: $(tail -n 1 "$TMP/closer.log")"
grep -q "1 FINs held to cross" "$TMP/connect.log" || fail "the impairment layer held no FIN"
grep -q "FIN_WAIT_1 -> CLOSING" "$TMP/simclose.trace" || fail "handshake did not pass CLOSING"
grep -q "CLOSING -> TIME_WAIT" "$TMP/simclose.trace" || fail "handshake did not reach TIME_WAIT"
# The FINs crossed: neither acknowledges the other.
awk '/\[FIN,ACK\]/ { for (i = 1; i <= NF; i++) { if ($i ~ /^seq=/) s = substr($i, 5); if ($i ~ /^ack=/) a = substr($i, 5) }
	if ($5 == "tx") { ts = s; ta = a } else { rs = s; ra = a } }
	END { exit !(ts != "" && rs != "" && ta == rs && ra == ts) }' "$TMP/simclose.trace" ||
	fail "the FINs did not cross: $(grep 'FIN,ACK' "$TMP/simclose.trace")"
echo "simultaneous close: kernel $(jfield "$TMP/closer.log" states_seen), handshake:"
grep -E "FIN_WAIT_1 -> CLOSING|CLOSING -> TIME_WAIT|ESTABLISHED -> FIN_WAIT_1" "$TMP/simclose.trace" | sed 's/^/  /'

head -c $MB16 /dev/urandom >"$TMP/data"
start_serve --port 9 --send "$TMP/data" --trace text --trace-file "$TMP/half.trace"
peer halfclose-client $HADDR 9 "$(sha "$TMP/data")" >"$TMP/half.log" 2>&1 ||
	fail "half-close: $(tail -n 1 "$TMP/half.log")"
stop_serve
after=$(awk '/ESTABLISHED -> CLOSE_WAIT/ {cw=1} cw && / tx / && !/len=0 / {n++} END {print n+0}' "$TMP/half.trace")
[ "$after" -gt 100 ] || fail "handshake sent only $after data segments in CLOSE_WAIT"
grep -q "CLOSE_WAIT -> LAST_ACK" "$TMP/half.trace" || fail "no CLOSE_WAIT -> LAST_ACK"
echo "half-close: kernel $(tail -n 1 "$TMP/half.log" | cut -c1-60)...; handshake sent $after data segments in CLOSE_WAIT"
echo "PASS: simultaneous close and half-close"
