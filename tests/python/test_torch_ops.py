#!/usr/bin/env python3
"""dwtune_torch's three operators without a GPU: on meta tensors (the fake implementations of _op.py
through the C++ autograd of autograd.cpp) every result's shape, dtype and memory format is what
F.conv2d and its gradients give, for NCHW and channels_last, with and without bias, stride, padding,
dilation and multiplier; gradients come from dwtune::conv2d_dgrad / conv2d_wgrad (their own autograd
too: a second derivative); CPU tensors are refused with a message naming the device. Needs torch and
the installed extension (pip install --no-build-isolation ./python); without them this exits 77,
which ctest counts as skipped.

    tests/python/test_torch_ops.py
"""
import sys

try:
    import torch
    import torch.nn.functional as F
    import dwtune_torch
    from dwtune_torch import _op
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)
if _op is None:
    print(f"skipped: the compiled extension does not load ({dwtune_torch._load_error})")
    sys.exit(77)

CASES = [  # (N, C, H, W, M, KH, KW, stride, padding, dilation, bias)
    (2, 8, 20, 30, 1, 3, 3, (1, 1), (1, 1), (1, 1), False),
    (2, 6, 17, 23, 2, 3, 5, (2, 1), (1, 2), (1, 1), True),
    (1, 4, 19, 21, 1, 3, 3, (1, 3), (2, 0), (2, 2), True),
]
failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL {what}")


def fmt(t):
    return "channels_last" if _op.channels_last(t) else "contiguous"


def meta_case(case, layout, dtype):
    n, c, h, w, m, kh, kw, s, p, d, b = case
    name = f"{case} {layout} {dtype}"
    mf = torch.channels_last if layout == "nhwc" else torch.contiguous_format

    def leaf(*size, mf=torch.contiguous_format):
        return torch.empty(*size, device="meta", dtype=dtype).to(memory_format=mf).requires_grad_(True)

    x, wt = leaf(n, c, h, w, mf=mf), leaf(c * m, 1, kh, kw)
    bias = leaf(c * m) if b else None
    want = F.conv2d(torch.empty_like(x), wt.detach(), None if bias is None else bias.detach(), s, p, d, groups=c)
    y = dwtune_torch.conv2d(x, wt, bias, s, p, d)
    expect(y.shape == want.shape and y.dtype == dtype, f"{name}: y {y.shape} {y.dtype}, F.conv2d {want.shape}")
    expect(fmt(y) == fmt(x), f"{name}: y is {fmt(y)}, x {fmt(x)}")
    expect(y.grad_fn is not None, f"{name}: no autograd node")
    dy = torch.empty_like(y).requires_grad_(True)
    grads = torch.autograd.grad(y, [x, wt] + ([bias] if b else []), dy, create_graph=True)
    for g, t in zip(grads, [x, wt, bias]):
        expect(g.shape == t.shape and g.dtype == dtype, f"{name}: gradient {g.shape} for {t.shape}")
    expect(fmt(grads[0]) == fmt(x), f"{name}: dx is {fmt(grads[0])}, x {fmt(x)}")
    # Second derivatives through the backward operators' own autograd.
    gg = torch.autograd.grad(grads[0].sum() + grads[1].sum(), [x, wt, dy], allow_unused=True)
    expect(all(g is not None and g.shape == t.shape for g, t in zip(gg[1:], [wt, dy])),
           f"{name}: second derivatives {[None if g is None else g.shape for g in gg]}")
    dw, db = _op.wgrad(x.detach(), y.detach(), [kh, kw], b, list(s), list(p), list(d))
    expect(dw.shape == wt.shape and db.shape == ((c * m,) if b else (0,)), f"{name}: wgrad {dw.shape} {db.shape}")


def main():
    for case in CASES:
        for layout in ("nchw", "nhwc"):
            for dtype in (torch.float32, torch.float16, torch.bfloat16):
                try:
                    meta_case(case, layout, dtype)
                except Exception as e:  # report and go on
                    expect(False, f"{case} {layout} {dtype}: {type(e).__name__}: {e}")
    for dev_case in ("conv2d", "dgrad"):
        x, wt = torch.rand(1, 4, 8, 8), torch.rand(4, 1, 3, 3)
        try:
            if dev_case == "conv2d":
                dwtune_torch.conv2d(x, wt)
            else:
                _op.dgrad(torch.rand(1, 4, 6, 6), wt, [1, 4, 8, 8], [1, 1], [0, 0], [1, 1])
            expect(False, f"{dev_case}: CPU tensors accepted")
        except RuntimeError as e:
            expect("must be a CUDA tensor" in str(e), f"{dev_case}: CPU tensors refused with: {e}")
    try:
        dwtune_torch.conv2d(torch.rand(1, 4, 8, 8), torch.rand(4, 1, 3, 3), padding="same")
        expect(False, "padding='same' accepted")
    except ValueError as e:
        expect("not supported" in str(e), f"padding='same' refused with: {e}")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
