#!/usr/bin/env bash
# IPv6 over TUN with `handshake serve` and `handshake connect` (issue 9):
# the TUN device carries IPv6 with no link layer, so no Neighbor Discovery.
# serve runs with --addr 198.18.0.2/24 --addr 2001:2::2/64 on 2 shards
# (a multi-queue device it creates, the eBPF steering program hashing
# IPv6 tuples) with every offload (TCPV6 GSO both ways) and gives the
# kernel side 2001:2::1/64 itself (RTM_NEWADDR). The kernel:
#  1. curl -6 fetches a 4 MiB file over HTTP (equal SHA-256), curl -4 the
#     same from the same dual-stack listener;
#  2. 200 IPv6 clients connected at once, 16 KiB echoed each, all end in
#     the kernel's TIME-WAIT; the connections spread over both shards and
#     no IPv6 packet reached the wrong one (the program and the C hash
#     agree);
#  3. a Python client echoes 16 MiB each way over IPv6 (equal SHA-256)
#     and ends in TIME-WAIT;
#  4. a port with no listener refuses the kernel (RST over IPv6);
#  5. tshark reads serve's pcap (LINKTYPE_RAW) and shows the IPv6
#     three-way handshake, and one flow label (not 0) on every packet
#     handshake sent;
#  6. serve on [::ffff:198.18.0.2]:81 (a v4-mapped bind): curl -4 fetches
#     the file, curl -6 to the same port is refused;
# then connect (2 shards: an ephemeral port that steers back to its
# shard, port_ok6) sends 16 MiB to a kernel server on [2001:2::1]:5001 and
# reads 16 MiB back (equal SHA-256), closing first (the kernel's socket in
# CLOSE-WAIT at the FIN, from ss), and is refused by a closed kernel port.
NEED_TOOLS="curl tshark"
. "$(dirname "$0")/lib.sh"

nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
	>/dev/null || fail "cannot turn IPv6 on"
# serve makes hsk0 itself, multi-queue, and gives the kernel both addresses
nsx ip link del $DEV || fail "cannot delete $DEV"

V6OPTS=(--addr 2001:2::2/64 --threads 2 --offload all)
WWW=$TMP/www
mkdir -p "$WWW"
head -c $((4 << 20)) /dev/urandom >"$WWW/blob"
start_serve --port 80 --http "$WWW" "${V6OPTS[@]}" --pcap "$TMP/serve.pcap" --stats
nsx ip -6 addr show dev $DEV | grep -q "inet6 2001:2::1/64" ||
	fail "the kernel side did not get 2001:2::1/64: $(nsx ip -6 addr show dev $DEV)"
grep -q "listening on 198.18.0.2:80 \[2001:2::2\]:80" "$TMP/serve.log" ||
	fail "startup line: $(head -n 1 "$TMP/serve.log")"

# 1. curl -6 and curl -4, one listener
nsx timeout --foreground -k 10 20 curl -6 -sf -o "$TMP/got6" "http://[2001:2::2]/blob" || fail "curl -6 failed"
[ "$(sha "$TMP/got6")" = "$(sha "$WWW/blob")" ] || fail "curl -6: the file differs"
nsx timeout --foreground -k 10 20 curl -4 -sf -o "$TMP/got4" "http://$HADDR/blob" || fail "curl -4 failed"
[ "$(sha "$TMP/got4")" = "$(sha "$WWW/blob")" ] || fail "curl -4: the file differs"
echo "curl -6 and curl -4: 4 MiB each, SHA-256 equal"
stop_serve || fail "serve exited with $?"
grep -q "accepted \[2001:2::1\]:" "$TMP/serve.log" || fail "no IPv6 peer in serve's log"
cp "$TMP/serve.log" "$TMP/serve-http.log"

# 5. the capture: tshark finds the IPv6 handshake (SYN, SYN-ACK, ACK)
tshark -r "$TMP/serve.pcap" -Y "ipv6 && tcp.port == 80" -T fields -e ipv6.src \
	-e tcp.flags.syn -e tcp.flags.ack >"$TMP/pcap.txt" 2>"$TMP/tshark.log" ||
	fail "tshark cannot read the pcap: $(head -n 3 "$TMP/tshark.log")"
hs=$(awk 'NR <= 3 { printf "%s/%s/%s ", $1, $2, $3 }' "$TMP/pcap.txt")
[ "$hs" = "2001:2::1/1/0 2001:2::2/1/1 2001:2::1/0/1 " ] ||
	fail "tshark does not show the IPv6 handshake first: $hs"
echo "tshark: $(wc -l <"$TMP/pcap.txt") IPv6 packets, handshake $hs"
# handshake's flow label (RFC 6437): one per connection, never 0; the
# curl -6 fetch was one connection
tshark -r "$TMP/serve.pcap" -Y "ipv6.src == 2001:2::2 && tcp" -T fields -e ipv6.flow \
	2>/dev/null | sort | uniq -c >"$TMP/flows.txt"
[ "$(wc -l <"$TMP/flows.txt")" = 1 ] && ! grep -qw "0x0*0" "$TMP/flows.txt" ||
	fail "handshake's flow labels in the pcap: $(head -n 3 "$TMP/flows.txt")"
echo "flow label: $(cat "$TMP/flows.txt")"

# 2.-4. the echo server
start_serve --port 7 --echo "${V6OPTS[@]}" --stats
nsx timeout --foreground -k 10 40 python3 "$PEER" many 2001:2::2 7 200 16384 >"$TMP/many.log" 2>&1 ||
	fail "200 IPv6 clients: $(tail -n 1 "$TMP/many.log")"
