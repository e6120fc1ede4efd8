#!/usr/bin/env bash
# Regenerates the PTQ table of docs/quantization.md through the CLI: each shipped fp32 model given
# on the command line (default: Small x2 and Medium x2) and its INT8 variants, quantized with
# `quicksr quantize` (calibration: 32 images of the training set BSDS200, never a benchmark set)
# and scored with `quicksr eval` (reference protocol, integer reference runtime until the INT8
# engine lands) on Set5, Set14 and BSD100. Each cell is mean Y-PSNR (dB); the drop column is
# fp32 - INT8 on BSD100. Small x2 takes about 15 minutes on one free core, Medium x2 about 35.
#
#   scripts/quant_table.sh [QUICKSR_BINARY] [SHARED_DIR] [MODEL...] > table.md
#
# Defaults: build/quicksr, ../shared, models/quicksrnet-{small,medium}-x2.safetensors. Progress
# goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
quicksr=${1:-build/quicksr}
shared=${2:-../shared}
shift $(($# > 2 ? 2 : $#))
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(models/quicksrnet-small-x2.safetensors
                                  models/quicksrnet-medium-x2.safetensors)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
calibration="$shared/data/train/BSDS200"

# psnr MODEL SET: the mean PSNR printed by `quicksr eval`.
psnr() {
  "$quicksr" eval --model "$1" --data "$shared/data/benchmarks/$2/HR" |
    awk '$1 == "mean" { print $2 }'
}

# row LABEL MODEL FP32_BSD100: one table row; FP32_BSD100 empty for the fp32 row itself.
row() {
  local set5 set14 bsd100 drop
  set5=$(psnr "$2" Set5)
  set14=$(psnr "$2" Set14)
  bsd100=$(psnr "$2" BSD100)
  drop=${3:+$(awk -v a="$3" -v b="$bsd100" 'BEGIN { printf "%.3f", a - b }')}
  echo "| $1 | $set5 | $set14 | $bsd100 | ${drop:-} |" >&2
  echo "| $1 | $set5 | $set14 | $bsd100 | ${drop:-} |"
}

echo "| model | Set5 | Set14 | BSD100 | BSD100 drop |"
echo "|---|---|---|---|---|"
for model in "${models[@]}"; do
  name=$(basename "$model" .safetensors)
  fp32_row=$(row "$name fp32" "$model" "")
  echo "$fp32_row"
  fp32_bsd100=$(echo "$fp32_row" | awk -F'|' '{ gsub(/ /, "", $5); print $5 }')
  while IFS=: read -r label options; do
    out="$work/$name-$label.safetensors"
    # shellcheck disable=SC2086  # options are several words
    "$quicksr" quantize "$model" --data "$calibration" --images 32 --out "$out" $options \
      > /dev/null
    row "$name INT8 $label" "$out" "$fp32_bsd100"
  done <<'VARIANTS'
per-tensor tf-enhanced (no optimisation):--per-tensor
per-channel tf:--per-channel --scheme tf
per-channel tf-enhanced:--per-channel
per-channel tf-enhanced + CLE:--per-channel --cle
per-channel tf-enhanced + CLE + bias correction:--per-channel --cle --bias-correction
per-channel tf-enhanced + bias correction:--per-channel --bias-correction
VARIANTS
done
