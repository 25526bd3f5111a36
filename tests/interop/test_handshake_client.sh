#!/usr/bin/env bash
# handshake client -> kernel server (Python).
#  1. handshake sends 16 MB and half-closes; the kernel, in CLOSE-WAIT,
#     sends 16 MB back and closes; hashes equal both ways.
#  2. The kernel sends 16 MB and closes first (it must end in TIME-WAIT);
#     handshake, sending nothing, reads to EOF and closes.
. "$(dirname "$0")/lib.sh"

head -c $MB16 /dev/urandom >"$TMP/up"
head -c $MB16 /dev/urandom >"$TMP/down"

exchange_with_kernel_sink "${CONNECT_TIMEOUT:-60}"
echo "half-close, 16 MB each way: $(grep 'connect: sent' "$TMP/connect.log")"
echo "  kernel: $(tail -n 1 "$TMP/sink.log")"

start_peer_server source source-server 5002 "$TMP/down"
hsk_connect $KADDR:5002 --recv "$TMP/got2" --stats >"$TMP/connect2.log" 2>&1 ||
	fail "connect 2 failed"
wait $PEER_PID || fail "kernel source-server: $(tail -n 1 "$TMP/source.log")"
[ "$(sha "$TMP/got2")" = "$(sha "$TMP/down")" ] || fail "download 2 differs"
echo "kernel closes first: $(grep 'connect: sent' "$TMP/connect2.log")"
echo "  kernel: $(tail -n 1 "$TMP/source.log")"
echo "PASS: handshake client against the kernel, both close orders"
