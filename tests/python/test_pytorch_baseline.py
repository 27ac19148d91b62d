#!/usr/bin/env python3
"""scripts/pytorch_baseline.py and scripts/compare.py without torch or a GPU: keys and bytes rebuilt
from the problem fields agree with dwtune's (`dwtune shapes --json`) in every pass, --passes is
checked and selects, a shapes file whose key disagrees is refused before anything is timed,
compare.py joins each problem with PyTorch's time of the same pass, and --merge writes PyTorch's
time of each entry's own layout and pass into a table (refusing another GPU's times, non-tables,
and writing atomically).

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


def run_merge(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "pytorch_baseline.py"), "--merge", *args],
                          capture_output=True, text=True)


def merge_fixture(dwtune):
    """A table of four entries (forward nchw, forward nhwc, dgrad nchw, one PyTorch never timed) and
    PyTorch's times of the first three shapes, each layout and pass with its own time."""
    spec = "n=4,c=8,h=20,w=20,k=3,p=1,bias"
    fwd, fwd_cl, dg, other = (shapes(dwtune, "--problem", s)[0] for s in (
        "name=f," + spec, "name=f_cl,layout=nhwc," + spec, "name=d,pass=dgrad," + spec, "name=o,n=5,c=8,h=9,w=9,k=3"))

    def entry(p):
        return {"key": p["key"], "problem": p, "ok": True, "winner": {"kernel": "naive", "time": {"median_ms": 0.02}}}
    table = {"schema": 1, "meta": {"gpu_name": "NVIDIA H200", "notes": []},
             "entries": [entry(p) for p in (fwd, fwd_cl, dg, other)]}
    # PyTorch timed the forward problem under its nchw key only: its channels_last time serves nhwc.
    py = {"gpu": "NVIDIA H200", "torch": "2.11.0+cu130", "cudnn": 91900, "copy_bandwidth_gbps": 4200.0,
          "problems": [{"name": "f", "key": fwd["key"], "pass": "forward", "median_ms": 0.011, "channels_last_ms": 0.012},
                       {"name": "d", "key": dg["key"], "pass": "dgrad", "median_ms": 0.031, "channels_last_ms": 0.032}]}
    return table, py


def umask():
    u = os.umask(0)
    os.umask(u)
    return u


def check_merge(dwtune):
    table, py = merge_fixture(dwtune)
    with tempfile.TemporaryDirectory() as tmp:
        t, q, out = (os.path.join(tmp, f) for f in ("t.json", "p.json", "out.json"))
        json.dump(table, open(t, "w"))
        json.dump(py, open(q, "w"))
        r = run_merge(q, "--table", t, "-o", out)
        expect(r.returncode == 0, f"--merge exited {r.returncode}: {r.stderr}")
        expect("beside 3 entries" in r.stdout, r.stdout)
        m = json.load(open(out))
        got = [e.get("pytorch") for e in m["entries"]]
        expect(got[0] == {"time": {"median_ms": 0.011}, "layout_run": "nchw"}, f"nchw entry: {got[0]}")
        expect(got[1] == {"time": {"median_ms": 0.012}, "layout_run": "channels_last"}, f"nhwc entry: {got[1]}")
        expect(got[2] == {"time": {"median_ms": 0.031}, "layout_run": "nchw"}, f"dgrad entry: {got[2]}")
        expect(got[3] is None, f"an entry PyTorch never timed: {got[3]}")
        expect(m["meta"]["pytorch"] == [{"file": "p.json", "torch": "2.11.0+cu130", "gpu": "NVIDIA H200",
                                         "cudnn": "91900", "entries": 3}], m["meta"].get("pytorch"))
        expect(m["entries"][0]["winner"] == table["entries"][0]["winner"], "the rest of an entry is kept")
        # The same key wins over the other layout's: an nhwc problem of its own gives nhwc its time.
        py2 = dict(py, problems=py["problems"] + [dict(py["problems"][0], key=table["entries"][1]["key"],
                                                       channels_last_ms=0.009)])
        json.dump(py2, open(q, "w"))
        os.chmod(out, 0o640)
        r = run_merge(q, "--table", out, "-o", out)  # in place; merged again from the same file
        expect(os.stat(out).st_mode & 0o777 == 0o640, f"mode after an in-place merge: {oct(os.stat(out).st_mode)}")
        m = json.load(open(out))
        expect(r.returncode == 0 and m["entries"][1]["pytorch"]["time"]["median_ms"] == 0.009,
               f"nhwc entry with its own key in PyTorch's file: {m['entries'][1].get('pytorch')} {r.stderr}")
        expect(len(m["meta"]["pytorch"]) == 1, f"a file merged twice is listed once: {m['meta']['pytorch']}")
        expect(sorted(os.listdir(tmp)) == ["out.json", "p.json", "t.json"], f"files left: {os.listdir(tmp)}")

        def files():
            return {f: open(os.path.join(tmp, f)).read() if os.path.isfile(os.path.join(tmp, f)) else None
                    for f in os.listdir(tmp)}

        def refused(args, what, needle):
            before = files()
            r = run_merge(*args)
            expect(r.returncode == 2, f"{what}: exit {r.returncode}")
            expect(needle in r.stderr, f"{what}: {r.stderr}")
            after = files()
            expect(before == after, f"{what}: files changed or added: {sorted(after)}")
        json.dump(dict(py, gpu="NVIDIA H100 80GB HBM3"), open(q, "w"))
        refused([q, "--table", t, "-o", out], "GPU mismatch",
                '"NVIDIA H100 80GB HBM3" but ' + t + ' was tuned on "NVIDIA H200"')
        refused([q, "--table", t, "-o", t], "GPU mismatch in place", "times of another GPU are not merged")
        json.dump(py, open(q, "w"))
        refused([t, "--table", q, "-o", out], "PyTorch's file as the table", "is not a dwtune tuning table")
        refused([t, "--table", t, "-o", out], "a table as PyTorch's file", "is not pytorch_baseline.py output")
        bad = dict(py, problems=[dict(py["problems"][0], channels_last_ms="fast")])
        json.dump(bad, open(q, "w"))
        refused([q, "--table", t, "-o", out], "a time that is not one", "problems[0]/channels_last_ms: 'fast'")
        # Files from before channels_last was timed: nchw entries take a time, nhwc ones none.
        json.dump(dict(py, problems=[dict(py["problems"][0], channels_last_ms=None)]), open(q, "w"))
        old = os.path.join(tmp, "old.json")
        r = run_merge(q, "--table", t, "-o", old)
        got = [e.get("pytorch") for e in json.load(open(old))["entries"]]
        expect(r.returncode == 0 and got[0] and not got[1], f"no channels_last time: {got} {r.stderr}")
        expect(oct(os.stat(old).st_mode & 0o777) == oct(0o666 & ~umask()), f"new file mode {oct(os.stat(old).st_mode)}")
        os.unlink(old)
        json.dump(py, open(q, "w"))
        os.mkdir(os.path.join(tmp, "dir"))
        refused([q, "--table", t, "-o", os.path.join(tmp, "dir")], "a directory as OUT", "is not a regular file")
        os.rmdir(os.path.join(tmp, "dir"))
        # A write that fails halfway leaves the old table and no temporary file.
        real = os.replace
        os.replace = lambda a, b: (_ for _ in ()).throw(OSError(28, "No space left on device"))
        try:
            pytorch_baseline.merge(q, t, out)
            failures.append("merge with a failing rename returned")
        except OSError:
            pass
        finally:
            os.replace = real
        expect(json.load(open(out)) == m, "a failed write changed the table")
        expect(sorted(os.listdir(tmp)) == ["out.json", "p.json", "t.json"], f"files left: {os.listdir(tmp)}")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "pytorch_baseline.py"), "--merge", "p.json",
                        "--table", "t.json"], capture_output=True, text=True)
    expect(r.returncode == 2 and "-o OUT" in r.stderr, f"--merge without -o: {r.returncode} {r.stderr}")


