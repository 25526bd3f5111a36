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

xdp_serve_start --addr $HADDR/24 --port 7 --echo --stats
# (the clients first: they count the kernel's TIME-WAITs on port 7)
peer many $HADDR 7 200 20000 >"$TMP/many.log" 2>&1
peer echo-client $HADDR 7 16777216 >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
xdp_serve_stop 200 201
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
