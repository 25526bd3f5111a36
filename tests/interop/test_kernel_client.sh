#!/usr/bin/env bash
# Kernel client -> handshake server.
#  1. Python: 16 MB echoed (16 MB each way at once), equal SHA-256; the
#     kernel closes first and must end in TIME-WAIT.
#  2. Python: handshake sends 16 MB and closes first; the kernel must sit in
#     CLOSE-WAIT at EOF, and be gone after its own close (LAST-ACK answered);
#     handshake ends with the TIME_WAIT entry.
#  3. curl: a 16 MB file over HTTP/1.1, equal SHA-256.
NEED_TOOLS=curl
. "$(dirname "$0")/lib.sh"

head -c $MB16 /dev/urandom >"$TMP/data"
mkdir "$TMP/www" && cp "$TMP/data" "$TMP/www/data.bin"
want=$(sha "$TMP/data")

start_serve --port 7 --echo --stats
peer echo-client $HADDR 7 $MB16 >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
echo "echo 16 MB each way: $(tail -n 1 "$TMP/echo.log")"
stop_serve
grep -q "closed (rx $MB16 B, tx $MB16 B)" "$TMP/serve.log" || fail "server did not see 16 MB both ways"

start_serve --port 9 --send "$TMP/data" --stats --count 1
peer recv-client $HADDR 9 "$want" >"$TMP/recv.log" 2>&1 || fail "recv: $(tail -n 1 "$TMP/recv.log")"
echo "handshake closes first: $(tail -n 1 "$TMP/recv.log")"
# --count 1: serve exits by itself once the close has completed; having
# closed first, handshake holds the TIME_WAIT entry.
wait $SERVE_PID || fail "serve --count 1 did not exit cleanly"
SERVE_PID=
grep -q "^total 1: TIME_WAIT 1" "$TMP/serve.log" || fail "handshake is not in TIME_WAIT"

start_serve --port 80 --http "$TMP/www" --stats
t0=$(date +%s.%N)
nsx timeout --foreground -k 10 60 curl -sS -o "$TMP/curl.out" -w '%{http_code} %{size_download} %{speed_download}\n' \
	http://$HADDR/data.bin >"$TMP/curl.log" 2>&1 || fail "curl: $(cat "$TMP/curl.log")"
echo "curl: $(cat "$TMP/curl.log") (code, bytes, bytes/s)"
[ "$(sha "$TMP/curl.out")" = "$want" ] || fail "curl download differs"
code=$(nsx curl -s -o /dev/null -w '%{http_code}' http://$HADDR/missing)
[ "$code" = 404 ] || fail "expected 404 for a missing file, got $code"
nsx curl -sSI http://$HADDR/data.bin | grep -q "Content-Length: $MB16" || fail "HEAD"
stop_serve
echo "PASS: echo, server-first close and curl, 16 MB each, hashes equal"
