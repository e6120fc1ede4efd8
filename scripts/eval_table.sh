#!/usr/bin/env bash
# Regenerates the score table of docs/evaluation.md through the CLI: MATLAB-style bicubic (both
# protocols) and the official weights (converted from ONNX) on Set5, Set14 and BSD100 at x2, x3, x4
# and x1.5. There are official weights for x2 and x4 only. Each cell is the "mean" line printed by
# `quicksr eval` (PSNR dB / SSIM on Y). SESR-M5 and XLSR run on the reference runtime: the whole
# table takes about half an hour on 2 cores.
#
#   scripts/eval_table.sh [QUICKSR_BINARY] [SHARED_DIR] > table.md
#
# Defaults: build/quicksr and ../shared. Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
quicksr=${1:-build/quicksr}
shared=${2:-../shared}
models=$(mktemp -d)
trap 'rm -rf "$models"' EXIT

# scores ARGS...: "PSNR / SSIM" from the mean line of `quicksr eval ARGS`.
scores() {
  "$quicksr" eval "$@" | awk '$1 == "mean" { print $2 " / " $3 }'
}

# official ARCH SCALE: the converted official model of that scale, or nothing when there is none.
official() {
  local onnx
  onnx=$(find "$shared/models/reference" -name "$1-$2x-*.onnx" | head -n 1)
  [ -n "$onnx" ] || return 0
  local model="$models/$1-x$2.safetensors"
  [ -f "$model" ] || "$quicksr" convert "$onnx" "$model" > /dev/null
  echo "$model"
}

echo "| set | scale | bicubic, quicksr protocol | bicubic, basicsr protocol | QuickSRNet-Small | XLSR | SESR-M5 |"
echo "|---|---|---|---|---|---|---|"
for set in Set5 Set14 BSD100; do
  data="$shared/data/benchmarks/$set/HR"
  for scale in 2 3 4 1.5; do
    row="| $set | x$scale | $(scores --method bicubic --scale "$scale" --data "$data")"
    row+=" | $(scores --method bicubic --scale "$scale" --data "$data" --protocol basicsr)"
    for arch in quicksrnetsmall xlsr sesr_m5; do
      model=$(official "$arch" "$scale")
      if [ -n "$model" ]; then
        row+=" | $(scores --model "$model" --data "$data")"
      else
        row+=" | no official weights"
      fi
    done
    echo "$row |"
  done
done
