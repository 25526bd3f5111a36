# The front door. CMake does the building; these targets name the jobs.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all demo check test test-asan deps fuzz mutate bench install clean

all:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: all
	./$(BUILD)/handshake demo

deps:
	./scripts/deps.sh

check: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHSK_REQUIRE_TESTS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHSK_SANITIZE=ON -DHSK_REQUIRE_TESTS=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure
	ctest --test-dir $(ASAN_BUILD) -j $(JOBS) --output-on-failure -LE no-asan

fuzz:
	./scripts/fuzz.sh 300

# Mutation testing (docs/mutation.md): slow, not part of check.
# make mutate MUTATE_ARGS='--fast --filter paws'
mutate:
	/usr/bin/python3 scripts/mutate.py $(MUTATE_ARGS)

bench: all
	./scripts/bench.sh

install: all
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
