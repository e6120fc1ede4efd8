#!/usr/bin/env bash
# Set up, build and run the whole test suite: once in Release (then the installed library from
# example C and C++ programs), then once more under AddressSanitizer + UndefinedBehaviorSanitizer
# built by clang (without the LibTorch trainer and the "heavy" data-set tests, which the Release
# run covers).
# Each step's end is printed with the seconds since the start (the CI time breakdown).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
start=$SECONDS
step() { echo "=== test.sh: $1 done at $((SECONDS - start)) s"; }
scripts/setup.sh
scripts/install_ort.sh
step "setup"

# Options spelled out: a build folder configured by scripts/demo.sh has tests and trainer off.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQUICKSR_WITH_TRAINING=ON \
  -DQUICKSR_BUILD_TESTS=ON -DQUICKSR_BUILD_BENCH=ON
cmake --build build -j"$jobs"
step "Release build"
ctest --test-dir build --output-on-failure -j"$jobs"
step "Release tests"
# The installed library, from C and C++, through find_package and pkg-config.
scripts/test_package.sh build
# Start-up cost of quicksr, printed in the log (targets: --version < 50 ms, upscale of a 64x48
# PNG < 100 ms; docs/architecture.md).
if [ -x build/bench/startup_bench ]; then
  build/bench/startup_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
fi
step "package test and start-up benchmark"
# The runtime-only configuration (embedding, scripts/cross_aarch64.sh) still configures: the
# runtime's modules need none of the others (a few seconds; the cross build itself is not run).
cmake -S . -B build-runtime-only -DQUICKSR_RUNTIME_ONLY=ON > /dev/null

# clang, with the fuzz harnesses that scripts/fuzz.sh runs next in CI: one sanitized build.
scripts/sanitizer_build.sh
step "ASan + UBSan build"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE heavy
step "ASan + UBSan tests"
