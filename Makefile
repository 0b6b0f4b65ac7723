# dsuit: top-level entry points. CMake does the building; this file only
# names the jobs. See README.md.
#
#   make            build (build/)
#   make test       install deps, build, run every test (ctest)
#   make demo       install deps, build, run the demo
#   make asan       every test under AddressSanitizer + UBSan (build-asan/)
#   make fuzz       each libFuzzer harness for FUZZ_SECONDS (build-fuzz/)
#   make bench      benchmarks, each next to a baseline from the same run
#   make size-arm   device library size on a Cortex-M4 (.text/.data/.bss)
#   make format     clang-format the files changed against HEAD

BUILD        ?= build
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS  ?=
BENCH_ARGS   ?=

.PHONY: all build deps test demo asan fuzz bench size-arm format clean

all: build

deps:
	@scripts/install-deps

build:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: deps build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: deps build
	@$(BUILD)/dsuit demo

asan: deps
	@cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	    -DDSUIT_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir build-asan --output-on-failure -j $(JOBS)

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	    -DDSUIT_FUZZ=ON -DDSUIT_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@scripts/run-fuzz build-fuzz $(FUZZ_SECONDS)

# Release build of its own (-O2), so the test build's flags do not matter.
# BENCH_QUICK=1 for a smoke run; BENCH_ARGS="crypto merkle" for some modules.
bench: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DDSUIT_TESTS=OFF \
	    -DDSUIT_BENCH=ON >/dev/null
	@cmake --build build-bench -j $(JOBS) --target bench_all
	@build-bench/bench_all $(BENCH_ARGS)

size-arm: deps
	@tools/size-arm.sh build-arm

format:
	@git clang-format-14 2>/dev/null || git clang-format

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-arm build-bench
