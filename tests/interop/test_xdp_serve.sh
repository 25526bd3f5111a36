#!/usr/bin/env bash
# `handshake serve` and `connect` on AF_XDP (--xdp) with a shard per queue:
# a veth pair with 2 queues, the kernel on vk (198.18.0.1/24), handshake on
# vx through one XSK per queue, 2 shards by default (the interface's
# queues). The kernel echoes 16 MB each way through serve (SHA-256 equal)
# and 200 kernel clients at once each echo 20 kB; then handshake connects
# to a kernel server and 16 MB go each way (SHA-256 equal). On veth the
# kernel picks the receive queue by its own hash, not ours: packets that
# reach the other shard are handed over (WrongShard, ShardHandedIn), and
# none may be lost for want of ring space beyond what TCP recovers.
. "$(dirname "$0")/devlib.sh"

HSK=${HSK_BIN:-$BUILD/handshake}
[ -x "$HSK" ] || fail "$HSK is not built"
head -c 16777216 /dev/urandom >"$TMP/data"

ip -n "$NS" link add vk numrxqueues 2 numtxqueues 2 type veth peer name vx \
	numrxqueues 2 numtxqueues 2 || fail "veth"
nsx python3 "$SRC/tests/interop/nic.py" vx channels 2 || fail "vx channels"
nsx python3 "$SRC/tests/interop/nic.py" vk channels 2 || fail "vk channels"
# XDP sees bytes, not the skb's "checksum to be completed" state.
nsx python3 "$SRC/tests/interop/nic.py" vk tx-csum off || fail "vk tx-csum"
ip -n "$NS" addr add $KADDR/24 dev vk
ip -n "$NS" link set vk up

# The build or the kernel may lack AF_XDP: a skip, with the reason.
skip_if_no_xdp() {
	if grep -q "built without\|Address family not supported" "$1"; then
		echo "SKIP: $(grep -m1 "built without\|Address family" "$1")"
		exit 77
	fi
}

ip netns exec "$NS" timeout --foreground -k 10 60 "$HSK" serve --xdp vx --addr $HADDR/24 --port 7 --echo \
	--stats >"$TMP/serve.log" 2>&1 &
DT_PID=$!
for _ in $(seq 200); do
	grep -q "listening on" "$TMP/serve.log" && break
	kill -0 $DT_PID 2>/dev/null || { wait $DT_PID; skip_if_no_xdp "$TMP/serve.log"; fail "serve exited early"; }
	sleep 0.05
done
grep -q "listening on" "$TMP/serve.log" || fail "serve did not start"
grep -q "2 shards on 2 queues, xdp " "$TMP/serve.log" ||
	fail "not 2 shards on 2 XSKs: $(grep listening "$TMP/serve.log")"
# (the clients first: they count the kernel's TIME-WAITs on port 7)
peer many $HADDR 7 200 20000 >"$TMP/many.log" 2>&1
peer echo-client $HADDR 7 16777216 >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
kill -TERM $DT_PID
wait $DT_PID || fail "serve exited with $?"
DT_PID=
fig() { grep -oE "\b$1 +[0-9]+" "$2" | tail -n 1 | awk '{print $2}'; }
rsts=$(fig RstSentNoSocket "$TMP/serve.log")
many_ok "$TMP/many.log" 200 "${rsts:-0}" ||
	fail "200 clients: $(tail -n 1 "$TMP/many.log")"
opens=$(fig PassiveOpens "$TMP/serve.log")
check "${opens:-0} == 201" "PassiveOpens $opens, not 201"
ofo=$(kernel_ofo)
check "ofo == 0" "the kernel received $ofo segments out of order"
echo "serve on AF_XDP: 16 MB echoed each way with equal SHA-256, 200 clients at once;" \
	"WrongShard $(fig WrongShard "$TMP/serve.log"), handed in $(fig ShardHandedIn "$TMP/serve.log")," \
	"ring drops $(fig ShardRingDrops "$TMP/serve.log"), RetransSegs $(fig RetransSegs "$TMP/serve.log" || true)"

# handshake as the client
ip netns exec "$NS" timeout --foreground -k 10 60 python3 "$PEER" sink-server 5001 "$TMP/data" >"$TMP/sink.log" 2>&1 &
PEER_PID=$!
for _ in $(seq 100); do grep -q "^listening" "$TMP/sink.log" && break; sleep 0.05; done
nsx timeout --foreground -k 10 60 "$HSK" connect --xdp vx --addr $HADDR/24 $KADDR:5001 --send "$TMP/data" \
	--recv "$TMP/got" --stats >"$TMP/connect.log" 2>&1 || fail "connect: $(head -n 3 "$TMP/connect.log")"
wait $PEER_PID || fail "kernel sink-server: $(tail -n 1 "$TMP/sink.log")"
[ "$(sha "$TMP/got")" = "$(sha "$TMP/data")" ] || fail "download differs"
python3 -c "import json,sys; j=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); sys.exit(j['recv_sha'] != sys.argv[2])" \
	"$TMP/sink.log" "$(sha "$TMP/data")" || fail "upload differs"
check "$(fig ActiveOpens "$TMP/connect.log") == 1" "ActiveOpens"
echo "connect on AF_XDP: 16 MB each way with equal SHA-256 ($(grep -o 'in [0-9.]* s ([0-9.]* MB/s)' "$TMP/connect.log"))," \
	"WrongShard $(fig WrongShard "$TMP/connect.log")"
echo "PASS: serve and connect over AF_XDP with a shard per queue"
