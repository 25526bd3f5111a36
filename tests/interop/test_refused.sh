#!/usr/bin/env bash
# Connecting to a closed port, each way: the RST must surface as
# ECONNREFUSED on the connecting side. And a protocol the stack does not
# have (UDP): its protocol unreachable (RFC 1122 §3.2.2.1) must reach the
# kernel's connected UDP socket as ENOPROTOOPT, Linux's error for it.
. "$(dirname "$0")/lib.sh"

start_serve --port 7 --echo --stats
peer refused $HADDR 9999 >"$TMP/refused.log" 2>&1 || fail "kernel: $(tail -n 1 "$TMP/refused.log")"
echo "kernel -> handshake:9999: $(tail -n 1 "$TMP/refused.log")"
nsx python3 -c "
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(('$HADDR', 9999))
s.settimeout(5)
s.send(b'anyone?')
try:
    s.recv(100)
    sys.exit('UDP: an answer?')
except socket.timeout:
    sys.exit('UDP: no protocol unreachable within 5 s')
except OSError as e:
    if e.errno != errno.ENOPROTOOPT:
        sys.exit('UDP: %s, not ENOPROTOOPT' % e)
    print('kernel UDP -> handshake: %s' % e)
" || fail "no protocol unreachable reached the kernel's socket"
stop_serve
[ "$(counter "$TMP/serve.log" OutRsts)" -ge 1 ] || fail "handshake counted no RST sent"
[ "$(counter "$TMP/serve.log" InUnknownProtos)" -ge 1 ] || fail "handshake counted no unknown protocol"
[ "$(counter "$TMP/serve.log" IcmpOutMsgs)" -ge 1 ] || fail "handshake counted no ICMP sent"

set +e
hsk_connect $KADDR:9999 --stats >"$TMP/connect.log" 2>&1
rc=$?
set -e
[ $rc = 1 ] || fail "connect exited $rc, expected 1"
grep -q "ECONNREFUSED" "$TMP/connect.log" || fail "no ECONNREFUSED from connect"
echo "handshake -> kernel:9999: $(grep ECONNREFUSED "$TMP/connect.log")"
echo "PASS: ECONNREFUSED both ways"
