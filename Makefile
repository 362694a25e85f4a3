# quanttrading — quick start:
#   make test          install the Debian packages, build (release preset), run every test,
#                      then the bounded sanitizer pass (test-sanitizers-bounded) and a short
#                      run of each libFuzzer target (fuzz-smoke)
#   make run ARGS=...  build and run the engine (ARGS are passed to `quanttrading run`)
#
# The CMake presets (CMakePresets.json) own every build setting; this file only strings the
# steps together. Builds use -j2 (the build presets' "jobs") and ccache when installed.

SHELL := /bin/bash
.DEFAULT_GOAL := build

PRESET       ?= release
BUILD_DIR    := build/$(PRESET)
APP          := $(BUILD_DIR)/app/quanttrading
ARGS         ?=
CTEST_FLAGS  ?= --timeout 600
BENCHES      := ring_bench order_path_bench
CLANG_FORMAT ?= clang-format
SRC_DIRS     := common engine feeds gateway persist sim app tests bench

# Project C++ sources for format/format-check (only directories that exist).
FORMAT_SRCS = $(shell find $(wildcard $(SRC_DIRS)) -type f \( -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | sort)

.PHONY: all deps configure build run test test-release test-sanitizers test-sanitizers-bounded \
        test-asan test-tsan bench fuzz-smoke \
        format format-check clean help

all: build

help:
	@echo "make deps             install the Debian packages and the npm test tools (scripts/)"
	@echo "make build            configure + build the '$(PRESET)' preset"
	@echo "make run ARGS='...'   build, then $(APP) run \$$ARGS"
	@echo "make test             test-release, test-sanitizers-bounded, then fuzz-smoke"
	@echo "make test-release     build, then ctest (all labels, $(CTEST_FLAGS))"
	@echo "make test-sanitizers-bounded"
	@echo "                      the ring, runner, parser and journal-damage tests only, under"
	@echo "                      ASan+UBSan, then TSan (ctest -L bounded; 6 min on 2 cores with"
	@echo "                      no ccache and no build/, 30 s with a warm ccache)"
	@echo "make test-sanitizers  configure+build+ctest the asan preset, then the tsan preset"
	@echo "make bench            build, then run the benchmark programs"
	@echo "make format           clang-format -i the project sources"
	@echo "make format-check     fail if any project source is not clang-formatted"
	@echo "make clean            remove build/"

deps:
	@bash scripts/install-deps.sh
	@bash scripts/install-node-tools.sh

configure: deps
	cmake --preset $(PRESET)

build: configure
	cmake --build --preset $(PRESET)

run: build
	./$(APP) run $(ARGS)

# Sequential on purpose (release, then the sanitizers), even under `make -j`: 2 cores.
test: deps
	$(MAKE) --no-print-directory test-release
	$(MAKE) --no-print-directory test-sanitizers-bounded
	$(MAKE) --no-print-directory fuzz-smoke

test-release: build
	ctest --preset $(PRESET) $(CTEST_FLAGS)

# Each sanitizer preset has its own build directory (build/asan, build/tsan).
test-asan: deps
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan $(CTEST_FLAGS)

test-tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan
	ctest --preset tsan $(CTEST_FLAGS)

# What CI can afford of the sanitizer presets: only the tests that name the sanitizer in
# qt_test(... SANITIZE ...) (tests/CMakeLists.txt) are built (target bounded_sanitizer_tests) and
# run (label *-bounded) — the lock-free rings and runners under both, the parsers and the journal
# damage tests under ASan+UBSan. The full suites stay in test-sanitizers.
test-sanitizers-bounded: deps
	cmake --preset asan
	cmake --build --preset asan --target bounded_sanitizer_tests
	ctest --preset asan -L bounded $(CTEST_FLAGS)
	cmake --preset tsan
	cmake --build --preset tsan --target bounded_sanitizer_tests
	ctest --preset tsan -L bounded $(CTEST_FLAGS)

# The libFuzzer targets (clang, ASan+UBSan), each for FUZZ_SECONDS from its committed corpus;
# new inputs go to a temporary directory, the corpus in the tree is only read. Run longer by
# hand: build/fuzz/tests/fuzz/http_request_fuzzer -max_total_time=600 tests/fuzz/corpus/http_request
FUZZ_SECONDS ?= 20
fuzz-smoke: deps
	cmake --preset fuzz
	cmake --build --preset fuzz --target http_request_fuzzer
	@set -o pipefail; scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	  build/fuzz/tests/fuzz/http_request_fuzzer -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	    -print_final_stats=1 "$$scratch" tests/fuzz/corpus/http_request 2>&1 | tail -12

# Sequential on purpose (asan, then tsan), even under `make -j`: the machine has 2 cores.
test-sanitizers: deps
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-tsan

bench: build
	@ran=0; for b in $(BENCHES); do \
	  if [ -x "$(BUILD_DIR)/bench/$$b" ]; then \
	    echo "=== $$b"; "./$(BUILD_DIR)/bench/$$b" || exit $$?; ran=1; \
	  else \
	    echo "=== $$b: not built (skipped)"; \
	  fi; \
	done; \
	[ $$ran -eq 1 ] || echo "no benchmark programs were built"

format:
	@if [ -z "$(strip $(FORMAT_SRCS))" ]; then echo "no sources to format"; \
	else $(CLANG_FORMAT) -i $(FORMAT_SRCS) && echo "formatted $(words $(FORMAT_SRCS)) file(s)"; fi

# Lists the files that differ from .clang-format (run `make format` to fix them);
# `$(CLANG_FORMAT) --dry-run --Werror FILE` shows the exact lines.
format-check:
	@bad=0; for f in $(FORMAT_SRCS); do \
	  $(CLANG_FORMAT) --dry-run --Werror "$$f" >/dev/null 2>&1 || { echo "needs formatting: $$f"; bad=$$((bad+1)); }; \
	done; \
	if [ $$bad -ne 0 ]; then echo "format-check: $$bad of $(words $(FORMAT_SRCS)) file(s) need formatting (make format)"; exit 1; fi; \
	echo "format-check: $(words $(FORMAT_SRCS)) file(s) clean"

clean:
	rm -rf build
