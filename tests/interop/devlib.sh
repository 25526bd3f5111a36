# Shared by the device tests (test_tun_offload.sh, test_tun_mq.sh,
# test_xdp.sh), sourced. Like lib.sh, but the namespace starts empty — the
# tests make their own (multi-queue) TUN device or veth pair — and the
# program under test is tests/devtest (hsk-devtest), which drives a stack
# on the new devices and prints its counters as one JSON line at exit.
# Arguments of the test: the build directory and the source directory.

. "$(dirname "${BASH_SOURCE[0]}")/base.sh"

DT=$BUILD/hsk-devtest

[ -x "$DT" ] || { echo "FAIL: $DT is not built"; exit 1; }

ip netns add "$NS" || fail "cannot create namespace $NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
# RFC 1337: the kernel keeps its TIME-WAIT when a RST hits it. Under CPU
# contention (make check runs tests two at a time; the ASan build is
# slow) the kernel's ACK of handshake's FIN can come after handshake's
# 200 ms RTO: the FIN is resent, the kernel ACKs again, and handshake,
# closed by then, answers with a RST (see test_concurrency.sh). On veth
# both hops go through softirq processing (ksoftirqd under load), which
# makes it common there; these tests are about the devices, so the
# kernel's TIME-WAITs are kept and the resends only counted
# (RetransSegs, RstSentNoSocket in the counters).
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_rfc1337=1 >/dev/null 2>&1
ip -n "$NS" link set lo up

# dt_start NAME ARGS...: hsk-devtest in the namespace, in the background,
# output in $TMP/NAME.log; waits until it listens. A device this build
# lacks (or a kernel without AF_XDP) ends the test as skipped, with the
# program's reason; with DT_OPTIONAL=1 only this step is (dt_start
# returns 77).
dt_start() {
	local name=$1
	shift
	: >"$TMP/$name.log"     # no stale "listening" line (lib.sh, start_serve)
	ip netns exec "$NS" timeout --foreground -k 10 60 "$DT" "$@" >"$TMP/$name.log" 2>&1 &
	DT_PID=$!
	DT_LOG=$TMP/$name.log
	for _ in $(seq 200); do
		grep -q "^listening on" "$DT_LOG" 2>/dev/null && return 0
		if ! kill -0 $DT_PID 2>/dev/null; then
			wait $DT_PID
			# what this build or this kernel cannot do at all
			if grep -q "built without\|Address family not supported" "$DT_LOG"; then
				echo "SKIP: $(head -n 1 "$DT_LOG")"
				DT_PID=
				[ "${DT_OPTIONAL:-0}" = 1 ] && return 77
				exit 77
			fi
			fail "hsk-devtest $name exited early: $(head -n 3 "$DT_LOG")"
		fi
		sleep 0.05
	done
	fail "hsk-devtest $name did not start"
}

# xdp_serve_start ARGS...: `handshake serve --xdp vx ARGS` in the
# namespace, in the background (DT_PID), its output in $TMP/serve.log;
# waits until it listens with 2 shards on vx's 2 XSKs. A build or a kernel
# without AF_XDP ends the test as skipped, with the reason.
xdp_serve_start() {
	ip netns exec "$NS" timeout --foreground -k 10 60 "$HSK" serve --xdp vx "$@" \
		>"$TMP/serve.log" 2>&1 &
	DT_PID=$!
	for _ in $(seq 200); do
		grep -q "listening on" "$TMP/serve.log" && break
		if ! kill -0 $DT_PID 2>/dev/null; then
			wait $DT_PID
			if grep -q "built without\|Address family not supported" "$TMP/serve.log"; then
				echo "SKIP: $(grep -m1 "built without\|Address family" "$TMP/serve.log")"
				exit 77
			fi
			fail "serve exited early"
		fi
		sleep 0.05
	done
	grep -q "listening on" "$TMP/serve.log" || fail "serve did not start"
	grep -q "2 shards on 2 queues, xdp " "$TMP/serve.log" ||
		fail "not 2 shards on 2 XSKs: $(grep listening "$TMP/serve.log")"
}

# A counter's last value in a --stats dump ($2), empty when absent.
fig() { grep -oE "\b$1 +[0-9]+" "$2" | tail -n 1 | awk '{print $2}'; }

# xdp_serve_stop CLIENTS OPENS: stops xdp_serve_start's serve (it must
# exit 0 on TERM); `peer many` (its log $TMP/many.log) must have had
# CLIENTS at once, each echoed, and serve OPENS passive opens in all.
xdp_serve_stop() {
	local rsts opens
	kill -TERM $DT_PID
	wait $DT_PID || fail "serve exited with $?"
	DT_PID=
	rsts=$(fig RstSentNoSocket "$TMP/serve.log")
	many_ok "$TMP/many.log" "$1" "${rsts:-0}" ||
		fail "$1 clients: $(tail -n 1 "$TMP/many.log")"
	opens=$(fig PassiveOpens "$TMP/serve.log")
	check "${opens:-0} == $2" "PassiveOpens $opens, not $2"
}

# Waits for it to exit by itself (--count reached); then its JSON is the
# last line of $DT_LOG.
dt_wait() {
	wait $DT_PID || fail "hsk-devtest exited with $?"
	DT_PID=
	tail -n 1 "$DT_LOG" | grep -q '^{' || fail "no counters from hsk-devtest"
}

# The counters of the last JSON line of a log as shell variables (one
# python3 start, not one per value): J_<field> for the top level,
# Q_<field> summed over the queues, Q<i>_<field> for queue i. Use as
#   eval "$(jvars "$DT_LOG")"
jvars() {
	tail -n 1 "$1" | python3 -c "
import json, shlex, sys
j = json.load(sys.stdin)
for k, v in j.items():
    if k != 'queues':
        print('J_%s=%s' % (k, shlex.quote(str(v))))
sums = {}
for i, q in enumerate(j.get('queues', [])):
    for k, v in q.items():
        print('Q%d_%s=%s' % (i, k, shlex.quote(str(v))))
        if isinstance(v, int):
            sums[k] = sums.get(k, 0) + v
for k, v in sums.items():
    print('Q_%s=%d' % (k, v))
print('NQ=%d' % len(j.get('queues', [])))"
}

# many_ok LOG N RSTS: peer.py's `many` result for N clients: all connected
# at once and echoed intact, nothing left open; every kernel socket in
# TIME-WAIT except where handshake's FIN was resent after a stall and the
# kernel's second ACK met handshake's RST after it had closed (one
# RstSentNoSocket each, at most 5 %; see test_concurrency.sh).
many_ok() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
n, rsts = int(sys.argv[2]), int(sys.argv[3])
assert r["clients"] == n and r["established_at_once"] == n and r["echoes_ok"] == n, r
assert r["other_states"] == [], r
missing = n - r["time_wait"]
assert 0 <= missing <= rsts and missing <= n // 20, (missing, rsts)
PY
}

# The kernel's count of segments it received out of order in the test's
# namespace (TcpExt TCPOFOQueue). TUN neither loses nor reorders, so any
# increase means the device sent packets out of order.
kernel_ofo() {
	nsx python3 -c "
l = open('/proc/net/netstat').read().splitlines()
for h, v in zip(l[0::2], l[1::2]):
    if h.startswith('TcpExt:'):
        print(dict(zip(h.split(), v.split()))['TCPOFOQueue'])"
}
