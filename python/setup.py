"""Builds and installs dwtune_torch: `pip install --no-build-isolation ./python` from a dwtune checkout.

The kernels are compiled by CMake (their instantiation sources are generated there), so this
configures and builds the static dispatch library of this checkout in python/build/dwtune-cmake
(target dwtune_dispatch; no tests, no benchmarks), then compiles dwtune_torch/ext.cpp and links it
with those libraries. Offline: nothing is downloaded. `--no-build-isolation` builds against the
PyTorch that will import the extension (an isolated build would fetch another one).

The C++ compiler is the one PyTorch was built with, found by version (torch.__config__.show() names
its GCC): g++-<that major>, else the system's /usr/bin/g++, else g++ on PATH; dwtune's libraries and
the extension use the same one. An inherited CXX is not trusted: the GPU image exports
CXX=/opt/gcc/bin/g++, and an extension built with it crashed inside ostream << long beside torch's
libstdc++.
Optional overrides: DWTUNE_PYTHON_CXX (the compiler), DWTUNE_BUILD_DIR (an existing CMake build of
dwtune configured with that compiler; its dwtune_dispatch target is built), DWTUNE_CUDA_ARCHITECTURES
(default: the architecture of the visible GPU, else the project's default), DWTUNE_CMAKE_ARGS (more
arguments for the first configure, for development: e.g. "-DDWTUNE_ONLY_FAMILIES=naive;nhwc").
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def fail(msg):
    sys.exit(f"python/setup.py: error: {msg}")


def say(msg):
    print(f"python/setup.py: {msg}", flush=True)


try:
    import torch
    from torch.utils.cpp_extension import BuildExtension, CUDAExtension
except ImportError as e:
    fail(f"PyTorch is not importable ({e}). Build with the PyTorch you will run: "
         "pip install --no-build-isolation ./python")


def gcc_major(cxx):
    try:
        out = subprocess.run([cxx, "-dumpfullversion", "-dumpversion"], capture_output=True, text=True,
                             check=True, timeout=60).stdout
        return int(out.strip().split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def torch_gcc_major():
    m = re.search(r"\bGCC (\d+)", torch.__config__.show())
    return int(m.group(1)) if m else None


def pick_compiler():
    """(g++, gcc, why)."""
    if os.environ.get("DWTUNE_PYTHON_CXX"):
        cxx = shutil.which(os.environ["DWTUNE_PYTHON_CXX"]) or os.environ["DWTUNE_PYTHON_CXX"]
        return cxx, None, "DWTUNE_PYTHON_CXX"
    want = torch_gcc_major()
    found = []
    for c in ([f"/usr/bin/g++-{want}", f"g++-{want}"] if want else []) + ["/usr/bin/g++", "g++", "c++"]:
        path = shutil.which(c)
        if path and path not in found:
            found.append(path)
    if not found:
        fail("no C++ compiler found (looked for g++ and c++); set DWTUNE_PYTHON_CXX")
    exact = [c for c in found if want and gcc_major(c) == want]
    cxx = (exact or found)[0]
    why = (f"GCC {want}, as PyTorch was built with" if exact else
           f"PyTorch was built with GCC {want}, not found; the system compiler")
    cc = os.path.join(os.path.dirname(cxx), os.path.basename(cxx).replace("g++", "gcc"))
    return cxx, cc if os.path.exists(cc) and cc != cxx else None, why


def cached_compiler(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_CXX_COMPILER:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def cuda_architectures():
    if os.environ.get("DWTUNE_CUDA_ARCHITECTURES"):
        return os.environ["DWTUNE_CUDA_ARCHITECTURES"]
    if torch.cuda.is_available():
        major, minor = torch.cuda.get_device_capability(0)
        return f"{major}{minor}"
    return None


def build_dwtune(cxx):
    """Configures (once) and builds dwtune_dispatch; returns the build folder."""
    if not os.path.exists(os.path.join(ROOT, "CMakeLists.txt")) or not os.path.isdir(os.path.join(ROOT, "dispatch")):
        fail(f"{ROOT} is not a dwtune checkout: install from one (pip install --no-build-isolation ./python)")
    build = os.path.abspath(os.environ.get("DWTUNE_BUILD_DIR") or os.path.join(HERE, "build", "dwtune-cmake"))
    cached = cached_compiler(build)
    if cached and os.path.realpath(cached) != os.path.realpath(cxx):
        fail(f"{build} was configured with {cached}, but the extension builds with {cxx}; remove that "
             "folder (or set DWTUNE_PYTHON_CXX to the compiler it used)")
    if not cached:
        cmd = ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_CXX_COMPILER={cxx}",
               f"-DCMAKE_CUDA_HOST_COMPILER={cxx}", "-DDWTUNE_BUILD_TESTS=OFF", "-DDWTUNE_BUILD_BENCH=OFF",
               "-DDWTUNE_INSTALL=OFF"]
        if shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        cmd += shlex.split(os.environ.get("DWTUNE_CMAKE_ARGS", ""))
        arch = cuda_architectures()
        if arch:
            cmd.append(f"-DCMAKE_CUDA_ARCHITECTURES={arch}")
        say(" ".join(cmd))
        subprocess.run(cmd, check=True)
    jobs = str(os.cpu_count() or 2)
    say(f"building dwtune_dispatch in {build} ({jobs} jobs)")
    subprocess.run(["cmake", "--build", build, "--target", "dwtune_dispatch", "--parallel", jobs], check=True)
    return build


def link_info(build):
    link_file = os.path.join(build, "dwtune_python_link.json")
    if not os.path.exists(link_file):
        fail(f"{link_file} not found: is {build} a configured CMake build of dwtune?")
    with open(link_file) as f:
        link = json.load(f)
    missing = [p for p in link["static_libs"] if not os.path.exists(p)]
    if missing:
        fail(f"not built: {', '.join(missing)}")
    return link


def extensions():
    if not getattr(torch, "compiled_with_cxx11_abi", lambda: True)():
        fail("this PyTorch is built with the pre-C++11 string ABI; dwtune's libraries use the C++11 ABI")
    cxx, cc, why = pick_compiler()
    say(f"C++ compiler {cxx} ({why})")
    # setuptools compiles and links the extension with CC/CXX; CMake got the same compiler above.
    os.environ["CXX"] = cxx
    if cc:
        os.environ["CC"] = cc
    link = link_info(build_dwtune(cxx))
    # Architectures: none of our sources go through nvcc here, but cpp_extension asks for a list.
    archs = [a for a in link.get("cuda_architectures", "").replace("-real", "").replace("-virtual", "")
             .split(";") if a.isdigit() and len(a) >= 2]
    if archs and "TORCH_CUDA_ARCH_LIST" not in os.environ:
        os.environ["TORCH_CUDA_ARCH_LIST"] = ";".join(f"{a[:-1]}.{a[-1]}" for a in archs)
    include_dirs = [d for d in link["include_dirs"] if d and d not in ("/usr/include", "/usr/local/include")]
    libs = link.get("libs", [])
    rpaths = sorted({os.path.dirname(p) for p in libs if ".so" in os.path.basename(p)})
    return [CUDAExtension(
        name="dwtune_torch._C",
        sources=["dwtune_torch/ext.cpp", "dwtune_torch/autograd.cpp"],
        include_dirs=include_dirs,
        # Order matters for static libraries: users before what they use.
        extra_objects=link["static_libs"] + libs,
        extra_compile_args={"cxx": ["-O2"], "nvcc": ["-O2"]},
        extra_link_args=[f"-Wl,-rpath,{d}" for d in rpaths],
    )]


# Metadata-only steps (egg_info, dist_info) need no build.
needs_build = any(a in sys.argv for a in ("build_ext", "build", "bdist_wheel", "install", "develop",
                                          "editable_wheel"))
setup(
    name="dwtune_torch",
    version="0.2.0",
    description="dwtune's tuned depthwise conv2d as a PyTorch operator (torch.ops.dwtune.conv2d)",
    packages=["dwtune_torch", "dwtune_torch.kernelbench"],
    ext_modules=extensions() if needs_build else [],
    cmdclass={"build_ext": BuildExtension},
    python_requires=">=3.9",
)
