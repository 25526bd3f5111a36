#!/usr/bin/env bash
# IPv6 over TUN through a bad path (issue 9):
#  1. path MTU discovery over ICMPv6 (RFC 8201): the kernel's namespace
#     routes to a far host 2001:2:1::2 in a second namespace behind a
#     1280-byte veth link; the far host advertises MSS 1440 (advmss), so
#     handshake's first full segments (1440 bytes of payload less options)
#     are too big: the router answers "packet too big, MTU 1280", and
#     handshake must go down to 1220 less options (1208 with timestamps)
#     and resend; 1 MiB arrives intact each way;
#  2. loss: the impairment layer loses and reorders 5 % of the packets
#     both ways; a kernel client echoes 4 MiB each way over IPv6 through
#     it (equal SHA-256), and handshake retransmitted.
. "$(dirname "$0")/lib.sh"

nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
	net.ipv6.conf.$DEV.disable_ipv6=0 >/dev/null || fail "cannot turn IPv6 on"

FAR="$NS-far"
EXTRA_NS="$FAR"
ip netns add "$FAR" || fail "cannot create $FAR"
ip -n "$NS" link add hskr type veth peer name hskf netns "$FAR" || fail "cannot create veth"
{
	nsx sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null &&
	ip -n "$NS" link set hskr mtu 1280 up &&
	ip -n "$NS" -6 addr add 2001:2:1::1/64 dev hskr nodad &&
	ip -n "$FAR" link set lo up &&
	ip -n "$FAR" link set hskf mtu 1280 up &&
	ip -n "$FAR" -6 addr add 2001:2:1::2/64 dev hskf nodad &&
	ip -n "$FAR" -6 route add 2001:2::/64 via 2001:2:1::1 advmss 1440
} || fail "cannot set up the router"

# 1. PMTU
head -c $((1024 * 1024)) /dev/urandom >"$TMP/up"
head -c $((1024 * 1024)) /dev/urandom >"$TMP/down"
HSK_PEER_V6=1 ip netns exec "$FAR" timeout --foreground -k 10 60 python3 "$PEER" sink-server 5001 "$TMP/down" \
	>"$TMP/far.log" 2>&1 &
PEER_PID=$!
for _ in $(seq 100); do
	grep -q "^listening" "$TMP/far.log" 2>/dev/null && break
	sleep 0.05
done
CONNECT_TIMEOUT=20 hsk_connect --addr 2001:2::2/64 "[2001:2:1::2]:5001" --send "$TMP/up" \
	--recv "$TMP/got" --stats --trace text --trace-file "$TMP/trace.txt" \
	>"$TMP/connect.log" 2>&1 || fail "connect failed"
wait $PEER_PID || fail "far host: $(tail -n 1 "$TMP/far.log")"
[ "$(jfield "$TMP/far.log" recv_sha)" = "$(sha "$TMP/up")" ] || fail "upload differs"
[ "$(sha "$TMP/got")" = "$(sha "$TMP/down")" ] || fail "download differs"
ptb=$(counter "$TMP/connect.log" Icmp6InPktTooBigs)
[ "$ptb" -ge 1 ] || fail "no ICMPv6 packet too big reached handshake"
# Payload sizes of the data segments sent, before and after the ICMPv6.
awk '/ tx / { for (i = 1; i <= NF; i++) if ($i ~ /^len=/) { n = substr($i, 5) + 0;
	if (n > 1220) big++; else if (n >= 1100) small++ } }
	END { print big + 0, small + 0 }' "$TMP/trace.txt" >"$TMP/sizes"
read -r big small <"$TMP/sizes"
[ "$big" -ge 1 ] || fail "no segment over 1220 bytes was tried: nothing to discover"
[ "$small" -gt 500 ] || fail "handshake did not switch to smaller segments ($big big, $small small)"
echo "ICMPv6 packet too big received: $ptb; data segments: $big over 1220 B (before), $small of 1100-1220 B (after)"

# 2. loss and reordering
start_serve --addr 2001:2::2/64 --port 7 --echo --stats --loss 5% --reorder 5% --seed 42
nsx timeout --foreground -k 10 25 python3 "$PEER" echo-client 2001:2::2 7 $((4 << 20)) nostate >"$TMP/echo.log" 2>&1 ||
	fail "the 4 MiB echo failed or took over 25 s: $(tail -n 1 "$TMP/echo.log")"
stop_serve
echo "kernel client over IPv6 through 5 % loss and reordering, 4 MiB each way: $(jfield "$TMP/echo.log" seconds) s, $(jfield "$TMP/echo.log" mbps) MB/s"
grep "^impairment" "$TMP/serve.log" | sed 's/^/  server /'
[ "$(counter "$TMP/serve.log" RetransSegs)" -gt 0 ] || fail "no retransmissions: was anything lost?"
[ "$(counter "$TMP/serve.log" Ip6InReceives)" -gt 1000 ] || fail "was that IPv6?"
echo "PASS: path MTU over ICMPv6 through a 1280-byte link, and 5 % loss over IPv6"
