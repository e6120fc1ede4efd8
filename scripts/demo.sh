#!/usr/bin/env bash
# The main job: set up, build, and upscale the bundled sample with the built-in model.
# Writes samples/testcard_x2.png beside the input.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --quicksr
# Only what the command needs: no trainer (LibTorch), tests or benchmarks.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQUICKSR_WITH_TRAINING=OFF \
  -DQUICKSR_BUILD_TESTS=OFF -DQUICKSR_BUILD_BENCH=OFF >/dev/null
cmake --build build --target quicksr -j"$(nproc)"
build/quicksr upscale samples/testcard.png samples/testcard_x2.png --overwrite
