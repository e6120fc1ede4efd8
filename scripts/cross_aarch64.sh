#!/usr/bin/env bash
# Cross-builds the runtime for 64-bit Arm Linux (libquicksr and its tests, QUICKSR_RUNTIME_ONLY)
# with Debian's cross compiler and runs the tests under qemu-user: the portable kernels, the only
# ones an Arm build has, against the same references as on x86. Not part of .ci/run (emulation
# is slow); run it when engine, kernel-registry or build code changes. CTEST_ARGS select tests.
#
#   scripts/cross_aarch64.sh [BUILD_DIR] [CTEST_ARGS...]    (default build-aarch64; e.g. -R QU8)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
shift || true
scripts/setup.sh --aarch64
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DQUICKSR_RUNTIME_ONLY=ON \
  "${launcher[@]}"
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -LE heavy "$@"
