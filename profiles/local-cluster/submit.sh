#!/usr/bin/env bash
# Stand-in for `sbatch --parsable`: start the job script Snakemake passes
# (last argument) as an independent background process and print a job id.
# Options before it (--cpus N --mem-mb M --runtime-min T --name RULE) are
# recorded with the job, as a scheduler would see them; the runtime becomes
# a hard limit (`timeout`).
#
# State, one directory per job under .snakemake/local-cluster/<id>/:
#   pid       pid of the job's process
#   request   the resources asked for
#   log       stdout+stderr of the job
#   exit      exit code, written when the job ends (absent while running)
set -euo pipefail
runtime_min=0
req=()
while [[ $# -gt 1 ]]; do
    case "$1" in
        --runtime-min) runtime_min="$2"; req+=("$1 $2"); shift 2 ;;
        --*) req+=("$1 ${2:-}"); shift 2 ;;
        *) shift ;;
    esac
done
jobscript="${1:?usage: submit.sh [--opt value]... JOBSCRIPT}"
base="${CEVNS_CLUSTER_DIR:-.snakemake/local-cluster}"
mkdir -p "$base"
dir=$(mktemp -d "$base/job.XXXXXXXX")
id=$(basename "$dir")
printf '%s\n' "${req[@]}" > "$dir/request"
# Copy the script: Snakemake may delete its temporary job script early.
cp "$jobscript" "$dir/jobscript.sh"
limit=()
if [[ "$runtime_min" =~ ^[0-9]+$ ]] && [[ "$runtime_min" -gt 0 ]]; then
    limit=(timeout "$((runtime_min * 60))s")
fi
# setsid: a session of its own, detached from Snakemake's (as on a node).
setsid bash -c '
    dir="$1"; shift
    echo $$ > "$dir/pid.tmp" && mv "$dir/pid.tmp" "$dir/pid"
    "$@" bash "$dir/jobscript.sh" > "$dir/log" 2>&1
    code=$?
    echo "$code" > "$dir/exit.tmp" && mv "$dir/exit.tmp" "$dir/exit"
' _ "$dir" "${limit[@]}" < /dev/null > /dev/null 2>&1 &
echo "$id"
