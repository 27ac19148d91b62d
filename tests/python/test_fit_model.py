#!/usr/bin/env python3
"""scripts/fit_model.py's replica of the dispatch cost model against the C++ one: both predict the
queries of tests/dispatch/model_fixture.json (a few real samples of results/h200, one relabelled to
another GPU, and weights that give every distance term a part) and must give the fixture's expected
log ratios, which test_dispatch's DispatchModel.MatchesTheFitScriptReplica checks for the C++.
Needs numpy (exit 77 without it), no GPU.

    tests/python/test_fit_model.py            check
    tests/python/test_fit_model.py --write    rewrite the expected values from the replica
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, "tests", "dispatch", "model_fixture.json")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

try:
    import numpy as np
except ImportError:
    print("skipped: numpy is not importable")
    sys.exit(77)

import fit_model  # noqa: E402


def replica_predictions(fx):
    """Each query's predicted log ratio per signature, as fit_model's Scorer computes it."""
    sigs = {}
    pool = [{"key": s["problem"]["key"], "gpu": s["gpu"], "p": s["problem"],
             "rel": {sigs.setdefault(sig, len(sigs)): r for sig, r in s["rel"].items()}} for s in fx["samples"]]
    evals = [{"key": q.get("exclude", "query %d" % i), "gpu": q["gpu"], "p": q["problem"], "rel": {}}
             for i, q in enumerate(fx["queries"])]
    w = np.array([fx["weights"][n] for n in fit_model.NAMES], dtype=np.float64)
    pred = fit_model.Scorer(evals, pool, sigs).predict(w)
    return [{sig: float(pred[q, i]) for sig, i in sigs.items()} for q in range(len(evals))]


def main():
    with open(FIXTURE) as f:
        fx = json.load(f)
    got = replica_predictions(fx)
    if "--write" in sys.argv[1:]:
        for q, g in zip(fx["queries"], got):
            q["expected"] = {sig: round(v, 9) for sig, v in g.items()}
        with open(FIXTURE, "w") as f:
            json.dump(fx, f, indent=1)
            f.write("\n")
        print("wrote %s" % FIXTURE)
        return 0
    bad = 0
    for q, g in zip(fx["queries"], got):
        for sig, want in q["expected"].items():
            if abs(g[sig] - want) > 1e-6:
                print("%s, %s: replica %.9f, expected %.9f" % (q["problem"]["key"], sig, g[sig], want))
                bad += 1
    lent = sum(len(q["expected"]) for q in fx["queries"])
    print("%d predictions compared, %d differ" % (lent, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
