#!/usr/bin/env bash
# A Slurm job array that tunes one config over N shards, one GPU each, then merges the shards:
#   sbatch --array=0-7 scripts/slurm-array.sh configs/networks.json results/tables
# and after the array finishes (e.g. as a dependent job):
#   build/dwtune merge results/tables/shard-*.json -o results/tables/merged.json
# Each shard takes every N-th problem (--shard I/N); --resume lets a requeued task continue.
#SBATCH --job-name=dwtune
#SBATCH --gpus=1
#SBATCH --time=01:00:00
set -euo pipefail
CONFIG=${1:?config}
OUTDIR=${2:?output directory}
N=${SLURM_ARRAY_TASK_COUNT:?run as a job array}
I=${SLURM_ARRAY_TASK_ID:?run as a job array}
mkdir -p "$OUTDIR"
build/dwtune tune --config "$CONFIG" --out "$OUTDIR/shard-$I.json" --shard "$I/$N" --resume --quiet
