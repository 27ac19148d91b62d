#!/usr/bin/env bash
# Installs dwtune from a CMake build into a temporary prefix, then configures and builds
# examples/consumer against it with find_package(dwtune). Options: --run runs the consumer (exit 3,
# "no CUDA device", counts as success); --subdir also builds the consumer with dwtune's sources
# through add_subdirectory (compiles the kernels again: minutes).
#   scripts/check-consumer.sh BUILD_DIR [--run] [--subdir]
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [--run] [--subdir]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
shift
run=0 subdir=0
for a in "$@"; do
  case $a in
    --run) run=1 ;;
    --subdir) subdir=1 ;;
    *) echo "$0: unknown option $a" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dwtune-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== build the installed libraries in $build"
cmake --build "$build" --target dwtune_dispatch
echo "== install into $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }
echo "== configure and build examples/consumer against it"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S "$root/examples/consumer" -B "$tmp/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/build" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
echo "consumer built: find_package(dwtune) and dwtune::dwtune work"

run_consumer() {
  local rc=0
  "$1" || rc=$?
  if [ $rc -eq 3 ]; then
    echo "consumer: exit 3 (no CUDA device), as expected without a GPU"
  elif [ $rc -ne 0 ]; then
    echo "consumer failed with exit $rc" >&2
    exit 1
  fi
}
[ $run -eq 1 ] && run_consumer "$tmp/build/consumer"

if [ $subdir -eq 1 ]; then
  echo "== configure and build examples/consumer with add_subdirectory($root)"
  cmake -S "$root/examples/consumer" -B "$tmp/subdir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DDWTUNE_SOURCE_DIR="$root" > "$tmp/subdir-configure.log" 2>&1 || { cat "$tmp/subdir-configure.log"; exit 1; }
  cmake --build "$tmp/subdir" --target consumer > "$tmp/subdir-build.log" 2>&1 || { tail -50 "$tmp/subdir-build.log"; exit 1; }
  echo "consumer built through add_subdirectory"
  [ $run -eq 1 ] && run_consumer "$tmp/subdir/consumer"
fi
exit 0
