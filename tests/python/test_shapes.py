#!/usr/bin/env python3
"""dwtune_torch.shapes on a model, its config read back by `dwtune shapes --config --json`: every
depthwise layer there once, with the output size PyTorch computes. A small MobileNet-like module
built here, and torchvision's mobilenet_v3_large where torchvision is installed. Needs torch (CPU
is enough); without it this exits 77, which ctest counts as skipped.

    tests/python/test_shapes.py build/dwtune
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))

try:
    import torch
    import torch.nn as nn
except ImportError:
    print("skipped: torch is not importable")
    sys.exit(77)

from dwtune_torch import shapes  # noqa: E402  (needs no compiled extension)


def block(c_in, c_out, k, stride, expand=4, bias=False):
    mid = c_in * expand
    return nn.Sequential(
        nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
        nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=bias), nn.BatchNorm2d(mid), nn.ReLU6(),
        nn.Conv2d(mid, c_out, 1, bias=False))


def tiny_mobilenet():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(),
        block(16, 16, 3, 1), block(16, 24, 3, 2), block(24, 24, 3, 1), block(24, 40, 5, 2, bias=True),
        nn.Conv2d(40, 80, (1, 7), padding=(0, 3), groups=40),  # multiplier 2, asymmetric kernel
        nn.Conv2d(80, 80, 3, padding="same", dilation=2, groups=80),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(80, 10))


def expected(model, shape):
    """{module name: (out_h, out_w)} of the depthwise layers, from a real forward pass on the CPU."""
    got = {}
    hooks = [m.register_forward_hook(lambda m, a, y, n=n: got.__setitem__(n, tuple(y.shape[2:])))
             for n, m in model.named_modules() if shapes.is_depthwise(m)]
    with torch.no_grad():
        model(torch.rand(shape))
    for h in hooks:
        h.remove()
    return got


def check(dwtune, spec, shape, model=None, dtype=None):
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cfg.json")
        cmd = [sys.executable, "-m", "dwtune_torch.shapes", spec, "--input", ",".join(map(str, shape)), "-o", out]
        if dtype:
            cmd += ["--dtype", dtype]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, sys.path[0], os.environ.get("PYTHONPATH", "")]))
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            return [f"{spec}: shapes exited {r.returncode}: {r.stderr}"]
        cfg = json.load(open(out))
        r = subprocess.run([dwtune, "shapes", "--config", out, "--json"], capture_output=True, text=True)
        if r.returncode != 0:
            return [f"{spec}: dwtune shapes refused the config (exit {r.returncode}): {r.stderr}"]
        listed = {p["name"]: p for p in json.loads(r.stdout)}
        if len(listed) != len(cfg["problems"]):
            failures.append(f"{spec}: {len(cfg['problems'])} problems written, dwtune lists {len(listed)}")
        for p in cfg["problems"]:
            if p["dtype"] != (dtype or "f32") or p["layout"] != "nchw":
                failures.append(f"{spec}: {p['name']}: dtype {p['dtype']}, layout {p['layout']}")
        if model is not None:
            want = expected(model, shape)
            names = {p["name"] for p in cfg["problems"]}
            for name, p in listed.items():
                if name in want and (p["out_h"], p["out_w"]) != want[name]:
                    failures.append(f"{spec}: {name}: dwtune says {p['out_h']}x{p['out_w']}, PyTorch {want[name]}")
            missing = [n for n in want if n not in names]
            # Identical shapes are written once: every layer left out must share a written shape.
            if len(names) + len(missing) != len(want) or not names:
                failures.append(f"{spec}: {len(want)} depthwise layers, {len(names)} written, {missing} left out")
        print(f"{spec} {shape}: {len(cfg['problems'])} problems; {cfg['description']}")
    return failures


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    dwtune = sys.argv[1]
    failures = check(dwtune, "test_shapes:tiny_mobilenet", (2, 3, 64, 64), tiny_mobilenet())
    failures += check(dwtune, "test_shapes:tiny_mobilenet", (1, 3, 65, 47), tiny_mobilenet(), dtype="bf16")
    try:
        import torchvision  # noqa: F401
        failures += check(dwtune, "torchvision.models.mobilenet_v3_large", (32, 3, 224, 224))
    except ImportError:
        print("torchvision is not installed: its MobileNetV3 not checked")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
