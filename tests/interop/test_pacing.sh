#!/usr/bin/env bash
# Pacing against the kernel (--pacing-rate: HSK_SO_MAX_PACING_RATE, docs/
# bytestream.md "Pacing"): connect sends 300 kB to a kernel sink at most
# 100 kB/s, so the kernel takes about 3 s to receive it where unpaced it
# takes a fraction of one; serve's echo, paced from its listener, gives
# a kernel client its 200 kB back at the same rate; 4 MB at 2 MB/s (a
# segment each ~0.7 ms, which the loop sleeps to) take 2 s or more; at the
# window's own rate (auto) 4 MB arrive whole. Only lower bounds on the times are the
# point (pacing may not be beaten); the upper ones catch a stall.
. "$(dirname "$0")/lib.sh"

head -c 300000 /dev/urandom >"$TMP/up"
head -c 1000 /dev/urandom >"$TMP/down"

# secs LOW HIGH LOG: the peer's "seconds" within [LOW, HIGH]
within() {
	local s
	s=$(jfield "$4" seconds)
	awk -v s="$s" -v lo="$1" -v hi="$2" 'BEGIN { exit !(s >= lo && s <= hi) }' ||
		fail "$3: $s s, not within $1..$2"
	echo "  $3: $s s"
}

exchange_with_kernel_sink 30
within 0 2 "unpaced upload of 300 kB" "$TMP/sink.log"
exchange_with_kernel_sink 30 --pacing-rate 100000
within 2.7 9 "upload of 300 kB at 100 kB/s" "$TMP/sink.log"

start_serve --port 7 --echo --pacing-rate 100000
nsx timeout --foreground -k 10 30 python3 "$PEER" echo-client $HADDR 7 200000 >"$TMP/echo.log" 2>&1 ||
	fail "the 200 kB echo failed: $(tail -n 1 "$TMP/echo.log")"
stop_serve
within 1.8 9 "echo of 200 kB paced by serve at 100 kB/s" "$TMP/echo.log"

head -c $((4 * 1024 * 1024)) /dev/urandom >"$TMP/up"
# a segment each ~0.7 ms: the loop sleeps to the departure, not to the
# next whole ms (rounded up, this took 3.4-3.5 s: 61 % of the cap)
exchange_with_kernel_sink 30 --pacing-rate 2000000
within 1.9 9 "upload of 4 MB at 2 MB/s" "$TMP/sink.log"
exchange_with_kernel_sink 30 --pacing-rate auto
echo "  4 MB at the window's rate: $(jfield "$TMP/sink.log" seconds) s"
echo "PASS: pacing caps what connect and serve send to the kernel, and loses nothing"
