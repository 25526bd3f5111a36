#!/usr/bin/env bash
# SIGTERM ends connections gracefully, seen from the kernel's side:
#  - serve with 3 open echo connections: each kernel socket gets a FIN at
#    once; the two peers that close in turn end cleanly, the one that does
#    not is reset when --drain-timeout (1 s) has passed; serve exits 0;
#  - connect with an open connection: the kernel server gets a FIN, then
#    a RST after the drain time (the default, 2 s, as serve's) since it
#    never closes; connect exits 1 (interrupted).
. "$(dirname "$0")/lib.sh"

start_serve --port 7 --echo --drain-timeout 1 --stats
ip netns exec "$NS" timeout --foreground -k 10 30 python3 "$PEER" drain-client $HADDR 7 3 1 >"$TMP/drain.log" 2>&1 &
peer_pid=$!
for _ in $(seq 400); do    # up to 20 s: the ASan build on a loaded machine
	grep -q holding "$TMP/drain.log" && break
	sleep 0.05
done
grep -q holding "$TMP/drain.log" || fail "drain-client: $(cat "$TMP/drain.log")"
t0=$(date +%s%N)
stop_serve
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
wait $peer_pid || fail "kernel side: $(tail -n 1 "$TMP/drain.log")"
[ $rc = 0 ] || fail "serve exited $rc after SIGTERM"
echo "serve: $(tail -n 1 "$TMP/drain.log"), exit after $ms ms"
python3 - "$TMP/drain.log" <<'PY' || fail "timing: $(tail -n 1 "$TMP/drain.log")"
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert all(0 <= t < 0.5 for t in r["eof_seconds"]), "FIN not at once"
assert all(0.5 < t < 2.5 for t in r["rst_after_eof"]), "RST not after the drain time"
PY
[ $ms -ge 800 ] && [ $ms -lt 4000 ] || fail "serve took $ms ms to stop (--drain-timeout 1)"
[ "$(counter "$TMP/serve.log" DrainClosed)" = 2 ] || fail "DrainClosed is not 2"
[ "$(counter "$TMP/serve.log" DrainReset)" = 1 ] || fail "DrainReset is not 1"

start_peer_server dserver drain-server 5003
ip netns exec "$NS" timeout --foreground -k 10 30 "$HSK" connect --tun $DEV --addr $HADDR/24 "${NETOPTS[@]}" $KADDR:5003 \
	>"$TMP/connect.log" 2>&1 &
cpid=$!
for _ in $(seq 100); do
	grep -q established "$TMP/connect.log" && break
	sleep 0.05
done
grep -q established "$TMP/connect.log" || fail "connect did not connect"
child=$(pgrep -P $cpid | head -n 1)
kill -TERM "${child:-$cpid}"
wait $cpid
rc=$?
wait $PEER_PID || fail "kernel server: $(tail -n 1 "$TMP/dserver.log")"
[ $rc = 1 ] || fail "connect exited $rc after SIGTERM (want 1)"
rst=$(jfield "$TMP/dserver.log" rst_after_eof)
awk -v t="$rst" 'BEGIN { exit !(t > 1.5 && t < 3.5) }' || fail "connect: RST $rst s after FIN (want the default 2 s)"
echo "connect: $(tail -n 1 "$TMP/dserver.log"), exit status $rc"
echo "PASS: SIGTERM sends FIN to every connection, RST after the drain time"
