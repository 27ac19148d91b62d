#!/usr/bin/env bash
# On a GPU machine: the dispatch library and the PyTorch drop-in in one call. Builds dwtune (Release)
# in BUILD_DIR if needed, runs test_dispatch for real, builds and runs the find_package consumer,
# builds the extension (scripts/build-python.sh) and runs scripts/kernelbench_check.py; a short
# summary table comes last. Logs go to $OUT (or ./gpu-out). Extra arguments go to kernelbench_check.py
# (e.g. --table results/h200/table.json).
#   scripts/gpu-python-check.sh BUILD_DIR [kernelbench_check.py args...]
set -uo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [kernelbench_check.py args...]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$1
shift
OUT=${OUT:-gpu-out}
mkdir -p "$OUT" "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
declare -a summary
status=0
record() {  # step, rc, detail
  local verdict=PASS
  [ "$2" -eq 0 ] || { verdict="FAIL (exit $2)"; status=1; }
  summary+=("$(printf '%-22s %-14s %s' "$1" "$verdict" "$3")")
}

echo "== configure + build dwtune_dispatch, test_dispatch ($(date +%T))"
source "$root/scripts/python-compiler.sh"
rc=0
check_build_compiler "$BUILD" || rc=2
if [ $rc -eq 0 ] && [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release > "$OUT/py-configure.log" 2>&1 || rc=$?
fi
[ $rc -eq 0 ] && { cmake --build "$BUILD" --target dwtune_dispatch test_dispatch > "$OUT/py-build.log" 2>&1 || rc=$?; }
[ $rc -eq 0 ] || tail -40 "$OUT/py-configure.log" "$OUT/py-build.log" 2> /dev/null
record "cmake build" $rc "$BUILD"

if [ $rc -eq 0 ]; then
  echo "== test_dispatch ($(date +%T))"
  trc=0
  "$BUILD/tests/test_dispatch" > "$OUT/test_dispatch.log" 2>&1 || trc=$?
  grep -E "^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test|^\[  FAILED  \] [A-Z]" "$OUT/test_dispatch.log"
  skipped=$(grep -oE "^\[  SKIPPED \] [0-9]+" "$OUT/test_dispatch.log" | grep -oE "[0-9]+$" || echo 0)
  if [ "$skipped" -gt 0 ] && [ $trc -eq 0 ]; then
    echo "GPU tests skipped: is the GPU visible?"
    trc=4
  fi
  record "test_dispatch" $trc "$(grep -E '^\[  PASSED  \]' "$OUT/test_dispatch.log" | head -1) skipped=$skipped"

  echo "== consumer via find_package ($(date +%T))"
  crc=0
  bash "$root/scripts/check-consumer.sh" "$BUILD" --run > "$OUT/consumer.log" 2>&1 || crc=$?
  tail -5 "$OUT/consumer.log"
  record "consumer" $crc "$(grep -E '^kernel:' "$OUT/consumer.log" | head -1)"

  echo "== build the PyTorch extension ($(date +%T))"
  prc=0
  bash "$root/scripts/build-python.sh" "$BUILD" > "$OUT/build-python.log" 2>&1 || prc=$?
  if [ $prc -eq 0 ]; then tail -1 "$OUT/build-python.log"; else tail -40 "$OUT/build-python.log"; fi
  record "extension build" $prc ""

  if [ $prc -eq 0 ]; then
    echo "== kernelbench_check.py ($(date +%T))"
    krc=0
    PYTHONUNBUFFERED=1 python3 "$root/scripts/kernelbench_check.py" "$@" > "$OUT/kernelbench_check.log" 2>&1 || krc=$?
    grep -E "FAIL|Error" "$OUT/kernelbench_check.log" | head -20
    record "kernelbench_check" $krc "$(tail -1 "$OUT/kernelbench_check.log")"
  fi
fi

echo
echo "== summary (logs in $OUT)"
printf '%s\n' "${summary[@]}"
if [ -f "$OUT/kernelbench_check.log" ]; then
  echo
  sed -n '/^problem /,$p' "$OUT/kernelbench_check.log"
fi
exit $status
