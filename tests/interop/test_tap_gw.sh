#!/usr/bin/env bash
# The TAP device's routers (docs/network.md, docs/ipv6.md): handshake
# reaches a kernel address off its prefix through `--gw`, in each family.
# The kernel owns 198.18.0.1/24 and 2001:2::1/64 on hsk0, and 198.19.1.1
# and 2001:2:1::1 on its loopback, off those prefixes.
#  1. IPv4: `handshake connect --addr 198.18.0.2/24 --gw 198.18.0.1`
#     reaches a kernel sink on 198.19.1.1:5001 (1 MiB each way, equal
#     SHA-256); without --gw nothing reaches it (--timeout 2).
# The rest is an IPv6-only stack, 2001:2::2/64 and no IPv4 address:
#  2. `--gw 2001:2::1` reaches a kernel sink on [2001:2:1::1]:5001
#     through the router, and the kernel's neighbour entry for 2001:2::2
#     shows a MAC made of the IPv6 address (02:68:73:00:00:02; from an
#     IPv4 address that is absent, every IPv6-only stack had
#     02:68:73:00:00:00);
#  3. the same with the kernel's link-local address as the gateway;
#  4. without --gw there is no route to 2001:2:1::1: the connection is
#     not made (--timeout 2) and no segment reaches the kernel's port;
#  5. a gateway off the link is refused with the reason.
MODE=tap
. "$(dirname "$0")/lib.sh"

# no DAD on the kernel's side: its addresses are usable at once
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
	net.ipv6.conf.$DEV.disable_ipv6=0 net.ipv6.conf.$DEV.accept_dad=0 >/dev/null ||
	fail "cannot turn IPv6 on"
nsx ip link set lo up || fail "cannot bring lo up"
nsx ip -6 addr add 2001:2::1/64 dev $DEV nodad || fail "cannot add 2001:2::1"
nsx ip -6 addr add 2001:2:1::1/128 dev lo || fail "cannot add 2001:2:1::1"
nsx ip addr add 198.19.1.1/32 dev lo || fail "cannot add 198.19.1.1"

head -c $((1 << 20)) /dev/urandom >"$TMP/up"
head -c $((1 << 20)) /dev/urandom >"$TMP/down"

# 1. IPv4 through its gateway, and without it
for gw in 198.18.0.1 none; do
	start_peer_server sink sink-server 5001 "$TMP/down"
	gwopt=(--gw $gw)
	[ $gw = none ] && gwopt=(--timeout 2)
	nsx timeout --foreground -k 10 30 "$HSK" connect --tap $DEV --addr $HADDR/24 "${gwopt[@]}" \
		198.19.1.1:5001 --send "$TMP/up" --recv "$TMP/got4.$gw" --stats >"$TMP/connect4.$gw.log" 2>&1
	rc=$?
	if [ $gw = none ]; then
		[ $rc != 0 ] || fail "IPv4 connect without a gateway succeeded"
		grep -q ETIMEDOUT "$TMP/connect4.none.log" ||
			fail "IPv4 connect without a gateway: $(tail -n 2 "$TMP/connect4.none.log")"
		kill $PEER_PID 2>/dev/null
		wait $PEER_PID 2>/dev/null
		grep -q '"received"' "$TMP/sink.log" && fail "the sink heard from a connection with no route"
		echo "IPv4 without --gw: $(grep -m1 ETIMEDOUT "$TMP/connect4.none.log")"
		continue
	fi
	[ $rc = 0 ] || fail "IPv4 connect through $gw: $(tail -n 3 "$TMP/connect4.$gw.log")"
	wait $PEER_PID || fail "kernel sink-server: $(tail -n 1 "$TMP/sink.log")"
	[ "$(jfield "$TMP/sink.log" recv_sha)" = "$(sha "$TMP/up")" ] || fail "IPv4 upload differs"
	[ "$(sha "$TMP/got4.$gw")" = "$(sha "$TMP/down")" ] || fail "IPv4 download differs"
	echo "IPv4 through $gw: 1 MiB each way to 198.19.1.1:5001, SHA-256 equal"
