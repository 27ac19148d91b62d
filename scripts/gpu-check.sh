#!/usr/bin/env bash
# One call on a GPU machine: build, run the tests for real, sanitize, verify, tune, compare with
# PyTorch, and print a short table last. Logs and tables go to $OUT (or ./gpu-out).
#   scripts/gpu-check.sh [steps...]
# steps: build test sanitize verify fuzz tune networks backward retune torch bench python resources
# ncu sass (default: build test sanitize verify fuzz tune torch). `backward` tunes
# configs/kernelbench-backward.json and configs/networks-backward.json (dgrad and wgrad, cuDNN's
# backward calls beside) and times PyTorch's convolution_backward on the same problems.
set -uo pipefail
# Work in a scratch folder; only an archive of it and the main results go to $OUT (a lent GPU
# machine hands back at most 8 files).
RESULT=${OUT:-gpu-out}
OUT=$(mktemp -d /tmp/gpu-check.XXXX)
mkdir -p "$RESULT"
steps=${*:-build test sanitize verify fuzz tune torch}
has() { [[ " $steps " == *" $1 "* ]]; }
BUILD=${BUILD:-build-gpu}
CONFIG=${CONFIG:-configs/kernelbench.json}
status=0
step() { echo "== $* ($(date +%T))"; }

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$OUT/gpu.txt"

if has build; then
  step build
  cmake -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release ${DWTUNE_GIT_REV:+-DDWTUNE_GIT_REV=$DWTUNE_GIT_REV} > "$OUT/configure.log" 2>&1 || { cat "$OUT/configure.log"; exit 1; }
  cmake --build "$BUILD" > "$OUT/build.log" 2>&1 || { tail -50 "$OUT/build.log"; exit 1; }
fi
if has test; then
  step ctest
  ctest --test-dir "$BUILD" --output-on-failure -j 4 > "$OUT/ctest.log" 2>&1 || status=1
  grep -E "tests passed|tests failed|Failed|\*\*\*" "$OUT/ctest.log" | tail -30
  grep -c "Skipped" "$OUT/ctest.log" | sed 's/^/skipped tests: /'
fi
if has sanitize; then
  step compute-sanitizer
  for tool in memcheck racecheck; do
    compute-sanitizer --tool $tool --error-exitcode 9 "$BUILD/dwtune" verify --config configs/sanitize.json \
      > "$OUT/sanitize-$tool.log" 2>&1; rc=$?
    echo "$tool: exit $rc; $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitize-$tool.log" | tail -1)"
    [ $rc -eq 0 ] || status=1
  done
fi
if has verify; then
  step verify
  for cfg in configs/edge.json "$CONFIG"; do
    "$BUILD/dwtune" verify --config "$cfg" > "$OUT/verify-$(basename "$cfg" .json).log" 2>&1 || status=1
    tail -1 "$OUT/verify-$(basename "$cfg" .json).log"
  done
fi
if has fuzz; then
  step fuzz
  # Random problems (every dtype, odd and network-like shapes) through every supporting candidate:
  # 0 wrong results and a passing candidate for each. FUZZ_N and FUZZ_SEED override.
  start=$(date +%s)
  DWTUNE_FUZZ_N=${FUZZ_N:-10000} DWTUNE_FUZZ_SEED=${FUZZ_SEED:-$(date +%s)} \
    timeout 600 "$BUILD/tests/test_fuzz" > "$OUT/fuzz.log" 2>&1 || status=1
  grep -E "^fuzz:|Failure|FAILED|PASSED|SKIPPED" "$OUT/fuzz.log" | head -30
  echo "fuzz took $(( $(date +%s) - start )) s"
fi
if has tune; then
  step tune
  start=$(date +%s)
  "$BUILD/dwtune" tune --config "$CONFIG" --out "$OUT/table.json" --keep-all 2> "$OUT/tune.log" || status=1
  echo "tune took $(( $(date +%s) - start )) s"
  "$BUILD/dwtune" report "$OUT/table.json" -o "$OUT/report.md" || status=1
  "$BUILD/dwtune" report "$OUT/table.json" --format html -o "$OUT/report.html" || status=1
