# Top-level entry points. CMake does the building; this file only names the few things a user runs.
#   make        build (build/)
#   make install PREFIX=DIR   build and install under DIR (default /usr/local): bin/oilcast, the
#               dashboard, man page, bash completion and systemd unit
#   make test   install missing deps, build Release + ASan/UBSan + TSan with warnings as errors, run
#               every test in all three
#   make test-tsan  build build-tsan (ThreadSanitizer) and run every test but the browser ones under it
#   make demo   install missing deps, build, run the whole pipeline on simulated data, serve it
#   make bench  build and run every benchmark under bench/
#   make fuzz   build the libFuzzer targets (clang) and run each for FUZZ_SECONDS (docs/fuzzing.md)
.PHONY: all build build-asan build-tsan deps install test test-normal test-asan test-tsan demo bench clean fuzz

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=
PREFIX     ?= /usr/local
# What each build is. A user's build keeps warnings as warnings (OILCAST_WERROR defaults off); the
# test targets reconfigure with -DOILCAST_WERROR=ON, and the normal test build is Release (what users
# build: -Wmaybe-uninitialized findings differ per optimization level; the sanitizer builds are Debug).
NORMAL_CONFIG = -DCMAKE_BUILD_TYPE=RelWithDebInfo
TEST_CONFIG   = -DCMAKE_BUILD_TYPE=Release -DOILCAST_WERROR=ON
ASAN_CONFIG   = -DCMAKE_BUILD_TYPE=Debug -DOILCAST_SANITIZE=ON
# Debug keeps the assertions; ThreadSanitizer excludes ASan, hence a build of its own.
TSAN_CONFIG   = -DCMAKE_BUILD_TYPE=Debug -DOILCAST_TSAN=ON

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(NORMAL_CONFIG) $(CMAKE_FLAGS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) $(ASAN_CONFIG) $(CMAKE_FLAGS)

$(TSAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(TSAN_BUILD) $(TSAN_CONFIG) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build-asan: $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

build-tsan: $(TSAN_BUILD)/CMakeCache.txt
	cmake --build $(TSAN_BUILD) -j $(JOBS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

test-normal:
	cmake -S . -B $(BUILD) $(TEST_CONFIG) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	cmake -S . -B $(ASAN_BUILD) $(ASAN_CONFIG) -DOILCAST_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite runs under TSan but for the browser tests (ctest label "browser"): the server, the
# feature, training, backtest and import thread pools are reached from most tests, so no list of
# "threaded tests" could stay true. A browser test's subject is the page in Chromium (seconds of its
# start-up per test); the server threads it reaches are the ones the serve_* tests drive with curl,
# and it still runs in the Release and ASan builds. GCC 12's TSan runtime
# needs its fixed shadow layout; on kernels whose mmap randomisation breaks it (vm.mmap_rnd_bits > 28:
# "FATAL: ThreadSanitizer: unexpected memory mapping", or a crash at start), the tests run with
# address-space randomisation off for them alone (setarch -R, inherited by every process they start).
test-tsan:
	cmake -S . -B $(TSAN_BUILD) $(TSAN_CONFIG) -DOILCAST_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	@if $(TSAN_BUILD)/oilcast version >/dev/null 2>&1; then \
	  cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE browser; \
	else \
	  echo "ThreadSanitizer cannot start under this kernel's ASLR: running the tests under setarch -R"; \
	  cd $(TSAN_BUILD) && setarch "$$(uname -m)" -R ctest --output-on-failure -j $(JOBS) -LE browser; \
	fi

test: deps
	@$(MAKE) --no-print-directory test-normal
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan

demo: deps build
	@bash scripts/demo.sh $(BUILD)/oilcast

bench: build
	@bash bench/run-all $(BUILD)

# Fuzzing (docs/fuzzing.md): build-fuzz is a clang build with -fsanitize=fuzzer,address,undefined
# (Debug keeps the assertions, -O2 for speed). Each target runs for FUZZ_SECONDS with FUZZ_JOBS
# processes at once, from its committed corpus; what it learns stays in build-fuzz/corpus/<target>
# (tests/fuzz/corpus/ is only read), crashes go to build-fuzz/crashes/. Scratch stores live on tmpfs.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= $(JOBS)
FUZZ_TARGETS ?= $(patsubst tests/fuzz/%.c,%,$(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/*.c)))
FUZZ_CONFIG   = -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O2 -DOILCAST_FUZZ=ON
FUZZ_TMPDIR  ?= $(if $(wildcard /dev/shm),/dev/shm,$(or $(TMPDIR),/tmp))

fuzz:
	CC=clang-14 cmake -S . -B $(FUZZ_BUILD) $(FUZZ_CONFIG) $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes $(FUZZ_BUILD)/logs/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s with $(FUZZ_JOBS) jobs"; \
	  ( cd $(FUZZ_BUILD)/logs/$$t && TMPDIR=$(FUZZ_TMPDIR) ../../fuzz_$$t ../../corpus/$$t $(CURDIR)/tests/fuzz/corpus/$$t \
	      -max_total_time=$(FUZZ_SECONDS) -jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS) -timeout=10 -rss_limit_mb=2048 \
	      -artifact_prefix=$(CURDIR)/$(FUZZ_BUILD)/crashes/$$t- -print_final_stats=1 >/dev/null 2>&1 ) || { \
	    echo "fuzz: $$t FAILED; its log:"; tail -n 60 $(FUZZ_BUILD)/logs/$$t/fuzz-*.log; \
	    echo "reproducer(s): $$(ls $(FUZZ_BUILD)/crashes/$$t-* 2>/dev/null)"; exit 1; }; \
	  grep -h -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' $(FUZZ_BUILD)/logs/$$t/fuzz-*.log | sed "s/^/  /"; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
