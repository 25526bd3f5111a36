#!/usr/bin/env bash
# Shards (hsk_shards, docs/scale.md): `serve` and `connect` with 2 shards
# on a multi-queue TUN (hsk0 made multi_queue by lib.sh's HSK_SHARDS).
#  1. With the eBPF steering program: 200 kernel clients at once and a
#     16 MB echo; every packet arrived on its flow's shard (WrongShard 0),
#     both shards served flows, each pinned to its own core.
#  2. Without it (--no-steer): the kernel's queue choice sends packets to
#     the wrong shard; they are handed over through the rings (WrongShard
#     > 0, all of them taken in: ShardHandedIn, no ShardRingDrops), and
#     the same 200 clients are served intact.
#  3. Active opens: `connect` with an ephemeral port picks one whose flow
#     maps to its shard (0), checked against an independent Toeplitz hash
#     in Python, three times; with --lport P of shard 1 the connection runs
#     on shard 1. Bytes intact both ways, no packet on the wrong shard.
#  4. Offloads through the CLI, and their fallback: --offload all gives
#     every feature; with the kernel made to refuse TSO4 (--offload-deny)
#     serve keeps checksum offload and GSO sending, and still echoes 4 MB.
#  5. A run without offloads after one with them, on the same device: the
#     features are taken back (the kernel no longer sends partial
#     checksums), 1 MB echoed, no checksum error.
#  6. 6 shards (more than cores; rings smaller beyond 5 shards) with the
#     steering program's attach made to fail (--steer-deny): serve runs
#     without it and says so, 60 clients served, every stray handed over.
HSK_SHARDS=2
. "$(dirname "$0")/lib.sh"

N=200
head -c $MB16 /dev/urandom >"$TMP/data"

# shard_fig LOG SHARD COLUMN: a figure of the per-shard table of --stats
# (columns: shard cpu tcbs reqs tw ActiveOpen PassiveOpen InSegs OutSegs
# wrongShard handedIn ringDrops turns).
shard_fig() {
	awk -v s="$2" -v c="$3" '/^shards:/ { t = 1; next }
		t && $1 == "shard" { next }
		t && $1 ~ /^[0-9]+$/ && NF == 13 { if ($1 == s) v = $c; next }
		{ t = 0 }
		END { print v + 0 }' "$1"
}

