#!/usr/bin/env python3
"""Fits the weights of dispatch's cost model (dispatch/cost_model.hpp, ModelWeights) on --keep-all
tables, and scores them on a held-out table measured by `dwtune check-dispatch --out`.

The model predicts each candidate's log(time / best) on a new shape as a weighted average over
measured problems, weight exp(-(distance - the nearest problem's distance)); a problem whose filter size has no compiled kernel lends
each compiled-filter tile its any-filter twin's ratio. This script re-implements that prediction
(numpy) to search the distance weights; tests/python/test_fit_model.py holds it to the C++. Fitting is leave-one-out: each fit problem is predicted from the
others (its own key excluded), and the choice's measured ratio to that problem's best is scored.
The held-out table is only scored, never fitted on. No GPU needed.

  python3 scripts/fit_model.py --fit results/h200/table.json results/h200/networks-table.json.gz \\
      results/h200/networks-nhwc-table.json.gz results/h200/random-table.json.gz results/h200/replknet-table.json \\
      --check results/h200/dispatch-random-measured.json.gz --iterations 1500 --restarts 3
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dwt_problem import load_json  # noqa: E402

# ModelWeights's distance weights, in the order of features() below.
NAMES = ["dtype", "layout", "filter", "filter_area", "stride", "dilation", "multiplier", "out_w",
         "out_h", "planes", "size", "gpu"]
# The weights before the fit that gave ModelWeights's defaults, size 0 (the model without that
# term): the search starts there unless --start says otherwise.
DEFAULT = [2.208, 4, 0.974, 1.021, 0.814, 2.76, 0.064, 1.582, 1.222, 0.444, 0, 0.5]
PRIOR, PRIOR_WEIGHT = math.log(1.5), 0.02


def signature(c):
    """tile_signature (cost_model.cpp): family and parameters, a compiled filter size as 'fixed'."""
    s = c["family"]
    for p in c["params"]:
        if p["name"] in ("kh", "kw"):
            s += " %s=%s" % (p["name"], "fixed" if p["value"] > 0 else "any")
        else:
            s += " %s=%d" % (p["name"], p["value"])
    return s


def load(path, sigs):
    """A table's problems as samples, as dwtune_embed_results builds them."""
    d = load_json(path)
    gpu, out = d["meta"]["gpu_name"], []
    for e in d["entries"]:
        if not e.get("ok") or not isinstance(e.get("winner"), dict) or not e.get("candidates"):
            continue
        cands, best = [], math.inf
        for c in e["candidates"]:
            if c["status"] == "not_supported":
                continue
            t = c.get("time") or {}
            ms = t.get("median_ms", math.nan) if c["status"] in ("passed", "stopped_early") else math.nan
            if ms == ms:
                best = min(best, ms)
            cands.append((sigs.setdefault(signature(c), len(sigs)), ms))
        if best == math.inf:
            continue
        rel = {}
        for i, ms in cands:
            r = math.log(ms / best) if ms == ms else math.log(10)
            rel[i] = min(rel.get(i, math.inf), r)
        out.append({"key": e["key"], "gpu": gpu, "p": e["problem"], "rel": rel})
    return out


def features(a, b):
    pa, pb = a["p"], b["p"]

    def l2(x, y):
        return abs(math.log2(max(x, 1) / max(y, 1)))

    same_k = pa["kernel"] == pb["kernel"]
    return [pa["dtype"] != pb["dtype"], pa["layout"] != pb["layout"], not same_k,
            0 if same_k else l2(pa["kernel"][0] * pa["kernel"][1], pb["kernel"][0] * pb["kernel"][1]),
            pa["stride"] != pb["stride"], pa["dilation"] != pb["dilation"],
            pa.get("multiplier", 1) != pb.get("multiplier", 1),
            l2(pa["out_w"], pb["out_w"]), l2(pa["out_h"], pb["out_h"]),
            l2(pa["n"] * pa["out_c"], pb["n"] * pb["out_c"]),
            l2(pa["n"] * pa["out_c"] * pa["out_h"] * pa["out_w"], pb["n"] * pb["out_c"] * pb["out_h"] * pb["out_w"]),
            a["gpu"] != b["gpu"]]


def twins(sigs):
    """DispatchModel's twins: each any-filter signature's compiled-filter twin, by index."""
    return {i: sigs[s.replace("kh=any kw=any", "kh=fixed kw=fixed")] for s, i in sigs.items()
            if "kh=any kw=any" in s and s.replace("kh=any kw=any", "kh=fixed kw=fixed") in sigs}


