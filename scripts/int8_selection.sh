#!/usr/bin/env bash
# Ranks INT8 candidates of one fp32 model by their PSNR drop from it, pooled over several folders
# of HR images: the selection score of docs/quantization.md ("Session 17"). Selection sets must not
# be the test sets (Set5, Set14, BSD100).
#
#   scripts/int8_selection.sh FP32_MODEL DIR[,DIR...] CANDIDATE... > ranking.md
#
# Prints a Markdown table, best first: each candidate's drop (fp32 mean Y-PSNR minus the
# candidate's, `quicksr eval`, default protocol) on each folder and over all images together (the
# mean of the per-image drops, so each image weighs the same). The fp32 model is scored once.
# Environment: QUICKSR (default build/quicksr), THREADS (default 1), SCORES (a folder that keeps
# every `quicksr eval` table; default: a temporary one).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 FP32_MODEL DIR[,DIR...] CANDIDATE..." >&2
  exit 2
fi
fp32=$1
IFS=, read -r -a dirs <<< "$2"
shift 2
quicksr=${QUICKSR:-build/quicksr}
threads=${THREADS:-1}
scores=${SCORES:-}
if [ -z "$scores" ]; then
  scores=$(mktemp -d)
  trap 'rm -rf "$scores"' EXIT
fi
mkdir -p "$scores"

# set_name DIR: the folder's name, or its parent's for an HR folder (benchmarks/Set14/HR: Set14).
set_name() {
  basename "${1%/HR}"
}

# table LABEL MODEL DIR: the file holding `quicksr eval`'s per-image table of MODEL on DIR.
table() {
  local file
  file="$scores/$1@$(set_name "$3").txt"
  "$quicksr" eval --model "$2" --data "$3" --threads "$threads" > "$file"
  echo "$file"
}

# sums TABLE: "IMAGES PSNR_SUM" over the table's image rows (summed from the per-image rows so the
# pooled mean keeps their 4 decimals, not the rounded mean's).
sums() {
  awk 'NR > 2 && $1 != "mean" { n++; s += $2 } END { printf "%d %.6f\n", n, s }' "$1"
}

declare -a fp32_count fp32_sum
header="| candidate |"
rule="|---|"
for i in "${!dirs[@]}"; do
  file=$(table fp32 "$fp32" "${dirs[$i]}")
  read -r "fp32_count[$i]" "fp32_sum[$i]" < <(sums "$file")
  if [ "${fp32_count[$i]}" -eq 0 ]; then
    echo "$0: ${dirs[$i]}: no images scored" >&2
    exit 1
  fi
  header+=" $(set_name "${dirs[$i]}") (${fp32_count[$i]}) |"
  rule+="---|"
done
echo "$header all |"
echo "$rule---|"

index=0
for candidate in "$@"; do
  index=$((index + 1))
  row="| $candidate |"
  total_count=0
  total_drop=0
  for i in "${!dirs[@]}"; do
    file=$(table "$index" "$candidate" "${dirs[$i]}")
    read -r count sum < <(sums "$file")
    if [ "$count" -ne "${fp32_count[$i]}" ]; then
      echo "$0: $candidate scored $count images of ${dirs[$i]}, the fp32 model ${fp32_count[$i]}" >&2
      exit 1
    fi
    drop=$(awk -v a="${fp32_sum[$i]}" -v b="$sum" -v n="$count" 'BEGIN { printf "%.6f", (a - b) / n }')
    row+=" $(printf '%.4f' "$drop") |"
    total_count=$((total_count + count))
    total_drop=$(awk -v t="$total_drop" -v a="${fp32_sum[$i]}" -v b="$sum" \
      'BEGIN { printf "%.6f", t + a - b }')
  done
  pooled=$(awk -v t="$total_drop" -v n="$total_count" 'BEGIN { printf "%.5f", t / n }')
  echo "$pooled $row $pooled |"
done | sort -g -k1,1 | cut -d' ' -f2-
