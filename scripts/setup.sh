#!/usr/bin/env bash
# Installs every Debian package quicksr needs (with --quicksr: only those the quicksr command's
# build needs; about a tenth of the download; with --aarch64: those of the cross build of the
# runtime for 64-bit Arm, scripts/cross_aarch64.sh). Idempotent: a no-op when all are present.
set -euo pipefail

# What building the quicksr command needs (README command (a), scripts/demo.sh: `setup.sh --quicksr`).
QUICKSR_PACKAGES=(
  build-essential cmake pkg-config
  libpng-dev libjpeg62-turbo-dev libwebp-dev libtiff-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  nlohmann-json3-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
)
# Everything else the tests, benchmarks, trainer and fuzzers need (README command (b)).
PACKAGES=(
  "${QUICKSR_PACKAGES[@]}"
  ffmpeg  # the video tests make their clips with it
  python3  # scripts/engine_table.sh, scripts/paper_tables.sh (tables, the Fig. 1 SVG)
  libopencv-dnn-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libdnnl-dev ocl-icd-opencl-dev  # dnnl-config.cmake needs OpenCL, which it only recommends
  libtorch-dev libgloo-dev
  googletest libgtest-dev libbenchmark-dev
  # build-asan (scripts/sanitizer_build.sh): clang, libFuzzer and the sanitizer runtimes, and
  # clang's OpenMP, without which the oneDNN comparison (quicksr_engine_bench) is not built there.
  clang libclang-rt-dev libomp-dev
  lld  # links several times faster than GNU ld (CMakeLists.txt uses it where installed)
)
# Node.js for the ONNX Runtime tests (npm onnxruntime-node, scripts/install_ort.sh). A machine
# may already have it from elsewhere: NodeSource's nodejs bundles npm and conflicts with Debian's.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
# The cross build (QUICKSR_RUNTIME_ONLY): Debian's cross compiler, qemu-user to run the tests, and
# the runtime's libraries for arm64 beside the host's (multiarch).
AARCH64_PACKAGES=(
  build-essential cmake pkg-config nlohmann-json3-dev g++-aarch64-linux-gnu qemu-user
  libpng-dev:arm64 libjpeg62-turbo-dev:arm64 libwebp-dev:arm64 libtiff-dev:arm64
  libgtest-dev:arm64
)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
case "${1:-}" in
  --quicksr) PACKAGES=("${QUICKSR_PACKAGES[@]}") ;;
  --aarch64)
    PACKAGES=("${AARCH64_PACKAGES[@]}")
    dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
    ;;
esac

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
