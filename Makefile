# Top-level entry points. CMake does the building; this file only names the few things a user runs.
#   make        build (build/)
#   make install PREFIX=DIR   build and install under DIR (default /usr/local): bin/oilcast, the
#               dashboard, man page, bash completion and systemd unit
#   make test   install missing deps, build Release + ASan/UBSan + TSan with warnings as errors, run
#               every test in all three
#   make test-tsan  build build-tsan (ThreadSanitizer) and run every test under it
#   make demo   install missing deps, build, run the whole pipeline on simulated data, serve it
#   make bench  build and run every benchmark under bench/
.PHONY: all build build-asan build-tsan deps install test test-normal test-asan test-tsan demo bench clean

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

# The whole suite runs under TSan: the server, the feature, training, backtest and import thread pools
# are reached from most tests, so no list of "threaded tests" could stay true. GCC 12's TSan runtime
# needs its fixed shadow layout; on kernels whose mmap randomisation breaks it (vm.mmap_rnd_bits > 28:
# "FATAL: ThreadSanitizer: unexpected memory mapping", or a crash at start), the tests run with
# address-space randomisation off for them alone (setarch -R, inherited by every process they start).
test-tsan:
	cmake -S . -B $(TSAN_BUILD) $(TSAN_CONFIG) -DOILCAST_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	@if $(TSAN_BUILD)/oilcast version >/dev/null 2>&1; then \
	  cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS); \
	else \
	  echo "ThreadSanitizer cannot start under this kernel's ASLR: running the tests under setarch -R"; \
	  cd $(TSAN_BUILD) && setarch "$$(uname -m)" -R ctest --output-on-failure -j $(JOBS); \
	fi

test: deps
	@$(MAKE) --no-print-directory test-normal
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan

demo: deps build
	@bash scripts/demo.sh $(BUILD)/oilcast

bench: build
	@bash bench/run-all $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
