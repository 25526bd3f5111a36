#!/usr/bin/env bash
# ctest: every libFuzzer target in tests/fuzz, briefly: the committed corpus
# replayed exactly, then FUZZ_SECONDS (default 4) of fuzzing from it with a
# fixed seed (scripts/fuzz.sh --check). `make fuzz` runs them for longer.
# The targets are built with ASan and UBSan whatever the build directory,
# so the sanitizer build (build-asan) skips this test rather than run the
# same thing twice. Skips (77) where clang's libFuzzer runtime is missing.
# Usage (from CMake): test_fuzz.sh <build dir> <source dir>
set -u
build=${1:?build dir}
src=${2:?source dir}
if grep -q '^HSK_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "the fuzz targets run (with ASan and UBSan) in the other build: skipped"
	exit 77
fi
command -v clang >/dev/null || { echo "clang not found: skipped"; exit 77; }
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	>"$build/fuzz_probe.c"
if ! clang -fsanitize=fuzzer "$build/fuzz_probe.c" -o "$build/fuzz_probe" 2>/dev/null; then
	echo "clang has no libFuzzer runtime (libclang-rt-dev): skipped"
	exit 77
fi
FUZZ_OUT="$build/fuzz" exec "$src/scripts/fuzz.sh" --check "${FUZZ_SECONDS:-4}"
