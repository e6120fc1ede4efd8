#!/usr/bin/env bash
# Regenerates the section "Reproducing the paper: Table 4 and Fig. 7" of docs/quantization.md
# from model files, through the CLI only:
#
# - Table 4 (Small x2 and Medium x2): fp32, INT8 per-tensor without optimisation, QAT per tensor,
#   QAT per channel, AdaRound per channel, plus CLE and bias-correction rows (and quicksr's
#   optimised rounding). PTQ rows are quantized here with `quicksr quantize` (32 BSDS200 training
#   images, tf-enhanced); QAT rows read the run folders of `quicksr train --qat`.
# - Fig. 7: the short Small x2 runs with identity / default init and ReLU1 / ReLU, each quantized
#   per tensor and per channel without optimisation.
#
# Every row is scored with `quicksr eval` (reference protocol); INT8 cells are mean Y-PSNR in dB
# with the drop from their fp32 model in parentheses (what `quicksr eval --compare-fp32` prints;
# scores are cached in WORK by model checksum, so a second run only scores what changed). A row whose
# model file does not exist says "not trained" and gives the command that would make it; a
# quantization the CLI refuses says "not available" with the CLI's message. Nothing is filled in.
#
#   [SETS="BSD100 Set14 Set5"] [WORK=DIR] [RUNS=DIR] [FIG7=DIR] [DOC=FILE] [CACHED_ONLY=1]
#   [ROWS=REGEX] [ADAROUND_ITERATIONS=N] [ADAROUND_START_MARGIN=M]
#   scripts/paper_quant_tables.sh [QUICKSR_BINARY] [SHARED_DIR]
#
# Defaults: build/quicksr, ../shared, RUNS=runs (QAT run folders <size>-x2-qat and
# <size>-x2-qat-per-tensor, holding best-int8.safetensors and config.json; session 12's runs are
# committed in models/checkpoints/table4: RUNS=models/checkpoints/table4), FIG7=runs/fig7 (folders
# <init>-<activation> holding last.safetensors), WORK=a temporary folder for the PTQ models (an
# existing one is reused: models already in it are not quantized again), DOC=docs/quantization.md.
# The section between the two marker comments is replaced (appended when they are absent); the
# file is replaced atomically. CACHED_ONLY=1 writes the section from what WORK already holds
# (nothing is quantized or scored; missing cells say so). ROWS (an extended regex) narrows a run
# to the rows whose "<table>: <row label>" matches (e.g. ROWS='AdaRound' or 'Medium x2: QAT');
# every other row is copied unchanged from the current section of DOC, found by its label up to
# the parameters in parentheses (never computed: as CACHED_ONLY=1 when DOC has no such row).
# The AdaRound rows start from the optimised rounding and run ADAROUND_ITERATIONS steps per conv
# (default 1000) with the in-loop bias fit, each rounding variable starting ADAROUND_START_MARGIN
# (default 0.1) inside the optimised rounding's side. Evals run under `nice -n EVAL_NICE`
# (default 10; scripts/paper_lib.sh). Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
quicksr=${1:-build/quicksr}
shared=${2:-../shared}
read -r -a sets <<< "${SETS:-BSD100 Set14 Set5}"
runs=${RUNS:-runs}
fig7=${FIG7:-runs/fig7}
doc=${DOC:-docs/quantization.md}
if [ -n "${WORK:-}" ]; then
  work=$WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
adaround_iterations=${ADAROUND_ITERATIONS:-1000}
adaround_start_margin=${ADAROUND_START_MARGIN:-0.1}
calibration="$shared/data/train/BSDS200"
train_data="$shared/data/train/T91,$shared/data/train/BSDS200"
begin_marker="<!-- paper_quant_tables.sh: begin -->"
end_marker="<!-- paper_quant_tables.sh: end -->"
source scripts/paper_lib.sh

data_of() { echo "$shared/data/benchmarks/$1/HR"; }