class Scorer:
    def __init__(self, evals, pool, sigs):
        nsig = len(sigs)
        self.F = np.array([[features(a, b) for b in pool] for a in evals], dtype=np.float64)
        self.same = np.array([[a["key"] == b["key"] for b in pool] for a in evals])
        self.R = np.zeros((len(pool), nsig))
        self.M = np.zeros((len(pool), nsig))
        for j, s in enumerate(pool):
            for i, r in s["rel"].items():
                self.R[j, i], self.M[j, i] = r, 1
        for a, f in twins(sigs).items():  # a pool problem without the twin lends it the any tile's ratio
            lend = (self.M[:, a] == 1) & (self.M[:, f] == 0)
            self.R[lend, f], self.M[lend, f] = self.R[lend, a], 1
        self.T = np.full((len(evals), nsig), np.nan)  # each eval problem's measured log ratios
        for j, s in enumerate(evals):
            for i, r in s["rel"].items():
                self.T[j, i] = r

    def predict(self, w):
        """DispatchModel::predict_all: each eval problem's predicted log ratio per signature."""
        d = self.F @ w
        d[self.same] = np.inf
        k = np.exp(d.min(axis=1, keepdims=True) - d)  # the nearest problems weigh 1
        k[k < 1e-12] = 0
        return (k @ (self.R * self.M) + PRIOR_WEIGHT * PRIOR) / (k @ self.M + PRIOR_WEIGHT)

    def ratios(self, w):
        """Measured time / best of the candidate the model picks, per eval problem."""
        pred = self.predict(w)
        pred[np.isnan(self.T)] = np.inf  # only what ran on the problem (what supports it)
        pick = np.argmin(pred, axis=1)
        return np.exp(self.T[np.arange(len(self.T)), pick])


def summary(r):
    return "geomean %.3f, worst %.3f, %d of %d over 1.10, %d over 1.30" % (
        math.exp(np.mean(np.log(r))), r.max(), (r > 1.1).sum(), len(r), (r > 1.3).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fit", nargs="+", required=True, help="--keep-all tables to fit on")
    ap.add_argument("--check", help="held-out table (check-dispatch --out) to score on")
    ap.add_argument("--iterations", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--restarts", type=int, default=3, help="searches from the start, seeds seed.. (the best by the fit objective wins)")
    ap.add_argument("--start", type=float, nargs=len(NAMES), help="weights to start from")
    a = ap.parse_args()

    sigs = {}
    fit = [s for path in a.fit for s in load(path, sigs)]
    check = load(a.check, sigs) if a.check else []
    if not fit:
        sys.exit("fit_model: no problem with timed candidates in the --fit tables")
    fit_s = Scorer(fit, fit, sigs)
    check_s = Scorer(check, fit, sigs) if check else None

    def objective(w):  # mean log ratio, plus what exceeds 1.10, plus a little of the worst
        lr = np.log(fit_s.ratios(w))
        return lr.mean() + np.maximum(0, lr - math.log(1.1)).mean() + 0.02 * lr.max()

    def report(label, w):
        line = "%-8s leave-one-out on %d fit problems: %s" % (label, len(fit), summary(fit_s.ratios(w)))
        if check_s:
            line += "\n%-8s held out, %d problems: %s" % ("", len(check), summary(check_s.ratios(w)))
        print(line)

    start = np.array(a.start if a.start else DEFAULT, dtype=np.float64)
    report("start", start)
    best, best_o = start, objective(start)
    for seed in range(a.seed, a.seed + a.restarts):
        w_run, o_run, rng = start.copy(), objective(start), np.random.default_rng(seed)
        for _ in range(a.iterations):  # coordinate-wise random search in log space
            w = w_run.copy()
            k = rng.integers(len(w))
            w[k] = max(0.0, w[k] * math.exp(rng.normal(0, 0.7)) + (rng.random() < 0.2) * rng.random())
            o = objective(w)
            if o < o_run:
                w_run, o_run = w, o
        print("seed %d: fit objective %.4f" % (seed, o_run))
        if o_run < best_o:
            best, best_o = w_run, o_run
    report("fitted", best)
    print("ModelWeights: " + ", ".join("%s = %.3f" % (n, v) for n, v in zip(NAMES, best)))


if __name__ == "__main__":
    main()
