#!/usr/bin/env bash
# ctest: every libFuzzer target in tests/fuzz, briefly (FUZZ_SECONDS, default
# 5 s each), as DESIGN.md asks of every check. `make fuzz` runs them longer.
# Skips (77) where clang's libFuzzer runtime is missing.
# Usage (from CMake): test_fuzz.sh <build dir> <source dir>
set -u
build=${1:?build dir}
src=${2:?source dir}
command -v clang >/dev/null || { echo "clang not found: skipped"; exit 77; }
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	>"$build/fuzz_probe.c"
if ! clang -fsanitize=fuzzer "$build/fuzz_probe.c" -o "$build/fuzz_probe" 2>/dev/null; then
	echo "clang has no libFuzzer runtime (libclang-rt-dev): skipped"
	exit 77
fi
FUZZ_OUT="$build/fuzz" exec "$src/scripts/fuzz.sh" "${FUZZ_SECONDS:-5}"
