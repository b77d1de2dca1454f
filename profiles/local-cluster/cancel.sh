#!/usr/bin/env bash
# Stand-in for `scancel`: terminate the process group of each job id.
set -uo pipefail
for id in "$@"; do
    dir="${CEVNS_CLUSTER_DIR:-.snakemake/local-cluster}/$id"
    if [[ -f "$dir/pid" ]]; then
        kill -TERM -- "-$(cat "$dir/pid")" 2>/dev/null || true
    fi
done