def check_merge_real(dwtune):
    """A measured table with its PyTorch file merged stays a table dwtune reads, the times beside."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "t.json")
        h200 = os.path.join(ROOT, "results", "h200")
        r = run_merge(os.path.join(h200, "pytorch.json"), "--table", os.path.join(h200, "table.json"), "-o", out)
        expect(r.returncode == 0 and "beside 30 entries" in r.stdout, f"h200 table: {r.stdout} {r.stderr}")
        rep = subprocess.run([dwtune, "report", out, "--format", "csv"], capture_output=True, text=True)
        expect(rep.returncode == 0, f"dwtune report of a merged table: {rep.stderr}")
        # The large tables of results/ are gzip-compressed: read as such, and written so when OUT ends in .gz.
        gz = os.path.join(tmp, "n.json.gz")
        r = run_merge(os.path.join(h200, "networks-pytorch.json"), "--table",
                      os.path.join(h200, "networks-table.json.gz"), "-o", gz)
        expect(r.returncode == 0 and "beside" in r.stdout, f"h200 networks table (.gz): {r.stdout} {r.stderr}")
        expect(open(gz, "rb").read(2) == b"\x1f\x8b", "an OUT ending in .gz is written gzip-compressed")
        rep = subprocess.run([dwtune, "report", gz, "--format", "csv"], capture_output=True, text=True)
        expect(rep.returncode == 0 and rep.stdout.count("\n") > 100, f"dwtune report of a .gz table: {rep.stderr}")
        with open(gz, "rb") as f:
            head = f.read(4096)
        with open(gz, "wb") as f:
            f.write(head)  # a truncated gzip file
        r = run_merge(os.path.join(h200, "networks-pytorch.json"), "--table", gz, "-o", out)
        expect(r.returncode == 2 and gz in r.stderr, f"a truncated .gz table: {r.returncode} {r.stderr}")
        rep = subprocess.run([dwtune, "report", gz, "--format", "csv"], capture_output=True, text=True)
        expect(rep.returncode == 2 and "gzip" in rep.stderr and gz in rep.stderr,
               f"dwtune on a truncated .gz table: {rep.returncode} {rep.stderr}")


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
    check_merge(dwtune)
    check_merge_real(dwtune)
    for f in failures:
        print("FAIL", f)
    print(f"test_pytorch_baseline: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
