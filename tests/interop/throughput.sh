#!/usr/bin/env bash
# Throughput of handshake against the Linux kernel over a TUN device, one
# direction at a time. Not part of `make check` (a measurement, not a test):
#   sudo tests/interop/throughput.sh BUILD_DIR SOURCE_DIR [MB]
#   MTU=65535 sudo tests/interop/throughput.sh ...   (a larger device MTU)
# Prints MB/s (10^6 bytes per second of payload) for each case.
. "$(dirname "$0")/lib.sh"

if [ -n "${MTU:-}" ]; then
	ip -n "$NS" link set $DEV mtu "$MTU" || fail "cannot set MTU $MTU"
fi
echo "device MTU $(nsx cat /sys/class/net/$DEV/mtu)"

MB=${3:-64}
BYTES=$((MB * 1024 * 1024))
head -c $BYTES /dev/urandom >"$TMP/data"

rate() { # bytes seconds
	python3 -c "print('%.0f' % ($1 / $2 / 1e6))"
}

kernel_send() {
	nsx timeout --foreground -k 10 60 python3 - "$HADDR" "$BYTES" <<'PY'
import socket, sys, time
host, n = sys.argv[1], int(sys.argv[2])
buf = b"x" * 65536
s = socket.create_connection((host, 9))
t0 = time.time()
left = n
while left > 0:
    left -= s.send(buf[:min(left, len(buf))])
s.shutdown(socket.SHUT_WR)
s.recv(1)
print(time.time() - t0)
PY
}

kernel_recv() {
	nsx timeout --foreground -k 10 60 python3 - "$HADDR" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 9))
t0 = time.time()
n = 0
while True:
    b = s.recv(262144)
    if not b:
        break
    n += len(b)
print(time.time() - t0)
PY
}

start_serve --port 9 --discard --count 1
t=$(kernel_send) || fail "kernel -> handshake"
wait $SERVE_PID; SERVE_PID=
printf "%-40s %6s MB/s\n" "kernel -> handshake (serve --discard)" "$(rate $BYTES "$t")"

start_serve --port 9 --send "$TMP/data" --count 1
t=$(kernel_recv) || fail "handshake -> kernel"
wait $SERVE_PID; SERVE_PID=
printf "%-40s %6s MB/s\n" "handshake -> kernel (serve --send)" "$(rate $BYTES "$t")"

start_serve --port 7 --echo --count 1
peer echo-client $HADDR 7 $BYTES >"$TMP/echo.log" 2>&1 || fail "echo"
wait $SERVE_PID; SERVE_PID=
printf "%-40s %6s MB/s\n" "kernel <-> handshake echo (each way)" \
	"$(python3 -c "print('%.0f' % ($(jfield "$TMP/echo.log" mbps) / 2))")"

start_peer_server sink sink-server 5001 /dev/null
hsk_connect $KADDR:5001 --send "$TMP/data" --quiet >"$TMP/connect.log" 2>&1 || fail "connect"
wait $PEER_PID
printf "%-40s %6s MB/s\n" "handshake client -> kernel server" "$(rate $BYTES "$(jfield "$TMP/sink.log" seconds)")"
