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
# one connection from each kernel address, one byte echoed (peer.py conns)
for src in 2001:2::1 2001:2:9::8; do
	peer conns 2001:2::2 7 1 $src 0 >"$TMP/from.$src.log" 2>&1 &&
		[ "$(jfield "$TMP/from.$src.log" served)" = 1 ] ||
		fail "an echo from $src: $(tail -n 1 "$TMP/from.$src.log")"
done
kill -TERM $SERVE_PID
wait $SERVE_PID || fail "serve exited with $?"
grep -q "^handshake serve: 2001:2:9::8 is taken on the link (duplicate address detection): not used" \
	"$TMP/serve.log" || fail "serve did not say that 2001:2:9::8 is taken"
[ "$(grep -c "is taken on the link" "$TMP/serve.log")" = 1 ] || fail "taken: said more than once, or of 2001:2::2"
echo "PASS: a taken IPv6 address on TAP: reported once, out of the stack, its holder reaches us from it"
