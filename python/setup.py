"""Builds dwtune_torch._C against the static libraries of a CMake build of dwtune.

The kernels are compiled by CMake (their instantiation sources are generated there), so this only
compiles python/dwtune_torch/ext.cpp and links it with libdwtune_dispatch.a, libdwtune_kernels.a,
libdwtune_problem.a (position-independent) and fmt. Works offline:

    cmake -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build --target dwtune_dispatch
    cd python && DWTUNE_BUILD_DIR=$PWD/../build python3 setup.py build_ext --inplace
    # or: DWTUNE_BUILD_DIR=$PWD/build pip install --no-build-isolation --no-deps -e python/

scripts/build-python.sh BUILD_DIR does all of it.
"""
import json
import os
import sys

from setuptools import setup

import torch
from torch.utils.cpp_extension import BuildExtension, CUDAExtension


def fail(msg):
    sys.exit(f"python/setup.py: {msg}")


build_dir = os.environ.get("DWTUNE_BUILD_DIR")
if not build_dir:
    fail("set DWTUNE_BUILD_DIR to a CMake build of dwtune (cmake -B build && "
         "cmake --build build --target dwtune_dispatch)")
build_dir = os.path.abspath(build_dir)
link_file = os.path.join(build_dir, "dwtune_python_link.json")
if not os.path.exists(link_file):
    fail(f"{link_file} not found: is {build_dir} a configured CMake build of dwtune?")
with open(link_file) as f:
    link = json.load(f)
missing = [p for p in link["static_libs"] if not os.path.exists(p)]
if missing:
    fail(f"not built yet: {', '.join(missing)}; run cmake --build {build_dir} --target dwtune_dispatch")
if not getattr(torch, "compiled_with_cxx11_abi", lambda: True)():
    fail("this PyTorch is built with the pre-C++11 string ABI; dwtune's libraries use the C++11 ABI")

# Architectures: none of our sources go through nvcc here, but cpp_extension asks for a list.
archs = [a for a in link.get("cuda_architectures", "").replace("-real", "").replace("-virtual", "")
         .split(";") if a.isdigit() and len(a) >= 2]
if archs and "TORCH_CUDA_ARCH_LIST" not in os.environ:
    os.environ["TORCH_CUDA_ARCH_LIST"] = ";".join(f"{a[:-1]}.{a[-1]}" for a in archs)

# dwtune's headers need C++17; PyTorch picks its own standard (C++17 or later) from 2.1 on.
torch_version = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2] if p.isdigit())
cxx_flags = ["-O2"] + (["-std=c++17"] if torch_version < (2, 1) else [])

include_dirs = [d for d in link["include_dirs"] if d and d not in ("/usr/include", "/usr/local/include")]
libs = link.get("libs", [])
rpaths = sorted({os.path.dirname(p) for p in libs if ".so" in os.path.basename(p)})

setup(
    name="dwtune_torch",
    version="0.1.0",
    description="dwtune's tuned depthwise conv2d for PyTorch",
    packages=["dwtune_torch"],
    ext_modules=[
        CUDAExtension(
            name="dwtune_torch._C",
            sources=["dwtune_torch/ext.cpp"],
            include_dirs=include_dirs,
            # Order matters for static libraries: users before what they use.
            extra_objects=link["static_libs"] + libs,
            extra_compile_args={"cxx": cxx_flags, "nvcc": ["-O2"]},
            extra_link_args=[f"-Wl,-rpath,{d}" for d in rpaths],
        )
    ],
    cmdclass={"build_ext": BuildExtension},
    python_requires=">=3.9",
)
