#!/usr/bin/env bash
# Retires a finished run of scripts/paper_train.sh whose recipe has changed, so that the queue
# trains it again from iteration 0: its card, log, config, time sheet and validation curve go to
# models/checkpoints/NAME-SUFFIX/ (the evidence, with WHY at the top of the card); its weights, INT8
# files, checkpoint and run folder are deleted. Then `git add -A models` and run the queue.
#
#   [ROOT=DIR] scripts/retire_table_run.sh NAME SUFFIX WHY
#
# e.g. scripts/retire_table_run.sh quicksrnet-f64-m11-x3 lr1e-3 "Large now trains from 5e-4 ..."
# ROOT (default: the repository) holds runs/ and models/, as for paper_train.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 3 ]; then
  echo "usage: scripts/retire_table_run.sh NAME SUFFIX WHY" >&2
  exit 2
fi
name=$1 suffix=$2 why=$3
root=${ROOT:+$ROOT/}
saved_rel="models/checkpoints/$name"  # as the card names it
models="${root}models" saved="$root$saved_rel" kept="$root$saved_rel-$suffix"
for file in "$models/$name".{safetensors,md} "$saved/"{config.json,log.csv,segments.tsv}; do
  [ -f "$file" ] ||
    { echo "retire_table_run.sh: $file: no such file (not a finished run)" >&2 && exit 1; }
done
[ ! -e "$kept" ] || { echo "retire_table_run.sh: $kept: exists already" >&2 && exit 1; }

mkdir -p "$kept"
mv "$saved/config.json" "$saved/log.csv" "$saved/segments.tsv" "$kept/"
# (a run with fewer than two validations has no curve)
if [ -f "$models/$name-val-psnr.svg" ]; then mv "$models/$name-val-psnr.svg" "$kept/val-psnr.svg"; fi
# The card: WHY under a new title; its curve and folder now live beside it.
{
  echo "# $name, $suffix (replaced)"
  echo
  echo "$why This card, its log and curve stay here as the evidence; the weights were not kept."
  tail -n +2 "$models/$name.md" |
    sed -e "s|checkpoint, \(configuration, log and time sheet are in\) \`$saved_rel/\`|\1 this folder|" \
      -e "s|($name-val-psnr.svg)|(val-psnr.svg)|"
} > "$kept/card.md"
rm -f "$models/$name.md" "$models/$name.safetensors" "$models/$name-int8.safetensors" \
  "$models/$name-int8.md"
rm -rf "$saved" "${root}runs/$name" "${root}runs/$name.out"
echo "retired $name to $kept; the queue trains it again"
