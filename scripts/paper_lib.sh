# Helpers shared by the scripts that regenerate the paper's tables in docs/ (paper_tables.sh,
# paper_quant_tables.sh); sourced, not run. The caller sets `quicksr` (the binary) and `work` (the
# cache folder); CACHED_ONLY=1 makes cached_eval report a missing score instead of computing it.

# or_failed TEXT: TEXT, or "eval failed" when it is empty.
or_failed() { if [ -n "$1" ]; then echo "$1"; else echo "eval failed"; fi; }

# model_key MODEL: a cache key of the model file's contents (a changed file is scored again).
model_key() { cksum < "$1" | tr ' ' '-'; }

# cached_eval KEY EVAL_ARGS...: "PSNR SSIM" of the mean line of `quicksr eval EVAL_ARGS` (niced by
# EVAL_NICE, default 10), cached in $work/scores/KEY; an eval that printed no mean line is tried
# again on the next run.
cached_eval() {
  local cache="$work/scores/$1"
  shift
  if [ ! -s "$cache" ] && [ -n "${CACHED_ONLY:-}" ]; then
    echo "not scored yet"
    return
  fi
  if [ ! -s "$cache" ]; then
    echo "eval $*" >&2
    mkdir -p "$work/scores"
    nice -n "${EVAL_NICE:-10}" "$quicksr" eval "$@" < /dev/null |
      awk '$1 == "mean" { print $2, $3 }' > "$cache.tmp" || true
    mv "$cache.tmp" "$cache"
  fi
  or_failed "$(cat "$cache")"
}

# quantize_once OUT CALIBRATION_DIR MODEL OPTIONS...: `quicksr quantize MODEL OPTIONS` calibrated
# on 32 images of CALIBRATION_DIR into OUT, unless OUT exists. A refusal (the CLI's last line) goes
# to OUT.error and is tried again on the next run (a newer binary may take the model; refusals are
# quick). Under CACHED_ONLY=1 nothing runs: fails when there is neither OUT nor OUT.error.
quantize_once() {
  local out=$1 calibration=$2 model=$3
  shift 3
  if [ -f "$out" ]; then return 0; fi
  if [ -n "${CACHED_ONLY:-}" ]; then
    [ -f "$out.error" ]
    return
  fi
  echo "quantize $model $*" >&2
  mkdir -p "$(dirname "$out")"
  rm -f "$out.error"
  nice -n "${EVAL_NICE:-10}" "$quicksr" quantize "$model" --data "$calibration" --images 32 \
    --out "$out" "$@" < /dev/null 2> "$out.stderr" > /dev/null || tail -n 1 "$out.stderr" > "$out.error"
}

# psnr_of SCORES: the PSNR of "PSNR SSIM" (or of a lone PSNR); a message is passed through.
psnr_of() { if [[ $1 =~ ^[0-9.]+( [0-9.]+)?$ ]]; then echo "${1%% *}"; else echo "$1"; fi; }

# replace_section DOC BEGIN_MARKER END_MARKER TEXT: TEXT (which starts with BEGIN_MARKER and ends
# with END_MARKER) replaces the lines between the markers of DOC, or is appended when they are
# absent; DOC is replaced atomically and keeps its permissions.
replace_section() {
  local doc=$1 begin=$2 end=$3 text=$4 tmp
  tmp=$(mktemp "$doc.XXXXXX")
  if grep -qF "$begin" "$doc"; then
    awk -v begin="$begin" -v end="$end" -v file=/dev/stdin '
      $0 == begin { while ((getline line < file) > 0) print line; skipping = 1; next }
      $0 == end { skipping = 0; next }
      !skipping { print }' "$doc" <<< "$text" > "$tmp"
  else
    { cat "$doc"; echo; echo "$text"; } > "$tmp"
  fi
  chmod --reference="$doc" "$tmp"
  mv "$tmp" "$doc"
}
