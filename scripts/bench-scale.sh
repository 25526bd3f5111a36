#!/usr/bin/env bash
# The scale benchmark (issue 11; `make bench` runs it after bench.sh, and
# `make bench-scale` alone): handshake against the Linux kernel over TUN,
# beside the kernel against itself over a veth pair, in the same run, with
# the same kernel-side programs (bench/netload.c) on both:
#
#   throughput   one flow at MTU 1500, kernel -> peer and peer -> kernel:
#                `handshake serve --discard` / `--send FILE` with offloads
#                off and on (--offload all), 1 and 2 shards (--threads);
#                netload sink/source over veth (the kernel's own offloads)
#   conn/s       kernel clients (netload conns: CONC connections in flight
#                from 2 threads; connect, 64 bytes each way, the client
#                closes first) against `handshake serve --echo` with 1 and
#                2 shards, and against netload's echo server with 1 and 2
#                threads (SO_REUSEPORT) over veth
#
# Every case runs once per round and the rounds interleave the cases, so
# a burst of load from elsewhere lands on all of them; each figure is the
# median with min-max over the rounds. Also the server process's CPU time
# (user + system, all its threads) per GB and per connection: on a
# shared machine the rate depends on what else runs, the CPU cost far
# less. Benchmarks are not tests: nothing here fails on a figure.
#
#   scripts/bench-scale.sh [BUILD]     needs root (namespaces, TUN, veth)
#   SCALE_ROUNDS=5 SCALE_MB=128 SCALE_SECS=3 SCALE_CONC=128
#
# Namespaces hsk-bs-PID (TUN hsk0, multi_queue: kernel 198.18.0.1,
# handshake 198.18.0.2) and hsk-bs-PID-a/-b (veth, 198.18.7.1/.2), MTU
# 1500 everywhere; all deleted on exit. The kernel clients may reuse
# their TIME_WAIT ports (tcp_tw_reuse=1, ports 1024-65535) in those
# namespaces only. docs/scale.md has the figures of a run and how to read
# them.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-${BUILD:-build}}
ROUNDS=${SCALE_ROUNDS:-5}
MB=${SCALE_MB:-128}
SECS=${SCALE_SECS:-3}
CONC=${SCALE_CONC:-128}
BYTES=$((MB * 1000000))
HSK=$ROOT/$BUILD/handshake
. scripts/netns.sh

reason=$(netns_check) || { echo "bench-scale: not measured: $reason"; exit 0; }
[ -x "$HSK" ] || { echo "bench-scale: $HSK is not built"; exit 1; }
OUT=$BUILD/bench/scale
mkdir -p "$OUT"
LOG=$OUT/scale.log
: >"$LOG"
S=$OUT/samples
rm -rf "$S"
mkdir -p "$S"
NL=$OUT/netload
gcc -O2 -g -Wall -Wextra -Werror -pthread bench/netload.c -o "$NL" || exit 1
head -c "$BYTES" /dev/zero >"$OUT/data"

NS=hsk-bs-$$ NSA=hsk-bs-$$-a NSB=hsk-bs-$$-b
SRV=
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	for n in $NS $NSA $NSB; do netns_down "$n"; done
	rm -f "$OUT/data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_up $NS tun hsk0 198.18.0.1/24 || { echo "bench-scale: cannot make $NS"; exit 1; }
# one queue per shard: the device must be multi_queue
ip -n $NS link del hsk0 && ip -n $NS tuntap add dev hsk0 mode tun multi_queue &&
	ip -n $NS addr add 198.18.0.1/24 dev hsk0 && ip -n $NS link set hsk0 up mtu 1500 ||
	{ echo "bench-scale: cannot make hsk0 multi_queue"; exit 1; }
ip netns add $NSA && ip netns add $NSB &&
	ip link add va netns $NSA type veth peer name vb netns $NSB &&
	ip -n $NSA addr add 198.18.7.1/24 dev va && ip -n $NSB addr add 198.18.7.2/24 dev vb &&
	ip -n $NSA link set va up mtu 1500 && ip -n $NSB link set vb up mtu 1500 &&
	ip -n $NSA link set lo up && ip -n $NSB link set lo up ||
	{ echo "bench-scale: cannot make the veth pair"; exit 1; }
for n in $NS $NSA $NSB; do
	ip netns exec $n sysctl -qw net.ipv4.ip_local_port_range="1024 65535" \
		net.ipv4.tcp_tw_reuse=1 >/dev/null
done

# cpu PID: user + system seconds of a process, all its threads
cpu() {
	awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / t }' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}
