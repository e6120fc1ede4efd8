#!/usr/bin/env bash
# Configures build-asan/: clang with AddressSanitizer + UndefinedBehaviorSanitizer, the test suite
# and the libFuzzer harnesses in ONE build, shared by scripts/test.sh (tests) and scripts/fuzz.sh
# (fuzzers), so CI compiles the sanitized libraries once. No LibTorch trainer, no benchmarks: the
# Release run covers them. The compiler is named explicitly: CMake then starts afresh in a folder
# configured with another compiler (an older gcc build-asan).
# usage: scripts/sanitizer_build.sh [cmake --build options, e.g. --target fuzz_seeds]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DQUICKSR_SANITIZE=ON -DQUICKSR_FUZZ=ON -DQUICKSR_WITH_TRAINING=OFF -DQUICKSR_BUILD_TESTS=ON \
  -DQUICKSR_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)" "$@"
