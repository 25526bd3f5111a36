#!/usr/bin/env bash
# ECN (RFC 3168) negotiated with the Linux kernel, and quick ACKs as a
# Linux receiver sends them, seen in handshake's pcaps over TUN:
# - a kernel client with net.ipv4.tcp_ecn=1 (set in the test's namespace)
#   asks on its SYN (ECE|CWR), `serve` with the default (2) agrees on its
#   SYN-ACK (ECE), and both ends send their data ECT(0) (retransmissions,
#   such as a tail loss probe when the machine is loaded, Not-ECT), pure
#   ACKs Not-ECT;
# - `connect --ecn 1` asks, the kernel with its default (2) agrees;
# - CE marks from the impairment layer (--ce) both ways: serve echoes the
#   kernel's marks with ECE until the kernel's CWR, and reduces its own
#   window for the kernel's ECE (TCPECNReduce) with CWR on its next data;
# - the kernel's first ten data segments are each acknowledged at once by
#   serve (quick-ACK mode at a connection's start: ACKs of each segment's
#   end, not of every second one).
NEED_TOOLS=tshark
. "$(dirname "$0")/lib.sh"

# One line per packet: src syn ack ece cwr len ecn seq ack (relative).
pkts() {
	tshark -r "$1" -o tcp.relative_sequence_numbers:TRUE -T fields -e ip.src \
		-e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.ece -e tcp.flags.cwr \
		-e tcp.len -e ip.dsfield.ecn -e tcp.seq -e tcp.ack 2>>"$TMP/tshark.log" |
		sed 's/True/1/g; s/False/0/g' | tr '\t' ' '
}

# ---- the kernel asks, serve agrees ----
nsx sysctl -qw net.ipv4.tcp_ecn=1 || fail "cannot set net.ipv4.tcp_ecn"
start_serve --port 7 --echo --pcap "$TMP/serve.pcap"
peer echo-client $HADDR 7 200000 nostate >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
stop_serve
pkts "$TMP/serve.pcap" >"$TMP/serve.pkts"
python3 - "$TMP/serve.pkts" "$KADDR" "$HADDR" <<'PY' || fail "ECN with a kernel client"
import sys
rows = [l.split() for l in open(sys.argv[1])]
K, H = sys.argv[2], sys.argv[3]
src, syn, ack, ece, cwr, ln, ecn = 0, 1, 2, 3, 4, 5, 6
assert rows[0][:5] == [K, "1", "0", "1", "1"], ("SYN without ECE|CWR", rows[0])
assert rows[1][:5] == [H, "1", "1", "1", "0"], ("SYN-ACK without ECE alone", rows[1])
def first_sends(rows, who):
    """Data segments from `who` that carry bytes not sent before: a
    retransmission goes Not-ECT (RFC 3168 §6.1.5), and a TUN loses nothing,
    but a loaded machine can delay an ACK past the sender's tail loss probe."""
    high, out = 0, []
    for r in rows:
        if r[0] == who and int(r[5]) > 0:
            end = int(r[7]) + int(r[5])
            if end > high:
                out.append(r)
            high = max(high, end)
    return out
for who in (K, H):
    data = first_sends(rows, who)
    assert data, who
    # ECT(0) is 2 in the two ECN bits
    bad = [r for r in data if r[ecn] != "2"]
    assert not bad, ("data not ECT(0)", who, bad[:3])
pure = [r for r in rows if r[src] == H and r[syn] == "0" and int(r[ln]) == 0]
assert pure and all(r[ecn] == "0" for r in pure), ("an ECT pure ACK", pure[:3])
print("kernel client: SYN ECE|CWR, SYN-ACK ECE, %d data segments ECT(0) from serve"
      % len([r for r in rows if r[src] == H and int(r[ln]) > 0]))
PY

# ---- connect asks, the kernel (tcp_ecn=2, Linux's default) agrees ----
nsx sysctl -qw net.ipv4.tcp_ecn=2
head -c 100000 /dev/urandom >"$TMP/blob"
echo done >"$TMP/reply"
start_peer_server sink sink-server 5006 "$TMP/reply"
hsk_connect $KADDR:5006 --ecn 1 --send "$TMP/blob" --pcap "$TMP/connect.pcap" >"$TMP/connect.log" 2>&1 ||
	fail "connect --ecn 1"
