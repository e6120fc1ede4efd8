#!/usr/bin/env bash
# Trains the models that fill the tables of docs/paper-tables.md (scripts/paper_tables.sh), one
# run after another in the order of the queue below, with the table schedule: the shared recipe of
# docs/training.md at ITERATIONS iterations, the cosine schedule (1e-3 -> 1e-6) over the run
# (train_args names the architecture that starts at another rate).
#
# - Each run resumes from runs/NAME, else from its committed copy models/checkpoints/NAME.
# - After every run or stop, its checkpoint, last model, config.json, log.csv and time sheet
#   (segments.tsv) are copied to models/checkpoints/NAME, to be committed.
# - A finished run's last model goes to models/NAME.safetensors (where paper_tables.sh looks), with
#   its validation curve models/NAME-val-psnr.svg and a card models/NAME.md (scores from
#   scripts/model_scores.sh). A run whose model exists is done and skipped
#   (scripts/retire_table_run.sh retires one whose recipe changed).
# - SIGTERM or SIGINT stops the current run after its step (quicksr train writes its checkpoint),
#   copies it as above and exits with 143; the same command continues. A run that fails otherwise
#   is reported and the queue goes on.
#
#   [ITERATIONS=8000] [THREADS=2] [ONLY="NAME ..."] [DRY_RUN=1] [ROOT=DIR] [TRAIN_ARGS="..."]
#   scripts/paper_train.sh [QUICKSR_BINARY] [SHARED_DIR]
#
# Defaults: build/quicksr, ../shared. ONLY keeps those runs of the queue (in queue order); DRY_RUN=1
# prints each run's state and command and trains nothing; ROOT (default: the repository) holds
# runs/ and models/; TRAIN_ARGS is appended to every `quicksr train` command (the test's tiny runs).
# Everything runs at nice 19; started as the leader of its own session (setsid), the script also
# sets that session's autogroup to 19, so that it only uses idle CPU:
#
#   nohup setsid nice -n 19 scripts/paper_train.sh > runs/paper_train.log 2>&1 &
#   kill -TERM "$(pgrep -f scripts/paper_train.sh)"   # stops the current run cleanly
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
quicksr=$(realpath "${1:-build/quicksr}")
shared=$(realpath "${2:-../shared}")  # absolute: the data folders are part of a run's identity
iterations=${ITERATIONS:-8000}
root=${ROOT:+$ROOT/}  # prefix of runs/ and models/
read -r -a only <<< "${ONLY:-}"
read -r -a extra_args <<< "${TRAIN_ARGS:-}"
renice -n 19 -p $$ > /dev/null
if [ "$(ps -o sid= -p $$ | tr -d ' ')" = $$ ]; then echo 19 > /proc/$$/autogroup; fi

