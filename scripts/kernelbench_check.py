#!/usr/bin/env python3
"""Checks dwtune_torch on a GPU machine: the extension's API (errors, dtypes, parameters, gradients),
then KernelBench level-1 problems 82-86 as drop-ins: builds Model and ModelNew from get_init_inputs,
loads Model's state dict into ModelNew, compares their outputs on fresh random inputs, and times both
(as dwtune's timer: CUDA events, L2 flushed before every repetition, both models' repetitions
interleaved and enqueued back to back behind a spin so the events time the GPU, not the host;
median). Prints the speedup table last; exits 1 if any check fails, 3 without a CUDA device.

    pip install --no-build-isolation ./python && python3 scripts/kernelbench_check.py [--table TABLE.json]
"""
import argparse
import importlib
import os
import statistics
import sys
import traceback

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import dwtune_torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_baseline import time_interleaved  # noqa: E402  the tuner's timing: GPU time, interleaved

RTOL = ATOL = 1e-4  # float32, KernelBench's own tolerance is 1e-2


def close(out, ref, rtol, atol):
    """(ok, max abs error): |out - ref| <= atol + rtol * |ref| everywhere, NaN failing."""
    out, ref = out.float(), ref.float()
    err = (out - ref).abs()
    max_err = err.max().item() if err.numel() else 0.0
    ok = bool(torch.all(err <= atol + rtol * ref.abs()).item()) and out.shape == ref.shape
    return ok, max_err


class Checks:
    def __init__(self):
        self.failed = []
        self.count = 0

    def run(self, name, fn):
        self.count += 1
        try:
            fn()
            print(f"  ok    {name}")
        except Exception as e:  # report every failure, keep going
            self.failed.append(name)
            print(f"  FAIL  {name}: {type(e).__name__}: {e}")
            traceback.print_exc(limit=3)


def expect_error(fn, *fragments):
    try:
        fn()
    except (RuntimeError, ValueError, TypeError) as e:
        text = str(e)
        for frag in fragments:
            if frag not in text:
                raise AssertionError(f"error message lacks {frag!r}: {text}") from e
        return
    raise AssertionError("no error raised")


def api_checks(checks, dev):
    x = torch.rand(2, 4, 20, 30, device=dev)
    w = torch.rand(4, 1, 3, 3, device=dev)

    checks.run("CPU tensors are refused",
               lambda: expect_error(lambda: dwtune_torch.conv2d(x.cpu(), w.cpu()), "CUDA tensor"))
    checks.run("non-depthwise weight is refused",
               lambda: expect_error(lambda: dwtune_torch.conv2d(x, torch.rand(4, 4, 3, 3, device=dev)),
                                    "depthwise"))
    checks.run("weight channels not a multiple of C are refused",
               lambda: expect_error(lambda: dwtune_torch.conv2d(x, torch.rand(6, 1, 3, 3, device=dev)),
                                    "multiple"))
    checks.run("mismatched dtypes are refused",
               lambda: expect_error(lambda: dwtune_torch.conv2d(x, w.half()), "dtype"))
    checks.run("float64 is refused", lambda: expect_error(lambda: dwtune_torch.conv2d(x.double(), w.double()),
                                                          "dtype"))
    checks.run("empty output is refused",
               lambda: expect_error(lambda: dwtune_torch.conv2d(x[:, :, :2], w), "empty output"))

    def params(dtype, tol):
        torch.manual_seed(0)
        cases = [  # (N, C, H, W, M, KH, KW, stride, padding, dilation, bias)
            (2, 4, 33, 70, 1, 3, 7, 1, 0, 1, False),
            (1, 6, 41, 53, 2, 3, 3, 2, 1, 1, True),
            (3, 5, 30, 31, 1, 5, 5, (1, 2), (2, 1), 2, True),
            (2, 3, 64, 129, 1, 3, 1, 1, 0, 1, False),
            (1, 2, 17, 250, 3, 4, 2, 1, 1, (2, 1), True),
        ]
        for n, c, h, wd, m, kh, kw, s, p, d, b in cases:
            xi = torch.rand(n, c, h, wd, device=dev, dtype=dtype) * 2 - 1
            wi = torch.rand(c * m, 1, kh, kw, device=dev, dtype=dtype) * 2 - 1
            bi = torch.rand(c * m, device=dev, dtype=dtype) if b else None
            out = dwtune_torch.conv2d(xi, wi, bi, s, p, d)
            ref = F.conv2d(xi.double(), wi.double(), bi.double() if b else None, s, p, d, groups=c)
            ok, err = close(out, ref, tol, tol)
            if out.dtype != dtype or not ok:
                raise AssertionError(f"case {(n, c, h, wd, m, kh, kw, s, p, d, b)}: dtype {out.dtype}, "
                                     f"max abs error {err:.3g}")

    checks.run("float32: stride, padding, dilation, multiplier, bias", lambda: params(torch.float32, 1e-5))
    checks.run("float16", lambda: params(torch.float16, 1e-2))
    checks.run("bfloat16", lambda: params(torch.bfloat16, 2e-2))

    def layouts():
        xs = torch.rand(3, 8, 40, 50, device=dev)
        ws = torch.rand(8, 1, 3, 3, device=dev)
        ref = F.conv2d(xs, ws, None, 1, 1, 1, groups=8)
        for name, xi in [("channels_last", xs.to(memory_format=torch.channels_last)),
                         ("sliced", torch.rand(3, 8, 40, 60, device=dev)[..., 5:55].copy_(xs))]:
            ok, err = close(dwtune_torch.conv2d(xi, ws, None, 1, 1), ref, RTOL, ATOL)
            if not ok:
                raise AssertionError(f"{name}: max abs error {err:.3g}")
        empty = dwtune_torch.conv2d(xs[:0], ws, None, 1, 1)
        if tuple(empty.shape) != (0, 8, 40, 50):
            raise AssertionError(f"batch 0 gave shape {tuple(empty.shape)}")

    checks.run("non-contiguous inputs and batch 0", layouts)

    def gradients():
        torch.manual_seed(1)
        x0 = torch.rand(2, 6, 25, 37, device=dev)
        w0 = torch.rand(12, 1, 3, 5, device=dev)
        b0 = torch.rand(12, device=dev)
        g = torch.rand_like(F.conv2d(x0, w0, b0, 2, (1, 2), 1, groups=6))
        grads = []
        for fn in (lambda a, b, c: dwtune_torch.conv2d(a, b, c, 2, (1, 2), 1),
                   lambda a, b, c: F.conv2d(a, b, c, 2, (1, 2), 1, groups=6)):
            xs, ws, bs = (t.clone().requires_grad_() for t in (x0, w0, b0))
            (fn(xs, ws, bs) * g).sum().backward()
            grads.append((xs.grad, ws.grad, bs.grad))
        for name, a, b in zip(("input", "weight", "bias"), *grads):
            ok, err = close(a, b, 1e-4, 1e-4)
            if not ok:
                raise AssertionError(f"grad of {name}: max abs error {err:.3g}")

    checks.run("gradients equal PyTorch's (a model can train)", gradients)


