#!/usr/bin/env bash
# With 5 % loss and 5 % reordering (2 ms hold-back) in both directions on
# handshake's side (the impairment layer, seeded), 16 MB transfers still
# arrive exactly, both ways, in both roles. Each transfer gets 25 s: the
# test stays under a minute, and a stack that recovers from loss by fast
# retransmit/SACK needs a few seconds.
. "$(dirname "$0")/lib.sh"

IMPAIR="--loss 5% --reorder 5% --seed 42"
head -c $MB16 /dev/urandom >"$TMP/up"
head -c $MB16 /dev/urandom >"$TMP/down"

start_serve --port 7 --echo --stats $IMPAIR
# "nostate": a reordered ACK that reaches handshake after its LAST_ACK ->
# CLOSED draws a RST (RFC 9293 3.10.7.1), which ends the kernel's TIME-WAIT;
# with reordering that is correct, so only the data is checked here.
nsx timeout --foreground -k 10 25 python3 "$PEER" echo-client $HADDR 7 $MB16 nostate >"$TMP/echo.log" 2>&1 ||
	fail "the 16 MB echo failed or took over 25 s: $(tail -n 1 "$TMP/echo.log")"
stop_serve
echo "kernel client, echo 16 MB each way: $(jfield "$TMP/echo.log" seconds) s, $(jfield "$TMP/echo.log" mbps) MB/s"
grep "^impairment" "$TMP/serve.log" | sed 's/^/  server /'
echo "  server: RetransSegs $(counter "$TMP/serve.log" RetransSegs), TCPOFOQueue $(counter "$TMP/serve.log" TCPOFOQueue)"
[ "$(counter "$TMP/serve.log" RetransSegs)" -gt 0 ] || fail "no retransmissions: was anything lost?"

exchange_with_kernel_sink 25 $IMPAIR
echo "handshake client, 16 MB each way: $(grep 'connect: sent' "$TMP/connect.log")"
grep "^impairment" "$TMP/connect.log" | sed 's/^/  client /'
echo "PASS: 16 MB each way through 5 % loss and reordering, hashes equal"
