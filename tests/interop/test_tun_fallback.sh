#!/usr/bin/env bash
# TUN offloads turned off one by one, each with bytes checked end to end
# (2 MB echoed each way, sha256 both ways):
#  1. the kernel refusing USO (--deny: the probe sees EINVAL for it, as
#     from a kernel before 6.2): the rest stays on; a UDP GSO send is then
#     split by the kernel and arrives as four plain datagrams;
#  2. the kernel refusing TSO4: partial checksums still come and are
#     completed, no GSO packet arrives, sending GSO still works;
#  3. --offload csum: only partial checksums, no GSO either way;
#  4. --offload tx-gso: sending GSO alone (it needs no kernel feature);
#  5. --offload tso4 without csum: nothing can be had (TSO needs checksum
#     offload), the virtio-net header is still there, and plain.
. "$(dirname "$0")/devlib.sh"

MB4=2097152

# echo_run NAME WANT-FEATURES DEVTEST-ARGS...
echo_run() {
	local name=$1 want=$2
	shift 2
	dt_start "$name" --tun hsk0 "$@" --echo 7 --count 1
	peer echo-client $HADDR 7 $MB4 >"$TMP/$name-echo.log" 2>&1 ||
		fail "$name: echo: $(tail -n 1 "$TMP/$name-echo.log")"
	dt_wait
	eval "$(jvars "$DT_LOG")"
	[ "$J_features" = "$want" ] || fail "$name: features $J_features, not $want"
	check "J_InCsumErrors == 0" "$name: checksum errors"
	echo "$name: features $J_features; rx $Q_rx_packets packets ($Q_rx_gso GSO, $Q_rx_csum checksums completed), tx $Q_tx_packets ($Q_tx_gso GSO)"
}

# 1. no USO
dt_start no-uso --tun hsk0 --offload all --deny uso --discard 9 --count 1
nsx python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, 1000)   # UDP_SEGMENT
s.sendto(b'u' * 4000, ('$HADDR', 9999))" || fail "UDP_SEGMENT send"
peer echo-client $HADDR 9 1 nostate >/dev/null 2>&1
dt_wait
eval "$(jvars "$DT_LOG")"
[ "$J_features" = "csum,tso4,tso6,tx-gso" ] || fail "no USO: features $J_features"
check "J_InUnknownProtos == 4 && Q_rx_gso == 0" "no USO: the kernel did not split the datagrams for us"
echo "no-uso: features $J_features; 4 datagrams arrived one by one"
echo_run no-uso-tcp "csum,tso4,tso6,tx-gso" --offload all --deny uso
check "Q_rx_gso > 10 && Q_tx_gso > 10" "no USO: TCP offloads should be unaffected"

# 2. no TSO4 from the kernel
echo_run no-tso4 "csum,tx-gso" --offload all --deny tso4
check "Q_rx_gso == 0 && Q_rx_csum > 100 && Q_tx_gso > 10" "no TSO4"

# 3-5. features turned off by option
echo_run csum-only "csum" --offload csum
check "Q_rx_gso == 0 && Q_rx_csum > 100 && Q_tx_gso == 0" "csum only"
echo_run tx-gso-only "tx-gso" --offload tx-gso
check "Q_rx_gso == 0 && Q_rx_csum == 0 && Q_tx_gso > 10" "tx-gso only"
echo_run header-only "none" --offload tso4
check "Q_rx_gso == 0 && Q_rx_csum == 0 && Q_tx_gso == 0" "header only"
echo "PASS: each offload falls back alone"
