#!/usr/bin/env bash
# Issue 17's comparison without a GPU: every committed --keep-all table under results/ replayed with
# the model-guided strategy and with random sampling at the same budget; the per-problem rows of the
# model strategy, then one summary line per table and strategy.
#   scripts/replay_search.sh [DWTUNE] [FRACTION]   (default build/dwtune, 0.25)
# The model is fitted, for each problem, on the replayed table's other problems with every problem of
# the same shape (any dtype) left out (dwtune replay's default, tuner/search.hpp).
set -euo pipefail
cd "$(dirname "$0")/.."
DWTUNE=${1:-build/dwtune}
FRACTION=${2:-0.25}
summary=""
for t in results/*/*table*.json results/*/*table*.json.gz; do
  if ! out=$("$DWTUNE" replay "$t" --strategy model --budget-fraction "$FRACTION" 2>&1); then
    echo "== $t: skipped ($(echo "$out" | tail -1))"
    continue
  fi
  echo "== $t"
  echo "$out"
  echo
  summary+="$t model:  $(echo "$out" | tail -1)"$'\n'
  random=$("$DWTUNE" replay "$t" --strategy random --budget-fraction "$FRACTION" --seeds 100)
  summary+="$t random: $(echo "$random" | tail -1)"$'\n'
done
echo "== summary (budget fraction $FRACTION)"
printf '%s' "$summary"
