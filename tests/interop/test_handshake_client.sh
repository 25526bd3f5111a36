#!/usr/bin/env bash
# handshake client -> kernel server (Python).
#  1. handshake sends 16 MB and half-closes; the kernel, in CLOSE-WAIT,
#     sends 16 MB back and closes; hashes equal both ways.
#  2. The kernel sends 16 MB and closes first (it must end in TIME-WAIT);
#     handshake, sending nothing, reads to EOF and closes.
. "$(dirname "$0")/lib.sh"

head -c $MB16 /dev/urandom >"$TMP/up"
head -c $MB16 /dev/urandom >"$TMP/down"

start_peer_server sink sink-server 5001 "$TMP/down"
hsk_connect $KADDR:5001 --send "$TMP/up" --recv "$TMP/got" --stats >"$TMP/connect1.log" 2>&1 ||
	fail "connect 1 failed"
wait $PEER_PID || fail "kernel sink-server: $(tail -n 1 "$TMP/sink.log")"
[ "$(jfield "$TMP/sink.log" recv_sha)" = "$(sha "$TMP/up")" ] || fail "upload differs"
[ "$(sha "$TMP/got")" = "$(sha "$TMP/down")" ] || fail "download differs"
echo "half-close, 16 MB each way: $(grep 'connect: sent' "$TMP/connect1.log")"
echo "  kernel: $(tail -n 1 "$TMP/sink.log")"

start_peer_server source source-server 5002 "$TMP/down"
hsk_connect $KADDR:5002 --recv "$TMP/got2" --stats >"$TMP/connect2.log" 2>&1 ||
	fail "connect 2 failed"
wait $PEER_PID || fail "kernel source-server: $(tail -n 1 "$TMP/source.log")"
[ "$(sha "$TMP/got2")" = "$(sha "$TMP/down")" ] || fail "download 2 differs"
echo "kernel closes first: $(grep 'connect: sent' "$TMP/connect2.log")"
echo "  kernel: $(tail -n 1 "$TMP/source.log")"
echo "PASS: handshake client against the kernel, both close orders"
