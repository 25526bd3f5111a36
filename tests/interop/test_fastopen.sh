#!/usr/bin/env bash
# TCP Fast Open (RFC 7413) with the Linux kernel, both ways, over TUN.
# Kernel clients (curl --tcp-fastopen, Python's sendto(MSG_FASTOPEN))
# against `handshake serve --fastopen`: each first connection fetches a
# cookie, the next carries its request on the SYN (in serve's pcap: a SYN
# with data and the cookie, a SYN-ACK acknowledging the data), the
# kernel's TCPFastOpenActive and handshake's TCPFastOpenPassive move.
# Then `handshake connect --fastopen` against a kernel listener with
# TCP_FASTOPEN: the cookie kept in a file between two runs, the second
# run's data on its SYN, the kernel's TCPFastOpenPassive.
NEED_TOOLS="tshark curl"
. "$(dirname "$0")/lib.sh"

# A TcpExt counter of the namespace's kernel (/proc/net is per namespace).
tcpext() {
	nsx awk -v k="$1" '/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) n[i] = $i; h = 1 }
		else for (i = 2; i <= NF; i++) if (n[i] == k) print $i }' /proc/net/netstat
}

# The SYNs and SYN-ACKs of a pcap: "src ack len seg.ack [tfo]" (ack 0 or
# 1; tfo "req" for a cookie request, the cookie, or nothing).
syns() {
	tshark -r "$1" -Y "tcp.flags.syn == 1" -o tcp.relative_sequence_numbers:TRUE \
		-T fields -e ip.src -e tcp.flags.ack -e tcp.len -e tcp.ack \
		-e tcp.options.tfo.request -e tcp.options.tfo.cookie 2>>"$TMP/tshark.log" |
		sed 's/True/1/g; s/False/0/g' |
		awk -F'\t' '{ t = $6 != "" ? $6 : $5 != "" ? "req" : ""; gsub(":", "", t); print $1, $2, $3, $4, t }'
}

nsx sysctl -qw net.ipv4.tcp_fastopen=3 || fail "cannot set net.ipv4.tcp_fastopen"

# ---- kernel clients, handshake serves ----
mkdir "$TMP/www"
echo "fast open" >"$TMP/www/hello.txt"
start_serve --port 80 --http "$TMP/www" --fastopen 16 --pcap "$TMP/serve.pcap" --stats
active0=$(tcpext TCPFastOpenActive)
for i in 1 2; do
	out=$(nsx timeout --foreground -k 10 10 curl -sS --tcp-fastopen "http://$HADDR/hello.txt" 2>&1) ||
		fail "curl --tcp-fastopen ($i): $out"
	[ "$out" = "fast open" ] || fail "curl ($i) got '$out'"
done
nsx timeout --foreground -k 10 10 python3 - "$HADDR" <<'PY' || fail "Python MSG_FASTOPEN client"
import socket, sys
for i in range(2):
    s = socket.socket()
    s.settimeout(5)
    req = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    s.sendto(req, socket.MSG_FASTOPEN, (sys.argv[1], 80))
    got = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
    s.close()
    assert got.startswith(b"HTTP/1.1 200") and got.endswith(b"fast open\n"), got[:80]
PY
active=$(( $(tcpext TCPFastOpenActive) - active0 ))
stop_serve
syns "$TMP/serve.pcap" >"$TMP/serve.syns"
# The kernel keeps a cookie per destination (tcp_metrics): the first
# connection asks for one, the other three carry their request on the SYN.
req=$(awk -v k=$KADDR '$1 == k && $2 == 0 && $3 == 0 && $5 == "req"' "$TMP/serve.syns" | wc -l)
data=$(awk -v k=$KADDR '$1 == k && $2 == 0 && $3 > 0 && length($5) == 16' "$TMP/serve.syns" | wc -l)
[ "$req" = 1 ] && [ "$data" = 3 ] ||
	fail "kernel SYNs: $req cookie requests, $data with data and a cookie (want 1 and 3): $(cat "$TMP/serve.syns")"
# Each SYN-ACK answering data acknowledges it: ack = 1 + the SYN's length.
python3 - "$TMP/serve.syns" "$KADDR" "$HADDR" <<'PY' || fail "SYN-ACKs do not acknowledge the SYNs' data: $(cat "$TMP/serve.syns")"
import sys
rows = [l.split() for l in open(sys.argv[1])]
syn = [r for r in rows if r[0] == sys.argv[2] and r[1] == "0"]
synack = [r for r in rows if r[0] == sys.argv[3] and r[1] == "1"]
assert len(syn) == len(synack) == 4, rows
for a, b in zip(syn, synack):
    assert int(b[3]) == 1 + int(a[2]), (a, b)
PY
[ "$active" = 3 ] || fail "kernel TCPFastOpenActive moved by $active (want 3)"
passive=$(counter "$TMP/serve.log" TCPFastOpenPassive)
reqd=$(counter "$TMP/serve.log" TCPFastOpenCookieReqd)
[ "$passive" = 3 ] && [ "$reqd" = 1 ] ||
	fail "serve: TCPFastOpenPassive $passive, TCPFastOpenCookieReqd $reqd (want 3 and 1)"
echo "kernel client -> serve: 1 cookie request, 3 requests on the SYN; kernel TCPFastOpenActive +$active, serve TCPFastOpenPassive $passive"

