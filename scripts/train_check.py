#!/usr/bin/env python3
"""On a GPU machine, with dwtune_torch installed: training through the extension (issue 14). Exits 1
if any check fails, 3 without a CUDA device.

  gradients    KernelBench 82..86: ModelNew and Model (equal weights), one forward and backward with
               the same input and output gradient; the input gradient and every parameter's gradient
               of ModelNew against Model's in f32, f16 and bf16 (max |diff| <= tol * max |reference|:
               1e-4 f32, 1e-2 f16/bf16), and which kernel ran each pass
  determinism  the same step twice through ModelNew: every gradient bitwise equal
  step time    a full KB85 training step (forward + backward: input, weight gradients; f32) of
               ModelNew and of Model: CUDA events around the step, L2 flushed (memset of 2x its size)
               before each repetition, outside the timed region; median; the speedup printed

    python3 scripts/train_check.py [--table TABLE.json] [--reps 30] [--only gradients,determinism,time]
"""
import argparse
import importlib
import statistics
import sys

import torch

from pytorch_baseline import time_interleaved  # this folder's: the tuner's way of timing
from torch_check import DTYPES, check, failed  # this folder's: the same check() and failure list

TOL = {"f32": 1e-4, "f16": 1e-2, "bf16": 1e-2}


def models(name, dt, dev):
    mod = importlib.import_module(f"dwtune_torch.kernelbench.{name}")
    init = mod.get_init_inputs()
    torch.manual_seed(42)
    ref = mod.Model(*init).to(dev, DTYPES[dt])
    torch.manual_seed(42)
    new = mod.ModelNew(*init).to(dev, DTYPES[dt])
    new.load_state_dict(ref.state_dict())
    torch.manual_seed(7)
    x = mod.get_inputs()[0].to(dev, DTYPES[dt])
    return mod, ref, new, x


def step(model, x, gy=None):
    """Forward and backward; (output gradient used, [input grad, parameter grads...])."""
    model.zero_grad(set_to_none=True)
    xg = x.detach().requires_grad_(True)
    y = model(xg)
    if gy is None:
        gy = torch.randn_like(y)
    y.backward(gy)
    return gy, [xg.grad] + [p.grad for p in model.parameters()]


def depthwise(model):
    return next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.groups == m.in_channels
                and m.groups > 1)


def gradient_checks(dev, problems):
    import dwtune_torch
    for name in problems:
        for dt in DTYPES:
            def run(name=name, dt=dt):
                _, ref, new, x = models(name, dt, dev)
                gy, want = step(ref, x)
                _, got = step(new, x, gy)
                worst = 0.0
                for i, (g, r) in enumerate(zip(got, want)):
                    if g is None or g.shape != r.shape:
                        raise AssertionError(f"gradient {i}: {None if g is None else g.shape} vs {r.shape}")
                    err = (g.float() - r.float()).abs().max().item() / max(r.float().abs().max().item(), 1e-30)
                    worst = max(worst, err)
                    if not err <= TOL[dt]:  # NaN fails
                        raise AssertionError(f"gradient {i} ({tuple(r.shape)}): max |diff| / max |ref| = {err:.3g}")
                c = depthwise(new)
                runs = [dwtune_torch.choose(x, c.weight, c.bias, c.stride, c.padding, c.dilation, p)[0]
                        for p in ("forward", "dgrad", "wgrad")]
                print(f"        {name} {dt}: {len(got)} gradients, worst relative diff {worst:.2e}; "
                      f"forward {runs[0]}, dgrad {runs[1]}, wgrad {runs[2]}")
                del ref, new, x
                torch.cuda.empty_cache()
            check(f"gradients {name} {dt} match PyTorch's", run)


def determinism_checks(dev, problems):
    for name in problems:
        for dt in DTYPES:
            def run(name=name, dt=dt):
                _, _, new, x = models(name, dt, dev)
                gy, a = step(new, x)
                _, b = step(new, x, gy)
                for i, (u, v) in enumerate(zip(a, b)):
                    if not torch.equal(u, v):
                        raise AssertionError(f"gradient {i} differs between two runs: max |diff| "
                                             f"{(u.float() - v.float()).abs().max().item():.3g}")
                del new, x
                torch.cuda.empty_cache()
            check(f"gradients {name} {dt} bitwise equal run to run", run)


def time_steps(models, x, gy, flush, reps):
    """Each model's median training-step time (forward, input and weight gradients), timed as dwtune's
    tuner and pytorch_baseline.py time: L2 flushed, the models interleaved, GPU time."""
    fns = [lambda m=m: step(m, x, gy) for m in models]
    return [statistics.median(t) for t in time_interleaved(fns, flush, reps, 3)]


def time_checks(dev, reps):
    _, ref, new, x = models("kb85", "f32", dev)
    gy = torch.randn_like(ref(x))
    flush = torch.empty(2 * torch.cuda.get_device_properties(dev).L2_cache_size, dtype=torch.uint8, device=dev)
    t_ref, t_new = time_steps([ref, new], x, gy, flush, reps)
    print(f"  KB85 f32 training step (forward + input and weight gradients), median of {reps}, L2 flushed "
          f"before each: Model {t_ref:.3f} ms, ModelNew {t_new:.3f} ms, speedup {t_ref / t_new:.2f}x "
          f"(issue 14 wants >= 6x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", help="tuning table to load")
    ap.add_argument("--only", default="gradients,determinism,time")
    ap.add_argument("--problems", default="kb82,kb83,kb84,kb85,kb86")
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("train_check: no CUDA device", file=sys.stderr)
        return 3
    import dwtune_torch
    dev = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(dev)}, PyTorch {torch.__version__}", flush=True)
    if args.table:
        dwtune_torch.load_tuning_table(args.table)
    only = args.only.split(",")
    problems = args.problems.split(",")
    if "gradients" in only:
        print("== gradients against PyTorch's")
        gradient_checks(dev, problems)
    if "determinism" in only:
        print("== determinism")
        determinism_checks(dev, problems)
    if "time" in only:
        print("== KB85 training step")
        check("KB85 training step timed", lambda: time_checks(dev, args.reps))
    print(f"{len(failed)} failed" + (": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
