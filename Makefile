# The front door. CMake does the building; these targets name the jobs.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
CHECK_MIB ?= 1024

.PHONY: all demo builds check deps soak fuzz mutate coverage bench bench-scale bench-deps install clean

all:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: all
	./$(BUILD)/handshake demo

deps:
	./scripts/deps.sh

# The two builds of the tests: normal, and ASan+UBSan. The sanitizer build
# links the library shared: one instrumented copy of it instead of one in
# each of ~70 test programs (130 MB on disk, not 900). It is a Debug build
# (asserts on) at -O1, what the sanitizers' authors advise: the simulator's
# bulk tests run 2-3 times faster than at -O0 and nothing goes unchecked.
builds: deps
	./scripts/space.sh $(CHECK_MIB) . /tmp
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHSK_REQUIRE_TESTS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
		-DHSK_SANITIZE=ON -DHSK_SHARED=ON -DHSK_REQUIRE_TESTS=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

check: builds
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure
	ctest --test-dir $(ASAN_BUILD) -j $(JOBS) --output-on-failure -LE no-asan

# The seeded property tests on SOAK_SCALE times make check's seeds, on
# seeds it never runs, both builds, IPv4 and IPv6 (scripts/soak.sh; about
# half an hour at 10). SOAK_OFFSET=K replays a soak's seeds.
SOAK_SCALE ?= 10
SOAK_OFFSET ?=
soak: builds
	./scripts/soak.sh $(BUILD) $(ASAN_BUILD) $(SOAK_SCALE) $(SOAK_OFFSET)

# Every fuzz target for FUZZ_SECONDS each, then the coverage of the corpora
# per directory (docs/fuzzing.md).
FUZZ_SECONDS ?= 600
fuzz:
	./scripts/fuzz.sh $(FUZZ_SECONDS)
	./scripts/fuzz.sh --coverage

# Line coverage of the tests (docs/coverage.md): lines run and never run,
# per file of src/ (a gcc --coverage build in build-cov; ~6 min).
coverage: deps
	./scripts/coverage.sh

# Mutation testing (docs/mutation.md): slow, not part of check.
# make mutate MUTATE_ARGS='--fast --filter paws'
mutate:
	/usr/bin/python3 scripts/mutate.py $(MUTATE_ARGS)

# handshake beside lwIP (Debian's and built from Debian's source) and Linux;
# prints figures and ratios, never fails on a time (docs/bench.md)
bench: all bench-deps
	./scripts/bench.sh $(BUILD)
	nice ./scripts/bench-scale.sh $(BUILD)

# issue 11 alone: handshake over TUN (offloads, shards) beside kernel <->
# kernel over veth, throughput and connections per second (root)
bench-scale: all
	nice ./scripts/bench-scale.sh $(BUILD)

bench-deps: deps
	./scripts/bench-deps.sh $(BUILD)/bench/lwip-src || echo "bench: lwIP from source will not be measured"

# ldconfig: the dynamic linker's cache learns libhandshake.so.0 (as a
# package's install would do; harmless where the prefix is not searched)
install: all
	cmake --install $(BUILD)
	-ldconfig

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz build-cov
