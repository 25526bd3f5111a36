#!/usr/bin/env bash
# An IPv6 address DAD finds taken, over TAP (docs/ipv6.md, RFC 4862
# §5.4.5): the kernel holds 2001:2:9::8 on hsk0 and handshake is given it
# beside 2001:2::2. handshake's probe draws the kernel's defence; serve
# says so once ("is taken on the link"), the loop takes the address out of
# the stack, and the kernel, its holder, reaches serve from it (an echo:
# before, its packets were dropped as martians and our NS for it went
# unanswered, its NA taken as a claim on ours); 2001:2::2 works as ever.
MODE=tap
. "$(dirname "$0")/lib.sh"

nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
	net.ipv6.conf.$DEV.disable_ipv6=0 net.ipv6.conf.$DEV.accept_dad=0 >/dev/null ||
	fail "cannot turn IPv6 on"
nsx ip -6 addr add 2001:2::1/64 dev $DEV nodad || fail "cannot add 2001:2::1"
nsx ip -6 addr add 2001:2:9::8/64 dev $DEV nodad || fail "cannot add 2001:2:9::8"

start_serve --addr 2001:2::2/64 --addr 2001:2:9::8/64 --port 7 --echo
sleep 2.5   # DAD (1 s), then the loop lets go (within 2 s)
echo6() { # SOURCE: an echo to [2001:2::2]:7 from that address of the kernel's
	nsx timeout --foreground -k 5 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(5)
s.bind((sys.argv[1], 0))
s.connect(("2001:2::2", 7))
s.sendall(b"an echo from " + sys.argv[1].encode())
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(100)
    if not b:
        break
    got += b
sys.exit(got != b"an echo from " + sys.argv[1].encode())' "$1"
}
echo6 2001:2::1 >"$TMP/echo1.log" 2>&1 || fail "echo from 2001:2::1: $(tail -n 1 "$TMP/echo1.log")"
echo6 2001:2:9::8 >"$TMP/echo8.log" 2>&1 ||
	fail "echo from 2001:2:9::8, the taken address: $(tail -n 1 "$TMP/echo8.log")"
kill -TERM $SERVE_PID
wait $SERVE_PID || fail "serve exited with $?"
grep -q "^handshake serve: 2001:2:9::8 is taken on the link (duplicate address detection): not used" \
	"$TMP/serve.log" || fail "serve did not say that 2001:2:9::8 is taken"
[ "$(grep -c "is taken on the link" "$TMP/serve.log")" = 1 ] || fail "taken: said more than once, or of 2001:2::2"
echo "PASS: a taken IPv6 address on TAP: reported once, out of the stack, its holder reaches us from it"
