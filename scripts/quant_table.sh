#!/usr/bin/env bash
# Regenerates the PTQ table of docs/quantization.md through the CLI: each shipped fp32 model given
# on the command line (default: Small x2 and Medium x2) and its INT8 variants, quantized with
# `quicksr quantize` (calibration: 32 images of the training set BSDS200, never a benchmark set)
# and scored with `quicksr eval` (reference protocol, integer reference runtime until the INT8
# engine lands) on Set5, Set14 and BSD100. Each cell is mean Y-PSNR (dB) with the drop from fp32
# in parentheses.
#
#   [SETS="Set5 Set14"] [WORK=DIR] scripts/quant_table.sh [QUICKSR_BINARY] [SHARED_DIR] [MODEL...]
#
# Defaults: build/quicksr, ../shared, models/quicksrnet-{small,medium}-x2.safetensors, all three
# sets, a temporary WORK folder for the INT8 models (an existing one is reused: models already in
# it are not quantized again, so a second run can add BSD100). Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
quicksr=${1:-build/quicksr}
shared=${2:-../shared}
shift $(($# > 2 ? 2 : $#))
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(models/quicksrnet-small-x2.safetensors
                                  models/quicksrnet-medium-x2.safetensors)
read -r -a sets <<< "${SETS:-Set5 Set14 BSD100}"
if [ -n "${WORK:-}" ]; then
  work=$WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
calibration="$shared/data/train/BSDS200"

# psnr MODEL SET: the mean PSNR printed by `quicksr eval`.
psnr() {
  "$quicksr" eval --model "$1" --data "$shared/data/benchmarks/$2/HR" < /dev/null |
    awk '$1 == "mean" { print $2 }'
}

# row LABEL MODEL [FP32_SCORES...]: one table row; with the fp32 scores, each cell shows the drop.
row() {
  local label=$1 model=$2 line score i=0
  shift 2
  line="| $label |"
  for set in "${sets[@]}"; do
    score=$(psnr "$model" "$set")
    if [ $# -gt $i ]; then
      local fp32=("$@")
      score+=$(awk -v a="${fp32[$i]}" -v b="$score" 'BEGIN { printf " (%.3f)", a - b }')
    fi
    line+=" $score |"
    i=$((i + 1))
  done
  echo "$line" >&2
  echo "$line"
}

header="| model |"
rule="|---|"
for set in "${sets[@]}"; do
  header+=" $set |"
  rule+="---|"
done
echo "$header"
echo "$rule"
for model in "${models[@]}"; do
  name=$(basename "$model" .safetensors)
  fp32_row=$(row "$name fp32" "$model")
  echo "$fp32_row"
  read -r -a fp32_scores <<< "$(echo "$fp32_row" | tr -d '|' | awk '{ $1 = $2 = ""; print }')"
  while IFS=: read -r label options; do
    out="$work/$name-int8-$(echo "$options" | tr -d ' -').safetensors"
    if [ ! -f "$out" ]; then
      # shellcheck disable=SC2086  # options are several words
      "$quicksr" quantize "$model" --data "$calibration" --images 32 --out "$out" $options < /dev/null \
        > /dev/null
    fi
    row "$name INT8 $label" "$out" "${fp32_scores[@]}"
  done <<'VARIANTS'
per-tensor tf-enhanced (no optimisation):--per-tensor
per-channel tf:--per-channel --scheme tf
per-channel tf-enhanced:--per-channel
per-channel tf-enhanced + CLE:--per-channel --cle
per-channel tf-enhanced + CLE + bias correction:--per-channel --cle --bias-correction
per-channel tf-enhanced + bias correction:--per-channel --bias-correction
per-channel tf-enhanced + optimised rounding:--per-channel --optimize-rounding
VARIANTS
done
