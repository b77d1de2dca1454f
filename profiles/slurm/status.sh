#!/usr/bin/env bash
# Job state for Snakemake's cluster-generic executor from SLURM accounting:
# prints running, success or failed for the job id `sbatch --parsable` gave.
set -uo pipefail
id="${1:?usage: status.sh JOBID}"
id="${id%%;*}"   # --parsable may print "jobid;cluster"
state=$(sacct -j "$id" --format=State --noheader --parsable2 2>/dev/null | head -n 1)
if [[ -z "$state" ]]; then
    # Not yet in the accounting database: ask the queue.
    state=$(squeue -j "$id" -h -o %T 2>/dev/null | head -n 1)
    [[ -n "$state" ]] && { echo running; exit 0; }
    echo running   # just submitted; sacct lags a few seconds
    exit 0
fi
case "$state" in
    COMPLETED) echo success ;;
    PENDING|RUNNING|REQUEUED|RESIZING|SUSPENDED|CONFIGURING|COMPLETING) echo running ;;
    *) echo failed ;;   # FAILED, CANCELLED*, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, ...
esac
