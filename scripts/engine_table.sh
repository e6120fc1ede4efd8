#!/usr/bin/env bash
# Regenerates the engine tables of docs/engine.md through `quicksr bench --json`: Small x2
# (random weights) at 640x360 and 960x540 input, 2 threads, fp32 and INT8, for each ISA level
# this CPU can run. oneDNN is capped to the same class of code with ONEDNN_MAX_CPU_ISA (avx2:
# AVX2, avxvnni: AVX2_VNNI, avx512: AVX512_CORE, avx512vnni: AVX512_CORE_VNNI), so a lower level
# emulates a machine that has only it. Each case runs ROUNDS times as separate processes of RUNS
# timed runs each; a row shows the round with the lowest engine min (the quietest moment of a
# shared machine) and the range of the engine's min over all rounds.
#
#   scripts/engine_table.sh [QUICKSR_BINARY] [ROUNDS] [RUNS] > tables.md
#
# Defaults: build/quicksr, 3 rounds, 15 runs. Progress goes to stderr. Raw JSON lines are kept in
# $ENGINE_TABLE_JSON when that is set. ISAS and SIZES (space-separated) narrow the cases.
set -euo pipefail
cd "$(dirname "$0")/.."
quicksr=${1:-build/quicksr}
rounds=${2:-3}
runs=${3:-15}
raw=${ENGINE_TABLE_JSON:-/dev/null}
isas=${ISAS:-avx2 avxvnni avx512 avx512vnni}
sizes=${SIZES:-640x360 960x540}

onednn_cap() {
  case $1 in
    avx2) echo AVX2 ;;
    avxvnni) echo AVX2_VNNI ;;
    avx512) echo AVX512_CORE ;;
    *) echo AVX512_CORE_VNNI ;;
  esac
}

# The python formatting of one table row from the JSON lines of a case's rounds (stdin).
fp32_row='
b = min(rounds, key=lambda r: r["engine_ms_min"])
print("| {isa} | {size} | {engine_ms_min:.1f} / {engine_ms_median:.1f} "
      "| {onednn_ms_min:.1f} / {onednn_ms_median:.1f} "
      "| {speedup_vs_onednn:.2f}x / {speedup_vs_onednn_median:.2f}x "
      "| {peak_kind} {peak_gflops:.0f} | {engine_pct_peak:.0f} % / {engine_pct_peak_executed:.0f} % "
      "| {onednn_pct_peak:.0f} % | {low:.1f}-{high:.1f} |".format(**b, low=low, high=high))'
# oneDNN u8s8 whose output is off the engine's by more than 1 LSB is shown as inexact, its ratio in parentheses.
int8_row='
b = min(rounds, key=lambda r: r["engine_ms_min"])
if "onednn_int8_ms_min" in b:
    onednn = "{onednn_int8_ms_min:.1f} / {onednn_int8_ms_median:.1f} | {speedup_vs_onednn_int8:.2f}x / {speedup_vs_onednn_int8_median:.2f}x".format(**b)
else:
    onednn = "inexact (off by {onednn_int8_max_abs_diff:.0f} LSB): {onednn_int8_inexact_ms_min:.1f} / {onednn_int8_inexact_ms_median:.1f} | ({speedup_vs_onednn_int8_inexact:.2f}x)".format(**b)
print("| {isa} | {size} | {engine_ms_min:.1f} / {engine_ms_median:.1f} "
      "| {onednn} "
      "| {fp32_engine_ms_min:.1f} | {speedup_vs_fp32_engine:.2f}x "
      "| {peak_kind} {peak_gops:.0f} | {engine_pct_peak:.0f} % "
      "| {low:.1f}-{high:.1f} |".format(**b, onednn=onednn, low=low, high=high))'

# best_row PRECISION ISA SIZE: runs the rounds and prints the table row of the quietest one.
best_row() {
  local precision=$1 isa=$2 size=$3
  local lines=()
  for ((round = 1; round <= rounds; ++round)); do
    echo "$precision $isa $size round $round/$rounds" >&2
    lines+=("$(ONEDNN_MAX_CPU_ISA=$(onednn_cap "$isa") "$quicksr" bench --json --isa "$isa" \
      --precision "$precision" --size "$size" --threads 2 --runs "$runs" --reference-runs 0)")
  done
  local format=$fp32_row
  [ "$precision" = int8 ] && format=$int8_row
  printf '%s\n' "${lines[@]}" | tee -a "$raw" | python3 -c '
import json, sys
rounds = [json.loads(line) for line in sys.stdin if line.strip()]
mins = [r["engine_ms_min"] for r in rounds]
low, high = min(mins), max(mins)
'"$format"
}

runnable=()
for isa in $isas; do
  if "$quicksr" bench --isa "$isa" --size 8x8 --runs 1 --reference-runs 0 --no-onednn \
    > /dev/null 2>&1; then
    runnable+=("$isa")
  else
    echo "skipping $isa: this CPU or build cannot run it" >&2
  fi
done

cpu=$(awk -F': ' '/^model name/ { name = $2 } /^cpu family/ { family = $2 } /^model\t/ { model = $2 }
  END { printf "%s (CPUID family %s, model %s)", name, family, model; exit }' /proc/cpuinfo)
echo "CPU: $cpu, $(nproc) logical CPUs; $(date -u '+%Y-%m-%d %H:%M UTC'); $rounds rounds of $runs runs"
echo
# table PRECISION HEADER: one table, every runnable ISA and size.
table() {
  local precision=$1 header=$2
  echo "$precision (load average before: $(cut -d' ' -f1-3 /proc/loadavg)):"
  echo
  echo "$header"
  echo "$header" | sed 's/[^|]\+/---/g'
  for isa in "${runnable[@]}"; do
    for size in $sizes; do best_row "$precision" "$isa" "$size"; done
  done
  echo
}

table fp32 "| ISA | size | engine min / median ms | oneDNN fp32 min / median ms | engine vs oneDNN (min / median) | peak GFLOP/s | engine % of peak (direct-conv / executed) | oneDNN % of peak | engine min over rounds |"
table int8 "| ISA | size | INT8 engine min / median ms | oneDNN u8s8 min / median ms | engine vs oneDNN u8s8 (min / median) | fp32 engine min ms | INT8 vs own fp32 (min) | INT8 peak GOP/s | engine % of peak | engine min over rounds |"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
