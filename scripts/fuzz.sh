#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.c with clang
# (-fsanitize=fuzzer,address,undefined) against the sans-IO core (src/wire,
# src/ip, src/tcp, src/core, and the socket calls of src/api: everything
# under src/ but link, trace and the epoll loop), together with the
# harness's helpers (tests/fuzz/*.c that are not targets; a target's own
# files in tests/fuzz/<target>/), and runs each for
# $1 seconds (default 600). Prints each target's executions, executions per
# second and coverage; exits non-zero when a target fails to build or finds
# a crash (the reproducer is left in the output directory).
#
#   scripts/fuzz.sh              600 s per target (make fuzz)
#   scripts/fuzz.sh 60           a minute each
#   scripts/fuzz.sh --check 4    what make check does: replay the committed
#                                corpus, then a fixed number of runs from
#                                it (tests/fuzz/<t>.check), seed 1; the
#                                seconds only cap it (x4)
#   scripts/fuzz.sh --coverage   clang source-based coverage of the corpora
#                                (committed and grown) per directory of src/
#   FUZZ_TARGETS=fuzz_stack scripts/fuzz.sh 1800   one target
#   FUZZ_JOBS=2 scripts/fuzz.sh 600                parallel workers
#   FUZZ_KEEP_GOING=1 scripts/fuzz.sh 1800         save every crash, go on
#   FUZZ_OUT=/tmp/f scripts/fuzz.sh 5              build and corpus elsewhere
#
# Seeds come from tests/fuzz/corpus/<target>/; the growing corpus is kept in
# <out>/corpus/<target>/ between runs (tests/fuzz/pick_corpus.py cuts it to
# a committed one, see docs/fuzzing.md). --coverage needs llvm-profdata and
# llvm-cov (Debian's llvm-14). tests/fuzz/<target>.options holds
# extra libFuzzer flags for a target, tests/fuzz/<target>.check those of the
# brief run of --check (a number of runs).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
mode=run
case "${1:-}" in
--check) mode=check; shift ;;
--coverage) mode=coverage; shift ;;
esac
secs=${1:-600}
out=${FUZZ_OUT:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
targets=()
for t in tests/fuzz/fuzz_*.c; do
	name=$(basename "$t" .c)
	if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $name "* ]]; then
		continue
	fi
	targets+=("$name")
done
mapfile -t helpers < <(find tests/fuzz -maxdepth 1 -name '*.c' -not -name 'fuzz_*' | sort)
mapfile -t srcs < <(find src -name '*.c' -not -path 'src/link/*' \
	-not -path 'src/trace/*' -not -name 'loop*.c' | sort)

# build <objdir> <flags...>: the core as a static archive (a target links
# only the objects it needs, so a module that does not build yet does not
# stop the others), the helpers, then every target.
build() {
	local dir=$1
	shift
	local cflags=(-std=gnu11 -g -fno-omit-frame-pointer -Iinclude -Isrc -Itests/fuzz
		-Wall -Wextra "$@")
	mkdir -p "$dir/obj"
	# Incremental: an object is rebuilt when its source or any header is
	# newer, or the flags changed (make check keeps build/fuzz between
	# runs). Up to FUZZ_BUILD_JOBS (nproc) compilers at once.
	local stamp="$dir/obj/flags"
	if [ "$(cat "$stamp" 2>/dev/null)" != "${cflags[*]}" ]; then
		rm -f "$dir"/obj/*.o
		echo "${cflags[*]}" >"$stamp"
	fi
	local hdr
	hdr=$(find include src tests/fuzz -name '*.h' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
	local par=${FUZZ_BUILD_JOBS:-$(nproc)} n=0
	local objs=() hobjs=() s o
	for s in "${srcs[@]}"; do
		o="$dir/obj/$(echo "${s%.c}" | tr / _).o"
		[ -e "$o" ] && [ "$o" -nt "$s" ] && [ "$o" -nt "$hdr" ] && continue
		( "$CC" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$s" -o "$o" ||
			{ rm -f "$o"; echo "fuzz.sh: $s does not build; left out of the fuzz archive" >&2; } ) &
		n=$((n + 1))
		[ $((n % par)) -eq 0 ] && wait
	done
	wait
	for s in "${srcs[@]}"; do
		o="$dir/obj/$(echo "${s%.c}" | tr / _).o"
		[ -e "$o" ] && objs+=("$o")
	done
	rm -f "$dir/libcore.a"
	[ ${#objs[@]} -gt 0 ] && ar rcs "$dir/libcore.a" "${objs[@]}"
	# The helpers without coverage feedback: peek.c walks the stack after
	# every step, and its edges would only be noise to the fuzzer.
	for s in "${helpers[@]}"; do
		o="$dir/obj/$(basename "${s%.c}").o"
		"$CC" "${cflags[@]}" -c "$s" -o "$o" || return 1
		hobjs+=("$o")
	done
	local t
	for t in "${targets[@]}"; do
		echo "== $t: build"
		# For coverage every core file is linked, so that one no
		# target reaches counts as 0 % rather than not at all.
		local lib=("$dir/libcore.a")
		[ -n "${whole:-}" ] && lib=(-Wl,--whole-archive "$dir/libcore.a" -Wl,--no-whole-archive)
		# A target's own files (tests/fuzz/<t>/*.c): compiled like the
		# target, with coverage, and linked into it alone.
		local own=()
		for s in "tests/fuzz/$t"/*.c; do
			[ -e "$s" ] || continue
			o="$dir/obj/${t}_$(basename "${s%.c}").o"
			"$CC" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$s" -o "$o" || return 1
			own+=("$o")
		done
		if ! "$CC" "${cflags[@]}" -fsanitize=fuzzer "tests/fuzz/$t.c" "${own[@]}" "${hobjs[@]}" \
			"${lib[@]}" -o "$dir/$t"; then
			echo "fuzz.sh: $t failed to build" >&2
			return 1
		fi
	done
}

san=(-O1 -fsanitize=address,undefined -fno-sanitize-recover=all)

# per_dir <llvm-cov report>: lines, branches and regions covered per
# directory of src/ (the report's file names are relative to src/).
per_dir() {
	awk '$1 ~ /\// && $2 ~ /^[0-9]+$/ {
		split($1, p, "/"); d = p[1]
		r[d] += $2; rm[d] += $3; l[d] += $8; lm[d] += $9; b[d] += $11; bm[d] += $12
		r["all"] += $2; rm["all"] += $3; l["all"] += $8; lm["all"] += $9
		b["all"] += $11; bm["all"] += $12
	}
	function pct(n, m) { return n ? sprintf("%5.1f%%", 100 * (n - m) / n) : "    -" }
	END {
		printf "   %-10s %16s %16s %16s\n", "src/", "lines", "branches", "regions"
		n = split("wire ip tcp core api link all", order, " ")
		for (i = 1; i <= n; i++) { d = order[i]; if (!(d in l)) continue
			printf "   %-10s %s %9s %s %9s %s %9s\n", d, pct(l[d], lm[d]),
				(l[d] - lm[d]) "/" l[d], pct(b[d], bm[d]), (b[d] - bm[d]) "/" b[d],
				pct(r[d], rm[d]), (r[d] - rm[d]) "/" r[d] }
	}' "$1"
}

if [ "$mode" = coverage ]; then
	# Source-based coverage of everything the corpora reach: the
	# committed seeds and what `make fuzz` grew in build-fuzz/corpus.
	prof=${LLVM_PROFDATA:-$(command -v llvm-profdata-14 || command -v llvm-profdata || true)}
	cov=${LLVM_COV:-$(command -v llvm-cov-14 || command -v llvm-cov || true)}
	[ -n "$prof" ] && [ -n "$cov" ] || { echo "fuzz.sh: llvm-profdata/llvm-cov (llvm-14) not found" >&2; exit 1; }
	cdir="$out/cov"
	whole=1 build "$cdir" -O1 -fprofile-instr-generate -fcoverage-mapping
	rm -f "$cdir"/*.profraw
	bins=()
	for t in "${targets[@]}"; do
		dirs=()
		[ -d "tests/fuzz/corpus/$t" ] && dirs+=("$top/tests/fuzz/corpus/$t")
		[ -d "$out/corpus/$t" ] && dirs+=("$out/corpus/$t")
		[ ${#dirs[@]} -gt 0 ] || continue
		files=$(find "${dirs[@]}" -type f | wc -l)
		echo "== $t: replaying $files inputs"
		# Coverage only: no invariant stops the replay (the grown corpus
		# may hold inputs that show a known fault).
		(cd "$cdir" && LLVM_PROFILE_FILE="$cdir/$t.profraw" \
			HSK_FUZZ_ALLOW=mtu,mss,window,wndupdate,peek,counters,stream,pools,resend \
			"./$t" -runs=0 \
			"${dirs[@]}" >"$cdir/$t.log" 2>&1) || { tail -n 30 "$cdir/$t.log" >&2; exit 1; }
		"$prof" merge -sparse "$cdir/$t.profraw" -o "$cdir/$t.profdata"
		echo "-- $t: lines covered per directory"
		"$cov" report "$cdir/$t" -instr-profile="$cdir/$t.profdata" "$top/src" \
			>"$cdir/$t.report"
		per_dir "$cdir/$t.report"
		bins+=("$t")
	done
	[ ${#bins[@]} -gt 0 ] || { echo "fuzz.sh: no corpus to replay" >&2; exit 1; }
	if [ ${#bins[@]} -gt 1 ]; then
		"$prof" merge -sparse "${bins[@]/#/$cdir/}" -o "$cdir/all.profdata" 2>/dev/null ||
			"$prof" merge -sparse "$cdir"/*.profdata -o "$cdir/all.profdata"
		objargs=()
		for b in "${bins[@]:1}"; do objargs+=(-object "$cdir/$b"); done
		echo "-- all targets together"
		"$cov" report "$cdir/${bins[0]}" "${objargs[@]}" \
			-instr-profile="$cdir/all.profdata" "$top/src" >"$cdir/all.report"
		per_dir "$cdir/all.report"
	fi
	echo "(per-file tables: $cdir/*.report)"
	exit 0
fi

build "$out" "${san[@]}"

fail=0
for t in "${targets[@]}"; do
	corpus="$out/corpus/$t"
	# --check starts from the committed corpus alone, every time.
	[ "$mode" = check ] && { corpus="$out/check-corpus/$t"; rm -rf "$corpus"; }
	mkdir -p "$corpus"
	seeds=()
	[ -d "tests/fuzz/corpus/$t" ] && seeds=("$top/tests/fuzz/corpus/$t")
	opts=()
	[ -f "tests/fuzz/$t.options" ] && read -r -a opts <"tests/fuzz/$t.options"
	if [ "$mode" = check ] && [ ${#seeds[@]} -gt 0 ]; then
		# The committed corpus first, exactly: a regression here is
		# deterministic.
		echo "== $t: replay $(find "${seeds[@]}" -type f | wc -l) committed inputs"
		if ! (cd "$out" && "./$t" -runs=0 "${opts[@]}" "${seeds[@]}") \
			>"$out/$t.replay.log" 2>&1; then
			tail -n 40 "$out/$t.replay.log" >&2
			echo "fuzz.sh: $t FAILED on the committed corpus" >&2
			fail=1
			continue
		fi
	fi
	par=()
	limit=$secs
	[ "$jobs" -gt 1 ] && [ -z "${FUZZ_KEEP_GOING:-}" ] && par=(-jobs="$jobs" -workers="$jobs")
	if [ -n "${FUZZ_KEEP_GOING:-}" ] && [ "$mode" = run ]; then
		# Past a crash: every finding is saved, the run goes on.
		par+=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
	fi
	if [ "$mode" = check ]; then
		# A fixed seed and a fixed number of runs (tests/fuzz/<t>.check)
		# make the brief run the same on every machine; the time is
		# only a cap.
		par+=(-seed=1 -reload=0)
		[ -f "tests/fuzz/$t.check" ] && { read -r -a c <"tests/fuzz/$t.check"; par+=("${c[@]}"); limit=$((secs * 4)); }
	fi
	echo "== $t: run ${par[*]} ${limit}s"
	# Run inside $out: with -jobs libFuzzer writes fuzz-<n>.log to the cwd.
	if ! (cd "$out" && "./$t" -max_total_time="$limit" "${par[@]}" "${opts[@]}" \
		-print_final_stats=1 -artifact_prefix="$out/$t-" \
		"$corpus" "${seeds[@]}") 2>"$out/$t.log"; then
		tail -n 60 "$out/$t.log" >&2
		echo "fuzz.sh: $t FAILED (reproducer: $out/$t-crash-*; replay: $out/$t <file>)" >&2
		fail=1
	else
		awk '/^#[0-9]+/ && / cov: / { n = substr($1, 2); sub(":", "", n)
			for (i = 2; i < NF; i++) {
				if ($i == "cov:") c = $(i + 1); if ($i == "ft:") f = $(i + 1)
				if ($i == "corp:") k = $(i + 1); if ($i ~ /^exec\/s:?$/) r = $(i + 1)
				if ($i == "time:") t = $(i + 1) } }
		     /^INFO: exiting: .* time: / { t = $NF }
		     /^stat::number_of_executed_units/ { n = $2 }
		     /^stat::average_exec_per_sec/ { r = $2 }
		     END { sub("s$", "", t); if (t + 0 > 0) r = int(n / t)
			printf "   %s execs, %s/s, cov %s, ft %s, corpus %s\n", n, r, c, f, k }' \
			"$out/$t.log"
		n=$(find "$out" -maxdepth 1 -name "$t-crash-*" -newer "$out/$t" | wc -l)
		[ "$n" -gt 0 ] && { echo "   $n crashes kept going past: $out/$t-crash-*"; fail=1; }
	fi
done
exit $fail
