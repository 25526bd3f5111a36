#!/usr/bin/env bash
# The examples against the kernel: examples/echo_server and
# examples/zerocopy_echo echo 1 MB for a Python client; examples/http_client
# fetches a file from Python's http.server and gets ECONNREFUSED from a
# closed port.
. "$(dirname "$0")/lib.sh"

for x in echo_server zerocopy_echo http_client; do
	[ -x "$BUILD/$x" ] || fail "$BUILD/$x is not built"
done

ip netns exec "$NS" timeout --foreground -k 10 30 "$BUILD/echo_server" $DEV $HADDR/24 7 >"$TMP/echo_server.log" 2>&1 &
SERVE_PID=$!
sleep 0.3
# (nostate: close states are checked by test_kernel_client; here the example
# program is under test)
peer echo-client $HADDR 7 1048576 nostate >"$TMP/echo.log" 2>&1 || fail "echo_server: $(tail -n 1 "$TMP/echo.log")"
stop_serve
echo "echo_server: $(jfield "$TMP/echo.log" ok), 1 MB each way"

ip netns exec "$NS" timeout --foreground -k 10 30 "$BUILD/zerocopy_echo" $DEV $HADDR/24 7 >"$TMP/zerocopy_echo.log" 2>&1 &
SERVE_PID=$!
sleep 0.3
peer echo-client $HADDR 7 1048576 nostate >"$TMP/zecho.log" 2>&1 || fail "zerocopy_echo: $(tail -n 1 "$TMP/zecho.log")"
stop_serve
echo "zerocopy_echo: $(jfield "$TMP/zecho.log" ok), 1 MB each way"

mkdir "$TMP/www"
head -c 300000 /dev/urandom >"$TMP/www/blob"
(cd "$TMP/www" && exec ip netns exec "$NS" timeout --foreground -k 10 30 python3 -m http.server 8080 \
	--bind $KADDR >"$TMP/http.log" 2>&1) &
PEER_PID=$!
for _ in $(seq 100); do
	nsx python3 -c "import socket; socket.create_connection(('$KADDR', 8080), 0.2)" 2>/dev/null && break
	sleep 0.05
done
nsx timeout --foreground -k 10 20 "$BUILD/http_client" $DEV $HADDR/24 $KADDR 8080 /blob >"$TMP/resp" 2>"$TMP/client.log" ||
	fail "http_client: $(cat "$TMP/client.log")"
head -n 1 "$TMP/resp" | grep -q "200 OK" || fail "http_client: $(head -n 1 "$TMP/resp")"
# The body follows the blank line that ends the headers.
python3 - "$TMP/resp" "$TMP/www/blob" <<'PY' || fail "http_client body differs"
import sys
r = open(sys.argv[1], "rb").read()
sys.exit(0 if r[r.index(b"\r\n\r\n") + 4:] == open(sys.argv[2], "rb").read() else 1)
PY
set +e
nsx timeout --foreground -k 10 20 "$BUILD/http_client" $DEV $HADDR/24 $KADDR 8081 / >/dev/null 2>"$TMP/refused.log"
rc=$?
set -e
[ $rc = 1 ] && grep -q ECONNREFUSED "$TMP/refused.log" || fail "http_client to a closed port: rc $rc, $(cat "$TMP/refused.log")"
kill $PEER_PID 2>/dev/null
echo "PASS: echo_server, zerocopy_echo and http_client work against the kernel"
