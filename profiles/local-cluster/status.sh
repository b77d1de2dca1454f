#!/usr/bin/env bash
# Stand-in for `squeue`/`sacct`: print running, success or failed for the
# job id that submit.sh printed, from the files the job writes.
set -uo pipefail
id="${1:?usage: status.sh JOBID}"
dir="${CEVNS_CLUSTER_DIR:-.snakemake/local-cluster}/$id"
if [[ -f "$dir/exit" ]]; then
    if [[ "$(cat "$dir/exit")" == 0 ]]; then echo success; else echo failed; fi
elif [[ -f "$dir/pid" ]] && ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    # Process gone without an exit file: killed (node failure, OOM killer).
    echo failed
elif [[ -d "$dir" ]]; then
    echo running
else
    echo failed
fi
