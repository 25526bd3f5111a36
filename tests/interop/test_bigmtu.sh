#!/usr/bin/env bash
# A 65535-byte device MTU: handshake takes the device's MTU (MSS 65495),
# the kernel sends and receives 64 KiB segments over the TUN; 16 MB echoed
# each way and 16 MB over curl must arrive intact.
NEED_TOOLS=curl
. "$(dirname "$0")/lib.sh"

ip -n "$NS" link set $DEV mtu 65535 || fail "cannot set the MTU"
head -c $MB16 /dev/urandom >"$TMP/data"
mkdir "$TMP/www" && cp "$TMP/data" "$TMP/www/data.bin"

start_serve --port 7 --echo --trace text --trace-file "$TMP/trace.txt"
grep -q "mtu 65535" "$TMP/serve.log" || fail "serve did not take the device MTU"
peer echo-client $HADDR 7 $MB16 >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
stop_serve
grep -q " tx .*mss=65495" "$TMP/trace.txt" || fail "no MSS 65495 in the SYN-ACK"
big=$(grep -c " rx .* len=6[0-9][0-9][0-9][0-9] " "$TMP/trace.txt")
[ "$big" -gt 10 ] || fail "no large segments from the kernel ($big)"
echo "echo 16 MB each way at MTU 65535: $(jfield "$TMP/echo.log" mbps) MB/s (both ways), $big segments over 60 kB"

start_serve --port 80 --http "$TMP/www"
nsx timeout --foreground -k 10 30 curl -sS -o "$TMP/curl.out" http://$HADDR/data.bin || fail "curl failed"
[ "$(sha "$TMP/curl.out")" = "$(sha "$TMP/data")" ] || fail "curl download differs"
stop_serve
echo "PASS: 64 KiB MTU, 16 MB each way and over curl"
