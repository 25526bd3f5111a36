#!/usr/bin/env bash
# IPv6 below TCP against the kernel, over TAP (issue 9, phase 1): the
# kernel owns 2001:2::1/64 on hsk0, hsk-v6test runs a stack with
# 2001:2::2/64 and its link-local address (tests/v6test).
#  1. handshake's DAD, then its own echo requests to the kernel: it must
#     resolve the kernel with a neighbour solicitation of its own;
#  2. the kernel pings 2001:2::2 (resolving it by ND: its neighbour entry
#     shows handshake's MAC 02:68:73:12:00:02) and the link-local address;
#     a 3,000-byte ping arrives in fragments and is reassembled (the reply
#     would need fragmenting, which the stack does not do);
#  3. the kernel sends next header 253 and an unknown destination option
#     of action 10: handshake answers each with the parameter problem RFC
#     8200 §4 asks for (code 1 pointer 6, code 2 pointer 42);
#  4. IPv4 still works on the same device (ARP beside ND).
MODE=tap
. "$(dirname "$0")/lib.sh"

V6T=$BUILD/hsk-v6test
[ -x "$V6T" ] || fail "$V6T is not built"
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
	net.ipv6.conf.$DEV.disable_ipv6=0 >/dev/null || fail "cannot turn IPv6 on"
nsx ip -6 addr add 2001:2::1/64 dev $DEV nodad || fail "cannot add 2001:2::1"

ip netns exec "$NS" timeout --foreground -k 10 60 "$V6T" --tap $DEV --addr $HADDR/24 --addr6 2001:2::2/64 \
	--ping6 2001:2::1 --seconds 40 >"$TMP/v6test.log" 2>&1 &
V6_PID=$!
for _ in $(seq 100); do
	grep -q "^ready" "$TMP/v6test.log" 2>/dev/null && break
	kill -0 $V6_PID 2>/dev/null || fail "hsk-v6test exited early"
	sleep 0.05
done
grep -q "^ready" "$TMP/v6test.log" || fail "hsk-v6test did not get ready"

cat >"$TMP/k6.py" <<'EOF'
import json, os, socket, struct, sys, time

DST = "2001:2::2"
ident = os.getpid() & 0xffff


def icmp_sock():
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.settimeout(0.5)
    return s


def wait(s, pred, timeout=3.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            data, _ = s.recvfrom(70000)
        except socket.timeout:
            continue
        if pred(data):
            return data
    return None


def ping(dst, count, size, scope=0, timeout=3.0):
    s = icmp_sock()
    got = 0
    for seq in range(1, count + 1):
        body = bytes(i % 256 for i in range(size))
        s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, seq) + body, (dst, 0, 0, scope))
        if wait(s, lambda d: d[0] == 129 and d[4:8] == struct.pack("!HH", ident, seq),
                timeout):
            got += 1
    return got


res = {}
res["echo"] = ping(DST, 3, 56)
scope = socket.if_nametoindex("hsk0")
res["echo_ll"] = ping("fe80::68:73ff:fe12:2", 2, 16, scope)
res["echo_3000"] = ping(DST, 1, 3000, timeout=1.0)
# Next header 253: parameter problem, code 1, pointer 6.
r = icmp_sock()
u = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 253)
u.sendto(b"\0" * 8, (DST, 0))
d = wait(r, lambda d: d[0] == 4)
res["pp_nexthdr"] = [d[1], struct.unpack("!I", d[4:8])[0]] if d else None
# A destination option 0x93 (action 10): code 2, pointer 42.
e = icmp_sock()
opt = getattr(socket, "IPV6_DSTOPTS", 59)
e.setsockopt(socket.IPPROTO_IPV6, opt, bytes([0, 0, 0x93, 4, 0, 0, 0, 0]))
e.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, 99), (DST, 0))
d = wait(r, lambda d: d[0] == 4 and d[1] == 2)
res["pp_option"] = [d[1], struct.unpack("!I", d[4:8])[0]] if d else None
print(json.dumps(res))
EOF
nsx timeout --foreground -k 10 60 python3 "$TMP/k6.py" >"$TMP/k6.log" 2>&1 || fail "kernel side: $(tail -n 3 "$TMP/k6.log")"
echo "kernel: $(tail -n 1 "$TMP/k6.log")"
kv() { tail -n 1 "$TMP/k6.log" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1'))"; }
[ "$(kv echo)" = 3 ] || fail "kernel's pings to 2001:2::2: $(kv echo) of 3 answered"
[ "$(kv echo_ll)" = 2 ] || fail "kernel's pings to the link-local address: $(kv echo_ll) of 2"
[ "$(kv echo_3000)" = 0 ] || fail "a 3,000-byte ping was answered: the stack cannot fragment"
[ "$(kv pp_nexthdr)" = "[1, 6]" ] || fail "next header 253 answered $(kv pp_nexthdr)"
[ "$(kv pp_option)" = "[2, 42]" ] || fail "option of action 10 answered $(kv pp_option)"

nsx ip -6 neigh show 2001:2::2 dev $DEV >"$TMP/neigh.txt"
grep -q "02:68:73:12:00:02" "$TMP/neigh.txt" || fail "kernel neighbour entry: $(cat "$TMP/neigh.txt")"
echo "kernel neighbour: $(cat "$TMP/neigh.txt")"

peer ping $HADDR 2 56 >"$TMP/ping4.log" 2>&1 || fail "IPv4 ping beside IPv6: $(tail -n 1 "$TMP/ping4.log")"

kill -TERM $V6_PID
wait $V6_PID
j=$(grep '^{' "$TMP/v6test.log" | tail -n 1)
echo "handshake: $j"
hv() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get('$1'))" "$j"; }
[ "$(hv echo_replies)" = 3 ] || fail "handshake's pings to the kernel: $(hv echo_replies) of 3 answered"
[ "$(hv ns_sent)" -ge 1 ] && [ "$(hv na_rcvd)" -ge 1 ] ||
	fail "handshake did not resolve the kernel itself"
[ "$(hv dad_sent)" = 2 ] && [ "$(hv dad_failed)" = 0 ] || fail "DAD: $(hv dad_sent) sent, $(hv dad_failed) failed"
[ "$(hv Ip6ReasmOKs)" -ge 1 ] || fail "the fragmented ping was not reassembled"
[ "$(hv Icmp6OutEchoReplies)" -ge 5 ] || fail "echo replies: $(hv Icmp6OutEchoReplies)"
echo "PASS: ND both ways, DAD, ping6 (global, link-local), fragments, parameter problems over TAP"
