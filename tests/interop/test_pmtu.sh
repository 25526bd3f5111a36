#!/usr/bin/env bash
# ICMP fragmentation-needed reaches TCP (RFC 1191 path MTU discovery).
# The kernel namespace becomes a router: handshake (198.18.0.2, MTU 1500,
# DF on every packet) talks to a far host 198.18.1.2 in a second namespace
# behind a 1280-byte veth link. The far host advertises MSS 1460 (advmss),
# so handshake's first full segments are too big: the router answers with
# ICMP "fragmentation needed, MTU 1280", handshake must lower its segment
# size (1240 bytes of payload, less the options it carries, e.g. 1228 with
# timestamps) and resend, and 1 MB must arrive intact each way.
. "$(dirname "$0")/lib.sh"

FAR="$NS-far"
EXTRA_NS="$FAR"
ip netns add "$FAR" || fail "cannot create $FAR"
ip -n "$NS" link add hskr type veth peer name hskf netns "$FAR" || fail "cannot create veth"
{
	ip -n "$NS" addr add 198.18.1.1/24 dev hskr &&
	ip -n "$NS" link set hskr mtu 1280 up &&
	ip -n "$FAR" link set lo up &&
	ip -n "$FAR" addr add 198.18.1.2/24 dev hskf &&
	ip -n "$FAR" link set hskf mtu 1280 up &&
	ip -n "$FAR" route add 198.18.0.0/24 via 198.18.1.1 advmss 1460 &&
	nsx sysctl -qw net.ipv4.ip_forward=1
} || fail "cannot set up the router"

head -c $((1024 * 1024)) /dev/urandom >"$TMP/up"
head -c $((1024 * 1024)) /dev/urandom >"$TMP/down"
ip netns exec "$FAR" timeout --foreground -k 10 60 python3 "$PEER" sink-server 5001 "$TMP/down" >"$TMP/far.log" 2>&1 &
PEER_PID=$!
for _ in $(seq 100); do
	grep -q "^listening" "$TMP/far.log" 2>/dev/null && break
	sleep 0.05
done
CONNECT_TIMEOUT=20 hsk_connect 198.18.1.2:5001 --send "$TMP/up" --recv "$TMP/got" --stats \
	--trace text --trace-file "$TMP/trace.txt" >"$TMP/connect.log" 2>&1 || fail "connect failed"
wait $PEER_PID || fail "far host: $(tail -n 1 "$TMP/far.log")"
[ "$(jfield "$TMP/far.log" recv_sha)" = "$(sha "$TMP/up")" ] || fail "upload differs"
[ "$(sha "$TMP/got")" = "$(sha "$TMP/down")" ] || fail "download differs"
unreach=$(counter "$TMP/connect.log" IcmpInDestUnreachs)
[ "$unreach" -ge 1 ] || fail "no ICMP destination unreachable reached handshake"
# Payload sizes of the data segments sent, before and after the ICMP.
awk '/ tx / { for (i = 1; i <= NF; i++) if ($i ~ /^len=/) { n = substr($i, 5) + 0;
	if (n > 1240) big++; else if (n >= 1100) small++ } }
	END { print big + 0, small + 0 }' "$TMP/trace.txt" >"$TMP/sizes"
read -r big small <"$TMP/sizes"
[ "$small" -gt 500 ] || fail "handshake did not switch to smaller segments ($big big, $small small)"
echo "ICMP frag-needed received: $unreach; data segments: $big larger than 1240 B (before), $small of 1100-1240 B (after)"
echo "PASS: path MTU lowered by ICMP, 1 MB each way intact through a 1280-byte link"
