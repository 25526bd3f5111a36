#!/usr/bin/env bash
# The unusual real peer: the kernel with SACK, timestamps and window
# scaling turned off in the test's namespace (a peer that offers none of
# them), through 5 % loss and 5 % reordering on handshake's side (the
# impairment layer, seeded). 2 MB each way arrive exactly in both roles,
# recovered by NewReno's partial ACKs and timeouts alone: handshake's
# TCPRenoRecovery moves and TCPSackRecovery does not.
. "$(dirname "$0")/lib.sh"

nsx sysctl -qw net.ipv4.tcp_sack=0 net.ipv4.tcp_dsack=0 net.ipv4.tcp_timestamps=0 \
	net.ipv4.tcp_window_scaling=0 || fail "cannot turn the kernel's options off in $NS"

MB2=$((2 * 1024 * 1024))
IMPAIR="--loss 5% --reorder 5% --seed 7"
head -c $MB2 /dev/urandom >"$TMP/up"
head -c $MB2 /dev/urandom >"$TMP/down"

# the recoveries were NewReno's: the peer offered no SACK
reno_only() {
	[ "$(counter "$1" TCPRenoRecovery)" -gt 0 ] || fail "$2: no NewReno recovery (was anything lost?)"
	[ "$(counter "$1" TCPSackRecovery)" -eq 0 ] || fail "$2: a SACK recovery with a peer without SACK"
	echo "  $2: RetransSegs $(counter "$1" RetransSegs), TCPRenoRecovery $(counter "$1" TCPRenoRecovery), TCPTimeouts $(counter "$1" TCPTimeouts)"
}

start_serve --port 7 --echo --stats $IMPAIR
# "nostate": as test_loss.sh (a reordered last ACK may draw a RST that
# ends the kernel's TIME-WAIT; only the data is checked).
nsx timeout --foreground -k 10 40 python3 "$PEER" echo-client $HADDR 7 $MB2 nostate >"$TMP/echo.log" 2>&1 ||
	fail "the 2 MB echo failed or took over 40 s: $(tail -n 1 "$TMP/echo.log")"
stop_serve
echo "kernel client without options, echo 2 MB each way: $(jfield "$TMP/echo.log" seconds) s"
reno_only "$TMP/serve.log" server

# Only the data is checked here too: without timestamps the kernel's RTO
# after a lossy transfer can outlast connect's second of TIME_WAIT, and a
# FIN it resends after a lost last ACK then meets nobody (LAST-ACK stays).
SINK_NOSTATE=1 exchange_with_kernel_sink 40 $IMPAIR
echo "handshake client, 2 MB each way: $(grep 'connect: sent' "$TMP/connect.log")"
reno_only "$TMP/connect.log" client
echo "PASS: 2 MB each way with a peer without SACK, timestamps or window scaling through 5 % loss and reordering"
