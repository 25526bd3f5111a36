#!/usr/bin/env bash
# handshake's benchmarks (`make bench`): builds bench/*.c against the library
# in BUILD, and measures handshake side by side with lwIP 2.1.3 (Debian's
# liblwip.so, and lwIP built from Debian's source package, NO_SYS) and the
# Linux kernel over loopback, all in the same run, on the same workloads
# with the same in-memory wiring. Wall-clock figures are the median, with
# min-max, of BENCH_ROUNDS interleaved rounds (handshake, lwIP, lwIP, Linux,
# handshake, ...); instruction counts come from callgrind. Prints one
# markdown table with ratios, handshake's IPv6 figures beside its IPv4 ones,
# and where handshake's instructions go.
# Benchmarks are not tests: nothing here fails on a time. See docs/bench.md.
#
#   scripts/bench.sh [BUILD]          BUILD defaults to build (~5 minutes)
#   scripts/bench.sh --smoke [BUILD]  builds every program and runs each
#                                     briefly, checking only that they run
#                                     and report no error (a few seconds;
#                                     tests/bench/test_smoke.sh runs it)
#   BENCH_ROUNDS=7 BENCH_SECS=1       rounds, seconds per timed run
#   BENCH_MEM_N=10000                 connections per memory round (all stacks)
#   BENCH_CONNS=100000                handshake alone: idle connections, SYN-queue
#                                     requests and TIME_WAIT entries
#   BENCH_HUGE=10000000               handshake alone: issue 7's 10 M concurrent
#                                     established connections, held at once
#                                     (~5.8 GB, ~1 minute; 0 skips it; skipped
#                                     with a note when memory is short)
#   BENCH_RAW=1                       also print every raw figure
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SMOKE=no
if [ "${1:-}" = --smoke ]; then
	SMOKE=yes
	shift
fi
BUILD=${1:-${BUILD:-build}}
ROUNDS=${BENCH_ROUNDS:-7}
SECS=${BENCH_SECS:-1}
MEM_N=${BENCH_MEM_N:-10000}
CONNS=${BENCH_CONNS:-100000}
HUGE=${BENCH_HUGE:-10000000}
OUT=$BUILD/bench
[ $SMOKE = yes ] && OUT=$BUILD/bench-smoke
CFLAGS="-O2 -g -Wall -Wextra -Werror -Wno-comment"
SAN=no
if grep -q '^HSK_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
	SAN=yes
	CFLAGS="$CFLAGS -fsanitize=address,undefined -fno-sanitize-recover=all"
fi

# ---- build ----
# the library as `make all` builds it, static; make check's sanitizer
# build has it shared (its smoke run links that)
if grep -q '^HSK_SHARED:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
	HSKLIB=("-L$BUILD" -lhandshake "-Wl,-rpath,$(cd "$BUILD" && pwd)")
else
	[ -f "$BUILD/libhandshake.a" ] || make all BUILD="$BUILD" >/dev/null || exit 1
	HSKLIB=("$BUILD/libhandshake.a")
fi
mkdir -p "$OUT"
LOG=$OUT/bench.log
: >"$LOG"
for b in lifecycle bulk memory cookies; do
	gcc $CFLAGS -Iinclude -Isrc "bench/$b.c" "${HSKLIB[@]}" -lpcap \
		-o "$OUT/$b" || exit 1
done
# the lifecycle with its step marks (bench/util.h BENCH_STEP), for the
# step-by-step table
gcc $CFLAGS -DBENCH_STEPS -Iinclude -Isrc bench/lifecycle.c "${HSKLIB[@]}" -lpcap \
	-o "$OUT/lifecycle-steps" || exit 1
gcc $CFLAGS -pthread bench/linux_tcp.c -o "$OUT/linux_tcp" || exit 1
# the kernel-side load of scripts/bench-scale.sh: built here too, so that
# the smoke run (make check) keeps it compiling
gcc $CFLAGS -pthread bench/netload.c -o "$OUT/netload" || exit 1
# lwIP as Debian ships it (scripts/deps.sh installs liblwip-dev)
LWIPD=no
if [ -f /usr/include/lwip/lwip/tcp.h ] && [ -f /usr/include/lwip/lwipopts.h ]; then
	gcc $CFLAGS -DLWIP_KEY='"lwipd"' -I/usr/include/lwip bench/lwip.c -llwip \
		-o "$OUT/lwipd" && LWIPD=yes
	[ $LWIPD = yes ] || echo "bench: lwIP (Debian) did not build (see above)"
