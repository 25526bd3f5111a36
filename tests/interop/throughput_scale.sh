#!/usr/bin/env bash
# Throughput of handshake against the kernel over TUN at MTU 1500, offloads
# off and on, each direction, and over AF_XDP on a veth pair, beside
# kernel <-> kernel over a veth pair measured in the same run. A measurement, not a test (not in make check):
#   sudo tests/interop/throughput_scale.sh BUILD_DIR SOURCE_DIR [RUNS] [MB]
# Prints, per case, the median MB/s (10^6 bytes of payload per second, as
# the kernel-side Python client sees it) with min-max over RUNS, the
# handshake process's CPU seconds per GB moved, and system calls per wire
# segment (device calls + the loop's epoll_waits, from its counters).
. "$(dirname "$0")/devlib.sh"

RUNS=${3:-5}
MB=${4:-64}
BYTES=$((MB * 1024 * 1024))
head -c $BYTES /dev/urandom >"$TMP/data"
HSK=$BUILD/handshake

k_send() { # HOST: seconds to send BYTES to HOST:9 and see it closed
	nsx timeout --foreground -k 10 60 python3 - "$1" "$BYTES" <<'PY'
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

k_recv() { # HOST: seconds to read to EOF from HOST:9
	nsx timeout --foreground -k 10 60 python3 - "$1" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 9))
t0 = time.time()
while s.recv(262144):
    pass
print(time.time() - t0)
PY
}

declare -A R CPU SC
add() { R[$1]+="$2 "; CPU[$1]+="$3 "; SC[$1]+="$4 "; }

# one_dt CASE DIRECTION ARGS...: a run of hsk-devtest (on TUN hsk0 unless
# the arguments name another device)
one_dt() {
	local name=$1 dir=$2 t dev="--tun hsk0"
	shift 2
	case " $* " in *" --xdp "*) dev= ;; esac
	if [ "$dir" = k2h ]; then
		dt_start "$name" $dev "$@" --discard 9 --count 1
		t=$(k_send $XADDR) || fail "$name"
	else
		dt_start "$name" $dev "$@" --send 9 "$TMP/data" --count 1
		t=$(k_recv $XADDR) || fail "$name"
	fi
	dt_wait
	eval "$(jvars "$DT_LOG")"
	add "$name" "$(python3 -c "print('%.0f' % ($BYTES / $t / 1e6))")" \
		"$(python3 -c "print('%.2f' % (($J_cpu_user + $J_cpu_sys) / ($BYTES / 1e9)))")" \
		"$(python3 -c "print('%.3f' % (($Q_rx_calls + $Q_tx_calls + $J_epoll_waits) / ($Q_rx_segs + $Q_tx_segs)))")"
}

# today's `handshake serve` (src/api/loop.c, plain TUN), for reference
one_serve() {
	local name=$1 dir=$2 t
	if [ "$dir" = k2h ]; then
		nsx timeout --foreground -k 10 60 "$HSK" serve --tun hsk0 --addr $HADDR/24 --port 9 --discard --count 1 >"$TMP/serve.log" 2>&1 &
	else
		nsx timeout --foreground -k 10 60 "$HSK" serve --tun hsk0 --addr $HADDR/24 --port 9 --send "$TMP/data" --count 1 >"$TMP/serve.log" 2>&1 &
	fi
	DT_PID=$!
	for _ in $(seq 100); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.05; done
	if [ "$dir" = k2h ]; then t=$(k_send $XADDR); else t=$(k_recv $XADDR); fi || fail "$name"
	wait $DT_PID; DT_PID=
	add "$name" "$(python3 -c "print('%.0f' % ($BYTES / $t / 1e6))")" "-" "-"
}

# kernel <-> kernel over veth, MTU 1500, in two more namespaces
NSA=$NS-a NSB=$NS-b
EXTRA_NS="$NSA $NSB"
ip netns add $NSA && ip netns add $NSB || fail "namespaces"
ip link add va netns $NSA type veth peer name vb netns $NSB || fail "veth"
ip -n $NSA addr add 198.18.7.1/24 dev va && ip -n $NSB addr add 198.18.7.2/24 dev vb
for n in $NSA $NSB; do ip -n $n link set lo up; done
ip -n $NSA link set va up && ip -n $NSB link set vb up
one_veth() {
	local t
	ip netns exec $NSB timeout --foreground -k 10 60 python3 -c '
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.7.2", 9)); l.listen(1); print("listening", flush=True)
c, _ = l.accept()
while c.recv(262144): pass
c.close()' >"$TMP/veth.log" 2>&1 &
	for _ in $(seq 100); do grep -q listening "$TMP/veth.log" && break; sleep 0.05; done
	t=$(ip netns exec $NSA timeout --foreground -k 10 60 python3 - 198.18.7.2 "$BYTES" <<'PY'
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
) || fail "veth"
	wait
	add "kernel -> kernel (veth)" "$(python3 -c "print('%.0f' % ($BYTES / $t / 1e6))")" "-" "-"
}

# AF_XDP on a veth pair in the test's namespace (198.18.1.0/24; the
# kernel end sends whole checksums, as XDP needs)
ip -n "$NS" link add vk type veth peer name vx || fail "veth"
nsx python3 "$SRC/tests/interop/nic.py" vk tx-csum off || fail "vk tx-csum"
ip -n "$NS" addr add 198.18.1.1/24 dev vk && ip -n "$NS" link set vk up
XDP="--xdp vx --addr 198.18.1.2/24"

XADDR=$HADDR
for r in $(seq "$RUNS"); do
	one_veth
	one_serve "k->h serve (today)" k2h
	one_serve "h->k serve (today)" h2k
	one_dt "k->h offloads off" k2h --offload none
	one_dt "k->h off + io_uring" k2h --offload none --uring
	one_dt "k->h offloads on" k2h --offload all
	one_dt "k->h on + io_uring" k2h --offload all --uring
	one_dt "h->k offloads off" h2k --offload none
	one_dt "h->k off + io_uring" h2k --offload none --uring
	one_dt "h->k offloads on" h2k --offload all
	one_dt "h->k on + io_uring" h2k --offload all --uring
	XADDR=198.18.1.2
	one_dt "k->h AF_XDP (veth)" k2h $XDP
	one_dt "h->k AF_XDP (veth)" h2k $XDP
	XADDR=$HADDR
	echo "run $r of $RUNS done" >&2
done

stat() { # FORMAT values...: "median (min-max)"
	python3 -c "
import statistics, sys
f = sys.argv[1]
v = [float(x) for x in sys.argv[2:] if x != '-']
if not v: print('-'); sys.exit()
print((f + ' (' + f + '-' + f + ')') % (statistics.median(v), min(v), max(v)))" "$@"
}
echo "$MB MB per run, $RUNS runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
printf "%-26s %-22s %-20s %s\n" "case" "MB/s median (min-max)" "CPU s per GB" "syscalls per segment"
for c in "kernel -> kernel (veth)" "k->h serve (today)" "k->h offloads off" "k->h off + io_uring" \
	 "k->h offloads on" "k->h on + io_uring" "h->k serve (today)" "h->k offloads off" \
	 "h->k off + io_uring" "h->k offloads on" "h->k on + io_uring" \
	 "k->h AF_XDP (veth)" "h->k AF_XDP (veth)"; do
	printf "%-26s %-22s %-20s %s\n" "$c" "$(stat %.0f ${R[$c]})" "$(stat %.2f ${CPU[$c]})" "$(stat %.3f ${SC[$c]})"
done
