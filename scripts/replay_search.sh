#!/usr/bin/env bash
# Issue 17's comparison without a GPU: every committed --keep-all table under results/ replayed with
# the model-guided strategy and with random sampling at the same budget; the per-problem rows of the
# model strategy, then one summary line per table and strategy.
#   scripts/replay_search.sh [DWTUNE] [FRACTION]   (default build/dwtune, 0.25)
# "model": fitted, for each problem, on the replayed table's other problems with every problem of
# the same shape (any dtype) left out (dwtune replay's default, tuner/search.hpp). "model, every
# table": fitted on every committed --keep-all table as the tuner's --model would be, the problem's
# shape left out of all of them (--also). A pick the table declared tied with the winner counts.
# After each table's rows, the order of evaluations of every problem the model missed (--trace-misses).
set -euo pipefail
cd "$(dirname "$0")/.."
DWTUNE=${1:-build/dwtune}
FRACTION=${2:-0.25}
tables=()
for t in results/*/*table*.json results/*/*table*.json.gz; do
  if ! out=$("$DWTUNE" replay "$t" --strategy model --budget-fraction "$FRACTION" 2>&1); then
    echo "== $t: skipped ($(echo "$out" | tail -1))"
    continue
  fi
  tables+=("$t")
done
summary=""
for t in "${tables[@]}"; do
  out=$("$DWTUNE" replay "$t" --strategy model --budget-fraction "$FRACTION" --trace-misses)
  echo "== $t"
  echo "$out"
  echo
  summary+="$t model:  $(echo "$out" | grep -m1 '^[0-9]* problems: ')"$'\n'
  also=()
  for o in "${tables[@]}"; do [ "$o" != "$t" ] && also+=(--also "$o"); done
  every=$("$DWTUNE" replay "$t" --strategy model --budget-fraction "$FRACTION" "${also[@]}")
  summary+="$t model, every table:  $(echo "$every" | tail -1)"$'\n'
  random=$("$DWTUNE" replay "$t" --strategy random --budget-fraction "$FRACTION" --seeds 100)
  summary+="$t random: $(echo "$random" | tail -1)"$'\n'
done
echo "== summary (budget fraction $FRACTION)"
printf '%s' "$summary"
