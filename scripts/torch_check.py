#!/usr/bin/env python3
"""On a GPU machine, with dwtune_torch installed (pip install --no-build-isolation ./python): the
operator as PyTorch users meet it. Exits 1 if any check fails, 3 without a CUDA device.

  opcheck     torch.library.opcheck of dwtune::conv2d, conv2d_dgrad and conv2d_wgrad: f32/f16/bf16,
              NCHW and channels_last, bias, stride, padding, dilation, multiplier, requires_grad off
              and on
  compile     torch.compile(fullgraph=True) of a small MobileNet-like model using the op equals eager
              (inference in f32, channels_last, f16; a training step's gradients)
  kernelbench KernelBench-style evaluation of dwtune_torch/kernelbench/kb82..kb86.py with a package
              named `kernelbench` on the path: each file's source executed on its own,
              ModelNew(*get_init_inputs()) beside Model (same seed before each), five trials at
              KernelBench's tolerances (1e-4 fp32, 1e-2 fp16/bf16) in fp32, fp16 and bf16
  networks    dwtune_torch.conv2d vs F.conv2d on every layer of a tuning table (--table): GPU time as
              scripts/pytorch_baseline.py takes it (CUDA events, L2 flushed before every repetition,
              repetitions enqueued behind a spin so the host's cost per call is not in it: that is
              scripts/host_cost.py's measure; median, the two interleaved), within 3%

    python3 scripts/torch_check.py --table TABLE.json [--shipped] [--only opcheck,compile,kernelbench,networks]
                                   [--dtypes f32,f16,bf16]
"""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from dwt_problem import load_json  # noqa: E402
from pytorch_baseline import time_interleaved  # noqa: E402
DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
failed = []


