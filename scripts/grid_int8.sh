#!/usr/bin/env bash
# Quantizes a trained grid point of the paper's Table 2 (models/quicksrnet-fF-mM-xS.safetensors)
# with the shipped Small x2's INT8 recipe and writes its INT8 file and model card beside it:
# models/NAME-int8.safetensors and models/NAME-int8.md (scores against the fp32 model).
#
#   scripts/grid_int8.sh MODEL [QUICKSR_BINARY] [SHARED_DIR]
#
# Defaults: build/quicksr and ../shared. Refuses to replace an existing INT8 file.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
quicksr=${2:-build/quicksr}
shared=${3:-../shared}
name=$(basename "${model%.safetensors}")
int8=models/$name-int8.safetensors
card=models/$name-int8.md
if [ -e "$int8" ]; then
  echo "grid_int8.sh: $int8 exists; delete it first to re-quantize" >&2
  exit 1
fi

start=$(date +%s)
"$quicksr" quantize "$model" --data "$shared/data/train/BSDS200" --images 32 --optimize-rounding \
  --out "$int8"
seconds=$(($(date +%s) - start))

# score_rows: "| set | INT8 PSNR | INT8 SSIM | fp32 PSNR | fp32 SSIM | drop |" per benchmark set.
score_rows() {
  local set
  for set in Set5 Set14 BSD100; do
    "$quicksr" eval --model "$int8" --data "$shared/data/benchmarks/$set/HR" --compare-fp32 "$model" |
      awk -v set="$set" '$1 == "mean" && $2 == "PSNR" { fp = $4; q = $5 }
        $1 == "mean" && $2 == "SSIM" { fs = $3; qs = $4 }
        END { printf "| %s | %.3f | %.4f | %.3f | %.4f | %.3f |\n", set, q, qs, fp, fs, fp - q }'
  done
}

cat > "$card.tmp" <<EOF
# $name-int8

INT8 (W8A8) version of [\`$name\`]($name.md), a grid point of the paper's Table 2 trained here on
the table schedule: s8 weights per output channel, u8 activations, s32 biases
(docs/quantization.md). It fills the INT8 cell of its Table 2 row (docs/paper-tables.md);
\`quicksr upscale\`, \`eval\` and \`bench\` run it on the INT8 engine.

## Scores (default protocol: Y-PSNR / SSIM, LR by MATLAB-style bicubic truncated to 8 bits)

| set | PSNR (dB) | SSIM | fp32 PSNR (dB) | fp32 SSIM | PSNR drop (dB) |
|---|---|---|---|---|---|
$(score_rows)

Measured with \`quicksr eval --model $int8 --data
../shared/data/benchmarks/SET/HR --compare-fp32 $model\`.

## How it was made

\`\`\`sh
scripts/grid_int8.sh $model
# which runs
quicksr quantize $model --data ../shared/data/train/BSDS200 \\
  --images 32 --optimize-rounding --out $int8
\`\`\`

The recipe of the shipped Small x2 INT8 file: post-training quantization, per-channel weights,
tf-enhanced encodings, optimised rounding, 32 BSDS200 training images; no benchmark image, no QAT
or AdaRound. Quantizing took $seconds s of wall time ($(date -u +%Y-%m-%d), load average
$(cut -d' ' -f1 /proc/loadavg)).
EOF
mv "$card.tmp" "$card"
echo "wrote $int8 and $card"
