#!/usr/bin/env python3
"""Times PyTorch's F.conv2d(groups=C) on the problems of a dwtune config, the way dwtune times its
kernels (CUDA events around the call, L2 flushed before every repetition, median), in NCHW and in
channels_last (the layout cuDNN's fast depthwise paths serve), and measures the device-to-device
copy bandwidth in the same run. Run on a GPU machine with PyTorch:

    build/dwtune shapes --config configs/kernelbench.json --json > shapes.json
    python3 scripts/pytorch_baseline.py --shapes shapes.json --out results/pytorch.json

Per problem: median_ms/min_ms/max_ms (NCHW), channels_last_ms, best_ms (the faster layout).
"""
import argparse
import json
import statistics
import sys

import torch
import torch.nn.functional as F

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def pair(v):
    return list(v) if isinstance(v, list) else [v, v]


def time_ms(fn, flush, reps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        flush.zero_()
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", required=True, help="output of `dwtune shapes --config FILE --json`")
    ap.add_argument("--out", help="write results as JSON here")
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("pytorch_baseline: no CUDA device", file=sys.stderr)
        return 3
    with open(args.shapes) as f:
        problems = json.load(f)
    dev = torch.device("cuda")
    l2 = torch.cuda.get_device_properties(dev).L2_cache_size
    flush = torch.empty(max(2 * l2, 64 << 20), dtype=torch.uint8, device=dev)
    src = torch.empty(1 << 30, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    med, _, _ = time_ms(lambda: dst.copy_(src), flush, 10, 2)
    copy_gbps = 2 * src.numel() / (med * 1e-3) / 1e9
    del src, dst
    out = {"gpu": torch.cuda.get_device_name(dev), "torch": torch.__version__,
           "cudnn": torch.backends.cudnn.version(), "copy_bandwidth_gbps": copy_gbps, "problems": []}
    print(f"{out['gpu']}, PyTorch {out['torch']}, copy bandwidth {copy_gbps:.0f} GB/s")
    for p in problems:
        dt = DTYPES[p["dtype"]]
        c, m = p["c"], p["multiplier"]
        x = torch.rand(p["n"], c, p["h"], p["w"], device=dev, dtype=dt)
        w = torch.rand(c * m, 1, *pair(p["kernel"]), device=dev, dtype=dt)
        b = torch.rand(c * m, device=dev, dtype=dt) if p["bias"] else None
        conv = lambda xi: F.conv2d(xi, w, b, stride=pair(p["stride"]), padding=pair(p["padding"]),
                                   dilation=pair(p["dilation"]), groups=c)
        y = conv(x)
        assert list(y.shape[2:]) == [p["out_h"], p["out_w"]], (p["name"], y.shape)
        med, lo, hi = time_ms(lambda: conv(x), flush, args.reps, args.warmup)
        xl = x.contiguous(memory_format=torch.channels_last)
        cl, _, _ = time_ms(lambda: conv(xl), flush, args.reps, args.warmup)
        del xl
        es = x.element_size()
        nbytes = (x.numel() + y.numel() + w.numel() + (b.numel() if b is not None else 0)) * es
        best = min(med, cl)
        gbps = nbytes / (med * 1e-3) / 1e9
        out["problems"].append({"name": p["name"], "key": p["key"], "median_ms": med, "min_ms": lo,
                                "max_ms": hi, "gbps": gbps, "bw_share": gbps / copy_gbps,
                                "channels_last_ms": cl, "best_ms": best})
        print(f"{p['name']:<36} NCHW {med:9.4f} ms  channels_last {cl:9.4f} ms  "
              f"best {100 * nbytes / (best * 1e-3) / 1e9 / copy_gbps:5.1f}% of copy")
        del x, w, b, y
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
