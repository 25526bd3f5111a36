#!/usr/bin/env bash
# RFC 1122 §3.3.2 with a real peer: the kernel sends the first fragment of
# a UDP datagram and never the rest (from a raw socket); when the
# reassembly gives it up (ipfrag_time, 30 s) handshake answers with an ICMP
# time exceeded, code 1 (fragment reassembly), quoting that fragment. Linux
# takes it in — its Icmp InTimeExcds counts it, after the checksum and
# header checks that count InErrors otherwise — and, by its own choice
# (icmp_unreach), passes a reassembly time exceeded to no socket. About
# 30 s of waiting.
. "$(dirname "$0")/lib.sh"

start_serve --port 7 --echo --stats
nsx timeout --foreground -k 5 60 python3 -c "
import socket, struct, sys, time
K, H = '$KADDR', '$HADDR'

def icmp():
    rows = [l.split() for l in open('/proc/net/snmp') if l.startswith('Icmp:')]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))

before = icmp()
# The first fragment (MF, offset 0) of a 1008-byte UDP datagram: its
# header and 24 bytes. The kernel fills in the IP checksum.
udp = struct.pack('!HHHH', 40000, 9999, 1008, 0) + b'x' * 24
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0x4242, 0x2000, 64, 17, 0,
                 socket.inet_aton(K), socket.inet_aton(H))
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.sendto(ip + udp, (H, 0))
t0 = time.time()
while icmp()['InTimeExcds'] == before['InTimeExcds']:
    if time.time() - t0 > 45:
        sys.exit('no time exceeded within 45 s: %r' % icmp())
    time.sleep(0.2)
waited = time.time() - t0
after = icmp()
if after['InErrors'] != before['InErrors'] or after['InCsumErrors'] != before['InCsumErrors']:
    sys.exit('the kernel counted an ICMP error: %r' % after)
if waited < 25:
    sys.exit('the time exceeded came after %.1f s, before the reassembly timeout' % waited)
print('the kernel took a time exceeded after %.1f s (Icmp InTimeExcds %d -> %d)' %
      (waited, before['InTimeExcds'], after['InTimeExcds']))
" >"$TMP/frag.log" 2>&1 || fail "$(cat "$TMP/frag.log")"
cat "$TMP/frag.log"
stop_serve
[ "$(counter "$TMP/serve.log" ReasmTimeout)" = 1 ] || fail "expected one datagram given up"
[ "$(counter "$TMP/serve.log" IcmpOutTimeExcds)" = 1 ] || fail "expected one time exceeded sent"
echo "PASS: handshake answered an unfinished datagram with a time exceeded the kernel took in"
