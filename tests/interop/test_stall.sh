#!/usr/bin/env bash
# A path that stops: once 300 packets have passed, the impairment layer
# holds everything for 500 ms, then lets it go in order (a handover, a
# link's own retransmissions). handshake's timeout fires while its
# originals wait, and its retransmission arrives behind them: a
# spurious timeout. The kernel of the test's namespace has SACK and
# timestamps off, so neither D-SACK nor Eifel can tell: F-RTO (RFC 5682)
# must, and undo the timeout (TCPLossUndo, TCPSpuriousRTOs). 2 MB each
# way arrive exactly.
. "$(dirname "$0")/lib.sh"

nsx sysctl -qw net.ipv4.tcp_sack=0 net.ipv4.tcp_dsack=0 net.ipv4.tcp_timestamps=0 ||
	fail "cannot turn the kernel's options off in $NS"

MB2=$((2 * 1024 * 1024))
head -c $MB2 /dev/urandom >"$TMP/up"
head -c $MB2 /dev/urandom >"$TMP/down"

exchange_with_kernel_sink 40 --stall 500@300
grep -q "[1-9][0-9]* held by a stall" "$TMP/connect.log" || fail "the stall held nothing"
timeouts=$(counter "$TMP/connect.log" TCPTimeouts)
spurious=$(counter "$TMP/connect.log" TCPSpuriousRTOs)
undone=$(counter "$TMP/connect.log" TCPLossUndo)
echo "handshake client: TCPTimeouts $timeouts, TCPSpuriousRTOs $spurious, TCPLossUndo $undone, RetransSegs $(counter "$TMP/connect.log" RetransSegs)"
[ "$timeouts" -ge 1 ] || fail "no timeout during the stall"
[ "$spurious" -ge 1 ] && [ "$undone" -ge 1 ] || fail "F-RTO did not find the stall's timeout spurious"
echo "PASS: a 500 ms stall's spurious timeout found by F-RTO and undone, 2 MB each way exact"