def check(name, fn):
    try:
        fn()
        print(f"  ok    {name}", flush=True)
    except Exception as e:  # report every failure, keep going
        failed.append(name)
        print(f"  FAIL  {name}: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc(limit=4)


def opchecks(dwtune_torch, dev, dtypes):
    cases = [  # (N, C, H, W, M, KH, KW, stride, padding, dilation, bias)
        (2, 8, 20, 30, 1, 3, 3, [1, 1], [1, 1], [1, 1], False),
        (2, 6, 17, 23, 2, 3, 5, [2, 1], [1, 2], [1, 1], True),
        (1, 4, 19, 21, 1, 3, 3, [1, 1], [2, 2], [2, 2], True),
    ]
    for dt in dtypes:
        for fmt in ("nchw", "channels_last"):
            def run(dt=dt, fmt=fmt):
                for n, c, h, w, m, kh, kw, s, p, d, b in cases:
                    x = torch.randn(n, c, h, w, device=dev, dtype=DTYPES[dt])
                    if fmt == "channels_last":
                        x = x.to(memory_format=torch.channels_last)
                    wt = torch.randn(c * m, 1, kh, kw, device=dev, dtype=DTYPES[dt])
                    bias = torch.randn(c * m, device=dev, dtype=DTYPES[dt]) if b else None
                    y = F.conv2d(x, wt, bias, s, p, d, groups=c)  # its shape and format for dy
                    dy = torch.randn_like(y)
                    for grad in (False, True):
                        def g(t):
                            return t.clone().requires_grad_(grad) if t is not None else None
                        ops = torch.ops.dwtune
                        torch.library.opcheck(ops.conv2d.default, (g(x), g(wt), g(bias), s, p, d))
                        torch.library.opcheck(ops.conv2d_dgrad.default, (g(dy), g(wt), list(x.shape), s, p, d))
                        torch.library.opcheck(ops.conv2d_wgrad.default, (g(x), g(dy), [kh, kw], b, s, p, d))
                    y = dwtune_torch.conv2d(x, wt, bias, s, p, d)
                    ref = F.conv2d(x, wt, bias, s, p, d, groups=c)
                    tol = 1e-4 if dt == "f32" else 2e-2
                    torch.testing.assert_close(y, ref, rtol=tol, atol=tol)
                    if y.is_contiguous(memory_format=torch.channels_last) != (fmt == "channels_last"):
                        raise AssertionError(f"output memory format: strides {y.stride()} for {fmt} input")
                    # Gradients (dwtune's backward operators) against F.conv2d's.
                    grads = []
                    for f in (lambda *a: dwtune_torch.conv2d(*a, s, p, d),
                              lambda *a: F.conv2d(*a, s, p, d, groups=c)):
                        leaves = [t.clone().requires_grad_(True) if t is not None else None for t in (x, wt, bias)]
                        f(*leaves).backward(dy)
                        grads.append([t.grad for t in leaves if t is not None])
                    for got, want in zip(*grads):
                        torch.testing.assert_close(got, want, rtol=tol, atol=tol * max(1.0, want.abs().max().item()))
                    if grads[0][0].is_contiguous(memory_format=torch.channels_last) != (fmt == "channels_last"):
                        raise AssertionError(f"input gradient's memory format: strides {grads[0][0].stride()}")
            check(f"opcheck {dt} {fmt}", run)


class DW(nn.Module):
    def __init__(self, c, k, stride, m=1, bias=False):
        super().__init__()
        self.conv = nn.Conv2d(c, c * m, k, stride, k // 2, groups=c, bias=bias)

    def forward(self, x):
        import dwtune_torch
        c = self.conv
        return dwtune_torch.conv2d(x, c.weight, c.bias, c.stride, c.padding, c.dilation)


def mobilenet_like():
    def block(c_in, c_out, k, s):
        mid = c_in * 4
        return nn.Sequential(nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
                             DW(mid, k, s), nn.BatchNorm2d(mid), nn.ReLU6(),
                             nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
    return nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), DW(16, 3, 1, bias=True),
                         block(16, 24, 3, 2), block(24, 24, 3, 1), block(24, 40, 5, 2),
                         block(40, 80, 3, 2), DW(80, 7, 1, m=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(160, 10))


def compile_checks(dev):
    torch._dynamo.reset()
    for dt, fmt, tol in (("f32", "nchw", 1e-4), ("f32", "channels_last", 1e-4), ("f16", "nchw", 2e-2)):
        def run(dt=dt, fmt=fmt, tol=tol):
            torch.manual_seed(0)
            model = mobilenet_like().to(dev, DTYPES[dt]).eval()
            x = torch.rand(8, 3, 112, 112, device=dev, dtype=DTYPES[dt])
            if fmt == "channels_last":
                model = model.to(memory_format=torch.channels_last)
                x = x.to(memory_format=torch.channels_last)
            with torch.no_grad():
                want = model(x)
                got = torch.compile(model, fullgraph=True)(x)
            torch.testing.assert_close(got, want, rtol=tol, atol=tol)
        check(f"torch.compile(fullgraph=True) equals eager, {dt} {fmt}", run)

    for fmt in ("nchw", "channels_last"):
        def train(fmt=fmt):
            torch.manual_seed(0)
            # BatchNorm in eval mode: with batch statistics, inductor's fused reductions differ from
            # eager's by up to 0.013 on these gradients (max 0.39) with no dwtune op at all
            # (nn.Conv2d throughout; H200, PyTorch 2.11), far above this check's tolerance.
            model = mobilenet_like().to(dev).eval()
            x = torch.rand(8, 3, 112, 112, device=dev)
            if fmt == "channels_last":
                model = model.to(memory_format=torch.channels_last)
                x = x.to(memory_format=torch.channels_last)
            grads = []
            for m in (model, torch.compile(model, fullgraph=True)):
                model.zero_grad()
                m(x).square().sum().backward()
                grads.append([p.grad.clone() for p in model.parameters()])
            for a, b in zip(*grads):
                torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-3)
        check(f"torch.compile(fullgraph=True) training step, f32 {fmt}: gradients equal eager's", train)


def kernelbench_checks(dev):
    # A package named kernelbench first on the path, as the official one would be.
    shadow = tempfile.mkdtemp()
    os.makedirs(os.path.join(shadow, "kernelbench"))
    open(os.path.join(shadow, "kernelbench", "__init__.py"), "w").write("OFFICIAL = True\n")
    open(os.path.join(shadow, "kernelbench", "eval.py"), "w").write("def eval_kernel_against_ref(): pass\n")
    sys.path.insert(0, shadow)
    import kernelbench.eval  # noqa: F401
    import dwtune_torch.kernelbench as ours
    assert getattr(__import__("kernelbench"), "OFFICIAL", False), "the official kernelbench is shadowed"
    folder = os.path.dirname(ours.__file__)
    for name in ours.PROBLEMS:
        src = open(os.path.join(folder, name + ".py")).read()
        for dt, tol in (("f32", 1e-4), ("f16", 1e-2), ("bf16", 1e-2)):
            def run(src=src, dt=dt, tol=tol, name=name):
                ctx = {"__name__": f"kb_src_{name}"}
                exec(compile(src, f"{name}.py", "exec"), ctx)
                init = ctx["get_init_inputs"]()
                torch.manual_seed(42)
                model = ctx["Model"](*init).to(dev, DTYPES[dt])
                torch.manual_seed(42)
                new = ctx["ModelNew"](*init).to(dev, DTYPES[dt])
                worst = 0.0
                with torch.no_grad():
                    for trial in range(5):
                        torch.manual_seed(1000 + trial)
                        inputs = [t.to(dev, DTYPES[dt]) for t in ctx["get_inputs"]()]
                        want, got = model(*inputs), new(*inputs)
                        if got.shape != want.shape or not torch.allclose(got, want, rtol=tol, atol=tol):
                            raise AssertionError(f"trial {trial}: max abs diff {(got - want).abs().max().item():.3g}")
                        worst = max(worst, (got - want).abs().max().item())
                        del inputs, want, got
                print(f"        {name} {dt}: 5/5 trials, max abs diff {worst:.2e}")
                del model, new
                torch.cuda.empty_cache()
            check(f"KernelBench-style {name} {dt}", run)
    sys.path.remove(shadow)


def parse_key(key, layout="nchw"):
    """A forward problem key of `layout` as a dict (AttributeError on a key of another form)."""
    m = re.fullmatch(r"n(\d+)_c(\d+)_h(\d+)_w(\d+)_k(\d+)x(\d+)_s(\d+)x(\d+)_p(\d+)x(\d+)_d(\d+)x(\d+)_m(\d+)_"
                     r"(bias|nobias)_(f32|f16|bf16)_" + layout, key)
    v = [int(g) for g in m.groups()[:13]]
    return dict(n=v[0], c=v[1], h=v[2], w=v[3], k=(v[4], v[5]), s=(v[6], v[7]), p=(v[8], v[9]), d=(v[10], v[11]),
                m=v[12], bias=m.group(14) == "bias", dtype=m.group(15))


def network_checks(dwtune_torch, dev, table, reps):
    entries = load_json(table)["entries"]
    l2 = torch.cuda.get_device_properties(dev).L2_cache_size
    flush = torch.empty(2 * l2, dtype=torch.uint8, device=dev)
    seen, rows = set(), []
    for e in entries:
        if e["key"] in seen:
            continue
        seen.add(e["key"])
        q = parse_key(e["key"])
        dt = DTYPES[q["dtype"]]
        torch.manual_seed(0)
        x = torch.rand(q["n"], q["c"], q["h"], q["w"], device=dev, dtype=dt)
        w = torch.rand(q["c"] * q["m"], 1, *q["k"], device=dev, dtype=dt)
        b = torch.rand(q["c"] * q["m"], device=dev, dtype=dt) if q["bias"] else None
        fns = {"torch": lambda: F.conv2d(x, w, b, q["s"], q["p"], q["d"], groups=q["c"]),
               "dwtune": lambda: dwtune_torch.conv2d(x, w, b, q["s"], q["p"], q["d"])}
        with torch.no_grad():  # GPU time of each, interleaved: drift hits both alike
            times = dict(zip(fns, time_interleaved(list(fns.values()), flush, reps, 5)))
        t = {k: statistics.median(v) for k, v in times.items()}
        runs, why = dwtune_torch.choose(x, w, b, q["s"], q["p"], q["d"])
        rows.append((e.get("problem", {}).get("name", e["key"]), t["torch"], t["dwtune"], runs, why))
        del x, w, b
    print(f"  {'layer':<34} {'F.conv2d ms':>11} {'dwtune ms':>10} {'ratio':>6}  runs")
    bad = []
    for name, tt, td, runs, why in rows:
        r = td / tt
        print(f"  {name[:34]:<34} {tt:>11.4f} {td:>10.4f} {r:>6.3f}  {runs}")
        if r > 1.03:
            bad.append(f"{name}: {td:.4f} ms vs F.conv2d {tt:.4f} ({why})")
    faster = sum(1 for _, tt, td, runs, _ in rows if runs != "F.conv2d")
    print(f"  {len(rows)} layers: dwtune's kernel on {faster}, F.conv2d on {len(rows) - faster}; "
          f"geomean ratio {statistics.geometric_mean([td / tt for _, tt, td, _, _ in rows]):.3f}")

    def verdict():
        if bad:
            raise AssertionError(f"{len(bad)} layers over 3% slower: " + "; ".join(bad))
    check(f"no layer of {os.path.basename(table)} slower than F.conv2d (3%)", verdict)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", help="tuning table to load and whose layers to time")
    ap.add_argument("--shipped", action="store_true",
                    help="time --table's layers without loading it: dispatch uses the tables built into the package")
    ap.add_argument("--only", default="opcheck,compile,kernelbench,networks")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--dtypes", default="f32,f16,bf16", help="of the opcheck step")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("torch_check: no CUDA device", file=sys.stderr)
        return 3
    import dwtune_torch
    dev = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(dev)}, PyTorch {torch.__version__}, dwtune_torch from "
          f"{os.path.dirname(dwtune_torch.__file__)}", flush=True)
    if args.table and not args.shipped:
        dwtune_torch.load_tuning_table(args.table)
    only = args.only.split(",")
    if "opcheck" in only:
        print("== opcheck")
        opchecks(dwtune_torch, dev, args.dtypes.split(","))
    if "compile" in only:
        print("== torch.compile")
        compile_checks(dev)
    if "kernelbench" in only:
        print("== KernelBench-style evaluation")
        kernelbench_checks(dev)
    if "networks" in only and args.table:
        print("== every layer vs F.conv2d")
        network_checks(dwtune_torch, dev, args.table, args.reps)
    print(f"{len(failed)} failed" + (": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
