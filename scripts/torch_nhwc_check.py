#!/usr/bin/env python3
"""Issue 12's extension check, on the layers of results/h200/networks-nhwc-table.json.gz: does
dwtune_torch.conv2d on a channels_last tensor return a channels_last tensor equal to F.conv2d's (rtol,
atol per dtype below), and how its GPU time compares with the same data in NCHW (more than 10% slower
is counted) and with F.conv2d on the channels_last tensor (time_interleaved, flushed L2, 25 reps).
Needs the extension installed (pip install ./python) and a GPU; prints one row per layer and a summary.
results/h200/torch-nhwc-check.txt is its output at git d138b72 (run from /tmp):

    python3 scripts/torch_nhwc_check.py REPO_ROOT
"""
import os, statistics, sys
import torch
import torch.nn.functional as F
ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from dwt_problem import load_json
from pytorch_baseline import time_interleaved
from torch_check import DTYPES as DT, parse_key
import dwtune_torch
TOL = {"f32": (1e-4, 1e-3), "f16": (1e-2, 5e-2), "bf16": (2e-2, 0.2)}
entries = load_json(os.path.join(ROOT, "results/h200/networks-nhwc-table.json.gz"))["entries"]
dev = torch.device("cuda")
flush = torch.empty(2 * torch.cuda.get_device_properties(dev).L2_cache_size, dtype=torch.uint8, device=dev)
rows, bad_layout, bad_value = [], [], []
for e in entries:
    q = parse_key(e["key"], "nhwc")
    n, c, h, w, (kh, kw), mm, dt = q["n"], q["c"], q["h"], q["w"], q["k"], q["m"], q["dtype"]
    torch.manual_seed(0)
    x = torch.rand(n, c, h, w, device=dev, dtype=DT[dt])
    xc = x.contiguous(memory_format=torch.channels_last)
    wt = torch.rand(c * mm, 1, kh, kw, device=dev, dtype=DT[dt])
    b = torch.rand(c * mm, device=dev, dtype=DT[dt]) if q["bias"] else None
    a = (q["s"], q["p"], q["d"])
    with torch.no_grad():
        y = dwtune_torch.conv2d(xc, wt, b, *a)
        ref = F.conv2d(xc, wt, b, *a, groups=c)
        if not y.is_contiguous(memory_format=torch.channels_last) or (y.shape[1] > 1 and y.is_contiguous()):
            bad_layout.append(e["problem"]["name"])
        rt, at = TOL[dt]
        if not torch.allclose(y.float(), ref.float(), rtol=rt, atol=at):
            bad_value.append(f'{e["problem"]["name"]}: max err {(y.float() - ref.float()).abs().max().item():.3g}')
        fns = [lambda: dwtune_torch.conv2d(xc, wt, b, *a), lambda: dwtune_torch.conv2d(x, wt, b, *a),
               lambda: F.conv2d(xc, wt, b, *a, groups=c)]
        t = [statistics.median(v) for v in time_interleaved(fns, flush, 25, 5)]
    runs, why = dwtune_torch.choose(xc, wt, b, *a)
    rows.append((e["problem"]["name"], t[0], t[1], t[2], runs))
print(f"{'layer':<44} {'CL ms':>8} {'NCHW ms':>8} {'CL/NCHW':>7} {'F.conv2d CL':>11}  runs (CL)")
for r in rows:
    print(f"{r[0][:44]:<44} {r[1]:8.4f} {r[2]:8.4f} {r[1]/r[2]:7.3f} {r[3]:11.4f}  {r[4]}")
slow = [r for r in rows if r[1] > 1.10 * r[2]]
print(f"{len(rows)} NHWC layers: channels_last output layout wrong on {len(bad_layout)}, values off on {len(bad_value)}; "
      f"CL slower than NCHW by >10% on {len(slow)}; geomean CL/NCHW {statistics.geometric_mean([r[1]/r[2] for r in rows]):.3f}; "
      f"geomean CL/F.conv2d(CL) {statistics.geometric_mean([r[1]/r[3] for r in rows]):.3f}; our kernel on {sum(1 for r in rows if r[4] != 'F.conv2d')}")
for s in bad_layout[:10] + bad_value[:10]: print("  bad:", s)
for r in slow[:20]: print(f"  slow: {r[0]} CL {r[1]:.4f} NCHW {r[2]:.4f} ({r[4]})")