# add KEY VALUE: a sample
add() { echo "$2" >>"$S/$1"; }
# srv NS READY CMD...: a server in NS, in the background ($SRV); waits
# until READY (a line its log shows, or "tcp:HOST:PORT" accepting)
srv() {
	local ns=$1 ready=$2
	shift 2
	ip netns exec "$ns" "$@" >"$OUT/srv.log" 2>&1 &
	SRV=$!
	for _ in $(seq 200); do
		case $ready in
		tcp:*) ip netns exec "$ns" timeout 1 bash -c \
			"exec 3<>/dev/tcp/$(cut -d: -f2 <<<"$ready")/$(cut -d: -f3 <<<"$ready")" \
			2>/dev/null && return 0 ;;
		*) grep -q "$ready" "$OUT/srv.log" && return 0 ;;
		esac
		kill -0 $SRV 2>/dev/null || break
		sleep 0.05
	done
	echo "bench-scale: server did not start: $* ($(tail -n 2 "$OUT/srv.log"))" | tee -a "$LOG"
	stop
	return 1
}
stop() {
	[ -n "$SRV" ] || return 0
	kill "$SRV" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
	cat "$OUT/srv.log" >>"$LOG"
	SRV=
}
# client KEY NS CMD...: runs a netload client; its "mbps" or "conn_rate"
# becomes a sample of KEY, with the server's CPU per GB or per connection
# (µs) as KEY_cpu
client() {
	local key=$1 ns=$2 out c0 c1 v
	shift 2
	c0=$(cpu "$SRV")
	out=$(ip netns exec "$ns" timeout 120 "$NL" "$@" 2>>"$LOG")
	c1=$(cpu "$SRV")
	echo "$key: $* -> $(tr '\n' ' ' <<<"$out")" >>"$LOG"
	v=$(awk '$1 == "mbps" || $1 == "conn_rate" { print $2 }' <<<"$out")
	[ -n "$v" ] || { echo "bench-scale: $key: no figure (see $LOG)"; return; }
	add "$key" "$v"
	case " $* " in
	*" conns "*)
		local n errs
		n=$(awk '$1 == "conns" { print $2 }' <<<"$out")
		errs=$(awk '$1 == "conn_errors" { print $2 }' <<<"$out")
		[ "${errs:-0}" = 0 ] || echo "$key: $errs connection errors" | tee -a "$LOG"
		[ "${n:-0}" -gt 0 ] || return
		add "${key}_cpu" "$(awk -v a="$c0" -v b="$c1" -v n="$n" \
			'BEGIN { printf "%.1f", (b - a) / n * 1e6 }')"
		# cores the server kept busy: its CPU over the run's time
		add "${key}_busy" "$(awk -v a="$c0" -v b="$c1" -v n="$n" -v r="$v" \
			'BEGIN { printf "%.2f", (b - a) / (n / r) }')" ;;
	*)
		local b=$BYTES
		[ "$1" = recv ] && b=$(awk '$1 == "bytes" { print $2 }' <<<"$out")
		add "${key}_cpu" "$(awk -v a="$c0" -v b="$c1" -v n="$b" \
			'BEGIN { printf "%.3f", (b - a) / (n / 1e9) }')"
		add "${key}_busy" "$(awk -v a="$c0" -v b="$c1" -v n="$b" -v r="$v" \
			'BEGIN { printf "%.2f", (b - a) / (n / (r * 1e6)) }')" ;;
	esac
}

HADDR=198.18.0.2
hsk_serve() { # ARGS...: handshake serve on hsk0, in the background
	srv $NS "${READY:-listening on}" "$HSK" serve --tun hsk0 --addr $HADDR/24 "$@"
}

START=$(date +%s)
echo "handshake scale benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null)," \
	"$(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(raw output: $LOG; $ROUNDS rounds, $MB MB per flow, ${SECS} s and $CONC connections in flight per rate)"

for r in $(seq "$ROUNDS"); do
	# throughput
	srv $NSB listening "$NL" sink 198.18.7.2 9 && client k2k_up $NSA send 198.18.7.2 9 $BYTES
	stop
	srv $NSB listening "$NL" source 198.18.7.2 9 $BYTES && client k2k_down $NSA recv 198.18.7.2 9
	stop
	for t in 1 2; do
		for o in none all; do
			hsk_serve --port 9 --discard --threads $t --offload $o &&
				client "up_t${t}_$o" $NS send $HADDR 9 $BYTES
			stop
			hsk_serve --port 9 --send "$OUT/data" --threads $t --offload $o &&
				client "down_t${t}_$o" $NS recv $HADDR 9
			stop
		done
	done
	# connections per second
	for t in 1 2; do
		srv $NSB listening "$NL" echo 198.18.7.2 7 $t &&
			client "k2k_cps_t$t" $NSA conns 198.18.7.2 7 "$SECS" "$CONC" 2
		stop
		READY=tcp:$HADDR:7 hsk_serve --port 7 --echo --threads $t --quiet \
			--max-conn-per-source 0 --max-conn 0 &&
			client "cps_t$t" $NS conns $HADDR 7 "$SECS" "$CONC" 2
		stop
		# the same with io_uring: the TUN reads and writes batched
		READY=tcp:$HADDR:7 hsk_serve --port 7 --echo --threads $t --uring --quiet \
			--max-conn-per-source 0 --max-conn 0 &&
			client "cpsu_t$t" $NS conns $HADDR 7 "$SECS" "$CONC" 2
		stop
	done
	echo "round $r of $ROUNDS done ($(( $(date +%s) - START )) s, load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

