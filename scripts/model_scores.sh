#!/usr/bin/env bash
# Scores one model for its model card through the CLI: `quicksr eval` (default protocol, fp32
# engine) on Set5, Set14, BSD100 and the Kodak24 validation set, as Markdown table rows
# "| set | PSNR | SSIM |".
#
#   scripts/model_scores.sh MODEL [QUICKSR_BINARY] [SHARED_DIR]
#
# Defaults: build/quicksr and ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
quicksr=${2:-build/quicksr}
shared=${3:-../shared}

echo "| set | PSNR (dB) | SSIM |"
echo "|---|---|---|"
for set in benchmarks/Set5/HR benchmarks/Set14/HR benchmarks/BSD100/HR extra/Kodak24; do
  name=$(basename "${set%/HR}")
  "$quicksr" eval --model "$model" --data "$shared/data/$set" |
    awk -v name="$name" '$1 == "mean" { printf "| %s | %.3f | %.4f |\n", name, $2, $3 }'
done
