#!/usr/bin/env bash
# Benchmarks (not tests): times of the built pipeline. Targets (issue #3/#4):
# whole pipeline <= 3 s, 4 models x 201 masses scan <= 1 s on 2 cores,
# warm no-op run <= 0.2 s. Uses hyperfine when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release
OUT=outputs/paper
PIPE=pipelines/paper.yaml

"$BIN/cevns" run --quiet "$PIPE"   # make sure every output exists

SCAN="$BIN/chi2-scan --quiet --threads 2 --rates $OUT/rates.parquet --response $OUT/response.parquet \
  --data data/cdex10/surrogate.csv --models data/models/u1prime.yaml \
  --out-limits /tmp/cevns-bench-limits.parquet --out-csv /tmp/cevns-bench-limits.csv \
  --out-scan /tmp/cevns-bench-scan.parquet --m-points 201 \
  --calibrate-model B-L --calibrate-mass-mev 0.01 --calibrate-g90 3.93e-5"
FULL="$BIN/cevns run --quiet --force $PIPE"
NOOP="$BIN/cevns run --quiet $PIPE"

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 1 --runs 5 -n "whole pipeline (forced)" "$FULL" \
    -n "chi2-scan, 4 models x 201 masses, 2 threads" "$SCAN" \
    -n "warm no-op run" "$NOOP"
else
  echo "(hyperfine not installed: apt-get install hyperfine; falling back to bash time)"
  for name in FULL SCAN NOOP; do
    echo "== $name"; cmd="${!name}"
    /usr/bin/env time -f "%e s" bash -c "$cmd" 2>&1 | tail -1 || (time bash -c "$cmd")
  done
fi