fi
# lwIP from Debian's source package (scripts/bench-deps.sh fetches it; the
# smoke run only uses it when it is already there)
LWIPS=no
LWSRC=$BUILD/bench/lwip-src
if [ $SMOKE = no ] && [ ! -f "$LWSRC/src/core/tcp_in.c" ]; then
	./scripts/bench-deps.sh "$LWSRC" >>"$LOG" 2>&1 || true
fi
if [ -f "$LWSRC/src/core/tcp_in.c" ]; then
	lib=$OUT/lwips-obj/liblwip.a
	if [ ! -f "$lib" ] || [ -n "$(find bench/lwip -newer "$lib")" ]; then
		rm -rf "$OUT/lwips-obj"
		mkdir -p "$OUT/lwips-obj"
		ok=yes
		for f in "$LWSRC"/src/core/*.c "$LWSRC"/src/core/ipv4/*.c; do
			gcc ${CFLAGS/-Werror/} -w -Ibench/lwip -I"$LWSRC/src/include" -c "$f" \
				-o "$OUT/lwips-obj/$(basename "$f" .c).o" || ok=no
		done
		[ $ok = yes ] && ar rcs "$lib" "$OUT"/lwips-obj/*.o
	fi
	[ -f "$lib" ] && gcc $CFLAGS -DLWIP_KEY='"lwips"' -Ibench/lwip -I"$LWSRC/src/include" \
		bench/lwip.c "$lib" -o "$OUT/lwips" && LWIPS=yes
	[ $LWIPS = yes ] && { gcc $CFLAGS -DBENCH_STEPS -DLWIP_KEY='"lwips"' -Ibench/lwip \
		-I"$LWSRC/src/include" bench/lwip.c "$lib" -o "$OUT/lwips-steps" || LWIPS=no; }
	[ $LWIPS = yes ] || echo "bench: lwIP from source did not build (see above)"
fi

# Linux in a network namespace of its own (created and gone with the
# process), so that no TIME_WAIT entry of an earlier run is in the way and
# Tcp OutSegs counts only this run; with MTU given, its loopback gets that
# MTU. Without root: the host's loopback.
# Usage: "${IN_NETNS[@]}" MTU CMD...
NETNS=no
IN_NETNS=(sh -c 'exec "$@"')
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	NETNS=yes
	IN_NETNS=(unshare -n sh -c 'ip link set lo up mtu "$0" && exec "$@"')
fi

# steps NAME N CMD...: CMD (a lifecycle program built with -DBENCH_STEPS,
# run with --callgrind N) under callgrind, which writes its counts at each
# step mark; $OUT/steps.NAME gets "instructions per lifecycle<TAB>step"
# for each step, in the marks' order. Returns 1 when callgrind is missing
# or counted nothing.
steps() {
	local name=$1 n=$2 f=$OUT/callgrind.steps.$1
	shift 2
	command -v valgrind >/dev/null || return 1
	rm -f "$f" "$OUT/steps.$name"
	GLIBC_TUNABLES=glibc.cpu.x86_rep_stosb_threshold=0x7fffffff:glibc.cpu.x86_rep_movsb_threshold=0x7fffffff \
	timeout 600 valgrind --tool=callgrind --collect-atstart=no --combine-dumps=yes \
		--dump-line=no --callgrind-out-file="$f" "$@" --callgrind "$n" >>"$LOG" 2>&1
	awk -v n="$n" '/^desc: Trigger: Client Request: / {
			sub(/^desc: Trigger: Client Request: /, ""); step = $0 }
		/^totals:/ { if (step != "") sum[step] += $2; step = "" }
		END { for (k in sum) printf "%.0f\t%s\n", sum[k] / n, k }' "$f" |
		sort -t"$(printf '\t')" -k2 >"$OUT/steps.$name"
	rm -f "$f"
	[ -s "$OUT/steps.$name" ]
}

# ---- smoke: every program runs briefly and reports no error ----
if [ $SMOKE = yes ]; then
	fails=0 runs=0
	# a peer that is there but does not build is a failure too
	[ -f /usr/include/lwip/lwip/tcp.h ] && [ $LWIPD = no ] && fails=$((fails + 1))
	[ -f "$LWSRC/src/core/tcp_in.c" ] && [ $LWIPS = no ] && fails=$((fails + 1))
	smoke() { # smoke KEY CMD...: CMD exits 0, prints KEY, and every *_errors is 0
		local key=$1 out
		shift
		runs=$((runs + 1))
		out=$(timeout 60 "$@" 2>&1)
		local rc=$?
		echo "+ $* (exit $rc)" >>"$LOG"
		echo "$out" >>"$LOG"
		if [ $rc != 0 ] || ! grep -q "^$key " <<<"$out" ||
		   grep -E '_errors [^0]|_errors 0[^ ]' <<<"$out" >/dev/null; then
			echo "bench smoke: FAILED: $* (exit $rc)"
			echo "$out" | tail -5
			fails=$((fails + 1))
		fi
	}
	smoke hsk_lcd_count "$OUT/lifecycle" --direct 0 200
	smoke hsk_lc_count "$OUT/lifecycle" 0 200
	smoke hsk_lcd6_count "$OUT/lifecycle" --direct --ipv6 0 200
	smoke hsk_lc6_count "$OUT/lifecycle" --ipv6 0 200
	smoke hsk_bulkd1500_bytes "$OUT/bulk" --direct 1500 0 1048576
	smoke hsk_bulkd65535_bytes "$OUT/bulk" --direct 65535 0 4194304
	smoke size_tcb "$OUT/memory" sizes
	smoke mem_idle_bytes "$OUT/memory" idle 1000
	smoke mem_used_bytes "$OUT/memory" used 100
	smoke mem_synq_bytes "$OUT/memory" synq 1000
	smoke mem_tw_bytes "$OUT/memory" tw 1000
	smoke mem6_idle_bytes "$OUT/memory" --ipv6 idle 1000
	smoke mem6_used_bytes "$OUT/memory" --ipv6 used 100
	smoke mem6_synq_bytes "$OUT/memory" --ipv6 synq 1000
	smoke mem6_tw_bytes "$OUT/memory" --ipv6 tw 1000
	smoke cookie_rate "$OUT/cookies" 0.05
	smoke linux_lc_count "${IN_NETNS[@]}" 65536 "$OUT/linux_tcp" lifecycle 0 50
	for v in lwipd lwips; do
		[ -x "$OUT/$v" ] || continue
		smoke ${v}_lc_count "$OUT/$v" lc 0 200
		smoke ${v}_bulk1500_bytes "$OUT/$v" bulk 1500 0 1048576
		smoke ${v}_mem_idle_bytes "$OUT/$v" mem 500
	done
	# the callgrind path: collection toggled around the measured lifecycles
	if [ $SAN = no ] && command -v valgrind >/dev/null; then
		for fam in "" --ipv6; do
			runs=$((runs + 1))
			rm -f "$OUT/cg.smoke"
			valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$OUT/cg.smoke" \
				"$OUT/lifecycle" --direct $fam --callgrind 64 >>"$LOG" 2>&1
			ir=$(awk '/^summary:/ { print $2 }' "$OUT/cg.smoke" 2>/dev/null)
			if [ -z "$ir" ] || [ "$ir" -le 0 ]; then
				echo "bench smoke: FAILED: callgrind counted nothing ($fam)"
				fails=$((fails + 1))
			fi
		done
		# the step build: every one of its 18 marks counted
		runs=$((runs + 1))
		if ! steps smoke 64 "$OUT/lifecycle-steps" --direct ||
		   [ "$(awk '$1 > 0' "$OUT/steps.smoke" | wc -l)" != 18 ]; then
			echo "bench smoke: FAILED: the lifecycle's step marks (steps.smoke)"
			fails=$((fails + 1))
		fi
	fi
	echo "bench smoke: $runs runs, $fails failed (lwIP: Debian .so $LWIPD," \
		"from source $LWIPS; log $LOG)"
	[ $fails = 0 ]
	exit
fi

# ---- measure ----
S=$OUT/samples
rm -rf "$S"
mkdir -p "$S"
# run LIMIT CMD...: appends each "key value" line it prints to $S/key (a
# sample per round); never fails the run. RENAME (a sed expression), when
# set, renames keys first.
run() {
	local limit=$1 k v
	shift
	echo "+ $*" >>"$LOG"
	while read -r k v; do
		[ -n "$k" ] && echo "$v" >>"$S/$k"
	done < <(timeout "$limit" "$@" 2>>"$LOG" | sed -e "${RENAME:-}" | tee -a "$LOG")
}
linux() { # linux MTU CMD...
	local mtu=$1
	shift
	run 60 "${IN_NETNS[@]}" "$mtu" "$@"
}
have_cg=no
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null && have_cg=yes
# callgrind NAME CMD...: NAME_ir, the Ir of the collected region; the
# program's own figures as cg_NAME_*; the top self-cost functions in top.NAME
callgrind() {
	local name=$1 f=$OUT/callgrind.$1.out
	shift
	[ $have_cg = yes ] || return 0
	[ -x "$1" ] || return 0
	echo "+ callgrind $*" >>"$LOG"
	# glibc's memset/memcpy use rep stosb/movsb above ~2 KiB, which valgrind
	# counts once per byte moved; vector loops give instruction counts that
	# look like the hardware's
	GLIBC_TUNABLES=glibc.cpu.x86_rep_stosb_threshold=0x7fffffff:glibc.cpu.x86_rep_movsb_threshold=0x7fffffff \
	timeout 600 valgrind --tool=callgrind --collect-atstart=no \
		--callgrind-out-file="$f" "$@" 2>>"$LOG" >"$OUT/cg.$name.txt"
	sed "s/^/cg_${name}_/" "$OUT/cg.$name.txt" | while read -r k v; do echo "$v" >"$S/$k"; done
	awk '/^summary:/ { print $2 }' "$f" >"$S/${name}_ir"
	callgrind_annotate --auto=no "$f" 2>/dev/null |
		awk '/file:function/ { on = 1; next } on && /^-+$/ { next } on && /^$/ { exit } on' \
		>"$OUT/self.$name"
	head -15 "$OUT/self.$name" | sed -e 's|'"$ROOT"'/||; s| \[.*\]$||' >"$OUT/top.$name"
	# the same self costs summed by area of handshake's code
	awk '{ x = $1; gsub(",", "", x); a = "other"
		if ($0 ~ /malloc\.c|calloc|memset|[^_]free/) a = "malloc, free, memset"
		else if ($0 ~ /memmove|memcpy/) a = "memcpy"
		else if ($0 ~ /checksum\.c|intrin\.h:(sum|copy)_/) a = "checksum"
		else if ($0 ~ /table\.c|rand\.[ch]/) a = "4-tuple table and SipHash"
		else if ($0 ~ /recovery\.c|sack\.c/) a = "SACK and RACK"
		else if ($0 ~ /wheel\.c|timer\.c/) a = "timers"
		else if ($0 ~ /src\/wire\//) a = "parsing and emitting headers"
		else if ($0 ~ /src\/tcp\/(input\.[ch]|arrive\.c|closing\.c)/) a = "tcp/input.c, arrive.c, closing.c"
		else if ($0 ~ /src\/tcp\/output\.c/) a = "tcp/output.c"
		else if ($0 ~ /src\/tcp\//) a = "the rest of tcp/"
		else if ($0 ~ /src\/(ip|core|api)\//) a = "ip/, core/, api/"
		else if ($0 ~ /bench\//) a = "the benchmark itself"
		s[a] += x; t += x }
		END { for (a in s) if (t) printf "%5.1f%%  %s\n", 100 * s[a] / t, a }' \
		"$OUT/self.$name" | sort -rn >"$OUT/areas.$name"
}

START=$(date +%s)
echo "handshake benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null)," \
	"$(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "(raw output: $LOG; lwIP: Debian .so $LWIPD, from source $LWIPS)"

run 10 "$OUT/memory" sizes
for r in $(seq "$ROUNDS"); do
	run 60 "$OUT/lifecycle" --direct "$SECS"
	[ $LWIPD = yes ] && run 60 "$OUT/lwipd" lc "$SECS"
	[ $LWIPS = yes ] && run 60 "$OUT/lwips" lc "$SECS"
	linux 65536 "$OUT/linux_tcp" lifecycle "$SECS"
	run 60 "$OUT/lifecycle" "$SECS"
	run 60 "$OUT/lifecycle" --direct --ipv6 "$SECS"
done
for r in $(seq "$ROUNDS"); do
	run 60 "$OUT/bulk" --direct 1500 "$SECS"
	[ $LWIPD = yes ] && run 60 "$OUT/lwipd" bulk 1500 "$SECS"
	[ $LWIPS = yes ] && run 60 "$OUT/lwips" bulk 1500 "$SECS"
	RENAME=s/^linux_bulk_/linux_bulk1500_/ linux 1500 "$OUT/linux_tcp" bulk "$SECS"
	run 60 "$OUT/bulk" --direct 65535 "$SECS"
	[ $LWIPS = yes ] && run 60 "$OUT/lwips" bulk 65535 "$SECS"
	RENAME=s/^linux_bulk_/linux_bulk65535_/ linux 65536 "$OUT/linux_tcp" bulk "$SECS"
done
for r in $(seq "$ROUNDS"); do
	run 120 "$OUT/memory" idle "$MEM_N"
	run 120 "$OUT/memory" --ipv6 idle "$MEM_N"
	[ $LWIPD = yes ] && run 120 "$OUT/lwipd" mem "$MEM_N"
	[ $LWIPS = yes ] && run 120 "$OUT/lwips" mem "$MEM_N"
	linux 65536 "$OUT/linux_tcp" mem "$MEM_N"
	run 30 "$OUT/cookies" "$SECS"
done
# handshake alone, at scale (allocator counts: one run each)
RENAME='s/^mem_idle_/mem_big_/' run 900 "$OUT/memory" idle "$CONNS"
run 120 "$OUT/memory" used "$MEM_N"
run 300 "$OUT/memory" synq "$CONNS"
run 300 "$OUT/memory" tw "$CONNS"
# the same over IPv6 (memory --ipv6: keys mem6_*)
RENAME='s/^mem6_idle_/mem6_big_/' run 900 "$OUT/memory" --ipv6 idle "$CONNS"
run 120 "$OUT/memory" --ipv6 used "$MEM_N"
run 300 "$OUT/memory" --ipv6 synq "$CONNS"
run 300 "$OUT/memory" --ipv6 tw "$CONNS"
# issue 7's 10 M connections, held at once: only when the machine has the
# memory (2 ends of ~300 B each, and half as much again for the growth of
# the socket and 4-tuple arrays)
HUGE_NOTE=""
if [ "$HUGE" -gt 0 ]; then
	avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	need_kb=$((HUGE * 2 * 300 * 3 / 2 / 1024))
	if [ "${avail_kb:-0}" -ge "$need_kb" ]; then
		RENAME='s/^mem_idle_/mem_huge_/' run 1800 "$OUT/memory" idle "$HUGE"
	else
		HUGE_NOTE="skipped: $((avail_kb / 1024)) MiB available, $((need_kb / 1024)) MiB needed"
	fi
fi
# instruction counts
CG_LC=2000 CG_TW=4096 CG_BULK=33554432 CG_SYN=20000
callgrind hlc "$OUT/lifecycle" --direct --callgrind $CG_LC
callgrind hlcm "$OUT/lifecycle" --callgrind $CG_LC
callgrind hlc6 "$OUT/lifecycle" --direct --ipv6 --callgrind $CG_LC
callgrind hlcm6 "$OUT/lifecycle" --ipv6 --callgrind $CG_LC
callgrind dlc "$OUT/lwipd" lc --callgrind $CG_LC
callgrind slc "$OUT/lwips" lc --callgrind $CG_LC
callgrind htw "$OUT/lifecycle" --direct --batch $CG_TW --callgrind $CG_TW
callgrind dtw "$OUT/lwipd" lc --batch $CG_TW --callgrind $CG_TW
callgrind stw "$OUT/lwips" lc --batch $CG_TW --callgrind $CG_TW
callgrind hb1 "$OUT/bulk" --direct --callgrind $CG_BULK 1500
callgrind db1 "$OUT/lwipd" bulk --callgrind $CG_BULK 1500
callgrind sb1 "$OUT/lwips" bulk --callgrind $CG_BULK 1500
callgrind hb64 "$OUT/bulk" --direct --callgrind $((4 * CG_BULK)) 65535
callgrind sb64 "$OUT/lwips" bulk --callgrind $((4 * CG_BULK)) 65535
callgrind hck "$OUT/cookies" --callgrind $CG_SYN
CG_STEPS=256
steps hsk $CG_STEPS "$OUT/lifecycle-steps" --direct || true
[ $LWIPS = yes ] && { steps lwips $CG_STEPS "$OUT/lwips-steps" lc || true; }

if [ "${BENCH_RAW:-0}" = 1 ]; then
	for f in "$S"/*; do echo "$(basename "$f") $(tr '\n' ' ' <"$f")"; done
fi

# ---- the table ----
# stats KEY: "median min max" of the samples (median of an even count: the
# mean of the middle two); nothing when there are none
stats() {
	[ -s "$S/$1" ] || return 0
	sort -g "$S/$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", m, v[1], v[NR] }'
}
one() { stats "$1" | cut -d' ' -f1; }
# fmt N DECIMALS: with thousands separators
fmt() {
	awk -v x="$1" -v d="$2" 'BEGIN { s = sprintf("%." d "f", x); i = index(s, ".")
		ip = i ? substr(s, 1, i - 1) : s; fp = i ? substr(s, i) : ""
		neg = ip ~ /^-/; if (neg) ip = substr(ip, 2)
		while (length(ip) > 3) { fp = "," substr(ip, length(ip) - 2) fp; ip = substr(ip, 1, length(ip) - 3) }
		printf "%s%s%s", neg ? "-" : "", ip, fp }'
}
# cell KEY DECIMALS: "median (min–max)" of a sampled figure, or "—"
cell() {
	local s
	s=$(stats "$1")
	[ -n "$s" ] || { echo "—"; return; }
	set -- $s "$2"
	if [ "$2" = "$3" ]; then fmt "$1" "$4"; else
		echo "$(fmt "$1" "$4") ($(fmt "$2" "$4")–$(fmt "$3" "$4"))"; fi
}
# per NUM_KEY DIVISOR: a callgrind count per unit, or "—"
per() {
	local n
	n=$(one "$1")
	[ -n "$n" ] && [ -n "$2" ] && awk -v a="$n" -v b="$2" 'BEGIN { exit !(b > 0) }' || { echo "—"; return; }
	fmt "$(awk -v a="$n" -v b="$2" 'BEGIN { print a / b }')" 0
}
perMiB() {
	local b
	b=$(one "cg_$2_$3_bytes")
	[ -n "$b" ] || { echo "—"; return; }
	per "$1" "$(awk -v b="$b" 'BEGIN { print b / 1048576 }')"
}
# ratio A B: A / B for two table cells (their first number), or "—"
ratio() {
	local a=${1%% *} b=${2%% *}
	a=${a//,/} b=${b//,/}
	[[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]] || { echo "—"; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }'
}
row() { # row LABEL HSK LWIPD LWIPS LINUX
	printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$1" "$2" "$3" "$4" "$5" \
		"$(ratio "$2" "$3")" "$(ratio "$2" "$4")" "$(ratio "$2" "$5")"
}
na() { echo "n/a${1:+ ($1)}"; }

echo
echo "| median (min–max) of $ROUNDS rounds; callgrind counts | handshake | lwIP Debian .so | lwIP from source | Linux lo | ÷ lwIP .so | ÷ lwIP src | ÷ Linux |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row "instructions per lifecycle" "$(per hlc_ir $CG_LC)" "$(per dlc_ir $CG_LC)" "$(per slc_ir $CG_LC)" "—"
row "µs per lifecycle" "$(cell hsk_lcd_us 2)" "$(cell lwipd_lc_us 2)" "$(cell lwips_lc_us 2)" "$(cell linux_lc_us 1)"
row "segments per lifecycle" "$(cell hsk_lcd_pkts 0)" "$(cell lwipd_lc_pkts 0)" "$(cell lwips_lc_pkts 0)" "$(cell linux_lc_pkts 0)"
row "instructions per lifecycle, $CG_TW TIME_WAIT standing" "$(per htw_ir $CG_TW)" "$(per dtw_ir $CG_TW)" "$(per stw_ir $CG_TW)" "—"
row "bytes per idle established end (N=$MEM_N)" "$(cell mem_idle_bytes 0)" "$(cell lwipd_mem_idle_bytes 0)" "$(cell lwips_mem_idle_bytes 0)" "$(cell linux_mem_idle_bytes 0)"
row "bulk instructions per MiB, MSS 1460" "$(perMiB hb1_ir hb1 hsk_bulkd1500)" "$(perMiB db1_ir db1 lwipd_bulk1500)" "$(perMiB sb1_ir sb1 lwips_bulk1500)" "—"
row "bulk Gbit/s, MSS 1460" "$(cell hsk_bulkd1500_gbps 2)" "$(cell lwipd_bulk1500_gbps 2)" "$(cell lwips_bulk1500_gbps 2)" "$(cell linux_bulk1500_gbps 2)"
row "bulk instructions per MiB, 64 KiB MTU" "$(perMiB hb64_ir hb64 hsk_bulkd65535)" "$(na "MSS 1460 fixed")" "$(perMiB sb64_ir sb64 lwips_bulk65535)" "—"
row "bulk Gbit/s, 64 KiB MTU" "$(cell hsk_bulkd65535_gbps 2)" "$(na "MSS 1460 fixed")" "$(cell lwips_bulk65535_gbps 2)" "$(cell linux_bulk65535_gbps 2)"
row "instructions per SYN answered with a cookie" "$(per hck_ir $CG_SYN)" "$(na "no SYN cookies")" "$(na "no SYN cookies")" "$(na "not measured")"
row "SYN-ACKs per second with cookies (1 core)" "$(cell cookie_rate 0)" "—" "—" "—"
echo
echo "handshake only:"
echo "| | handshake | target |"
echo "|---|---:|---|"
echo "| instructions per lifecycle on the memnet (the simulator's link) | $(per hlcm_ir $CG_LC) | |"
echo "| µs per lifecycle on the memnet | $(cell hsk_lc_us 2) | |"
echo "| bytes per idle established end, N=$(fmt "$CONNS" 0) | $(cell mem_big_bytes 0) | ≤ 256 |"
echo "| bytes per end after 64 B each way, all read and acknowledged (N=$MEM_N) | $(cell mem_used_net_bytes 0) | ≤ 256 |"
echo "|   the same with the stacks' ring caches ($(fmt "$(one mem_used_ring_cache)" 0) B, fixed) spread over the 2N ends | $(cell mem_used_bytes 0) | |"
echo "| bytes per SYN-queue request (N=$(fmt "$CONNS" 0)) | $(cell mem_synq_bytes 0) | ≤ 128 |"
if [ "$HUGE" -gt 0 ]; then
	if [ -n "$HUGE_NOTE" ]; then
		echo "| concurrent established connections held, N=$(fmt "$HUGE" 0) | $HUGE_NOTE | 10 M |"
	else
		echo "| concurrent established connections held, N=$(fmt "$HUGE" 0) (both ends in one process) | $(fmt "$(one mem_huge_counted)" 0) ends, $(cell mem_huge_bytes 0) B each, $(cell mem_huge_secs 1) s to open | 10 M |"
	fi
fi
echo "| bytes per TIME_WAIT entry (N=$(fmt "$CONNS" 0)) | $(cell mem_tw_bytes 0) | ≤ 96 |"
echo
echo "handshake, IPv6 beside IPv4 (the same programs with --ipv6: 2001:2::/48, IPv6 objects from their own pools):"
echo "| | IPv4 | IPv6 | IPv6 ÷ IPv4 |"
echo "|---|---:|---:|---:|"
row6() { # row6 LABEL V4 V6
	printf "| %s | %s | %s | %s |\n" "$1" "$2" "$3" "$(ratio "$3" "$2")"
}
row6 "instructions per lifecycle (wired directly)" "$(per hlc_ir $CG_LC)" "$(per hlc6_ir $CG_LC)"
row6 "instructions per lifecycle on the memnet" "$(per hlcm_ir $CG_LC)" "$(per hlcm6_ir $CG_LC)"
row6 "µs per lifecycle (wired directly)" "$(cell hsk_lcd_us 2)" "$(cell hsk_lcd6_us 2)"
row6 "segments per lifecycle" "$(cell hsk_lcd_pkts 0)" "$(cell hsk_lcd6_pkts 0)"
row6 "bytes per idle established end (N=$(fmt "$MEM_N" 0))" "$(cell mem_idle_bytes 0)" "$(cell mem6_idle_bytes 0)"
row6 "bytes per idle established end (N=$(fmt "$CONNS" 0))" "$(cell mem_big_bytes 0)" "$(cell mem6_big_bytes 0)"
row6 "bytes per end after 64 B each way, without the ring caches (N=$(fmt "$MEM_N" 0))" "$(cell mem_used_net_bytes 0)" "$(cell mem6_used_net_bytes 0)"
row6 "bytes per SYN-queue request (N=$(fmt "$CONNS" 0))" "$(cell mem_synq_bytes 0)" "$(cell mem6_synq_bytes 0)"
row6 "bytes per TIME_WAIT entry (N=$(fmt "$CONNS" 0))" "$(cell mem_tw_bytes 0)" "$(cell mem6_tw_bytes 0)"
echo
echo "Struct sizes: tcb $(one size_tcb) B, tcp_sack $(one size_sack) B, tcp_req $(one size_req) B," \
	"tcp_tw $(one size_tw) B, hsk_sock $(one size_sock) B; lwIP tcp_pcb $(one lwipd_size_pcb) B (.so)," \
	"$(one lwips_size_pcb) B (source); Linux TCP socket $(one linux_size_tcp) B (slab)."
echo "MSS at MTU 1500: handshake $(one cg_hb1_hsk_bulkd1500_mss) (timestamps on), lwIP" \
	"$(one cg_db1_lwipd_bulk1500_mss); Linux $( [ $NETNS = yes ] && echo "in its own netns, lo at MTU 1500 / 65536" || echo "on the host's loopback (not root): both bulk rows at its MTU")."
echo "Linux: instruction counts — (callgrind cannot see the kernel); bulk uses a sender and a" \
	"receiver thread (the others one thread); memory is slab growth / 2N, system-wide."
# errors: any benchmark that reported one
bad=$(for f in "$S"/*_errors; do [ -f "$f" ] && awk -v k="$(basename "$f")" '$1 != 0 { print k; exit }' "$f"; done)
[ -n "$bad" ] && echo "WARNING: errors reported by: $bad (see $LOG)"
if [ -s "$OUT/steps.hsk" ]; then
	echo
	echo "A lifecycle step by step (callgrind, instructions per lifecycle over $CG_STEPS" \
		"lifecycles of the programs built with their step marks, which add ~15 each):"
	echo "| step | handshake | lwIP from source | ÷ lwIP src |"
	echo "|---|---:|---:|---:|"
	# lwIP has no socket or accept call (its connect makes the pcb, its
	# listener hands over the connection by callback) and no event queue
	touch "$OUT/steps.lwips"
	join -t"$(printf '\t')" -1 2 -2 2 -a 1 -e — -o 0,1.1,2.1 \
		<(sort -t"$(printf '\t')" -k2 "$OUT/steps.hsk") \
		<(sort -t"$(printf '\t')" -k2 "$OUT/steps.lwips") |
	while IFS="$(printf '\t')" read -r step h l; do
		row_h=$(fmt "$h" 0)
		[ "$l" = — ] && row_l=— || row_l=$(fmt "$l" 0)
		echo "| ${step#?? } | $row_h | $row_l | $(ratio "$h" "$l") |"
	done
	th=$(awk '{ t += $1 } END { print t }' "$OUT/steps.hsk")
	tl=$(awk '{ t += $1 } END { print t }' "$OUT/steps.lwips")
	echo "| all steps | $(fmt "$th" 0) | $( [ -s "$OUT/steps.lwips" ] && fmt "$tl" 0 || echo —) | $(ratio "$th" "${tl:-0}") |"
	echo "(The request's step is two segments in handshake, one in lwIP: handshake" \
		"acknowledges a connection's first data segment at once, as Linux does, where" \
		"lwIP delays the ACK and sends it with the response.)"
fi
for t in hlc:"a lifecycle (wired directly, $CG_LC lifecycles)" \
	 hlc6:"an IPv6 lifecycle (wired directly, $CG_LC lifecycles)" hb1:"bulk at MSS 1460" \
	 hb64:"bulk at a 64 KiB MTU" hck:"a cookie SYN"; do
	n=${t%%:*}
	[ -s "$OUT/top.$n" ] || continue
	echo
	echo "Where handshake's instructions go in ${t#*:} (callgrind, self Ir, top 15; then by area):"
	sed 's/^/    /; s|\./[^ ]*/\([^/ ]*:[^ ]*\)$|\1|' "$OUT/top.$n"
	echo "    --"
	sed 's/^/    /' "$OUT/areas.$n" | paste -sd';' | sed 's/;  */;  /g'

done
echo
echo "(bench took $(( $(date +%s) - START )) s)"
exit 0
