#!/usr/bin/env bash
# Benchmarks (not tests): times of the built release pipeline (`make bench`
# builds it first). Targets (issue #3/#4): whole pipeline <= 3 s, 4 models x
# 201 masses scan <= 1 s on 2 cores, warm no-op run <= 0.2 s.
#
# Prints three timings:
#   1. whole pipeline, forced   cevns run --force pipelines/paper.yaml
#   2. chi2-scan                4 models x 201 masses, --threads 2, by hand
#   3. warm no-op               cevns run pipelines/paper.yaml (all cached)
# Uses hyperfine when installed (mean ± σ of RUNS runs), else bash's `time`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
PIPE=${PIPE:-pipelines/paper.yaml}
OUT=outputs/paper
RUNS=${RUNS:-5}

for b in cevns chi2-scan; do
  if [ ! -x "$BIN/$b" ]; then
    echo "bench: $BIN/$b not found; run: cargo build --release --workspace --bins" >&2
    exit 1
  fi
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Every output must exist (and the lock be warm) before timing.
"$BIN/cevns" run --quiet "$PIPE"

FULL="$BIN/cevns run --quiet --force $PIPE"
SCAN="$BIN/chi2-scan --quiet --threads 2 --rates $OUT/rates.parquet --response $OUT/response.parquet \
--data data/cdex10/surrogate.csv --models data/models/u1prime.yaml \
--model-names B-L,B-3Le,B-3Lmu,B-3Ltau --m-min-mev 0.01 --m-max-mev 1000 --m-points 201 \
--calibrate-model B-L --calibrate-mass-mev 0.01 --calibrate-g90 3.93e-5 \
--out-limits $TMP/limits.parquet --out-csv $TMP/limits.csv --out-scan $TMP/scan.parquet"
NOOP="$BIN/cevns run --quiet $PIPE"

echo "cevns-pipeline bench: $(nproc) cores, $BIN, $PIPE"
if command -v hyperfine >/dev/null 2>&1; then
  # The no-op run is last: the forced runs leave the cache warm.
  hyperfine --style basic --warmup 1 --runs "$RUNS" -N \
    --export-markdown "$TMP/bench.md" \
    -n "whole pipeline (forced)" "$FULL" \
    -n "chi2-scan, 4 models x 201 masses, --threads 2" "$SCAN" \
    -n "warm no-op run" "$NOOP"
  echo
  cat "$TMP/bench.md"
else
  echo "(hyperfine not installed: apt-get install hyperfine; using bash's time, best of $RUNS)"
  TIMEFORMAT=%R
  for pair in "whole pipeline (forced)|$FULL" \
              "chi2-scan, 4 models x 201 masses, --threads 2|$SCAN" \
              "warm no-op run|$NOOP"; do
    name=${pair%%|*}; cmd=${pair#*|}
    best=""
    for _ in $(seq "$RUNS"); do
      # shellcheck disable=SC2086
      t=$( { time $cmd >/dev/null 2>&1; } 2>&1 )
      if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    done
    printf '%-48s %8.3f s\n' "$name" "$best"
  done
fi