# flow_shard LADDR LPORT RADDR RPORT N: the shard of a flow, from the
# Toeplitz hash of the RSS specification with the symmetric key 0x6d5a
# (what the steering program and steer_hash compute).
flow_shard() {
	python3 - "$@" <<'PY'
import socket, struct, sys
la, lp, ra, rp, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
key = int.from_bytes(bytes([0x6d, 0x5a] * 20), "big")
data = socket.inet_aton(la) + socket.inet_aton(ra) + struct.pack("!HH", lp, rp)
h = 0
for i in range(len(data) * 8):
    if data[i // 8] & (0x80 >> (i % 8)):
        h ^= (key >> (320 - 32 - i)) & 0xffffffff
print(h % 128 % n)
PY
}

# 1. steered
start_serve --port 7 --echo --stats --backlog 512
peer many $HADDR 7 $N 20000 >"$TMP/many.log" 2>&1 || true
peer echo-client $HADDR 7 $MB16 >"$TMP/echo.log" 2>&1 || fail "echo: $(tail -n 1 "$TMP/echo.log")"
stop_serve || fail "serve failed"
grep -q "2 shards on 2 queues" "$TMP/serve.log" || fail "serve did not run 2 shards: $(grep listening "$TMP/serve.log")"
python3 - "$TMP/many.log" $N <<'PY' || fail "clients: $(tail -n 1 "$TMP/many.log")"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert r["clients"] == int(sys.argv[2]) == r["established_at_once"] == r["echoes_ok"], r
PY
wrong=$(counter "$TMP/serve.log" WrongShard)
opens=$(counter "$TMP/serve.log" PassiveOpens)
p0=$(shard_fig "$TMP/serve.log" 0 7) p1=$(shard_fig "$TMP/serve.log" 1 7)
c0=$(shard_fig "$TMP/serve.log" 0 2) c1=$(shard_fig "$TMP/serve.log" 1 2)
grep -q "^ *WrongShard " "$TMP/serve.log" || fail "no WrongShard figure in --stats"
[ "$wrong" = 0 ] || fail "steered: $wrong packets arrived on the wrong shard"
[ "$opens" = $((N + 1)) ] && [ $((p0 + p1)) = "$opens" ] || fail "PassiveOpens $opens = $p0 + $p1, not $((N + 1))"
[ "$p0" -gt 20 ] && [ "$p1" -gt 20 ] || fail "one shard served (almost) nothing: $p0 / $p1"
[ "$c0" != "$c1" ] || fail "both shards on cpu $c0"
echo "steered: $N clients + 16 MB echo, flows per shard $p0 / $p1 (cpus $c0, $c1), WrongShard 0"

# 2. the kernel's own queue choice: handovers
# (another port: the kernel's TIME-WAITs of the first run are still there;
# the steering program attached then is taken off the device)
start_serve --port 8 --echo --stats --backlog 512 --no-steer
peer many $HADDR 8 $N 20000 >"$TMP/many2.log" 2>&1 || true
stop_serve || fail "serve failed"
python3 - "$TMP/many2.log" $N <<'PY' || fail "clients (no steering): $(tail -n 1 "$TMP/many2.log")"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert r["clients"] == int(sys.argv[2]) == r["established_at_once"] == r["echoes_ok"], r
PY
wrong=$(counter "$TMP/serve.log" WrongShard)
handed=$(counter "$TMP/serve.log" ShardHandedIn)
drops=$(counter "$TMP/serve.log" ShardRingDrops)
[ "$wrong" -gt 0 ] || fail "no steering, yet no packet on the wrong shard: the check proves nothing"
[ "$handed" = "$wrong" ] && [ "$drops" = 0 ] || fail "handed over $wrong, taken in $handed, dropped $drops"
echo "no steering: $wrong packets reached the wrong shard, all handed over; $N clients served"

# 3. active opens: three with ephemeral ports (a port picked without
# regard to the shard would map to shard 0 only half the time)
head -c 1048576 /dev/urandom >"$TMP/small"
ports=""
for k in 1 2 3; do
	start_peer_server sink$k sink-server $((5000 + k)) "$TMP/small"
	hsk_connect $KADDR:$((5000 + k)) --send "$TMP/small" --recv "$TMP/got" --stats \
		>"$TMP/connect$k.log" 2>&1 || fail "connect $k (ephemeral port) failed"
	wait $PEER_PID || fail "kernel: $(tail -n 1 "$TMP/sink$k.log")"
	cmp -s "$TMP/small" "$TMP/got" || fail "download $k differs"
	[ "$(jfield "$TMP/sink$k.log" recv_sha)" = "$(sha "$TMP/small")" ] || fail "upload $k differs"
	lport=$(sed -n 's/.* 198\.18\.0\.2:\([0-9]*\) -> .* established .*/\1/p' "$TMP/connect$k.log")
	[ -n "$lport" ] || fail "no local port in: $(grep established "$TMP/connect$k.log")"
	[ "$(flow_shard $HADDR "$lport" $KADDR $((5000 + k)) 2)" = 0 ] ||
		fail "ephemeral port $lport does not map to shard 0"
	[ "$(shard_fig "$TMP/connect$k.log" 0 6)" = 1 ] &&
		[ "$(counter "$TMP/connect$k.log" WrongShard)" = 0 ] ||
		fail "connection $k did not run on shard 0 alone: $(grep -A3 '^shards:' "$TMP/connect$k.log")"
	ports="$ports $lport"
done
for p in $(seq 40000 40100); do
	[ "$(flow_shard $HADDR $p $KADDR 5009 2)" = 1 ] && break
done
start_peer_server sink-lport sink-server 5009 "$TMP/data"
hsk_connect $KADDR:5009 --lport $p --send "$TMP/data" --recv "$TMP/got2" --stats \
	>"$TMP/connect2.log" 2>&1 || fail "connect --lport $p failed"
wait $PEER_PID || fail "kernel: $(tail -n 1 "$TMP/sink-lport.log")"
cmp -s "$TMP/data" "$TMP/got2" || fail "download (lport $p) differs"
[ "$(shard_fig "$TMP/connect2.log" 1 6)" = 1 ] && [ "$(counter "$TMP/connect2.log" WrongShard)" = 0 ] ||
	fail "--lport $p did not run on shard 1: $(grep -A3 '^shards:' "$TMP/connect2.log")"
echo "active opens: ephemeral ports$ports on shard 0, --lport $p on shard 1, 16 MB each way intact"

# 4. offloads and their fallback through the CLI
start_serve --port 7 --echo --offload all
grep -q "offloads csum,tso4,tso6,uso,tx-gso" "$TMP/serve.log" ||
	fail "offloads: $(grep listening "$TMP/serve.log") (this kernel: $(uname -r))"
peer echo-client $HADDR 7 4194304 >"$TMP/echo3.log" 2>&1 || fail "echo (offloads): $(tail -n 1 "$TMP/echo3.log")"
stop_serve
start_serve --port 7 --echo --offload all --offload-deny tso4
grep -q "offloads csum,tx-gso$" "$TMP/serve.log" ||
	fail "without TSO4: $(grep listening "$TMP/serve.log")"
peer echo-client $HADDR 7 4194304 >"$TMP/echo4.log" 2>&1 || fail "echo (no TSO4): $(tail -n 1 "$TMP/echo4.log")"
stop_serve
echo "offloads: all on, then TSO4 refused: csum,tx-gso kept, 4 MB echoed each time"

# 5. offloads off again on the same device: the features the last run gave
# hsk0 are taken back, or the kernel sends partial checksums to a reader
# without a virtio-net header (every SYN dropped as corrupt)
start_serve --port 7 --echo --offload all
stop_serve
start_serve --port 7 --echo --stats
peer echo-client $HADDR 7 1048576 >"$TMP/echo5.log" 2>&1 || fail "echo (offloads off after on): $(tail -n 1 "$TMP/echo5.log")"
stop_serve
[ "$(counter "$TMP/serve.log" InCsumErrors)" = 0 ] || fail "offloads off: InCsumErrors $(counter "$TMP/serve.log" InCsumErrors)"
echo "offloads off after on: the device's features taken back, 1 MB echoed"

# 6. more shards than cores, and a steering program that cannot be
# attached: serve runs without it (and says so), and 6 shards (3 per
# core) hand strays over through the smaller rings of more than 5 shards
start_serve --port 9 --echo --stats --threads 6 --steer-deny
peer many $HADDR 9 60 20000 >"$TMP/many6.log" 2>&1 || true
stop_serve || fail "serve (6 shards) failed"
grep -q "6 shards on 6 queues, no steering program (attach refused (--steer-deny)): strays handed over" \
	"$TMP/serve.log" || fail "not 6 shards without the program: $(grep listening "$TMP/serve.log")"
python3 - "$TMP/many6.log" 60 <<'PY' || fail "clients (6 shards): $(tail -n 1 "$TMP/many6.log")"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert r["clients"] == int(sys.argv[2]) == r["established_at_once"] == r["echoes_ok"], r
PY
wrong=$(counter "$TMP/serve.log" WrongShard)
handed=$(counter "$TMP/serve.log" ShardHandedIn)
[ "$wrong" -gt 0 ] && [ "$handed" = "$wrong" ] && [ "$(counter "$TMP/serve.log" ShardRingDrops)" = 0 ] ||
	fail "6 shards: wrong $wrong, handed in $handed"
echo "6 shards on 2 cores, the steering program refused: 60 clients served, $wrong strays handed over"
echo "PASS: 2 shards: flows stay on their shard, handover without steering, active opens, offload fallback"