done

# v6connect NAME GW...: handshake connect, IPv6 only, to the sink
v6connect() {
	local name=$1
	shift
	nsx timeout --foreground -k 10 30 "$HSK" connect --tap $DEV --addr 2001:2::2/64 "$@" \
		"[2001:2:1::1]:5001" --send "$TMP/up" --recv "$TMP/got.$name" --stats \
		>"$TMP/connect.$name.log" 2>&1
}

# the kernel's link-local address on hsk0: it gets it once the device has
# a carrier (once handshake has attached, above)
link_local() {
	nsx ip -6 addr show dev $DEV scope link | awk '/inet6/ { sub("/.*", "", $2); print $2; exit }'
}

# 2. and 3.
for gw in 2001:2::1 link-local; do
	if [ $gw = link-local ]; then
		gw=$(link_local)
		[ -n "$gw" ] || fail "hsk0 has no link-local address: $(nsx ip -6 addr show dev $DEV)"
	fi
	HSK_PEER_V6=1 start_peer_server sink sink-server 5001 "$TMP/down"
	# (the kernel forgets its neighbours on hsk0 when handshake detaches:
	# the first run lingers while the entry is read)
	linger=()
	[ "$gw" = 2001:2::1 ] && linger=(--close-delay 1000)
	v6connect "$gw" --gw "$gw" "${linger[@]}" &
	CONNECT_PID=$!
	for _ in $(seq 100); do
		nsx ip -6 neigh show 2001:2::2 dev $DEV >"$TMP/neigh.txt"
		grep -q lladdr "$TMP/neigh.txt" && cp "$TMP/neigh.txt" "$TMP/neigh.seen"
		kill -0 $CONNECT_PID 2>/dev/null || break
		sleep 0.05
	done
	wait $CONNECT_PID || fail "connect through $gw: $(tail -n 3 "$TMP/connect.$gw.log")"
	wait $PEER_PID || fail "kernel sink-server: $(tail -n 1 "$TMP/sink.log")"
	[ "$(jfield "$TMP/sink.log" recv_sha)" = "$(sha "$TMP/up")" ] || fail "upload through $gw differs"
	[ "$(sha "$TMP/got.$gw")" = "$(sha "$TMP/down")" ] || fail "download through $gw differs"
	grep -q "connect: \[2001:2::2\]:[0-9]* -> \[2001:2:1::1\]:5001 established" "$TMP/connect.$gw.log" ||
		fail "connect's log through $gw: $(head -n 3 "$TMP/connect.$gw.log")"
	echo "through $gw: 1 MiB each way to [2001:2:1::1]:5001, SHA-256 equal"
done
grep -q "02:68:73:00:00:02" "$TMP/neigh.seen" || fail "kernel neighbour entry: $(cat "$TMP/neigh.seen")"
echo "kernel neighbour: $(cat "$TMP/neigh.seen")"

# 4. no router: nothing leaves for 2001:2:1::1
HSK_PEER_V6=1 start_peer_server sink sink-server 5001 "$TMP/down"
v6connect none --timeout 2 && fail "connect without a router succeeded"
grep -q "ETIMEDOUT" "$TMP/connect.none.log" || fail "connect without a router: $(tail -n 2 "$TMP/connect.none.log")"
kill $PEER_PID 2>/dev/null
wait $PEER_PID 2>/dev/null
grep -q '"received"' "$TMP/sink.log" && fail "the sink heard from a connection with no route"
echo "IPv6 without --gw: $(grep -m1 ETIMEDOUT "$TMP/connect.none.log")"

# 5. a gateway off the link
v6connect offlink --gw 2001:2:1::9 && fail "a gateway off the link was taken"
grep -q "IPv6 gateway 2001:2:1::9: not a unicast address on the link" "$TMP/connect.offlink.log" ||
	fail "off-link gateway: $(tail -n 2 "$TMP/connect.offlink.log")"
echo "PASS: TAP routers: IPv4 through --gw and no route without it; IPv6 only: through a global and a link-local router, its MAC from its IPv6 address, no route without one, an off-link gateway refused"
