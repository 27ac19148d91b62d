#!/usr/bin/env bash
# Installs what dwtune's build needs (Debian/Ubuntu packages), then configures and builds it in
# BUILD (default: build). The CUDA toolkit (nvcc, and cuDNN for the baseline) must already be
# there: it does not come from the distribution's packages.
#   scripts/setup.sh [BUILD]
set -euo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  cmake ninja-build g++ git ca-certificates \
  libfmt-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev > /dev/null
nvcc=$(command -v nvcc || true)
[ -n "$nvcc" ] || [ ! -x /usr/local/cuda/bin/nvcc ] || nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  echo "setup: nvcc not found (PATH or /usr/local/cuda/bin): install the CUDA toolkit first" >&2
  exit 1
fi
cmake -S "$root" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc"
cmake --build "$BUILD"
echo "setup: built $BUILD/dwtune and $BUILD/dwtune_bench"
