#!/usr/bin/env bash
# Builds the PyTorch extension dwtune_torch._C in place (python/dwtune_torch/_C*.so) against a CMake
# build of dwtune, configuring and building that first when needed. Offline: no pip downloads.
#   scripts/build-python.sh BUILD_DIR
# Then: PYTHONPATH=python python3 -c "import dwtune_torch"
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
source "$root/scripts/python-compiler.sh"
check_build_compiler "$build" || exit 2
if [ ! -f "$build/CMakeCache.txt" ]; then
  generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" --target dwtune_dispatch
cd "$root/python"
DWTUNE_BUILD_DIR="$build" python3 setup.py build_ext --inplace --build-temp "$build/python-temp"
cd "$root"
PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}" python3 -c \
  "import torch, dwtune_torch; print('built', dwtune_torch._C.__file__)"
