#!/usr/bin/env bash
# Installs quicksr from BUILD_DIR into a temporary prefix and builds and runs the example C and
# C++ programs (tests/package) against that installation, once through find_package(quicksr)
# and once through pkg-config. Also checks the library's soname and that it needs no LibTorch,
# oneDNN or ONNX.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
library=$(find "$prefix" -name 'libquicksr.so.*.*' -type f)
libdir=$(dirname "$library")
readelf -d "$library" | grep -q 'SONAME.*\[libquicksr\.so\.0\]' ||
  { echo "test_package: $library has no soname libquicksr.so.0" >&2; exit 1; }
if ldd "$library" | awk '{print $1}' | grep -Ei 'torch|c10|dnnl|onnx|protobuf'; then
  echo "test_package: libquicksr.so needs a library that is not part of the runtime" >&2
  exit 1
fi

# Every installed header compiles on its own (C for quicksr.h, C++20 for the others).
for header in "$prefix"/include/quicksr/*; do
  include="#include <quicksr/$(basename "$header")>"
  case "$header" in
    *.h) compile=(cc -std=c99 -x c) ;;
    *) compile=(c++ -std=c++20 -x c++) ;;
  esac
  "${compile[@]}" -Wall -Werror -fsyntax-only -I"$prefix/include" - <<<"$include" ||
    { echo "test_package: $header does not compile on its own" >&2; exit 1; }
done

# An 8-bit 40x30 PPM test pattern, and the expected header of its x2 result.
input=$work/in.ppm
{
  printf 'P6\n40 30\n255\n'
  LC_ALL=C awk 'BEGIN { for (y = 0; y < 30; y++) for (x = 0; x < 40; x++)
    printf "%c%c%c", x * 6, y * 8, (x * y) % 256 }'
} >"$input"
check_ppm() {
  [ "$(head -c 12 "$1")" = "$(printf 'P6\n80 60\n255')" ] &&
    [ "$(stat -c %s "$1")" -eq $((13 + 80 * 60 * 3)) ] ||
    { echo "test_package: $1 is not an 80x60 PPM" >&2; exit 1; }
}

echo "test_package: find_package(quicksr)"
cmake -S tests/package -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/upscale_ppm" "$input" "$work/cmake.ppm"
check_ppm "$work/cmake.ppm"
"$work/consumer/upscale_png" samples/testcard.png "$work/cmake.png"

echo "test_package: pkg-config quicksr"
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046  # the flags are separate words
cc -std=c99 -Wall -Werror -o "$work/upscale_ppm" tests/package/upscale_ppm.c \
  $(pkg-config --cflags --libs quicksr)
# shellcheck disable=SC2046
c++ -std=c++20 -Wall -Werror -o "$work/upscale_png" tests/package/upscale_png.cpp \
  $(pkg-config --cflags --libs quicksr)
LD_LIBRARY_PATH=$libdir "$work/upscale_ppm" "$input" "$work/pkg.ppm"
check_ppm "$work/pkg.ppm"
cmp "$work/cmake.ppm" "$work/pkg.ppm"
LD_LIBRARY_PATH=$libdir "$work/upscale_png" samples/testcard.png "$work/pkg.png"
if LD_LIBRARY_PATH=$libdir "$work/upscale_png" "$work/missing.png" "$work/x.png" 2>/dev/null; then
  echo "test_package: a missing input did not fail" >&2
  exit 1
fi
echo "test_package: ok"
