#!/usr/bin/env bash
# On a GPU machine: the PyTorch package as a user installs it, and the dispatch library, in one call.
# pip install --no-build-isolation ./python (which builds dwtune through CMake in
# python/build/dwtune-cmake), an import from outside the checkout, scripts/torch_check.py (opcheck
# of the three operators, torch.compile, KernelBench-style evaluation, every table layer vs
# F.conv2d), scripts/train_check.py (gradients, determinism, a KB85 training step),
# tests/python/test_torch_ops.py, scripts/host_cost.py, the shapes script against that build's
# `dwtune shapes`, scripts/kernelbench_check.py; then pip uninstall. Logs go to $OUT (or ./gpu-out). A short summary comes last.
#   scripts/gpu-python-check.sh [TABLE.json]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
TABLE=${1:-}
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUILD=$root/python/build/dwtune-cmake
declare -a summary
status=0
record() {  # step, rc, detail
  local verdict=PASS
  [ "$2" -eq 0 ] || { verdict="FAIL (exit $2)"; status=1; }
  summary+=("$(printf '%-22s %-14s %s' "$1" "$verdict" "$3")")
}
export PYTHONUNBUFFERED=1

echo "== pip install --no-build-isolation ./python ($(date +%T))"
start=$(date +%s)
rc=0
(cd "$root" && python3 -m pip install --no-build-isolation ./python) > "$OUT/pip-install.log" 2>&1 || rc=$?
grep -E "python/setup.py|Successfully|error" "$OUT/pip-install.log" | head -20
[ $rc -eq 0 ] || tail -40 "$OUT/pip-install.log"
record "pip install" $rc "$(( $(date +%s) - start )) s"

if [ $rc -eq 0 ]; then
  irc=0
  (cd /tmp && python3 -c "import dwtune_torch, torch; print('imported', dwtune_torch.__file__, torch.ops.dwtune.conv2d.default)") || irc=$?
  record "import (outside)" $irc ""

  table_args=()
  [ -n "$TABLE" ] && table_args=(--table "$TABLE")
  echo "== torch_check.py ($(date +%T))"
  trc=0
  python3 "$root/scripts/torch_check.py" "${table_args[@]}" > "$OUT/torch_check.log" 2>&1 || trc=$?
  grep -E "^  (ok|FAIL)|^==|failed" "$OUT/torch_check.log"
  record "torch_check" $trc "$(tail -1 "$OUT/torch_check.log")"

  echo "== train_check.py ($(date +%T))"
  rrc=0
  python3 "$root/scripts/train_check.py" "${table_args[@]}" > "$OUT/train_check.log" 2>&1 || rrc=$?
  grep -E "^  (ok|FAIL)|^==|failed|speedup|^        " "$OUT/train_check.log"
  record "train_check" $rrc "$(tail -1 "$OUT/train_check.log")"

  echo "== test_torch_ops.py ($(date +%T))"
  orc=0
  (cd /tmp && python3 "$root/tests/python/test_torch_ops.py") > "$OUT/torch_ops.log" 2>&1 || orc=$?
  tail -5 "$OUT/torch_ops.log"
  record "operators on meta" $orc "$(tail -1 "$OUT/torch_ops.log")"

  echo "== host_cost.py ($(date +%T))"
  hrc=0
  python3 "$root/scripts/host_cost.py" > "$OUT/host_cost.log" 2>&1 || hrc=$?
  cat "$OUT/host_cost.log"
  record "host cost" $hrc ""

  echo "== shapes script ($(date +%T))"
  src=0
  cmake --build "$BUILD" --target dwtune > "$OUT/dwtune-build.log" 2>&1 &&
    python3 "$root/tests/python/test_shapes.py" "$BUILD/dwtune" > "$OUT/shapes.log" 2>&1 || src=$?
  cat "$OUT/shapes.log" 2> /dev/null
  record "shapes -> dwtune shapes" $src ""

  echo "== kernelbench_check.py ($(date +%T))"
  krc=0
  python3 "$root/scripts/kernelbench_check.py" "${table_args[@]}" > "$OUT/kernelbench_check.log" 2>&1 || krc=$?
  grep -E "FAIL|Error" "$OUT/kernelbench_check.log" | head -20
  record "kernelbench_check" $krc "$(tail -1 "$OUT/kernelbench_check.log")"

  echo "== pip uninstall ($(date +%T))"
  urc=0
  python3 -m pip uninstall -y dwtune_torch > "$OUT/pip-uninstall.log" 2>&1 || urc=$?
  (cd /tmp && ! python3 -c "import dwtune_torch" 2> /dev/null) || urc=9
  record "pip uninstall" $urc "$(tail -1 "$OUT/pip-uninstall.log")"
fi

echo
echo "== summary (logs in $OUT)"
printf '%s\n' "${summary[@]}"
[ -f "$OUT/torch_check.log" ] && sed -n '/== every layer/,$p' "$OUT/torch_check.log"
[ -f "$OUT/kernelbench_check.log" ] && sed -n '/^problem /,$p' "$OUT/kernelbench_check.log"
exit $status