wait $PEER_PID || fail "sink-server: $(tail -n 1 "$TMP/sink.log")"
pkts "$TMP/connect.pcap" >"$TMP/connect.pkts"
python3 - "$TMP/connect.pkts" "$KADDR" "$HADDR" <<'PY' || fail "ECN asked by connect"
import sys
rows = [l.split() for l in open(sys.argv[1])]
K, H = sys.argv[2], sys.argv[3]
assert rows[0][:5] == [H, "1", "0", "1", "1"], ("our SYN without ECE|CWR", rows[0])
assert rows[1][:5] == [K, "1", "1", "1", "0"], ("the kernel did not agree", rows[1])
high, data = 0, []
for r in rows:   # first sends only: a retransmission goes Not-ECT
    if r[0] == H and int(r[5]) > 0:
        if int(r[7]) + int(r[5]) > high:
            data.append(r)
        high = max(high, int(r[7]) + int(r[5]))
assert data and all(r[6] == "2" for r in data), ("data not ECT(0)", data[:3])
print("connect --ecn 1: SYN ECE|CWR, kernel SYN-ACK ECE, %d data segments ECT(0)" % len(data))
PY

# ---- CE marks both ways: ECE answered by CWR, each end ----
nsx sysctl -qw net.ipv4.tcp_ecn=1
start_serve --port 7 --echo --ce 0.02 --seed 7 --pcap "$TMP/ce.pcap" --stats
peer echo-client $HADDR 7 1000000 nostate >"$TMP/echo-ce.log" 2>&1 || fail "echo with CE marks: $(tail -n 1 "$TMP/echo-ce.log")"
stop_serve
pkts "$TMP/ce.pcap" >"$TMP/ce.pkts"
reduce=$(counter "$TMP/serve.log" TCPECNReduce)
marks=$(grep -oE "[0-9]+ CE marks" "$TMP/serve.log" | awk '{print $1}')
python3 - "$TMP/ce.pkts" "$KADDR" "$HADDR" <<'PY' || fail "CE marks not answered"
import sys
rows = [l.split() for l in open(sys.argv[1])]
K, H = sys.argv[2], sys.argv[3]
src, syn, ack, ece, cwr, ln, ecn = 0, 1, 2, 3, 4, 5, 6
# Received CE (the capture shows what serve received, after the layer).
ce_in = [i for i, r in enumerate(rows) if r[src] == K and r[ecn] == "3"]
assert ce_in, "no CE-marked packet from the kernel arrived"
# serve echoes the first with ECE, and the kernel then sends CWR.
first = ce_in[0]
ece_out = [i for i, r in enumerate(rows) if i > first and r[src] == H and r[ece] == "1" and r[syn] == "0"]
assert ece_out, "serve never echoed ECE"
cwr_in = [i for i, r in enumerate(rows) if i > ece_out[0] and r[src] == K and r[cwr] == "1"]
assert cwr_in, "the kernel never answered with CWR"
# The kernel echoes the marks on serve's data; serve sends CWR on data.
ece_in = [r for r in rows if r[src] == K and r[ece] == "1" and r[syn] == "0"]
cwr_out = [r for r in rows if r[src] == H and r[cwr] == "1" and int(r[ln]) > 0]
assert ece_in and cwr_out, ("no ECE from the kernel or no CWR from serve", len(ece_in), len(cwr_out))
print("CE marks: %d CE in, ECE out, CWR in; %d ECE in, %d CWR out" %
      (len(ce_in), len(ece_in), len(cwr_out)))
PY
[ "${marks:-0}" -gt 0 ] && [ "$reduce" -gt 0 ] || fail "serve: ${marks:-0} CE marks made, TCPECNReduce $reduce"
echo "CE marks: $marks made by the layer, serve reduced $reduce times (TCPECNReduce)"

# ---- quick ACKs: the kernel sends, serve discards ----
start_serve --port 9 --discard --pcap "$TMP/qack.pcap"
nsx timeout --foreground -k 10 20 python3 - "$HADDR" <<'PY' || fail "the kernel's sender"
import socket, sys
s = socket.create_connection((sys.argv[1], 9), 5)
s.sendall(b"q" * 200000)
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
assert s.recv(1) == b""
s.close()
PY
stop_serve
pkts "$TMP/qack.pcap" >"$TMP/qack.pkts"
python3 - "$TMP/qack.pkts" "$KADDR" "$HADDR" <<'PY' || fail "quick ACKs"
import sys
rows = [l.split() for l in open(sys.argv[1])]
K, H = sys.argv[2], sys.argv[3]
data = [r for r in rows if r[0] == K and int(r[5]) > 0]
ends = [int(r[7]) + int(r[5]) for r in data[:10]]
acks = {int(r[8]) for r in rows if r[0] == H and r[1] == "0" and int(r[5]) == 0}
missing = [e for e in ends if e not in acks]
assert len(ends) == 10 and not missing, ("first segments not each ACKed", ends, missing)
print("quick ACKs: each of the kernel's first 10 data segments acknowledged on its own")
PY
echo "PASS: ECN negotiated with the kernel both ways, CE marks answered; quick ACKs at a connection's start"