# ---- the tables ----
stats() { # KEY: "median min max"
	[ -s "$S/$1" ] || return 0
	sort -g "$S/$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", m, v[1], v[NR] }'
}
cell() { # KEY DECIMALS
	local s
	s=$(stats "$1")
	[ -n "$s" ] || { echo "—"; return; }
	set -- $s "$2"
	printf "%.*f (%.*f–%.*f)" "$4" "$1" "$4" "$2" "$4" "$3"
}
ratio() { # KEY_A KEY_B: median A / median B
	local a b
	a=$(stats "$1" | cut -d' ' -f1) b=$(stats "$2" | cut -d' ' -f1)
	[ -n "$a" ] && [ -n "$b" ] || { echo "—"; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }'
}
echo
echo "Throughput, one flow, MTU 1500: MB/s, median (min–max) of $ROUNDS rounds; the server's CPU"
echo "seconds per GB and the cores it kept busy (its CPU time over the run's)"
echo
echo "| case | kernel → peer MB/s | CPU s/GB | busy | peer → kernel MB/s | CPU s/GB | busy |"
echo "|---|---:|---:|---:|---:|---:|---:|"
echo "| kernel ↔ kernel, veth | $(cell k2k_up 0) | $(cell k2k_up_cpu 2) | $(cell k2k_up_busy 2) |" \
	"$(cell k2k_down 0) | $(cell k2k_down_cpu 2) | $(cell k2k_down_busy 2) |"
for t in 1 2; do
	for o in none all; do
		lbl="offloads off"
		[ $o = all ] && lbl="offloads on"
		echo "| handshake, $t shard$([ $t = 2 ] && echo s), $lbl | $(cell up_t${t}_$o 0) |" \
			"$(cell up_t${t}_${o}_cpu 2) | $(cell up_t${t}_${o}_busy 2) | $(cell down_t${t}_$o 0) |" \
			"$(cell down_t${t}_${o}_cpu 2) | $(cell down_t${t}_${o}_busy 2) |"
	done
done
echo
echo "Offloads on ÷ off (1 shard): kernel → handshake $(ratio up_t1_all up_t1_none)," \
	"handshake → kernel $(ratio down_t1_all down_t1_none); 2 shards ÷ 1 (offloads on):" \
	"$(ratio up_t2_all up_t1_all), $(ratio down_t2_all down_t1_all) (one flow lives on one shard)."
echo "handshake ÷ kernel↔kernel (1 shard, offloads on): $(ratio up_t1_all k2k_up), $(ratio down_t1_all k2k_down)."
echo
echo "Connections per second ($CONC in flight from 2 client threads, ${SECS} s each; connect, 64 B each way," \
	"client closes first); the server's CPU per connection and the cores it kept busy:"
echo
echo "| server | conn/s | CPU µs per conn | busy | capacity with a core per shard (shards × 1e6 ÷ µs) |"
echo "|---|---:|---:|---:|---:|"
for t in 1 2; do
	echo "| kernel echo server, $t thread$([ $t = 2 ] && echo s), veth | $(cell k2k_cps_t$t 0) |" \
		"$(cell k2k_cps_t${t}_cpu 1) | $(cell k2k_cps_t${t}_busy 2) | — |"
done
for k in cps cpsu; do
	for t in 1 2; do
		us=$(stats ${k}_t${t}_cpu | cut -d' ' -f1)
		echo "| handshake serve --echo, $t shard$([ $t = 2 ] && echo s), TUN$([ $k = cpsu ] && echo ", io_uring") |" \
			"$(cell ${k}_t$t 0) | $(cell ${k}_t${t}_cpu 1) | $(cell ${k}_t${t}_busy 2) |" \
			"$(awk -v u="${us:-0}" -v t=$t 'BEGIN { if (u > 0) printf "%.0f", 1e6 / u * t; else print "—" }') |"
	done
done
echo
echo "2 ÷ 1: handshake $(ratio cps_t2 cps_t1) ($(ratio cpsu_t2 cpsu_t1) with io_uring)," \
	"kernel $(ratio k2k_cps_t2 k2k_cps_t1). A server that" \
	"keeps less than its cores busy is not what limits the rate: the clients and the kernel are."
echo
echo "(kernel servers: their CPU time holds their system calls and what softirq work ran in" \
	"their context, not all the kernel's TCP work; bench-scale took $(( $(date +%s) - START )) s)"
exit 0
