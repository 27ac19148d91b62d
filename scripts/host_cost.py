#!/usr/bin/env python3
"""Host time per call (issue 13): dwtune_torch.conv2d, the operator itself and F.conv2d called
back-to-back with no synchronization on a small layer, with requires_grad off and on (then each call
also records its autograd node). Each call is timed on the host only: batches of --calls calls
between synchronizations (few enough that the GPU queue never blocks a launch), the median of the
batches' µs per call. Exits 3 without a CUDA device.

    python3 scripts/host_cost.py [--shape 1,384,14,14] [--k 3] [--dtype f32] [--layout nchw]
"""
import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def per_call_us(fn, calls, batches):
    for _ in range(3):
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    out = []
    for _ in range(batches):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - t0) * 1e6 / calls)
    torch.cuda.synchronize()
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="1,384,14,14", help="N,C,H,W")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--dtype", default="f32", choices=("f32", "f16", "bf16"))
    ap.add_argument("--layout", default="nchw", choices=("nchw", "nhwc"))
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--batches", type=int, default=50)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("host_cost: no CUDA device", file=sys.stderr)
        return 3
    import dwtune_torch
    dt = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
    n, c, h, w = (int(v) for v in args.shape.split(","))
    k, p = args.k, args.k // 2
    x = torch.randn(n, c, h, w, device="cuda", dtype=dt)
    if args.layout == "nhwc":
        x = x.to(memory_format=torch.channels_last)
    print(f"{torch.cuda.get_device_name()}, PyTorch {torch.__version__}; x {tuple(x.shape)} {args.dtype} "
          f"{args.layout}, {k}x{k} filter, padding {p}; dwtune runs "
          f"{dwtune_torch.choose(x, torch.empty(c, 1, k, k, device='cuda', dtype=dt), None, 1, p, 1)[0]}")
    print(f"  {'requires_grad':<14} {'F.conv2d':>9} {'dwtune_torch.conv2d':>20} {'torch.ops.dwtune.conv2d':>24}  "
          "(host µs per call)")
    op = torch.ops.dwtune.conv2d.default
    for grad in (False, True):
        wt = torch.randn(c, 1, k, k, device="cuda", dtype=dt, requires_grad=grad)
        fns = (lambda: F.conv2d(x, wt, None, 1, p, 1, c),
               lambda: dwtune_torch.conv2d(x, wt, None, 1, p, 1),
               lambda: op(x, wt, None, [1, 1], [p, p], [1, 1]))
        t = [per_call_us(f, args.calls, args.batches) for f in fns]
        print(f"  {str(grad):<14} {t[0]:>9.2f} {t[1]:>20.2f} {t[2]:>24.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
