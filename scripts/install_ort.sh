#!/usr/bin/env bash
# Installs ONNX Runtime for the ONNX tests: the npm package onnxruntime-node (its CPU library ships
# in the package; --ignore-scripts skips its download of GPU extras) into tests/onnx/ort, pinned by
# package-lock.json. A no-op when already installed. Tests skip with a message without it.
set -euo pipefail
cd "$(dirname "$0")/../tests/onnx/ort"
[ -f node_modules/onnxruntime-node/package.json ] && exit 0
npm ci --ignore-scripts --no-audit --no-fund
