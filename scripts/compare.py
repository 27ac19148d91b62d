#!/usr/bin/env python3
"""Joins a dwtune tuning table with scripts/pytorch_baseline.py's output for the same problems and
prints, per problem, the tuned winner against cuDNN (same run), PyTorch's F.conv2d in NCHW and in
channels_last, and the share of the floor reached (bytes / copy bandwidth + the empty launch, both
from the table's run), then wins, losses and geometric means, per pass when the table has several.
Problems are joined by key, which names the pass (forward, dgrad, wgrad): a backward problem meets
PyTorch's timing of the same pass. No GPU needed.

    python3 scripts/compare.py results/h200/networks-table.json.gz results/h200/networks-pytorch.json
"""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dwt_problem import PASSES, bytes_of, load_json, pass_of  # noqa: E402


def geomean(xs):
    xs = [x for x in xs if x and x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("table")
    ap.add_argument("pytorch", nargs="?")
    ap.add_argument("--rows", action="store_true", help="print one row per problem")
    a = ap.parse_args()
    t = load_json(a.table)
    py = {}
    if a.pytorch:
        for p in load_json(a.pytorch)["problems"]:
            py[p["key"]] = p
    bw = t["meta"]["copy_bandwidth_gbps"]
    launch = t["meta"].get("launch_floor_ms") or 0.0
    rows = []
    for e in t["entries"]:
        if not e.get("ok") or not e.get("winner") or not e["winner"].get("time"):
            continue
        p = e["problem"]
        ms = e["winner"]["time"]["median_ms"]
        cud = (e.get("cudnn") or {}).get("time") or {}
        cud = cud.get("median_ms")
        floor = bytes_of(p) / (bw * 1e6) + launch
        q = py.get(e["key"], {})
        rows.append(dict(name=p["name"], pass_=pass_of(p), family=e["winner"]["family"], ms=ms, cudnn=cud,
                         nchw=q.get("median_ms"), cl=q.get("channels_last_ms"), floor=floor, share=floor / ms))
    print(f"{a.table}: {t['meta']['gpu_name']}, git {t['meta']['git_revision']}, copy {bw:.0f} GB/s, "
          f"empty launch {launch * 1000:.2f} us; {len(rows)} problems")
    if a.rows:
        print("| problem | pass | winner | ms | cuDNN | PyTorch NCHW | PyTorch CL | % of floor |")
        print("|---|---|---|---:|---:|---:|---:|---:|")
        for r in rows:
            f = lambda v: f"{v:.4f}" if v else "-"
            print(f"| {r['name']} | {r['pass_']} | {r['family']} | {r['ms']:.4f} | {f(r['cudnn'])} | {f(r['nchw'])} | "
                  f"{f(r['cl'])} | {100 * r['share']:.0f}% |")
    passes = [s for s in PASSES if any(r["pass_"] == s for r in rows)]
    for s in passes:
        summarize([r for r in rows if r["pass_"] == s], f"{s}: " if len(passes) > 1 else "")
    return 0


def summarize(rows, prefix):
    def tally(key, label):
        have = [r for r in rows if r[key]]
        if not have:
            return
        wins = sum(r["ms"] < r[key] for r in have)
        print(f"{prefix}vs {label}: faster on {wins} of {len(have)}; "
              f"geomean {geomean([r[key] / r['ms'] for r in have]):.2f}x; worst {min(r[key] / r['ms'] for r in have):.2f}x")
    tally("cudnn", "cuDNN (same run)")
    tally("nchw", "PyTorch NCHW")
    tally("cl", "PyTorch channels_last")
    best = [dict(r, best=min(x for x in (r["nchw"], r["cl"]) if x)) for r in rows if r["nchw"] or r["cl"]]
    if best:
        print(f"{prefix}vs PyTorch best layout: faster on {sum(r['ms'] < r['best'] for r in best)} of {len(best)}")
    shares = [r["share"] for r in rows]
    print(f"{prefix}share of floor: geomean {100 * geomean(shares):.1f}%, min {100 * min(shares):.1f}%, "
          f"{sum(s >= 0.7 for s in shares)} of {len(shares)} at 70% or more")


if __name__ == "__main__":
    sys.exit(main())
