#!/usr/bin/env bash
# Regenerates the fp32 engine table of docs/engine.md through `quicksr bench --json`: Small x2
# (random weights) at 640x360 and 960x540 input, 1 and 2 threads, for each ISA class this CPU can
# run. "avx2" rows emulate an AVX2-only machine on this CPU: the engine is forced to its AVX2
# kernels (--isa avx2) and oneDNN to its AVX2 code (ONEDNN_MAX_CPU_ISA=AVX2), and the peak is the
# ymm FMA peak. "avx512" rows run both natively (oneDNN picks its own AVX-512 code) against the
# zmm FMA peak. Each case runs ROUNDS times as separate processes of RUNS timed runs each; the
# row shows the round with the lowest engine min (the quietest moment of a shared machine) and
# the range of the engine's min over all rounds.
#
#   scripts/engine_table.sh [QUICKSR_BINARY] [ROUNDS] [RUNS] > table.md
#
# Defaults: build/quicksr, 3 rounds, 15 runs (about 10 minutes on 2 cores). Progress goes to
# stderr. Raw JSON lines are kept in $ENGINE_TABLE_JSON when that is set.
set -euo pipefail
cd "$(dirname "$0")/.."
quicksr=${1:-build/quicksr}
rounds=${2:-3}
runs=${3:-15}
raw=${ENGINE_TABLE_JSON:-/dev/null}

cpu=$(awk -F': ' '/^model name/ { name = $2 } /^cpu family/ { family = $2 } /^model\t/ { model = $2 }
  END { printf "%s (CPUID family %s, model %s)", name, family, model; exit }' /proc/cpuinfo)
echo "CPU: $cpu, $(nproc) logical CPUs; $(date -u '+%Y-%m-%d %H:%M UTC'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| ISA class | size | threads | engine min / median ms | oneDNN min / median ms | engine vs oneDNN (min / median) | peak GFLOP/s | engine % of peak (direct-conv / executed) | oneDNN % of peak | engine min over rounds |"
echo "|---|---|---|---|---|---|---|---|---|---|"

# best_row ISA SIZE THREADS: runs the rounds and prints the table row of the quietest one.
best_row() {
  local isa=$1 size=$2 threads=$3 onednn_isa
  onednn_isa=$([ "$isa" = avx2 ] && echo AVX2 || echo ALL)
  local lines=()
  for ((round = 1; round <= rounds; ++round)); do
    echo "$isa $size threads $threads round $round/$rounds" >&2
    lines+=("$(ONEDNN_MAX_CPU_ISA=$onednn_isa "$quicksr" bench --json --isa "$isa" \
      --size "$size" --threads "$threads" --runs "$runs" --reference-runs 0)")
  done
  printf '%s\n' "${lines[@]}" | tee -a "$raw" | python3 -c '
import json, sys
rounds = [json.loads(line) for line in sys.stdin if line.strip()]
b = min(rounds, key=lambda r: r["engine_ms_min"])
mins = [r["engine_ms_min"] for r in rounds]
print("| {isa} | {size} | {threads} | {engine_ms_min:.1f} / {engine_ms_median:.1f} "
      "| {onednn_ms_min:.1f} / {onednn_ms_median:.1f} "
      "| {speedup_vs_onednn:.2f}x / {speedup_vs_onednn_median:.2f}x "
      "| {peak_kind} {peak_gflops:.0f} | {engine_pct_peak:.0f} % / {engine_pct_peak_executed:.0f} % "
      "| {onednn_pct_peak:.0f} % | {low:.1f}-{high:.1f} |".format(**b, low=min(mins), high=max(mins)))
'
}

for isa in avx2 avx512; do
  if ! "$quicksr" bench --isa "$isa" --size 8x8 --runs 1 --reference-runs 0 --no-onednn \
    > /dev/null 2>&1; then
    echo "skipping $isa: this CPU or build cannot run it" >&2
    continue
  fi
  for size in 640x360 960x540; do
    for threads in 1 2; do best_row "$isa" "$size" "$threads"; done
  done
done
