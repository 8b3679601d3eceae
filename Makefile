# Top-level entry points. CMake does the building; this file only names the few things a user runs.
#   make        build (build/)
#   make test   install missing deps, build normal + ASan/UBSan, run every test in both
#   make demo   install missing deps, build, run the whole pipeline on simulated data, serve it
#   make bench  build and run every benchmark under bench/
.PHONY: all build build-asan deps test test-normal test-asan demo bench clean

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DOILCAST_SANITIZE=ON $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build-asan: $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-normal: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory test-normal
	@$(MAKE) --no-print-directory test-asan

demo: deps build
	@bash scripts/demo.sh $(BUILD)/oilcast

bench: build
	@bash bench/run-all $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
