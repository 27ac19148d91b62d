# Sourced by the Python build scripts: the one C++ compiler for the dwtune libraries and the PyTorch
# extension that links them: DWTUNE_PYTHON_CXX if set, else /usr/bin/g++ where it exists, else $CXX.
# The GPU image exports CXX=/opt/gcc/bin/g++; an extension built and linked with it crashed inside
# ostream << long beside torch's libstdc++ (cuda-gdb backtrace), so an inherited CXX is not trusted.
# CMake reads CXX, CC and CUDAHOSTCXX when it first configures a build folder; setuptools reads CXX.
if [ -n "${DWTUNE_PYTHON_CXX:-}" ]; then
  export CXX=$DWTUNE_PYTHON_CXX
elif [ -x /usr/bin/g++ ]; then
  export CXX=/usr/bin/g++ CC=/usr/bin/gcc
fi
if [ -n "${CXX:-}" ]; then
  export CUDAHOSTCXX=$CXX
fi

# Refuses a build folder configured with another C++ compiler than $CXX: its libraries would mix
# two compilers' libstdc++ code in the extension.
check_build_compiler() {  # build_dir
  local cached want
  cached=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$1/CMakeCache.txt" 2> /dev/null)
  [ -n "$cached" ] && [ -n "${CXX:-}" ] || return 0
  want=$(command -v "$CXX" || echo "$CXX")
  if [ "$(readlink -f "$cached")" != "$(readlink -f "$want")" ]; then
    echo "error: $1 was configured with $cached, but the extension builds with $CXX; use a fresh build folder (or set DWTUNE_PYTHON_CXX=$cached)" >&2
    return 2
  fi
}
