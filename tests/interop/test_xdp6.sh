#!/usr/bin/env bash
# IPv6 over AF_XDP (--xdp) with a shard per queue: a veth pair with 2
# queues, the kernel on vk (2001:2::1/64, and 2001:2:9::8 as well), handshake
# on vx through one XSK per queue with 2001:2::2/64 and 2001:2:9::8/64.
#  1. DAD probes each address once (from queue 0: one probe each seen on
#     vk, the link-local address's too) and finds 2001:2:9::8 taken: the kernel
#     defends it with an advertisement that reaches one queue, and every
#     queue must drop the address. 16 neighbour solicitations for each
#     address, each with its own flow label (the kernel picks the queue
#     by the flow's hash), are answered for 2001:2::2 all 16 times and for
#     2001:2:9::8 never; the stack let go of it, so the kernel reaches us
#     from it (an echo). Then SYNs from 2001:2::77 (a host the kernel
#     does not have) reach both shards, and each must resolve it, though
#     every advertisement for it reaches the same queue: all 16 answered.
#  2. The kernel echoes 16 MB through serve and 100 kernel clients at once
#     each echo 20 kB, over IPv6; its neighbour entry shows vx's MAC.
#  3. handshake connects to a kernel server at [2001:2::1]:5001: 16 MB
#     each way, SHA-256 equal. A neighbour one queue resolved, another
#     finds in what the queues share.
. "$(dirname "$0")/devlib.sh"

HSK=${HSK_BIN:-$BUILD/handshake}
[ -x "$HSK" ] || fail "$HSK is not built"
head -c 16777216 /dev/urandom >"$TMP/data"

nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 >/dev/null || fail "IPv6 on"
ip -n "$NS" link add vk numrxqueues 2 numtxqueues 2 type veth peer name vx \
	numrxqueues 2 numtxqueues 2 || fail "veth"
# IPv6 on the kernel's end only: vx is handshake's.
nsx sysctl -qw net.ipv6.conf.vk.disable_ipv6=0 net.ipv6.conf.vx.disable_ipv6=1 >/dev/null ||
	fail "IPv6 on vk"
nsx python3 "$SRC/tests/interop/nic.py" vx channels 2 || fail "vx channels"
nsx python3 "$SRC/tests/interop/nic.py" vk channels 2 || fail "vk channels"
# XDP sees bytes, not the skb's "checksum to be completed" state.
nsx python3 "$SRC/tests/interop/nic.py" vk tx-csum off || fail "vk tx-csum"
ip -n "$NS" -6 addr add 2001:2::1/64 dev vk nodad || fail "2001:2::1"
ip -n "$NS" -6 addr add 2001:2:9::8/64 dev vk nodad || fail "2001:2:9::8"
ip -n "$NS" link set vk up
ip -n "$NS" link set vx up
VXMAC=$(nsx cat /sys/class/net/vx/address) || fail "vx MAC"

ND6=(nsx timeout --foreground -k 5 60 python3 "$SRC/tests/interop/nd6.py" vk "$VXMAC")
"${ND6[@]}" probes 3 >"$TMP/probes.log" 2>&1 &
PROBES_PID=$!
for _ in $(seq 100); do grep -q "^ready" "$TMP/probes.log" && break; sleep 0.05; done
xdp_serve_start --addr 2001:2::2/64 --addr 2001:2:9::8/64 --port 7 --echo --stats
wait $PROBES_PID || fail "counting DAD probes: $(tail -n 1 "$TMP/probes.log")"
LL=$(python3 -c "import sys; m=bytes.fromhex(sys.argv[1].replace(':','')); \
print('fe80::%x:%x:%x:%x' % ((m[0]^2)<<8|m[1], m[2]<<8|0xff, 0xfe00|m[3], m[4]<<8|m[5]))" "$VXMAC")
[ "$(tail -n 1 "$TMP/probes.log")" = "{\"2001:2:9::8\": 1, \"2001:2::2\": 1, \"$LL\": 1}" ] ||
	fail "DAD probes (want one per address, $LL and ours): $(tail -n 1 "$TMP/probes.log")"

# 1. Solicitations from vk (tests/interop/nd6.py), each its own flow label.
"${ND6[@]}" solicit 2001:2::2 2001:2:9::8 >"$TMP/ns.log" 2>&1 ||
	fail "solicitations: $(tail -n 2 "$TMP/ns.log")"