# One NET:SCALE[:ARM] per run: a QuickSRNet grid point fF-mM (`--preset`; model quicksrnet-fF-mM-xS,
# Table 2) or a baseline (`--arch`; model ARCH-xS, Tables 1 and 3). The model's file name in models/
# (run_name) also names the run folder and the checkpoint folder. Ordered by table cells per
# CPU-hour; the cost of a step is about the conv MACs per LR pixel (`quicksr info`):
#   f32-m1 13.5K, XLSR 17.3K, f32-m2 22.8K, FSRCNN 24.3K, ESPCN 26.7K, f32-m3 32.0K, ABPN 33.3K,
#   f32-m7 68.8K, f32-m11 105.7K (x2; at x4 the last conv is 4x wider: f32-m1 1.8x, ABPN 1.9x);
#   SESR trains collapsed in the forward pass (its expanded parameters, the collapsed convs' cost):
#   12.9K (M3) - 31.4K (M11), XL 113K; ERFDN 396K; EDSR 1.37M. FSRCNN's transposed conv once cost
#   10-20x its MACs (LibTorch's reference-BLAS path), no more.
# f32-m2 x2 is Small on the table schedule: beside the shipped Small x2 (34 000 iterations) it
# measures what the shorter schedule costs. NET:SCALE:ARM is an arm of the recipe A/B of
# docs/training.md ("Recipe A/B plan"; arm_args below), run as a model NAME-ARM.
queue=(
  # the x2 rows of Tabs. 1-3, cheap nets first (ESPCN was started before the queue), with the
  # recipe A/B arms on Small x2 (arm A is f32-m2:2 itself)
  espcn:2 f32-m1:2 f32-m2:2 f32-m3:2 abpn:2 abpn-noresidual:2 f32-m2:2:seed2 f32-m2:2:scaleaug
  xlsr:2 fsrcnn:2 f32-m2:2:scaleaug-seed2 f32-m7:2 f32-m2:2:patch96-batch7
  f32-m2:2:patch96-shorter f32-m2:2:patch96-batch7-seed2 f32-m2:2:patch96-shorter-seed2
  sesr-m3:2 sesr-m5:2 sesr-m7:2 sesr-m11:2
  # x3 and x4 of the cheap nets, f32-m11 x2; Medium (f32-m5) x3/x4 on the table schedule, as no
  # Medium x3/x4 is shipped (and Medium x1.5 beside its x3 for Tab. 7, queued after SESR-XL x2)
  f32-m1:3 f32-m1:4 espcn:3 espcn:4 xlsr:3 xlsr:4 fsrcnn:3 fsrcnn:4 f32-m3:3 f32-m3:4
  sesr-m3:3 sesr-m3:4 sesr-m5:3 sesr-m5:4 abpn:3 abpn:4 sesr-m7:3 sesr-m7:4 sesr-m11:3 sesr-m11:4
  f32-m5:3 f32-m5:4 f32-m7:3 f32-m7:4 f32-m11:2 sesr-xl:2 f32-m5:1.5 sesr-xl:3 sesr-xl:4 f32-m11:3 f32-m11:4
  # Large x2 (f64-m11 with its anchor; ~414K MACs per pixel, 6x f32-m7: hours, over sessions)
  f64-m11:2
  # Table 1's residual-free ABPN, 3x longer (and ABPN beside it): does the gap to ABPN close?
  abpn-noresidual:2:long3x abpn:2:long3x
  # SESR-M7 x3 stalled at seed 1 (its dead first-block channels, docs/training.md): a second seed
  sesr-m7:3:seed2
  # ERFDN and EDSR: 17-60x the cost of Small per step (days on this machine), x2 first;
  # Large x3 and x4 (Table 3's f64-m11 rows; Large x2 took 94 min here) between them, Large x1.5
  # beside its x3 (Table 7's Large row; its net runs at half the LR size: about a quarter the cost)
  erfdn:2 erfdn:3 erfdn:4 f64-m11:3 f64-m11:1.5 f64-m11:4
  edsr-baseline:2 edsr-baseline:3 edsr-baseline:4
)

