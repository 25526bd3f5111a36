#!/usr/bin/env bash
# Multi-queue TUN (IFF_MULTI_QUEUE) with the eBPF steering program
# (TUNSETSTEERINGEBPF): 100 kernel clients at once, each echoing 20 kB,
# against a stack on 4 queues. Every packet the kernel sent arrived on
# the queue steer_packet_queue() names for it (the C function the shards
# will use), and every queue carried flows. The same without the program
# (the kernel's own queue choice) puts packets on other queues: the check
# can fail. Then once more with io_uring, and with offloads and io_uring,
# on every queue. Through it all the kernel never saw a segment out of
# order (a device that writes around its own queued writes would).
. "$(dirname "$0")/devlib.sh"

N=100
PORT=7
run() {
	local name=$1
	shift
	# a port per run: the kernel's TIME-WAIT sockets of the last one stay
	PORT=$((PORT + 1))
	dt_start "$name" --tun hsk0 --queues 4 "$@" --echo $PORT --count $N
	peer many $HADDR $PORT $N 20000 >"$TMP/$name-many.log" 2>&1
	dt_wait
	eval "$(jvars "$DT_LOG")"
	many_ok "$TMP/$name-many.log" $N $J_RstSentNoSocket || fail "$name: $(tail -n 1 "$TMP/$name-many.log")"
	check "J_conns == N" "$name: $J_conns connections served, not $N"
	echo "$name: packets per queue $Q0_rx_packets $Q1_rx_packets $Q2_rx_packets $Q3_rx_packets, on another queue than their flow's: $Q_misqueued"
}

run steered --steer
check "Q_misqueued == 0" "steered: packets on the wrong queue"
check "Q0_rx_packets > 0 && Q1_rx_packets > 0 && Q2_rx_packets > 0 && Q3_rx_packets > 0" "a queue without flows"

run kernel-choice
check "Q_misqueued > 0" "without the program the kernel agreed by chance: the check proves nothing"

run steered-uring --steer --uring
check "Q_misqueued == 0" "steered with io_uring: packets on the wrong queue"

run steered-offload --steer --offload all --uring
check "Q_misqueued == 0" "steered with offloads: packets on the wrong queue"
check "Q_rx_csum > 0" "offloads were not on"
ofo=$(kernel_ofo)
check "ofo == 0" "the kernel received $ofo segments out of order"
echo "PASS: every flow stayed on its queue"