fi
# tune_set NAME CONFIG: NAME-table.json, NAME-report.{md,html} and NAME-tune.log in $OUT.
tune_set() {
  local start
  start=$(date +%s)
  "$BUILD/dwtune" tune --config "$2" --out "$OUT/$1-table.json" 2> "$OUT/$1-tune.log" || status=1
  echo "$1 tune took $(( $(date +%s) - start )) s; $(grep -c FAILED "$OUT/$1-tune.log") failed"
  "$BUILD/dwtune" report "$OUT/$1-table.json" -o "$OUT/$1-report.md" || status=1
  "$BUILD/dwtune" report "$OUT/$1-table.json" --format html -o "$OUT/$1-report.html" || status=1
}
if has networks; then
  step networks
  tune_set networks configs/networks.json
fi
if has backward; then
  step backward
  for set in kb-backward:configs/kernelbench-backward.json networks-backward:configs/networks-backward.json; do
    name=${set%%:*} cfg=${set#*:}
    tune_set "$name" "$cfg"
    "$BUILD/dwtune" shapes --config "$cfg" --json > "$OUT/$name-shapes.json"
    PYTHONUNBUFFERED=1 python3 scripts/pytorch_baseline.py --shapes "$OUT/$name-shapes.json" \
      --out "$OUT/$name-pytorch.json" > "$OUT/$name-pytorch.log" 2>&1 || status=1
    python3 scripts/compare.py "$OUT/$name-table.json" "$OUT/$name-pytorch.json" || status=1
    # PyTorch's times into the table, where dispatch routes on them once it ships in results/.
    python3 scripts/pytorch_baseline.py --merge "$OUT/$name-pytorch.json" --table "$OUT/$name-table.json" \
      -o "$OUT/$name-table.json" || status=1
  done
fi
if has retune; then
  step retune
  # The same config again on the same GPU: winners must agree or lie within the measured spread.
  "$BUILD/dwtune" tune --config "$CONFIG" --out "$OUT/table-again.json" --quiet || status=1
  "$BUILD/dwtune" report "$OUT/table.json" --vs "$OUT/table-again.json" -o "$OUT/retune-vs.md" || status=1
  grep -A40 -iE "^## .*(vs|compar)" "$OUT/retune-vs.md" | head -30
fi
if has torch; then
  step pytorch
  "$BUILD/dwtune" shapes --config "$CONFIG" --json > "$OUT/shapes.json"
  PYTHONUNBUFFERED=1 python3 scripts/pytorch_baseline.py --shapes "$OUT/shapes.json" --out "$OUT/pytorch.json" \
    > "$OUT/pytorch.log" 2>&1 || status=1
  if [ -f "$OUT/table.json" ]; then  # the tune step's table, with PyTorch's times beside
    python3 scripts/pytorch_baseline.py --merge "$OUT/pytorch.json" --table "$OUT/table.json" -o "$OUT/table.json" \
      || status=1
  fi
fi
if has bench; then
  step bench
  timeout 240 "$BUILD/dwtune_bench" --benchmark_filter='^kb8[2-6](dw)?/' --cudnn-iterations 5 \
    --benchmark_out="$OUT/bench.json" --benchmark_out_format=json > "$OUT/bench.log" 2>&1 || status=1
  grep -E "manual_time" "$OUT/bench.log" | awk '{print $1, $2, $3}' | head -30
fi
if has python; then
  step python
  # pip install --no-build-isolation ./python, as a user would (its own CMake build in
  # python/build/dwtune-cmake with PyTorch's compiler), then the checks, then pip uninstall.
  if ! PYTHONFAULTHANDLER=1 OUT="$OUT" bash scripts/gpu-python-check.sh > "$OUT/python-check.log" 2>&1; then
    status=1
  fi
  sed -n '/== summary/,$p' "$OUT/python-check.log"
fi
if has resources; then
  step resources
  cuobjdump --dump-resource-usage "$BUILD/kernels/libdwtune_kernels.a" 2>/dev/null | grep -E "Function|REG" | paste - - \
    | sed -E 's/.*Function ([^:]*):.*REG:([0-9]+) STACK:([0-9]+).*/\2 \3 \1/' | c++filt > "$OUT/resources.txt"
  echo "kernels: $(wc -l < "$OUT/resources.txt"); with a stack frame (spills or local arrays): $(awk '$2 > 0' "$OUT/resources.txt" | wc -l)"
  awk '$2 > 0' "$OUT/resources.txt" | head -5
fi
if has ncu; then
  step ncu
  # One launch per target, profiled: throughput, occupancy, stall reasons. NCU_TARGETS lists
  # "problem JSON|kernel regex (demangled)" pairs separated by ';'; the default is the KB85 winner.
  # Demangled names spell template arguments as (int)3; '.' in the regex stands for the parentheses.
  targets=${NCU_TARGETS:-'{"name":"kb85","n":32,"c":128,"h":128,"w":256,"kernel":[3,7]}|staged_kernel<float, .int.3, .int.7, .int.16, .int.4, .int.64, .int.4,'}
  # One launch of the target kernel while dwtune tunes target i's problem; ncu options in "$@".
  profile() {
    ncu --kernel-name-base demangled --kernel-name "regex:${spec#*|}" --launch-skip 2 --launch-count 1 "$@" \
      "$BUILD/dwtune" tune --config "$OUT/ncu$i.json" --out "$OUT/ncu-table$i.json" --reps 5 --warmup 1 --no-cudnn
  }
  i=0
  IFS=';' read -ra specs <<< "$targets"
  for spec in "${specs[@]}"; do
    i=$((i + 1))
    printf '{"name":"ncu","problems":[%s]}' "${spec%%|*}" > "$OUT/ncu$i.json"
    profile --section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis \
      --section WarpStateStats --section SchedulerStats --section ComputeWorkloadAnalysis > "$OUT/ncu$i.log" 2>&1
    echo "-- ${spec#*|}"
    grep -E "DRAM Throughput|Duration|Registers Per|Achieved Occupancy|Theoretical Occupancy|Issue Slots Busy|No Eligible|Active Warps Per|Eligible Warps|Warp Cycles Per Issued|L1/TEX Hit|L2 Hit|Mem Pipes Busy|Executed Ipc A" "$OUT/ncu$i.log" | head -20
    grep -iE "stall|est. speedup" "$OUT/ncu$i.log" | head -8
    if [ -n "${NCU_SOURCE:-}" ]; then
      # Executed count of every SASS instruction (archived; read it offline).
      profile --section SourceCounters --page source --print-source sass --csv > "$OUT/ncu-source$i.csv" 2>&1
      echo "source page: $(wc -l < "$OUT/ncu-source$i.csv") lines"
    fi
  done
fi
if has sass; then
  step sass
  # SASS of the kernels named (mangled) in SASS_FUNS, from the kernel library (archived).
  for f in ${SASS_FUNS:-}; do
    cuobjdump -sass -fun "$f" "$BUILD/kernels/libdwtune_kernels.a" > "$OUT/sass-${f:0:60}.txt" 2>&1
    echo "$f: $(grep -cE '^ +/\*[0-9a-f]{4}\*/' "$OUT/sass-${f:0:60}.txt") instructions"
  done
fi
tar czf "$RESULT/logs.tgz" -C "$OUT" . 2>/dev/null
for f in table.json networks-table.json pytorch.json bench.json kb-backward-table.json networks-backward-table.json; do [ -f "$OUT/$f" ] && cp "$OUT/$f" "$RESULT/"; done
step summary
[ -f "$OUT/tune.log" ] && grep -E "^\[|copy bandwidth" "$OUT/tune.log"
[ -f "$OUT/pytorch.log" ] && cat "$OUT/pytorch.log"
exit $status
