#!/usr/bin/env bash
# The AF_XDP device on a veth pair with 2 queues: the kernel owns vk
# (198.18.0.1/24), handshake has vx through one XSK per queue. The kernel
# pings it, echoes 16 MB each way and receives 16 MB from it (sha256 both
# ways), and 200 kernel clients at once each echo 2 kB. ARP is answered
# and resolved by the device (arp.c). The XDP program must attach in the
# driver's mode (veth has native XDP); zero-copy is tried and veth refuses
# it, which the device reports.
. "$(dirname "$0")/devlib.sh"

MB16=16777216
head -c $MB16 /dev/urandom >"$TMP/data"
SHA=$(sha "$TMP/data")

ip -n "$NS" link add vk numrxqueues 2 numtxqueues 2 type veth peer name vx \
	numrxqueues 2 numtxqueues 2 || fail "veth"
nsx python3 "$SRC/tests/interop/nic.py" vx channels 2 || fail "vx channels"
nsx python3 "$SRC/tests/interop/nic.py" vk channels 2 || fail "vk channels"
# XDP sees bytes, not the skb's "checksum to be completed" state: the
# kernel side must send whole checksums (and so no TSO).
nsx python3 "$SRC/tests/interop/nic.py" vk tx-csum off || fail "vk tx-csum"
ip -n "$NS" addr add $KADDR/24 dev vk
ip -n "$NS" link set vk up

dt_start xdp --xdp vx --queues 2 --echo 7 --send 9 "$TMP/data" --echo 8 --count 202
mode=$(sed -n 's/.*, xdp \(.*\)$/\1/p' "$DT_LOG")
echo "XDP mode: $mode"
case "$mode" in
drv/*) ;;
*) fail "the XDP program did not attach in driver mode: $mode" ;;
esac
peer ping $HADDR 3 100 >"$TMP/ping.log" 2>&1 || fail "ping: $(tail -n 1 "$TMP/ping.log")"
peer echo-client $HADDR 7 $MB16 >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
peer recv-client $HADDR 9 "$SHA" >"$TMP/recv.log" 2>&1 || fail "recv: $(tail -n 1 "$TMP/recv.log")"
peer many $HADDR 8 200 2000 >"$TMP/many.log" 2>&1
dt_wait
eval "$(jvars "$DT_LOG")"
many_ok "$TMP/many.log" 200 $J_RstSentNoSocket || fail "200 clients: $(tail -n 1 "$TMP/many.log")"
check "J_conns == 202" "$J_conns connections, not 202"
check "J_InCsumErrors == 0" "checksum errors"
check "Q0_rx_packets > 0 && Q1_rx_packets > 0" "a queue carried nothing"
ofo=$(kernel_ofo)
check "ofo == 0" "the kernel received $ofo segments out of order"
echo "ping ok; 16 MB each way + 16 MB down with equal sha256; 200 clients at once;" \
	"rx $Q_rx_packets packets ($Q0_rx_packets + $Q1_rx_packets per queue), tx $Q_tx_packets with $Q_tx_calls sendto kicks;" \
	"$J_RetransSegs segments resent"
echo "PASS: AF_XDP device ($mode)"
