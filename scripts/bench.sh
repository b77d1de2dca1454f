#!/usr/bin/env bash
# Benchmarks (not tests) of the built release pipeline; `make bench` builds it
# first. Targets (issue 14, 2 cores, release build, median):
#   chi2-scan 4 models x 1000 masses          <= 0.13 s
#   chi2-scan 4 models x 201 masses           <= 0.04 s
#   cold `cevns run pipelines/paper.yaml`      <= 0.35 s  (empty outputs)
#   warm no-op run                             (all stages up to date)
#   peak RSS of every stage of the paper run  <= 100 MB
#
# Wall times come from hyperfine (median of RUNS runs; bash's `time`, best of
# RUNS, without it). On a shared or loaded machine wall times mislead: set
# CALLGRIND=1 to also print instruction counts (valgrind --tool=callgrind,
# all threads summed), which do not depend on the load.
#
# The cold run works in a scratch copy of data/ and pipelines/ (-C), so the
# outputs/ of this checkout are left alone.
set -euo pipefail
[ -n "${BENCH_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
PIPE=${PIPE:-pipelines/paper.yaml}
RUNS=${RUNS:-5}
THREADS=${THREADS:-2}

for b in cevns flux-prep xsec-tables rate-convolve quench-smear chi2-scan plot report; do
  if [ ! -x "$BIN/$b" ]; then
    echo "bench: $BIN/$b not found; run: cargo build --release --workspace --bins --exclude compare" >&2
    exit 1
  fi
done
BIN=$(cd "$BIN" && pwd)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROOT=$TMP/root
mkdir -p "$ROOT"
cp -r data pipelines "$ROOT/"
OUT=$ROOT/outputs/paper

# Every output must exist (and the lock be warm) before timing the scans.
"$BIN/cevns" run --quiet -C "$ROOT" "$PIPE"

scan() { # masses outdir
  echo "$BIN/chi2-scan --quiet --threads $THREADS --rates $OUT/rates.parquet --response $OUT/response.parquet \
--data $ROOT/data/cdex10/surrogate.csv --models $ROOT/data/models/u1prime.yaml \
--model-names B-L,B-3Le,B-3Lmu,B-3Ltau --m-min-mev 0.01 --m-max-mev 1000 --m-points $1 \
--calibrate-model B-L --calibrate-mass-mev 0.01 --calibrate-g90 3.93e-5 \
--out-limits $2/limits.parquet --out-csv $2/limits.csv --out-scan $2/scan.parquet"
}
mkdir -p "$TMP/s1000" "$TMP/s201"
SCAN1000=$(scan 1000 "$TMP/s1000")
SCAN201=$(scan 201 "$TMP/s201")
COLD="$BIN/cevns run --quiet --force --threads $THREADS -C $ROOT $PIPE"
PREP="rm -rf $ROOT/outputs"
NOOP="$BIN/cevns run --quiet --threads $THREADS -C $ROOT $PIPE"

echo "cevns-pipeline bench: $(nproc) cores ($(uptime | sed 's/.*load average: /load /')), --threads $THREADS, $BIN"
if command -v hyperfine >/dev/null 2>&1; then
  # One hyperfine call per group: a single --prepare would run before every
  # command of the call, and the scans need the outputs it removes.
  hyperfine --style basic --warmup 1 --runs "$RUNS" -N \
    --export-json "$TMP/scan.json" \
    -n "chi2-scan, 4 models x 1000 masses" "$SCAN1000" \
    -n "chi2-scan, 4 models x 201 masses" "$SCAN201" >&2
  hyperfine --style basic --warmup 1 --runs "$RUNS" -N \
    --export-json "$TMP/cold.json" \
    --prepare "$PREP" -n "cold cevns run (empty outputs)" "$COLD" >&2
  # The no-op run needs the outputs the cold runs left.
  "$BIN/cevns" run --quiet -C "$ROOT" "$PIPE"
  hyperfine --style basic --warmup 1 --runs "$RUNS" -N \
    --export-json "$TMP/noop.json" -n "warm no-op run" "$NOOP" >&2
  echo
  echo "Wall time, median of $RUNS runs (min … max):"
  python3 - "$TMP/scan.json" "$TMP/cold.json" "$TMP/noop.json" <<'PY'
import json, sys
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        print(f"  {r['command']:<40} {r['median']:8.3f} s  ({r['min']:.3f} … {r['max']:.3f})")
PY
else
  echo "(hyperfine not installed: apt-get install hyperfine; using bash's time, best of $RUNS)"
  TIMEFORMAT=%R
  for pair in "chi2-scan, 4 models x 1000 masses|$SCAN1000" \
              "chi2-scan, 4 models x 201 masses|$SCAN201" \
              "cold cevns run (empty outputs)|$PREP; $COLD" \
              "warm no-op run|$NOOP"; do
    name=${pair%%|*}; cmd=${pair#*|}
    best=""
    for _ in $(seq "$RUNS"); do
      t=$( { time bash -c "$cmd" >/dev/null 2>&1; } 2>&1 )
      if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    done
    printf '%-40s %8.3f s\n' "$name" "$best"
  done
fi

# Peak resident memory of every stage of a cold paper run: the runner is
# copied next to wrappers named like the stages (it looks for stage binaries
# beside itself first), each running the real binary under /usr/bin/time.
if [ -x /usr/bin/time ]; then
  WRAP=$TMP/wrap
  mkdir -p "$WRAP" "$TMP/mem"
  cp "$BIN/cevns" "$WRAP/cevns"
  for b in flux-prep xsec-tables rate-convolve quench-smear chi2-scan plot report; do
    printf '#!/bin/sh\nexec /usr/bin/time -f %%M -o %s/mem/%s %s/%s "$@"\n' "$TMP" "$b" "$BIN" "$b" >"$WRAP/$b"
    chmod +x "$WRAP/$b"
  done
  rm -rf "$ROOT/outputs"
  "$WRAP/cevns" run --quiet --force --threads "$THREADS" -C "$ROOT" "$PIPE"
  echo
  echo "Peak RSS per stage (cold paper run, /usr/bin/time):"
  for b in flux-prep xsec-tables rate-convolve quench-smear chi2-scan plot report; do
    printf '  %-14s %6.1f MB\n' "$b" "$(awk '{print $1/1024}' "$TMP/mem/$b")"
  done
fi

if [ "${CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null 2>&1 && [ -d "${WRAP:-}" ]; then
  echo
  echo "Instructions (callgrind, all threads; independent of machine load):"
  cg() { # name command...
    local name=$1; shift
    local n
    n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1)
    printf '  %-40s %8.3f G\n' "$name" "$(awk "BEGIN{print $n/1e9}")"
  }
  # shellcheck disable=SC2086
  cg "chi2-scan, 4 models x 1000 masses" $SCAN1000
  # shellcheck disable=SC2086
  cg "chi2-scan, 4 models x 201 masses" $SCAN201
  rm -rf "$ROOT/outputs"
  total=0
  for b in flux-prep xsec-tables rate-convolve quench-smear chi2-scan plot report; do
    printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file=%s/mem/%s.cg %s/%s "$@"\n' \
      "$TMP" "$b" "$BIN" "$b" >"$WRAP/$b"
  done
  "$WRAP/cevns" run --quiet --force --threads "$THREADS" -C "$ROOT" "$PIPE"
  for b in flux-prep xsec-tables rate-convolve quench-smear chi2-scan plot report; do
    n=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/mem/$b.cg" | tail -1)
    total=$((total + n))
    printf '  cold run: %-30s %8.3f G\n' "$b" "$(awk "BEGIN{print $n/1e9}")"
  done
  printf '  %-40s %8.3f G\n' "cold cevns run, stages summed" "$(awk "BEGIN{print $total/1e9}")"
fi