# ---- handshake connects, the kernel serves ----
nsx timeout --foreground -k 10 30 python3 - "$KADDR" >"$TMP/ksrv.log" 2>&1 <<'PY' &
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
l.bind((sys.argv[1], 5005))
l.listen(16)
print("listening", flush=True)
while True:                        # until the test ends it
    c, _ = l.accept()
    got = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        got += b
    c.sendall(b"got %d\n" % len(got))
    c.close()
    print("conn", len(got), flush=True)
PY
PEER_PID=$!
for _ in $(seq 100); do
	grep -q "^listening" "$TMP/ksrv.log" 2>/dev/null && break
	sleep 0.05
done
passive0=$(tcpext TCPFastOpenPassive)
echo "a request on the SYN" >"$TMP/req"
run_connect() {
	# The device was just closed by the last process: the kernel's
	# linkwatch takes up to a second to see that, and meanwhile
	# IFF_RUNNING still shows, so connect would start at once and the
	# SYN-ACK meet the noop qdisc the carrier change then installs.
	sleep 1.2
	hsk_connect $KADDR:5005 --fastopen --fastopen-cookie "$TMP/cookie" --send "$TMP/req" \
		--recv "$TMP/resp$1" --pcap "$TMP/connect$1.pcap" --stats >"$TMP/connect$1.log" 2>&1 ||
		fail "connect --fastopen ($1)"
	[ "$(cat "$TMP/resp$1")" = "got 21" ] || fail "connect ($1) got '$(cat "$TMP/resp$1")'"
	syns "$TMP/connect$1.pcap" >"$TMP/c$1.syns"
}
# A run asks for a cookie. The cookie comes on the first SYN-ACK only (a
# retransmitted one has none, as Linux): should it still be lost on the way
# up, another run asks again.
for i in 1 2 3; do
	run_connect $i
	grep -q "^$HADDR 0 0 0 req$" "$TMP/c$i.syns" || fail "run $i: no cookie request: $(cat "$TMP/c$i.syns")"
	[ -s "$TMP/cookie" ] && break
	echo "run $i: the SYN-ACK with the cookie did not arrive; again"
done
[ -s "$TMP/cookie" ] || fail "no cookie saved after $i runs"
run_connect data
grep -q "^$HADDR 0 21 0 $(cat "$TMP/cookie")$" "$TMP/cdata.syns" ||
	fail "no data and cookie on the SYN: $(cat "$TMP/cdata.syns")"
grep -q "^$KADDR 1 0 22" "$TMP/cdata.syns" || fail "the SYN-ACK does not take the data: $(cat "$TMP/cdata.syns")"
# SIGINT while the Fast Open SYN is still out (SYN_SENT, made long by a
# 600 ms delay each way): connect waits for the handshake, then sends its
# FIN after the SYN's data; the kernel answers and closes; no RST.
kpassive=$(( $(tcpext TCPFastOpenPassive) - passive0 ))
sleep 1.2
ip netns exec "$NS" timeout --foreground -k 10 30 "$HSK" connect --$MODE $DEV --addr $HADDR/24 "${NETOPTS[@]}" \
	$KADDR:5005 --fastopen --fastopen-cookie "$TMP/cookie" --send "$TMP/req" \
	--recv "$TMP/respint" --pcap "$TMP/connectint.pcap" --delay 600 --drain-timeout 5 \
	--stats >"$TMP/connectint.log" 2>&1 &
cpid=$!
for _ in $(seq 100); do
	grep -q "goes on the SYN" "$TMP/connectint.log" 2>/dev/null && break
	sleep 0.02
done
grep -q "goes on the SYN" "$TMP/connectint.log" || fail "connect --fastopen: $(cat "$TMP/connectint.log")"
child=$(pgrep -P $cpid | head -n 1)
kill -INT "${child:-$cpid}"
wait $cpid
rc=$?
[ $rc = 1 ] || fail "connect exited $rc after SIGINT in SYN_SENT (want 1): $(cat "$TMP/connectint.log")"
[ "$(cat "$TMP/respint")" = "got 21" ] ||
	fail "SIGINT in SYN_SENT: the kernel got no FIN after the SYN's data ('$(cat "$TMP/respint")'): $(cat "$TMP/connectint.log")"
flags=$(tshark -r "$TMP/connectint.pcap" -Y "ip.src == $HADDR" -T fields -e tcp.flags 2>>"$TMP/tshark.log" | tr '\n' ' ')
[ "$(tshark -r "$TMP/connectint.pcap" -Y "ip.src == $HADDR && tcp.flags.reset == 1" 2>>"$TMP/tshark.log" | wc -l)" = 0 ] ||
	fail "SIGINT in SYN_SENT: connect reset the connection: $flags"
[ "$(tshark -r "$TMP/connectint.pcap" -Y "ip.src == $HADDR && tcp.flags.fin == 1" 2>>"$TMP/tshark.log" | wc -l)" = 1 ] ||
	fail "SIGINT in SYN_SENT: no FIN from connect: $flags"
echo "connect -> kernel, SIGINT in SYN_SENT: the handshake completed, FIN after the SYN's data, no RST"
kill $PEER_PID 2>/dev/null
wait $PEER_PID 2>/dev/null
[ "$kpassive" = 1 ] || fail "kernel TCPFastOpenPassive moved by $kpassive (want 1)"
[ "$(counter "$TMP/connectdata.log" TCPFastOpenActive)" = 1 ] || fail "connect: TCPFastOpenActive not 1"
echo "connect -> kernel: cookie $(cat "$TMP/cookie") kept between runs, 21 bytes on the next run's SYN; kernel TCPFastOpenPassive +$kpassive"
echo "PASS: TCP Fast Open with the kernel, both ways"