[ "$(tail -n 1 "$TMP/ns.log")" = '{"2001:2::2": 16, "2001:2:9::8": 0}' ] ||
	fail "solicitations answered (want 16 for 2001:2::2, none for the taken 2001:2:9::8): $(tail -n 1 "$TMP/ns.log")"
echo "DAD: 2001:2:9::8 taken (dropped by both queues); solicitations answered: $(tail -n 1 "$TMP/ns.log")"
# A neighbour known to one queue only: SYNs from a host the kernel does
# not have reach both shards; each answers from its own queue and must
# resolve 2001:2::77, whose advertisements all reach the same queue.
"${ND6[@]}" fake-neighbour 2001:2::77 2001:2::2 7 16 >"$TMP/fake.log" 2>&1 ||
	fail "a neighbour one queue heard: $(tail -n 1 "$TMP/fake.log")"
echo "a neighbour heard on one queue: $(tail -n 1 "$TMP/fake.log")"

# 2. The kernel as the client.
peer many 2001:2::2 7 100 20000 >"$TMP/many.log" 2>&1
peer echo-client 2001:2::2 7 16777216 >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
# The stack let go of 2001:2:9::8 (RFC 4862 §5.4.5): the kernel, which
# holds it, reaches us from it rather than being dropped as a martian
# (after the clients: they count TIME-WAITs to port 7).
peer conns 2001:2::2 7 1 2001:2:9::8 0 >"$TMP/from_taken.log" 2>&1 &&
	[ "$(jfield "$TMP/from_taken.log" served)" = 1 ] ||
	fail "an echo from 2001:2:9::8, the taken address: $(tail -n 1 "$TMP/from_taken.log")"
grep -q "^handshake serve: 2001:2:9::8 is taken on the link (duplicate address detection): not used" \
	"$TMP/serve.log" || fail "serve did not say that 2001:2:9::8 is taken"
grep -q "2001:2::2 is taken" "$TMP/serve.log" && fail "serve says 2001:2::2 is taken"
nsx ip -6 neigh show 2001:2::2 dev vk >"$TMP/neigh.txt"
grep -q "$VXMAC" "$TMP/neigh.txt" || fail "kernel neighbour entry: $(cat "$TMP/neigh.txt"), not $VXMAC"
xdp_serve_stop 100 102
echo "serve on AF_XDP over IPv6: 16 MB echoed each way with equal SHA-256, 100 clients at once;" \
	"WrongShard $(fig WrongShard "$TMP/serve.log"), kernel neighbour: $(cat "$TMP/neigh.txt")"

# 3. handshake as the client.
HSK_PEER_V6=1 ip netns exec "$NS" timeout --foreground -k 10 60 python3 "$PEER" sink-server 5001 \
	"$TMP/data" >"$TMP/sink.log" 2>&1 &
PEER_PID=$!
for _ in $(seq 100); do grep -q "^listening" "$TMP/sink.log" && break; sleep 0.05; done
nsx timeout --foreground -k 10 60 "$HSK" connect --xdp vx --addr 2001:2::2/64 '[2001:2::1]:5001' \
	--send "$TMP/data" --recv "$TMP/got" --stats >"$TMP/connect.log" 2>&1 ||
	fail "connect: $(head -n 3 "$TMP/connect.log")"
wait $PEER_PID || fail "kernel sink-server: $(tail -n 1 "$TMP/sink.log")"
[ "$(sha "$TMP/got")" = "$(sha "$TMP/data")" ] || fail "download differs"
python3 -c "import json,sys; j=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); sys.exit(j['recv_sha'] != sys.argv[2])" \
	"$TMP/sink.log" "$(sha "$TMP/data")" || fail "upload differs"
check "$(fig ActiveOpens "$TMP/connect.log") == 1" "ActiveOpens"
echo "connect on AF_XDP over IPv6: 16 MB each way with equal SHA-256" \
	"($(grep -o 'in [0-9.]* s ([0-9.]* MB/s)' "$TMP/connect.log"))"
echo "PASS: IPv6 over AF_XDP: DAD once for the interface, ND on each queue, serve and connect"