# run_name NET SCALE and train_args NET SCALE: a queue entry's name and `quicksr train` arguments.
is_grid_point() { [[ $1 =~ ^f[0-9]+-m[0-9]+$ ]]; }
# (x1.5 is named x1_5, as the shipped files are.)
run_name() {
  local scale=${2/./_}
  if is_grid_point "$1"; then echo "quicksrnet-$1-x$scale${3:+-$3}"; else echo "$1-x$scale${3:+-$3}"; fi
}
# The paper's f64-m11 is Large, which keeps the input-to-output anchor. The paper tuned the
# learning rate per architecture; Large's is 5e-4: at the recipe's 1e-3 its loss sat flat early on
# at every scale, x4 until the cosine had brought the rate near 1e-4 (Kodak24 26.06 dB at 2 000 and
# 4 000), x2 for 2 000 iterations (models/checkpoints/quicksrnet-f64-m11-x{2,4}-lr1e-3/log.csv).
train_args() {
  if [ "$1" = f64-m11 ]; then
    echo "--preset $1-anchor --scale $2 --lr 5e-4"
  elif is_grid_point "$1"; then
    echo "--preset $1 --scale $2"
  else
    echo "--arch $1 --scale $2"
  fi
}
# arm_args ARM: what an A/B arm changes in the recipe, at the same budget (batch x patch^2 x
# iterations). seed2 is the baseline arm's second seed (the noise floor); ARM-seed2 pairs an arm
# with it. Returns 1 for an unknown arm.
arm_args() {
  case $1 in
    "") ;;
    seed2) echo "--seed 2" ;;
    *-seed2) arm_seed2 "${1%-seed2}" ;;
    scaleaug) echo "--scale-augment 0.6" ;;
    patch96-batch7) echo "--patch 96 --batch 7" ;;  # 64 512 LR pixels per step against 65 536
    patch96-shorter) echo "--patch 96 --iterations $((iterations * 64 * 64 / (96 * 96)))" ;;
    long3x) echo "--iterations $((iterations * 3))" ;;
    *) return 1 ;;
  esac
}
arm_seed2() {
  local base
  base=$(arm_args "$1") || return 1
  echo "$base --seed 2"
}
# The iteration a run ends at: its arm's --iterations, else the table schedule's.
final_iteration() {
  local -a args
  read -r -a args <<< "$(arm_args "$1")"
  local i final=$iterations
  for ((i = 0; i + 1 < ${#args[@]}; ++i)); do
    if [ "${args[i]}" = --iterations ]; then final=${args[i + 1]}; fi
  done
  echo "$final"
}

# The shared recipe (docs/training.md, "Example: Small x2") at the table schedule's length.
recipe=(--data "$shared/data/train/T91,$shared/data/train/BSDS200"
  --val "$shared/data/extra/Kodak24" --iterations "$iterations" --batch 16 --patch 64
  --lr 1e-3 --schedule cosine --lr-min 1e-6 --seed 1 --log-every 100 --val-every 2000
  --checkpoint-every 500 --threads "${THREADS:-2}")

log() { echo "[paper_train $(date -u +%H:%M:%S)] $*" >&2; }

# iterations_done RUN_DIR: the iteration of the run's last model (written with every checkpoint).
iterations_done() {
  if [ -f "$1/last.safetensors" ]; then
    "$quicksr" info "$1/last.safetensors" < /dev/null | awk '$1 == "iterations:" { print $2 }'
  else
    echo 0
  fi
}

load_average() { cut -d' ' -f1 /proc/loadavg; }

# copy_state FROM TO: a run's resumable state (atomic per file). The checkpoint goes last: a kill
# midway leaves the old checkpoint with a newer log, whose rows past it a resume drops.
copy_state() {
  local file
  mkdir -p "$2"
  for file in config.json log.csv segments.tsv last.safetensors checkpoint.pt; do
    if [ -f "$1/$file" ]; then
      cp "$1/$file" "$2/.$file.tmp" && mv "$2/.$file.tmp" "$2/$file"
    fi
  done
}

# save_checkpoint NAME: the run's resumable state into models/checkpoints/NAME.
save_checkpoint() {
  [ -f "${root}runs/$1/checkpoint.pt" ] || return 0
  copy_state "${root}runs/$1" "${root}models/checkpoints/$1"
}

# train NAME ARGS...: one training segment of the run; returns quicksr train's exit status.
# Appends "start end seconds iteration_from iteration_to load_start load_end status" to
# runs/NAME/segments.tsv.
train() {
  local name=$1 dir="${root}runs/$1" start from status
  shift
  start=$(date +%s)
  from=$(iterations_done "$dir")
  local load_start
  load_start=$(load_average)
  nice -n 19 "$quicksr" train --out "$dir" "${recipe[@]}" "$@" "${extra_args[@]}" \
    < /dev/null >> "$dir.out" 2>&1 &
  child=$!
  wait "$child"
  status=$?
  if [ -n "$stopping" ]; then  # the trap's `wait` collected the real status
    wait "$child"
    status=$?
  fi
  child=""
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u -d "@$start" +%FT%TZ)" \
    "$(date -u +%FT%TZ)" $(($(date +%s) - start)) "$from" "$(iterations_done "$dir")" \
    "$load_start" "$(load_average)" "$status" >> "$dir/segments.tsv"
  return "$status"
}

# The SIGTERM/SIGINT handler: stops the trainer after its step; train() then records the segment.
child=""
stopping=""
stop() {
  stopping=1
  log "stop requested: the current run writes its checkpoint"
  if [ -n "$child" ]; then kill -TERM "$child" 2> /dev/null; fi
}
trap stop TERM INT

# start_lr ARGS...: the learning rate the run starts at (the last --lr of its command line).
start_lr() {
  local -a all=("${recipe[@]}" "$@" "${extra_args[@]}")
  local i lr
  for ((i = 0; i + 1 < ${#all[@]}; ++i)); do
    if [ "${all[i]}" = --lr ]; then lr=${all[i + 1]}; fi
  done
  echo "$lr"
}

# write_card NAME ARGS...: models/NAME.md from the finished run.
write_card() {
  local name=$1 dir="${root}runs/$1" card="${root}models/$1.md"
  shift
  local seconds stepped rate scores
  # The run's last model is the one install puts into models/ after the card.
  scores=$(nice -n 19 scripts/model_scores.sh "$dir/last.safetensors" "$quicksr" "$shared") ||
    return 1
  seconds=$(awk -F'\t' '{ s += $3 } END { print s + 0 }' "$dir/segments.tsv")
  stepped=$(awk -F'\t' '{ n += $5 - $4 } END { print n + 0 }' "$dir/segments.tsv")
  rate=$(awk -v n="$stepped" -v s="$seconds" 'BEGIN { printf "%.2f", (s > 0 ? n / s : 0) }')
  {
    echo "# $name"
    echo
    echo "Trained here for the paper's tables by \`scripts/paper_train.sh\` (\`quicksr train $*\`):"
    echo "the shared recipe of docs/training.md, $(final_iteration "$arm") iterations (the table"
    echo "schedule is $iterations; docs/training.md, \"Table runs\"). Not built in;"
    echo "\`scripts/paper_tables.sh\` reads it."
    echo
    echo "## Scores (default protocol: Y-PSNR / SSIM, LR by MATLAB-style bicubic, 8 bits)"
    echo
    echo "$scores"
    echo
    echo "Measured with \`scripts/model_scores.sh models/$name.safetensors\`; Kodak24 is the"
    echo "validation set, the others were never seen in training."
    echo
    echo "## Training"
    echo
    echo "* Data: T91 + BSDS200 ($("$quicksr" info "$dir/last.safetensors" < /dev/null |
      awk '$1 == "data_images:" { print $2 }') images of \`$shared/data/train\` used),"
    echo "  validation Kodak24 every 2 000 iterations."
    echo "* Recipe: L1 loss, Adam (0.9, 0.999), batch 16 of 64x64 LR patches with random flips and"
    echo "  90-degree rotations, seed 1, cosine learning rate from $(start_lr "$@") to 1e-6 over the run's"
    echo "  $(final_iteration "$arm") iterations, \`--threads ${THREADS:-2}\`, at nice 19 beside"
    echo "  other work."
    if [ -n "$arm" ]; then
      echo "* Recipe A/B arm \`$arm\` (docs/training.md, \"Recipe A/B plan\") changes: \`$(arm_args "$arm")\`."
    fi
    if [ ${#extra_args[@]} -gt 0 ]; then
      echo "* Changed by TRAIN_ARGS (last on the command line, so they win): \`${extra_args[*]}\`."
    fi
    echo "* Command (every segment; a run folder resumes):"
    echo
    echo "  \`\`\`sh"
    echo "  quicksr train --out runs/$name ${recipe[*]} $* ${extra_args[*]}"
    echo "  \`\`\`"
    echo
    echo "* Time: $((seconds / 60)) min of wall time for $stepped iterations ($rate iterations/s;"
    echo "  iterations before the first recorded segment are not timed). Segments (start, end,"
    echo "  seconds, iterations from/to, 1-minute load average at start/end, exit status):"
    echo
    echo "  | start | end | s | from | to | load start | load end | status |"
    echo "  |---|---|---|---|---|---|---|---|"
    awk -F'\t' '{ printf "  | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, \
      $7, $8 }' "$dir/segments.tsv"
    echo
    echo "* The weights are those of the last iteration (\`last.safetensors\`); the final"
    echo "  checkpoint, configuration, log and time sheet are in \`models/checkpoints/$name/\`."
    if [ -f "${root}models/$name-val-psnr.svg" ]; then
      echo
      echo "## Validation PSNR (Kodak24) against iteration"
      echo
      echo "![validation PSNR]($name-val-psnr.svg)"
    fi
  } > "$card.tmp"
  mv "$card.tmp" "$card"
}

# install NAME ARGS...: the finished run's model, curve and card into models/.
install() {
  local name=$1 dir="${root}runs/$1" done_iterations final
  done_iterations=$(iterations_done "$dir")
  final=$(final_iteration "$arm")
  if [ "$done_iterations" != "$final" ]; then
    log "$name: ended at iteration $done_iterations, not $final; no model installed"
    return 1
  fi
  # The model goes last: it marks the run done, so its curve and card must be there before.
  if [ -f "$dir/val_psnr.svg" ]; then
    cp "$dir/val_psnr.svg" "${root}models/.$name-val-psnr.svg.tmp"
    mv "${root}models/.$name-val-psnr.svg.tmp" "${root}models/$name-val-psnr.svg"
  fi
  write_card "$@" || { log "$name: scoring failed; no model installed"; return 1; }
  cp "$dir/last.safetensors" "${root}models/.$name.tmp"
  mv "${root}models/.$name.tmp" "${root}models/$name.safetensors"
  log "$name: finished; models/$name.safetensors and its card written"
}

# An unknown arm stops the queue before any run starts (arm_args runs in command substitutions,
# where an exit would only leave the subshell).
for entry in "${queue[@]}"; do
  IFS=: read -r net scale arm <<< "$entry"
  arm_args "$arm" > /dev/null || { log "unknown recipe arm '$arm' in '$entry'"; exit 2; }
done

mkdir -p "${root}runs" "${root}models/checkpoints"
log "queue of ${#queue[@]} runs, $iterations iterations each, load $(load_average)"
for entry in "${queue[@]}"; do
  if [ -n "$stopping" ]; then exit 143; fi
  IFS=: read -r net scale arm <<< "$entry"
  name=$(run_name "$net" "$scale" "$arm")
  if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then continue; fi
  read -r -a args <<< "$(train_args "$net" "$scale") $(arm_args "$arm")"
  dir="${root}runs/$name"
  saved="${root}models/checkpoints/$name"
  if [ -f "${root}models/$name.safetensors" ]; then
    log "$name: done (models/$name.safetensors)"
    continue
  fi
  source_state="new"
  if [ -f "$dir/checkpoint.pt" ]; then
    source_state="resumes runs/$name at iteration $(iterations_done "$dir")"
  elif [ -f "$saved/checkpoint.pt" ]; then
    source_state="resumes models/checkpoints/$name"
  fi
  if [ -n "${DRY_RUN:-}" ]; then
    log "$name: $source_state: quicksr train --out $dir ${recipe[*]} ${args[*]} ${extra_args[*]}"
    continue
  fi
  if [[ $source_state == "resumes models/"* ]]; then copy_state "$saved" "$dir"; fi
  log "$name: $source_state (load $(load_average))"
  from=$(iterations_done "$dir")
  train "$name" "${args[@]}"
  status=$?
  # Only a segment that finished or moved on is kept: a run that could not even load its
  # checkpoint (damaged by a power cut, say) must not replace the committed one.
  if [ "$status" -eq 0 ] || [ "$(iterations_done "$dir")" -gt "$from" ]; then
    save_checkpoint "$name"
  fi
  if [ -n "$stopping" ]; then
    log "$name: stopped at iteration $(iterations_done "$dir"), checkpoint in models/checkpoints"
    exit 143
  fi
  if [ "$status" -ne 0 ]; then
    log "$name: quicksr train failed with status $status (see runs/$name.out); next run"
    continue
  fi
  install "$name" "${args[@]}" < /dev/null || true
done
log "queue finished"
