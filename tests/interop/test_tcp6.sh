#!/usr/bin/env bash
# TCP over IPv6 against the kernel, over TAP (issue 9, phase 2): the kernel
# owns 2001:2::1/64 on hsk0; hsk-v6test runs a stack with 2001:2::2/64 and
# a dual-stack TCP echo server on [::]:7 (tests/v6test). The kernel's
# Python sockets:
#  1. 4 MiB each way over one IPv6 connection, equal SHA-256; the client
#     closes first and the kernel's socket goes to TIME-WAIT (ss);
#  2. 40 IPv6 clients at once, 32 KiB each;
#  3. a port nobody listens on: refused (RST over IPv6);
#  4. an IPv4 client to the same listener (dual stack), and the MSS the
#     kernel learnt from handshake's IPv6 SYN-ACK (1440 - 12 with
#     timestamps: TCP_MAXSEG 1428);
#  5. the other way: handshake connects to a kernel echo server on
#     [2001:2::1]:8007 (its source chosen by RFC 6724, the kernel resolved
#     by ND), sends 1 MiB, shuts down and reads the echo to EOF: the same
#     bytes (FNV-1a compared); a kernel port with no listener refuses it.
MODE=tap
. "$(dirname "$0")/lib.sh"

V6T=$BUILD/hsk-v6test
[ -x "$V6T" ] || fail "$V6T is not built"
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
	net.ipv6.conf.$DEV.disable_ipv6=0 >/dev/null || fail "cannot turn IPv6 on"
nsx ip -6 addr add 2001:2::1/64 dev $DEV nodad || fail "cannot add 2001:2::1"

ip netns exec "$NS" timeout --foreground -k 10 90 "$V6T" --tap $DEV --addr $HADDR/24 --addr6 2001:2::2/64 \
	--echo 7 --seconds 80 >"$TMP/v6test.log" 2>&1 &
V6_PID=$!
for _ in $(seq 100); do
	grep -q "^ready" "$TMP/v6test.log" 2>/dev/null && break
	kill -0 $V6_PID 2>/dev/null || fail "hsk-v6test exited early"
	sleep 0.05
done
grep -q "^ready" "$TMP/v6test.log" || fail "hsk-v6test did not get ready"

cat >"$TMP/tcp6.py" <<'EOF'
import hashlib, json, os, socket, sys, threading, time

DST6, DST4, PORT = "2001:2::2", "198.18.0.2", 7


