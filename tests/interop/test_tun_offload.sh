#!/usr/bin/env bash
# TUN offloads (IFF_VNET_HDR + TUNSETOFFLOAD) against the kernel, through
# hsk-devtest on a TUN device it creates (hsk0, kernel side 198.18.0.1/24):
#  1. all on: 16 MB echoed each way and 16 MB sent by handshake, sha256
#     equal; the kernel's TSO/GRO packets arrived whole (several segments
#     per packet) with partial checksums that the device completed and the
#     stack verified (no checksum errors); handshake's segments left joined
#     into GSO packets;
#  2. all off: the same bytes, with no GSO and no partial checksum;
#  3. a UDP GSO send (UDP_SEGMENT) arrives as one packet and reaches the
#     stack as its four datagrams;
#  4. the stack's MTU over the link's (the kernel's route advertises MSS
#     65000): the stack's 64 KB segments leave as GSO split at the link MTU;
#  5. io_uring, offloads off: fewer than one system call per 4 packets,
#     where the plain device of (2) makes one per packet.
# Through it all the kernel never saw a segment out of order.
# test_tun_fallback.sh turns features off one by one.
. "$(dirname "$0")/devlib.sh"

MB16=16777216
head -c $MB16 /dev/urandom >"$TMP/data"
SHA=$(sha "$TMP/data")

# echo_and_send NAME DEVTEST-ARGS...: 16 MB each way through --echo, 16 MB
# from --send; the kernel checks the sha256 of everything.
echo_and_send() {
	local name=$1
	shift
	dt_start "$name" --tun hsk0 "$@" --echo 7 --send 9 "$TMP/data" --count 2
	peer echo-client $HADDR 7 $MB16 >"$TMP/$name-echo.log" 2>&1 ||
		fail "$name: echo: $(tail -n 1 "$TMP/$name-echo.log")"
	peer recv-client $HADDR 9 "$SHA" >"$TMP/$name-recv.log" 2>&1 ||
		fail "$name: recv: $(tail -n 1 "$TMP/$name-recv.log")"
	dt_wait
}

# 1. everything on
echo_and_send on --offload all
eval "$(jvars "$DT_LOG")"
[ "$J_features" = "csum,tso4,tso6,uso,tx-gso" ] || fail "features: $J_features (this kernel: $(uname -r))"
check "Q_rx_gso > 100 && Q_rx_segs > 4 * Q_rx_packets" "kernel->handshake not coalesced"
check "Q_rx_csum > 100" "no partial checksums completed"
check "Q_tx_gso > 100 && Q_tx_segs > 4 * Q_tx_packets" "handshake->kernel not joined"
check "J_InCsumErrors == 0" "checksum errors"
echo "offloads on:  rx $Q_rx_packets packets for $Q_rx_segs segments ($Q_rx_gso GSO, $Q_rx_csum checksums completed), tx $Q_tx_packets packets for $Q_tx_segs segments ($Q_tx_gso GSO)"

# 2. everything off
echo_and_send off --offload none
eval "$(jvars "$DT_LOG")"
[ "$J_features" = "none" ] || fail "features: $J_features"
check "Q_rx_gso == 0 && Q_tx_gso == 0 && Q_rx_csum == 0" "GSO or partial checksums with offloads off"
check "Q_rx_segs == Q_rx_packets && Q_tx_segs == Q_tx_packets" "segments != packets"
check "Q_rx_calls >= Q_rx_packets && Q_tx_calls >= Q_tx_packets" "fewer system calls than packets without io_uring?"
echo "offloads off: rx $Q_rx_packets packets, tx $Q_tx_packets packets, $((Q_rx_calls + Q_tx_calls)) system calls" 

# 3. UDP GSO: one send of four 1000-byte datagrams
udp_gso() {
	nsx python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, 1000)   # UDP_SEGMENT
s.sendto(b'u' * 4000, ('$HADDR', 9999))"
}
dt_start uso --tun hsk0 --offload all --discard 9 --count 1
udp_gso || fail "UDP_SEGMENT send"
peer echo-client $HADDR 9 1 nostate >/dev/null 2>&1   # a connection to end the run (discard: no echo)
dt_wait
eval "$(jvars "$DT_LOG")"
check "J_InUnknownProtos == 4" "the stack did not get 4 datagrams"
check "Q_rx_gso == 1" "the datagrams did not arrive as one GSO packet"
echo "UDP GSO: 1 packet in, 4 datagrams to the stack"

# 4. stack MTU 65535 on a 1500 link, the kernel advertising MSS 65000
dt_start bigmtu --tun hsk0 --offload all --stack-mtu 65535 --send 9 "$TMP/data" --count 1
nsx ip route replace 198.18.0.0/24 dev hsk0 advmss 65000 || fail "advmss route"
peer recv-client $HADDR 9 "$SHA" >"$TMP/big-recv.log" 2>&1 || fail "big: $(tail -n 1 "$TMP/big-recv.log")"
dt_wait
eval "$(jvars "$DT_LOG")"
check "Q_tx_segs > 30 * Q_tx_packets" "64 KB segments did not leave as GSO"
echo "stack MTU 65535: tx $Q_tx_packets packets for $Q_tx_segs segments"
# 5. io_uring batches (a build without liburing skips this step only)
if DT_OPTIONAL=1 dt_start uring --tun hsk0 --offload none --uring --echo 7 --count 1; then
	peer echo-client $HADDR 7 4194304 >"$TMP/uring-echo.log" 2>&1 || fail "uring: $(tail -n 1 "$TMP/uring-echo.log")"
	dt_wait
	eval "$(jvars "$DT_LOG")"
	calls=$((Q_rx_calls + Q_tx_calls)) pkts=$((Q_rx_packets + Q_tx_packets))
	check "4 * calls < pkts" "io_uring: $calls system calls for $pkts packets"
	echo "io_uring: $calls system calls for $pkts packets"
fi
ofo=$(kernel_ofo)
check "ofo == 0" "the kernel received $ofo segments out of order"
echo "PASS: TUN offloads on and off, USO, large stack MTU, io_uring"
