#!/usr/bin/env bash
# Urgent data (RFC 9293 §3.8.5) between the kernel and handshake. A Python
# client sends "hello", "!" with MSG_OOB and "world", then shuts down its
# side; examples/echo_server sends the urgent bytes back as urgent data
# (hsk_sock_urgent, HSK_MSG_OOB). The kernel, without SO_OOBINLINE, must
# give the client "!" by recv(MSG_OOB) and "helloworld" in line: handshake
# read the kernel's urgent pointer where the kernel meant it (the octet
# after the urgent data, MUST-62) and its own reached the kernel so.
. "$(dirname "$0")/lib.sh"

[ -x "$BUILD/echo_server" ] || fail "$BUILD/echo_server is not built"
ip netns exec "$NS" timeout --foreground -k 10 30 "$BUILD/echo_server" $DEV $HADDR/24 7 \
	>"$TMP/echo_server.log" 2>&1 &
SERVE_PID=$!
sleep 0.3
nsx timeout --foreground -k 5 20 python3 - "$HADDR" >"$TMP/urgent.log" 2>&1 <<'PY' ||
import select, socket, sys, time
s = socket.create_connection((sys.argv[1], 7), 5)
s.sendall(b"hello")
s.send(b"!", socket.MSG_OOB)
s.sendall(b"world")
s.shutdown(socket.SHUT_WR)
s.setblocking(False)
inline, oob, eof = b"", b"", False
deadline = time.time() + 10
while not eof or not oob:
    if time.time() > deadline:
        sys.exit("timeout: inline %r oob %r" % (inline, oob))
    r, _, x = select.select([s], [], [s], 1)
    # the urgent byte first: a read in line past the mark would drop it
    if x and not oob:
        try:
            oob = s.recv(1, socket.MSG_OOB)
        except BlockingIOError:         # its pointer came, not the byte yet
            time.sleep(0.01)
        continue
    if r and not eof:
        d = s.recv(100)
        inline += d
        eof = not d
    elif eof:
        break
print("inline %r oob %r" % (inline, oob))
sys.exit(0 if (inline, oob) == (b"helloworld", b"!") else 1)
PY
	fail "urgent echo: $(tail -n 1 "$TMP/urgent.log")"
stop_serve
echo "PASS: $(tail -n 1 "$TMP/urgent.log"): the kernel's urgent byte came back urgent"
