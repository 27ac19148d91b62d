#!/usr/bin/env python3
"""Times PyTorch on the problems of a dwtune config, each in its pass, the way dwtune times its
kernels (CUDA events around the call, L2 flushed before every repetition, median), in NCHW and in
channels_last (the layout cuDNN's fast depthwise paths serve), and measures the device-to-device
copy bandwidth in the same run. forward: F.conv2d(groups=C); dgrad (input gradient) and wgrad
(weight gradient, and the bias gradient when the problem has a bias): aten.convolution_backward
with output_mask [True, False, False] and [False, True, bias], as autograd calls it. Run on a GPU
machine with PyTorch:

    build/dwtune shapes --config configs/kernelbench.json --json > shapes.json
    python3 scripts/pytorch_baseline.py --shapes shapes.json --out results/pytorch.json

Per problem: name, key (dwtune's, with the pass: compare.py joins on it), pass, median_ms/min_ms/
max_ms (NCHW), channels_last_ms, best_ms (the faster layout), gbps and bw_share (NCHW, of the bytes
the pass moves: Problem::bytes).
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dwt_problem import bytes_of, key_of, out_size, pair, parse_passes, pass_of  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # argument handling and keys need no torch (tests/python/test_pytorch_baseline.py)
    torch = F = None

DTYPES = ("f32", "f16", "bf16")


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


def passes_arg(text):
    try:
        return parse_passes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", required=True, help="output of `dwtune shapes --config FILE --json`")
    ap.add_argument("--out", help="write results as JSON here")
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--passes", type=passes_arg,
                    help="time only the problems of these passes, e.g. dgrad,wgrad (default: every problem)")
    return ap.parse_args(argv)


def selected(problems, passes):
    """The problems to time, each checked: its key rebuilt from its fields must be the one it carries
    (the key compare.py joins on), its dtype one PyTorch is timed in."""
    out = []
    for p in problems:
        if passes is not None and pass_of(p) not in passes:
            continue
        k = key_of(p)
        if p.get("key", k) != k:
            raise ValueError(f"{p['name']}: key {p['key']} but its fields give {k} (another dwtune version?)")
        if p["dtype"] not in DTYPES:
            raise ValueError(f"{p['name']}: unknown dtype {p['dtype']}")
        out.append(p)
    return out


def pass_runner(p, dev):
    """run(memory_format) -> a call of p's pass on tensors in that format, and check(result) that
    asserts the result's shape. Inputs uniform in [0, 1), as KernelBench draws them."""
    dt = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[p["dtype"]]
    c, oc, ps = p["c"], p["c"] * p["multiplier"], pass_of(p)
    kh, kw = pair(p["kernel"])
    oh, ow = out_size(p)
    stride, padding, dilation = pair(p["stride"]), pair(p["padding"]), pair(p["dilation"])
    x = torch.rand(p["n"], c, p["h"], p["w"], device=dev, dtype=dt)
    w = torch.rand(oc, 1, kh, kw, device=dev, dtype=dt)
    if ps == "forward":
        b = torch.rand(oc, device=dev, dtype=dt) if p["bias"] else None

        def run(fmt):
            xi = x.contiguous(memory_format=fmt)
            return lambda: F.conv2d(xi, w, b, stride=stride, padding=padding, dilation=dilation, groups=c)

        def check(y):
            assert list(y.shape) == [p["n"], oc, oh, ow], (p["name"], y.shape)
        return run, check
    dy = torch.rand(p["n"], oc, oh, ow, device=dev, dtype=dt)
    bias = bool(p["bias"]) and ps == "wgrad"
    mask = [True, False, False] if ps == "dgrad" else [False, True, bias]

    def run(fmt):
        xi, dyi = x.contiguous(memory_format=fmt), dy.contiguous(memory_format=fmt)
        return lambda: torch.ops.aten.convolution_backward(dyi, xi, w, [oc] if bias else None, stride, padding,
                                                           dilation, False, [0, 0], c, mask)

    def check(r):
        if ps == "dgrad":
            assert r[0].shape == x.shape, (p["name"], r[0].shape)
        else:
            assert r[1].shape == w.shape, (p["name"], r[1].shape)
            assert (r[2] is not None) == bias and (not bias or list(r[2].shape) == [oc]), (p["name"], r[2])
    return run, check


def main(argv=None):
    args = parse_args(argv)
    with open(args.shapes) as f:
        problems = selected(json.load(f), args.passes)
    if torch is None:
        print("pytorch_baseline: PyTorch is not installed", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("pytorch_baseline: no CUDA device", file=sys.stderr)
        return 3
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
        run, check = pass_runner(p, dev)
        nchw = run(torch.contiguous_format)
        check(nchw())
        med, lo, hi = time_ms(nchw, flush, args.reps, args.warmup)
        del nchw
        cl_call = run(torch.channels_last)
        check(cl_call())
        cl, _, _ = time_ms(cl_call, flush, args.reps, args.warmup)
        del cl_call, run, check
        nbytes = bytes_of(p)
        best = min(med, cl)
        gbps = nbytes / (med * 1e-3) / 1e9
        out["problems"].append({"name": p["name"], "key": key_of(p), "pass": pass_of(p), "median_ms": med,
                                "min_ms": lo, "max_ms": hi, "gbps": gbps, "bw_share": gbps / copy_gbps,
                                "channels_last_ms": cl, "best_ms": best})
        print(f"{p['name']:<36} {pass_of(p):<7} NCHW {med:9.4f} ms  channels_last {cl:9.4f} ms  "
              f"best {100 * nbytes / (best * 1e-3) / 1e9 / copy_gbps:5.1f}% of copy")
        torch.cuda.empty_cache()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