# score MODEL SET: the mean PSNR of `quicksr eval` (cached by the model's checksum).
score() {
  psnr_of "$(cached_eval "$(model_key "$1")-$2" --model "$1" --data "$(data_of "$2")")"
}

# fp32_cells MODEL: " score |" per set.
fp32_cells() {
  local cells="" set
  for set in "${sets[@]}"; do cells+=" $(score "$1" "$set") |"; done
  echo "$cells"
}

# int8_cells INT8_MODEL FP32_MODEL: " score (drop) |" per set. The same numbers as `quicksr eval
# --model INT8_MODEL --compare-fp32 FP32_MODEL` (the same protocol, deterministic), with the fp32
# scores computed once per model.
int8_cells() {
  local cells="" set int8 fp32
  for set in "${sets[@]}"; do
    int8=$(score "$1" "$set")
    fp32=$(score "$2" "$set")
    cells+=" $(awk -v a="$fp32" -v b="$int8" 'BEGIN {
      if (a + 0 == 0 || b + 0 == 0) print b; else printf "%.4f (%.3f)", b, a - b }') |"
  done
  echo "$cells"
}

# missing_cells TEXT: TEXT in the first score column, the others empty.
missing_cells() {
  local cells=" $1 |" i
  for ((i = 1; i < ${#sets[@]}; ++i)); do cells+=" |"; done
  echo "$cells"
}

# ptq_cells FP32_MODEL NAME OPTIONS...: quantizes (once per WORK folder) and scores. A refusal of
# the CLI is kept beside the would-be model (.error) and shown as "not available".
ptq_cells() {
  local model=$1 name=$2 out
  shift 2
  out="$work/$name-$(echo "$*" | tr -d ' -').safetensors"
  if ! quantize_once "$out" "$calibration" "$model" "$@"; then
    missing_cells "not quantized yet: \`quicksr quantize $*\`"
    return
  fi
  if [ -f "$out.error" ]; then
    missing_cells "not available: \`quicksr quantize $*\` says \"$(cat "$out.error")\""
  else
    int8_cells "$out" "$model"
  fi
}

# trained_cells INT8_MODEL FP32_MODEL COMMAND: scores, or "not trained" and the command.
trained_cells() {
  if [ -f "$1" ]; then
    int8_cells "$1" "$2"
  else
    missing_cells "not trained (\`$1\` is absent): \`$3\`"
  fi
}

# row TABLE LABEL COMMAND...: "| LABEL |" and the cells COMMAND prints. With ROWS set and
# "TABLE: LABEL" not matching it, nothing is computed: the row is TABLE's current row in DOC whose
# label is LABEL's key (LABEL up to a " (" that gives its parameters, e.g. AdaRound's step count)
# alone or followed by " (", so that changing a parameter does not recompute unselected rows; with
# no such row, the cells as CACHED_ONLY=1 makes them.
row() {
  local table=$1 label=$2 kept
  shift 2
  if [ -n "${ROWS:-}" ] && ! [[ "$table: $label" =~ $ROWS ]]; then
    kept=$(awk -v table="$table" -v key="| ${label%% (*}" '
      index($0, "**" table "**") == 1 || index($0, "### " table) == 1 { inside = 1; next }
      /^\*\*/ || /^#/ { inside = 0 }
      inside && (index($0, key " |") == 1 || index($0, key " (") == 1) { print; exit }' "$doc")
    if [ -n "$kept" ]; then
      echo "$kept"
      return
    fi
    # DOC has no such row: what WORK holds already, nothing computed.
    echo "| $label |$(CACHED_ONLY=1 "$@")"
    return
  fi
  echo "| $label |$("$@")"
}

# iterations_of MODEL: the iteration count of its provenance, or "?".
iterations_of() {
  "$quicksr" info "$1" < /dev/null | awk '$1 == "iterations:" { print $2; found = 1 }
    END { if (!found) print "?" }'
}

# qat_label BEST_INT8: which checkpoint of its QAT run a row shows (best by Kodak24 validation).
qat_label() {
  local total
  total=$(grep -o '"iterations": *[0-9]*' "$(dirname "$1")/config.json" 2>/dev/null |
    grep -o '[0-9]*$' || true)
  echo " (the best Kodak24 checkpoint: iteration $(iterations_of "$1") of ${total:-?})"
}

header_cells() {
  local header="| $1 |" rule="|---|" set
  for set in "${sets[@]}"; do
    header+=" $set |"
    rule+="---|"
  done
  echo "$header $2 |"
  echo "$rule---|"
}

qat_command() {  # qat_command SIZE RUN_DIR [--per-tensor]
  echo "quicksr train --qat ${3:+$3 }--preset $1 --from models/quicksrnet-$1-x2.safetensors" \
    "--data $train_data --val $shared/data/extra/Kodak24 --out $2 --iterations 4000" \
    "--lr 1e-5 --lr-min 1e-6 --val-every 500 --checkpoint-every 500"
}

# Table 4 of the paper, BSD100 (FP16 and INT8 columns; CLE and bias correction have no numbers).
declare -A paper=(
  [small.fp32]="31.61" [small.none]="30.81 (0.80)" [small.qat]="31.34 (0.27)"
  [small.qat_pc]="31.57 (0.04)" [small.adaround]="31.56 (0.05)"
  [medium.fp32]="31.82" [medium.none]="30.74 (1.08)" [medium.qat]="31.61 (0.21)"
  [medium.qat_pc]="31.75 (0.07)" [medium.adaround]="31.77 (0.05)"
)

table4() {  # table4 SIZE
  local size=$1 fp32="models/quicksrnet-$1-x2.safetensors" name="$1-x2" qat qat_pt
  local table="${1^} x2"
  qat="$runs/$name-qat/best-int8.safetensors"
  qat_pt="$runs/$name-qat-per-tensor/best-int8.safetensors"
  echo "**$table** (\`$fp32\`)"
  echo
  header_cells "row" "paper, BSD100"
  row "$table" "fp32" with_paper "${paper[$size.fp32]} (FP16)" fp32_cells "$fp32"
  row "$table" "INT8 per-tensor, no optimisation (PTQ)" with_paper "${paper[$size.none]}" \
    ptq_cells "$fp32" "$name" --per-tensor
  local label="QAT per-tensor"
  [ -f "$qat_pt" ] && label+=$(qat_label "$qat_pt")
  row "$table" "$label" with_paper "${paper[$size.qat]}" trained_cells "$qat_pt" "$fp32" \
    "$(qat_command "$size" "$runs/$name-qat-per-tensor" --per-tensor)"
  label="QAT per-channel"
  [ -f "$qat" ] && label+=$(qat_label "$qat")
  row "$table" "$label" with_paper "${paper[$size.qat_pc]}" trained_cells "$qat" "$fp32" \
    "$(qat_command "$size" "$runs/$name-qat")"
  row "$table" "AdaRound per-channel (from the optimised rounding, start margin \
$adaround_start_margin, $adaround_iterations steps/conv)" \
    with_paper "${paper[$size.adaround]}" ptq_cells "$fp32" "$name" --per-channel \
    --optimize-rounding --adaround --bias-correction --adaround-iterations "$adaround_iterations" \
    --adaround-start-margin "$adaround_start_margin"
  row "$table" "PTQ per-channel, no optimisation" with_paper "—" \
    ptq_cells "$fp32" "$name" --per-channel
  row "$table" "PTQ per-channel tf (min/max encodings), no optimisation" with_paper "—" \
    ptq_cells "$fp32" "$name" --per-channel --scheme tf
  row "$table" "PTQ per-channel + CLE" with_paper "—" \
    ptq_cells "$fp32" "$name" --per-channel --cle
  row "$table" "PTQ per-channel + bias correction" with_paper "—" \
    ptq_cells "$fp32" "$name" --per-channel --bias-correction
  row "$table" "PTQ per-channel + CLE + bias correction" with_paper "—" \
    ptq_cells "$fp32" "$name" --per-channel --cle --bias-correction
  row "$table" "PTQ per-channel + optimised rounding (quicksr's, not in the paper)" \
    with_paper "—" ptq_cells "$fp32" "$name" --per-channel --optimize-rounding
  echo
}

# with_paper TEXT COMMAND...: the cells COMMAND prints, then the paper's cell TEXT.
with_paper() {
  local paper_cell=$1
  shift
  echo "$("$@") $paper_cell |"
}

fig7() {
  header_cells "run (Small x2)" "iterations"
  local run init activation model command
  for run in identity-relu1 identity-relu default-relu1 default-relu; do
    init=${run%%-*}
    activation=${run#*-}
    model="$fig7/$run/last.safetensors"
    command="quicksr train --preset small --scale 2 --init $init --activation $activation"
    command+=" --data $train_data --out $fig7/$run --iterations 1000 --seed 1"
    if [ ! -f "$model" ]; then
      echo "| $run fp32 |$(missing_cells "not trained (\`$model\` is absent): \`$command\`") |"
      continue
    fi
    local iterations
    iterations=$(iterations_of "$model")
    row "Fig. 7" "$run fp32" with_paper "$iterations" fp32_cells "$model"
    row "Fig. 7" "$run INT8 per-tensor" with_paper "$iterations" \
      ptq_cells "$model" "fig7-$run" --per-tensor
    row "Fig. 7" "$run INT8 per-channel" with_paper "$iterations" \
      ptq_cells "$model" "fig7-$run" --per-channel
  done
}

section() {
  echo "$begin_marker"
  echo
  echo "## Reproducing the paper: Table 4 and Fig. 7 (\`scripts/paper_quant_tables.sh\`)"
  echo
  echo "Generated by \`scripts/paper_quant_tables.sh\` on $(date -u +%Y-%m-%d) (sets: ${sets[*]})."
  if [ -n "${ROWS:-}" ]; then
    echo "That run computed the rows matching ROWS='$ROWS' and copied the others from the"
    echo "run before."
  fi
  echo "Mean Y-PSNR in dB (\`quicksr eval\`, reference protocol), drop from the fp32 model in"
  echo "parentheses (as \`quicksr eval --compare-fp32\` prints it). PTQ: \`quicksr quantize\` with"
  echo "32 BSDS200 training images, tf-enhanced encodings. The paper's column is its Table 4"
  echo "(BSD100; its fp32 column is FP16; it gives no numbers for CLE or bias correction, only"
  echo "that CLE did not work well). \"not scored yet\" / \"not quantized yet\": cells the run that"
  echo "wrote this section had no time for (CACHED_ONLY=1); running the script again fills them."
  echo
  echo "### Table 4"
  echo
  table4 small
  table4 medium
  echo "### Fig. 7: identity init and ReLU1"
  echo
  echo "Short Small x2 runs (\`quicksr train --init identity|default --activation relu1|relu\`,"
  echo "seed 1, batch 16, LR patch 64, T91 + BSDS200; recipe of the runs in \`$fig7\`: cosine"
  echo "1e-3 -> 1e-6 planned over 2000 iterations and shortened to 1000 at the iteration-500"
  echo "checkpoint, the budget of a shared 2-core machine), each quantized without optimisation"
  echo "per tensor and per channel. The paper shows Fig. 7 as a chart without numbers; its finding"
  echo "is that removing identity init, ReLU1 or both makes the drop after quantization"
  echo "significantly worse."
  echo
  fig7
  echo
  echo "$end_marker"
}

replace_section "$doc" "$begin_marker" "$end_marker" "$(section)"
echo "wrote $doc" >&2
