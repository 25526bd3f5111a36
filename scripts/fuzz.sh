#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/*.c with clang
# (-fsanitize=fuzzer,address,undefined) against the sans-IO core (src/wire,
# src/ip, src/tcp, src/core, and the socket calls of src/api: everything
# under src/ but link, trace and the epoll loop)
# and runs each for $1 seconds (default 60). Exits non-zero when a target
# fails to build or finds a crash; the reproducer is left in build-fuzz/.
#
#   scripts/fuzz.sh          60 s per target
#   scripts/fuzz.sh 5        a quick pass, as `make check` might
#   FUZZ_JOBS=4 scripts/fuzz.sh 600
#   FUZZ_OUT=/tmp/f scripts/fuzz.sh 5   build and corpus elsewhere
#
# Seeds come from tests/fuzz/corpus/<target>/ when present; the growing
# corpus is kept in build-fuzz/corpus/<target>/ between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
secs=${1:-60}
out=${FUZZ_OUT:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found" >&2; exit 1; }

mkdir -p "$out/obj"
out=$(cd "$out" && pwd)
cflags=(-std=gnu11 -g -O1 -fno-omit-frame-pointer
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
	-Iinclude -Isrc -Wall -Wextra)

# The core as a static archive: a target links only the objects it needs, so
# a module that does not build yet (or needs the OS) does not stop the others.
mapfile -t srcs < <(find src -name '*.c' -not -path 'src/link/*' \
	-not -path 'src/trace/*' -not -name 'loop*.c' | sort)
objs=()
for s in "${srcs[@]}"; do
	o="$out/obj/$(echo "${s%.c}" | tr / _).o"
	if "$CC" "${cflags[@]}" -c "$s" -o "$o"; then
		objs+=("$o")
	else
		echo "fuzz.sh: $s does not build; left out of the fuzz archive" >&2
	fi
done
rm -f "$out/libcore.a"
[ ${#objs[@]} -gt 0 ] && ar rcs "$out/libcore.a" "${objs[@]}"

fail=0
for t in tests/fuzz/*.c; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .c)
	bin="$out/$name"
	echo "== $name: build"
	if ! "$CC" "${cflags[@]/fuzzer-no-link/fuzzer}" "$t" "$out/libcore.a" -o "$bin"; then
		echo "fuzz.sh: $name failed to build" >&2
		fail=1
		continue
	fi
	corpus="$out/corpus/$name"
	mkdir -p "$corpus"
	seeds=()
	[ -d "tests/fuzz/corpus/$name" ] && seeds=("$top/tests/fuzz/corpus/$name")
	par=()
	[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
	echo "== $name: run ${secs}s"
	# Run inside $out: with -jobs libFuzzer writes fuzz-<n>.log to the cwd.
	if ! (cd "$out" && "./$name" -max_total_time="$secs" "${par[@]}" \
		-print_final_stats=1 -artifact_prefix="$out/$name-" \
		"$corpus" "${seeds[@]}") 2>"$out/$name.log"; then
		tail -n 60 "$out/$name.log" >&2
		echo "fuzz.sh: $name FAILED (reproducer: $out/$name-crash-*; replay: $bin <file>)" >&2
		fail=1
	else
		grep -E '^stat::number_of_executed_units|^Done' "$out/$name.log" | tail -n 2 || true
	fi
done
exit $fail