def kernelbench(checks, dev, args, flush):
    rows = []
    for name in args.problems:
        mod = importlib.import_module(f"dwtune_torch.kernelbench.{name}")
        torch.manual_seed(0)
        init = mod.get_init_inputs()
        model = mod.Model(*init).to(dev).eval()
        new = mod.ModelNew(*init).to(dev).eval()
        new.load_state_dict(model.state_dict())
        torch.manual_seed(1)
        inputs = [t.to(dev) for t in mod.get_inputs()]
        row = {"name": name, "shape": "x".join(str(s) for s in inputs[0].shape)}

        def compare():
            with torch.no_grad():
                ref = model(*inputs)
                out = new(*inputs)
            ok, err = close(out, ref, RTOL, ATOL)
            row["err"] = err
            del ref, out
            if not ok:
                raise AssertionError(f"max abs error {err:.3g} over atol {ATOL} + rtol {RTOL} * |ref|")

        checks.run(f"{name}: ModelNew equals Model", compare)
        row["ok"] = name + ": ModelNew equals Model" not in checks.failed
        c = getattr(new, "conv2d", None) or new.depthwise
        row["kernel"], row["reason"] = dwtune_torch.choose(inputs[0], c.weight, c.bias, c.stride, c.padding,
                                                          c.dilation)
        with torch.no_grad():
            t_model, t_new = time_interleaved([lambda: model(*inputs), lambda: new(*inputs)], flush, args.reps,
                                              args.warmup)
            row["torch"], row["dwtune"] = statistics.median(t_model), statistics.median(t_new)
        rows.append(row)
        print(f"  {name}: PyTorch {row['torch']:.3f} ms, dwtune {row['dwtune']:.3f} ms; kernel "
              f"{row['kernel']} ({row['reason']})")
        del model, new, inputs
        torch.cuda.empty_cache()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", help="dwtune tuning table to load (else DWTUNE_TABLE or the defaults)")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--problems", nargs="*", default=["kb82", "kb83", "kb84", "kb85", "kb86"])
    ap.add_argument("--skip-api", action="store_true", help="only the KernelBench problems")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("kernelbench_check: no CUDA device", file=sys.stderr)
        return 3
    dev = torch.device("cuda")
    # Exact float32 on both sides: no TF32 in cuDNN or matmuls.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    if args.table:
        dwtune_torch.load_tuning_table(args.table)
    print(f"{torch.cuda.get_device_name(dev)}, PyTorch {torch.__version__}, "
          f"table {args.table or os.environ.get('DWTUNE_TABLE') or '(none: default kernels)'}")

    checks = Checks()
    if not args.skip_api:
        print("== API checks")
        api_checks(checks, dev)
    print("== KernelBench drop-ins")
    l2 = torch.cuda.get_device_properties(dev).L2_cache_size
    flush = torch.empty(max(2 * l2, 64 << 20), dtype=torch.uint8, device=dev)
    rows = kernelbench(checks, dev, args, flush)

    print()
    print(f"{'problem':<8} {'input':<18} {'PyTorch ms':>10} {'dwtune ms':>10} {'speedup':>8} "
          f"{'max abs err':>11}  check  kernel")
    for r in rows:
        print(f"{r['name']:<8} {r['shape']:<18} {r['torch']:>10.3f} {r['dwtune']:>10.3f} "
              f"{r['torch'] / r['dwtune']:>7.2f}x {r.get('err', float('nan')):>11.2e}  "
              f"{'ok' if r['ok'] else 'FAIL':<5}  {r['kernel']}")
    print(f"{checks.count - len(checks.failed)} passed, {len(checks.failed)} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
