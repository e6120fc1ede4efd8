#!/usr/bin/env bash
# Set up, build and run the whole test suite: once in Release (then the installed library from
# example C and C++ programs), then once more under AddressSanitizer + UndefinedBehaviorSanitizer
# (without the LibTorch trainer and the "heavy" data-set tests, which the Release run covers).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
scripts/setup.sh
scripts/install_ort.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
# The installed library, from C and C++, through find_package and pkg-config.
scripts/test_package.sh build
# Start-up cost of quicksr, printed in the log (targets: --version < 50 ms, upscale of a 64x48
# PNG < 100 ms; docs/architecture.md).
if [ -x build/bench/startup_bench ]; then
  build/bench/startup_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
fi

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUICKSR_SANITIZE=ON \
  -DQUICKSR_WITH_TRAINING=OFF -DQUICKSR_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE heavy