echo "200 IPv6 clients at once: $(jfield "$TMP/many.log" echoes_ok) echoes, $(jfield "$TMP/many.log" time_wait) TIME-WAIT, $(jfield "$TMP/many.log" seconds) s"
nsx timeout --foreground -k 10 30 python3 "$PEER" echo-client 2001:2::2 7 $MB16 >"$TMP/echo.log" 2>&1 ||
	fail "16 MiB echo over IPv6: $(tail -n 1 "$TMP/echo.log")"
echo "echo 16 MiB each way over IPv6: $(jfield "$TMP/echo.log" seconds) s, $(jfield "$TMP/echo.log" mbps) MB/s"
nsx timeout --foreground -k 10 10 python3 "$PEER" refused 2001:2::2 9 >"$TMP/refused.log" 2>&1 ||
	fail "refused: $(tail -n 1 "$TMP/refused.log")"
stop_serve || fail "serve exited with $?"
# per shard: "  0  cpu tcbs reqs tw ActiveOpen PassiveOpen ..."
read -r p0 p1 <<<"$(awk '/^shard +cpu/ { on = 1; next } on && NF > 8 { printf "%s ", $7 }
	/^counters/ { on = 0 }' "$TMP/serve.log")"
[ "${p0:-0}" -gt 20 ] && [ "${p1:-0}" -gt 20 ] ||
	fail "the 201 IPv6 connections did not spread over both shards ($p0, $p1)"
[ "$(counter "$TMP/serve.log" WrongShard)" -le 2 ] ||
	fail "IPv6 packets reached the wrong shard: $(counter "$TMP/serve.log" WrongShard)"
[ "$(counter "$TMP/serve.log" TCPInCsumErrors)" = 0 ] || fail "checksum errors"
echo "shards: $p0 and $p1 passive opens, WrongShard $(counter "$TMP/serve.log" WrongShard)"

# a v4-mapped bind: an IPv6 socket listening on IPv4's address only
start_serve --port "[::ffff:$HADDR]:81" --http "$WWW" "${V6OPTS[@]}"
grep -q "listening on \[::ffff:$HADDR\]:81" "$TMP/serve.log" ||
	fail "v4-mapped startup line: $(grep listening "$TMP/serve.log")"
nsx timeout --foreground -k 10 20 curl -4 -sf -o "$TMP/got4m" "http://$HADDR:81/blob" ||
	fail "curl -4 to the v4-mapped listener failed"
[ "$(sha "$TMP/got4m")" = "$(sha "$WWW/blob")" ] || fail "curl -4 (v4-mapped): the file differs"
nsx timeout --foreground -k 10 20 curl -6 -sf -o /dev/null "http://[2001:2::2]:81/blob" &&
	fail "curl -6 reached the v4-mapped listener"
stop_serve || fail "serve exited with $?"
grep -q "accepted $KADDR:" "$TMP/serve.log" ||
	fail "the v4-mapped listener's peer: $(grep accepted "$TMP/serve.log" | head -n 1)"
echo "a v4-mapped bind: curl -4 fetched 4 MiB, curl -6 refused"

# handshake connects to the kernel over IPv6, from 2 shards
head -c $MB16 /dev/urandom >"$TMP/up"
head -c $MB16 /dev/urandom >"$TMP/down"
HSK_PEER_V6=1 start_peer_server sink sink-server 5001 "$TMP/down"
nsx timeout --foreground -k 10 30 "$HSK" connect --tun $DEV --addr $HADDR/24 "${V6OPTS[@]}" "[2001:2::1]:5001" \
	--send "$TMP/up" --recv "$TMP/got" --stats >"$TMP/connect.log" 2>&1 ||
	fail "connect over IPv6 failed"
wait $PEER_PID || fail "kernel sink-server: $(tail -n 1 "$TMP/sink.log")"
[ "$(jfield "$TMP/sink.log" recv_sha)" = "$(sha "$TMP/up")" ] || fail "upload differs"
[ "$(sha "$TMP/got")" = "$(sha "$TMP/down")" ] || fail "download differs"
# handshake closed first: the kernel saw its FIN in CLOSE-WAIT (ss)
[ "$(jfield "$TMP/sink.log" state_at_eof)" = "['CLOSE-WAIT']" ] ||
	fail "the kernel's state at handshake's FIN: $(jfield "$TMP/sink.log" state_at_eof)"
grep -q "connect: \[2001:2::2\]:[0-9]* -> \[2001:2::1\]:5001 established" "$TMP/connect.log" ||
	fail "connect's line: $(grep established "$TMP/connect.log")"
[ "$(counter "$TMP/connect.log" WrongShard)" -le 2 ] ||
	fail "connect's replies reached the wrong shard ($(counter "$TMP/connect.log" WrongShard))"
echo "handshake client over IPv6, 16 MiB each way, the kernel in CLOSE-WAIT at its FIN: $(grep 'connect: sent' "$TMP/connect.log")"
nsx timeout --foreground -k 10 10 "$HSK" connect --tun $DEV --addr $HADDR/24 "${V6OPTS[@]}" "[2001:2::1]:5002" \
	>"$TMP/refused-connect.log" 2>&1 && fail "connect to a closed kernel port succeeded"
grep -q "ECONNREFUSED" "$TMP/refused-connect.log" ||
	fail "connect to a closed port: $(tail -n 2 "$TMP/refused-connect.log")"
echo "PASS: curl -6, 16 MiB echo, 200 clients, refused, tshark, a v4-mapped bind, and connect over IPv6 on TUN (2 shards, offloads)"
