#!/usr/bin/env python3
"""scripts/pytorch_baseline.py and scripts/compare.py without torch or a GPU: keys and bytes rebuilt
from the problem fields agree with dwtune's (`dwtune shapes --json`) in every pass, --passes is
checked and selects, a shapes file whose key disagrees is refused before anything is timed, and
compare.py joins each problem with PyTorch's time of the same pass.

    tests/python/test_pytorch_baseline.py build/dwtune
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import dwt_problem  # noqa: E402
import pytorch_baseline  # noqa: E402  (imports without torch)

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def shapes(dwtune, *args):
    r = subprocess.run([dwtune, "shapes", "--json", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"dwtune shapes {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


def check_keys(dwtune):
    seen = set()
    for cfg in ("kernelbench-backward", "networks-backward", "sanitize", "edge", "kernelbench"):
        path = os.path.join(ROOT, "configs", cfg + ".json")
        for p in shapes(dwtune, "--config", path):
            seen.add(dwt_problem.pass_of(p))
            expect(dwt_problem.key_of(p) == p["key"], f"{cfg}: {p['name']}: key {dwt_problem.key_of(p)} != {p['key']}")
            expect(list(dwt_problem.out_size(p)) == [p["out_h"], p["out_w"]], f"{cfg}: {p['name']}: out size")
    expect(seen == {"forward", "dgrad", "wgrad"}, f"passes seen: {seen}")
    p = shapes(dwtune, "--problem", "n=2,c=3,h=9,w=11,k=3x5,s=2,p=1x2,d=2x1,m=2,bias,dtype=bf16,layout=nhwc,pass=wgrad")[0]
    expect(dwt_problem.key_of(p) == p["key"], f"--problem key {dwt_problem.key_of(p)} != {p['key']}")


def check_bytes():
    kb85 = {"name": "kb85", "n": 32, "c": 128, "h": 128, "w": 256, "kernel": [3, 7], "stride": 1, "padding": 0,
            "dilation": 1, "multiplier": 1, "bias": False, "dtype": "f32", "layout": "nchw"}
    plain = (32 * 128 * 128 * 256 + 32 * 128 * 126 * 250 + 128 * 21) * 4
    expect(dwt_problem.bytes_of(kb85) == plain, "kb85 forward bytes")
    expect(dwt_problem.key_of(kb85) == "n32_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f32_nchw", "kb85 key")
    wg = dict(kb85, bias=True, dtype="f16", **{"pass": "wgrad"})
    expect(dwt_problem.bytes_of(wg) == plain // 2 + 128 * 2, "wgrad moves db")
    dg = dict(kb85, bias=True, **{"pass": "dgrad"})
    expect(dwt_problem.bytes_of(dg) == plain, "dgrad moves no bias")
    expect(dwt_problem.key_of(wg).endswith("_bias_f16_nchw_wgrad"), dwt_problem.key_of(wg))


def check_args():
    a = pytorch_baseline.parse_args(["--shapes", "s.json", "--passes", "dgrad,wgrad"])
    expect(a.passes == ["dgrad", "wgrad"], f"--passes read as {a.passes}")
    expect(pytorch_baseline.parse_args(["--shapes", "s.json"]).passes is None, "default: every pass")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            pytorch_baseline.parse_args(["--shapes", "s.json", "--passes", "dgrad,backward"])
            failures.append("--passes backward accepted")
        except SystemExit as e:
            expect(e.code == 2, f"--passes backward: exit {e.code}")
    expect('unknown pass "backward"' in err.getvalue(), err.getvalue())


def check_selection(dwtune):
    ps = shapes(dwtune, "--config", os.path.join(ROOT, "configs", "sanitize.json"))
    sel = pytorch_baseline.selected(ps, ["wgrad"])
    expect(sel and all(p["pass"] == "wgrad" for p in sel), "--passes wgrad selects wgrad problems only")
    expect(len(pytorch_baseline.selected(ps, None)) == len(ps), "no --passes: every problem")
    bad = [dict(sel[0], key=sel[0]["key"][: -len("_wgrad")])]  # a forward key on a wgrad problem
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "shapes.json")
        json.dump(bad, open(f, "w"))
        try:
            pytorch_baseline.main(["--shapes", f])
            failures.append("a shapes file with a wrong key was timed")
        except ValueError as e:
            expect("its fields give" in str(e), str(e))


def check_compare(dwtune):
    spec = "name=l,n=4,c=8,h=20,w=20,k=3,p=1,bias"
    fwd = shapes(dwtune, "--problem", spec)[0]
    dg = shapes(dwtune, "--problem", spec.replace("name=l", "name=l_dgrad") + ",pass=dgrad")[0]

    def entry(p, ms, cudnn):
        return {"key": p["key"], "problem": p, "ok": True,
                "winner": {"family": "naive", "time": {"median_ms": ms}}, "cudnn": {"time": {"median_ms": cudnn}}}
    table = {"meta": {"gpu_name": "NVIDIA H200", "git_revision": "abc", "copy_bandwidth_gbps": 4000.0,
                      "launch_floor_ms": 0.0},
             "entries": [entry(fwd, 0.010, 0.020), entry(dg, 0.030, 0.015)]}
    py = {"problems": [{"key": fwd["key"], "median_ms": 0.040, "channels_last_ms": 0.050},
                       {"key": dg["key"], "median_ms": 0.090, "channels_last_ms": 0.060}]}
    with tempfile.TemporaryDirectory() as tmp:
        t, q = os.path.join(tmp, "t.json"), os.path.join(tmp, "p.json")
        json.dump(table, open(t, "w"))
        json.dump(py, open(q, "w"))
        r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "compare.py"), t, q, "--rows"],
                           capture_output=True, text=True)
    out = r.stdout
    expect(r.returncode == 0, f"compare.py exited {r.returncode}: {r.stderr}")
    floor = dwt_problem.bytes_of(dg) / (4000.0 * 1e6)
    expect(f"| l_dgrad | dgrad | naive | 0.0300 | 0.0150 | 0.0900 | 0.0600 | {100 * floor / 0.030:.0f}% |" in out, out)
    expect("| l | forward | naive | 0.0100 | 0.0200 | 0.0400 | 0.0500 |" in out, out)
    expect("forward: vs cuDNN (same run): faster on 1 of 1; geomean 2.00x" in out, out)
    expect("dgrad: vs cuDNN (same run): faster on 0 of 1; geomean 0.50x" in out, out)
    expect("dgrad: vs PyTorch best layout: faster on 1 of 1" in out, out)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    dwtune = sys.argv[1]
    check_keys(dwtune)
    check_bytes()
    check_args()
    check_selection(dwtune)
    check_compare(dwtune)
    for f in failures:
        print("FAIL", f)
    print(f"test_pytorch_baseline: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
