#!/usr/bin/env bash
# The pcap handshake writes (--pcap, libpcap, LINKTYPE_RAW) opens in tshark
# and shows the three-way handshake and the close, for the server and the
# client side; one that cannot be written fails the command.
NEED_TOOLS=tshark
. "$(dirname "$0")/lib.sh"

start_serve --port 7 --echo --pcap "$TMP/server.pcap"
peer echo-client $HADDR 7 100000 >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
stop_serve
tshark -r "$TMP/server.pcap" >"$TMP/server.txt" 2>"$TMP/tshark.log" || fail "tshark cannot read the server's pcap"
head -n 3 "$TMP/server.txt" | sed 's/^/  /'
# Fields rather than summary lines: tshark names port 7 "ECHO" in summaries.
flags() {
	tshark -r "$1" -T fields -e frame.number -e ip.src -e tcp.flags.syn \
		-e tcp.flags.ack -e tcp.flags.fin 2>>"$TMP/tshark.log" | tr '\t' ' ' |
		sed 's/True/1/g; s/False/0/g'
}
flags "$TMP/server.pcap" >"$TMP/server.flags"
[ "$(sed -n 1p "$TMP/server.flags")" = "1 $KADDR 1 0 0" ] || fail "packet 1 is not the SYN"
[ "$(sed -n 2p "$TMP/server.flags")" = "2 $HADDR 1 1 0" ] || fail "packet 2 is not the SYN-ACK"
[ "$(sed -n 3p "$TMP/server.flags")" = "3 $KADDR 0 1 0" ] || fail "packet 3 is not the ACK"
grep -q "$KADDR 0 1 1" "$TMP/server.flags" || fail "no FIN from the kernel"
grep -q "$HADDR 0 1 1" "$TMP/server.flags" || fail "no FIN from handshake"
# tshark's own view of the stream: no malformed packets, the 100000 bytes both ways.
tshark -r "$TMP/server.pcap" -Y "_ws.malformed || _ws.expert.severity >= error" >"$TMP/bad.txt" 2>>"$TMP/tshark.log"
[ ! -s "$TMP/bad.txt" ] || fail "tshark reports errors: $(head -n 3 "$TMP/bad.txt")"

echo hi >"$TMP/hi"
start_peer_server closer closer-server 5003
hsk_connect $KADDR:5003 --send "$TMP/hi" --pcap "$TMP/client.pcap" >"$TMP/connect.log" 2>&1
wait $PEER_PID
flags "$TMP/client.pcap" >"$TMP/client.flags" || fail "tshark cannot read the client's pcap"
cflags=$(head -n 4 "$TMP/client.flags" | tr '\n' ';')
[ "$(sed -n 1p "$TMP/client.flags")" = "1 $HADDR 1 0 0" ] || fail "client packet 1 is not the SYN: $cflags"
[ "$(sed -n 2p "$TMP/client.flags")" = "2 $KADDR 1 1 0" ] || fail "client packet 2 is not the SYN-ACK: $cflags"
# A capture that cannot be written (a full disk) fails the command, with
# a message, for both commands.
start_serve --port 7 --echo --pcap /dev/full
peer echo-client $HADDR 7 100000 >"$TMP/echo2.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo2.log")"
stop_serve
rc=$?
[ $rc = 1 ] || fail "serve --pcap /dev/full exited $rc"
grep -q "/dev/full: No space left on device" "$TMP/serve.log" || fail "serve: no message about /dev/full"
start_peer_server closer2 closer-server 5004
hsk_connect $KADDR:5004 --send "$TMP/hi" --pcap /dev/full >"$TMP/connect2.log" 2>&1
rc=$?
wait $PEER_PID
[ $rc = 1 ] || fail "connect --pcap /dev/full exited $rc"
grep -q "/dev/full: No space left on device" "$TMP/connect2.log" || fail "connect: no message about /dev/full"
echo "--pcap /dev/full: $(grep -h 'dev/full' "$TMP/serve.log" "$TMP/connect2.log" | head -n 1)"
echo "PASS: pcaps open in tshark and show SYN, SYN-ACK, ACK and FINs ($(wc -l <"$TMP/server.txt") packets)"