def echo(family, addr, data, timeout=20.0, keep=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((addr, PORT))
    if keep is not None:
        keep.append(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
    got = bytearray()

    def reader():
        while True:
            b = s.recv(65536)
            if not b:
                return
            got.extend(b)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(timeout)
    s.close()
    return bytes(got)


res = {}
big = os.urandom(4 << 20)
mss = []
back = echo(socket.AF_INET6, DST6, big, keep=mss)
res["big_equal"] = hashlib.sha256(back).hexdigest() == hashlib.sha256(big).hexdigest()
res["big_len"] = len(back)
res["mss6"] = mss[0]

out = [None] * 40


def one(i):
    d = os.urandom(32768)
    try:
        out[i] = echo(socket.AF_INET6, DST6, d) == d
    except OSError as e:
        out[i] = str(e)


ths = [threading.Thread(target=one, args=(i,)) for i in range(40)]
for t in ths:
    t.start()
for t in ths:
    t.join(30)
res["parallel_ok"] = sum(1 for x in out if x is True)
res["parallel_err"] = [x for x in out if x is not True][:3]

try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((DST6, 9))
    res["refused"] = False
except ConnectionRefusedError:
    res["refused"] = True

d = os.urandom(100000)
res["v4_ok"] = echo(socket.AF_INET, DST4, d) == d
print(json.dumps(res))
EOF
nsx timeout --foreground -k 10 120 python3 "$TMP/tcp6.py" >"$TMP/tcp6.log" 2>&1 || fail "kernel side: $(tail -n 3 "$TMP/tcp6.log")"
echo "kernel: $(tail -n 1 "$TMP/tcp6.log")"
kv() { tail -n 1 "$TMP/tcp6.log" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1'))"; }
[ "$(kv big_equal)" = True ] || fail "4 MiB over IPv6: $(kv big_len) bytes back, SHA-256 differs"
[ "$(kv parallel_ok)" = 40 ] || fail "40 IPv6 clients: $(kv parallel_ok) echoed ($(kv parallel_err))"
[ "$(kv refused)" = True ] || fail "a closed port over IPv6 was not refused"
[ "$(kv v4_ok)" = True ] || fail "IPv4 through the dual-stack listener failed"
[ "$(kv mss6)" = 1428 ] || fail "the kernel's MSS toward handshake over IPv6: $(kv mss6)"
# The kernel closed first every time: its sockets wait in TIME-WAIT.
nsx ss -6 -tan state time-wait >"$TMP/ss.txt"
grep -q "\[2001:2::2\]:7" "$TMP/ss.txt" || fail "no kernel TIME-WAIT toward [2001:2::2]:7: $(cat "$TMP/ss.txt")"
echo "kernel TIME-WAIT sockets over IPv6: $(grep -c '2001:2::2' "$TMP/ss.txt")"

kill -TERM $V6_PID
wait $V6_PID
j=$(grep '^{"accepted4' "$TMP/v6test.log" | tail -n 1)
echo "handshake: $j"
hv() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get('$1'))" "$j"; }
[ "$(hv accepted6)" = 41 ] || fail "handshake accepted $(hv accepted6) IPv6 connections, not 41"
[ "$(hv accepted4)" = 1 ] || fail "handshake accepted $(hv accepted4) IPv4 connections, not 1"
[ "$(hv closed)" = 42 ] && [ "$(hv errors)" = 0 ] || fail "closed $(hv closed), errors $(hv errors)"
[ "$(hv InCsumErrors)" = 0 ] || fail "checksum errors: $(hv InCsumErrors)"
# 5. handshake as the client of a kernel echo server.
cat >"$TMP/ksrv.py" <<'PY'
import socket, threading
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("2001:2::1", 8007))
ls.listen(8)
print("listening", flush=True)
while True:
    c, _ = ls.accept()
    def serve(c):
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.close()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
ip netns exec "$NS" timeout --foreground -k 10 60 python3 "$TMP/ksrv.py" >"$TMP/ksrv.log" 2>&1 &
KSRV=$!
for _ in $(seq 100); do
	grep -q listening "$TMP/ksrv.log" 2>/dev/null && break
	sleep 0.05
done
grep -q listening "$TMP/ksrv.log" || fail "the kernel echo server did not start: $(cat "$TMP/ksrv.log")"
want=$(python3 -c "
h = 0xcbf29ce484222325
for i in range(1 << 20):
    h = ((h ^ ((i * 7 + (i >> 11)) & 255)) * 0x100000001b3) & 0xffffffffffffffff
print('%016x' % h)")
ip netns exec "$NS" timeout --foreground -k 10 60 "$V6T" --tap $DEV --addr $HADDR/24 --addr6 2001:2::2/64 \
	--no-dad --connect '[2001:2::1]:8007' --bytes $((1 << 20)) --seconds 40 \
	>"$TMP/client.log" 2>&1 || fail "hsk-v6test --connect: $(tail -n 3 "$TMP/client.log")"
c=$(grep '^{"connect_sent' "$TMP/client.log" | tail -n 1)
echo "handshake client: $c"
cv() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get('$1'))" "$c"; }
[ "$(cv connect_done)" = True ] && [ -z "$(cv connect_err)" ] || fail "client: $(cv connect_err)"
[ "$(cv connect_rcvd)" = $((1 << 20)) ] || fail "client got $(cv connect_rcvd) bytes back"
[ "$(cv connect_hash)" = "$want" ] || fail "client's echo differs: $(cv connect_hash) != $want"
ip netns exec "$NS" timeout --foreground -k 10 30 "$V6T" --tap $DEV --addr $HADDR/24 --addr6 2001:2::2/64 \
	--no-dad --connect '[2001:2::1]:8009' --seconds 20 >"$TMP/client2.log" 2>&1
c=$(grep '^{"connect_sent' "$TMP/client2.log" | tail -n 1)
[ "$(cv connect_err)" = ECONNREFUSED ] || fail "a closed kernel port: $(cv connect_err)"
kill $KSRV 2>/dev/null
wait $KSRV 2>/dev/null
echo "PASS: TCP over IPv6 with the kernel: 4 MiB each way, 1 MiB from handshake, 40 clients, refused both ways, dual stack, TIME-WAIT"
