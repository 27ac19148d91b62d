#!/usr/bin/env python3
"""The CSV report of a committed table, read as a CUTLASS-profiler or pivot-table user would:
Python's csv module, one column per shape field, one row shape, and a re-run command per row
whose --problem gives back the row's problem key (through `dwtune shapes --json`).
Usage: check_csv.py DWTUNE TABLE.json"""
import csv, io, json, shlex, subprocess, sys

dwtune, table = sys.argv[1], sys.argv[2]
text = subprocess.run([dwtune, "report", table, "--format", "csv"], check=True,
                      capture_output=True, text=True).stdout
rows = list(csv.DictReader(io.StringIO(text)))
assert rows, "no rows"
shape = ["n", "c", "h", "w", "kh", "kw", "stride_h", "stride_w", "pad_h", "pad_w", "dil_h",
         "dil_w", "multiplier", "bias", "dtype", "layout", "pass", "gpu", "family", "kernel",
         "disposition", "median_ms", "gbps", "cudnn_ms", "rerun"]
for col in shape:
    assert col in rows[0], f"no column {col}: {list(rows[0])}"
assert any(c.startswith("param_") for c in rows[0]), "no tile-parameter columns"
for r in rows:
    assert None not in r and None not in r.values(), f"ragged row {r}"
    for col in ["n", "c", "h", "w", "kh", "kw", "stride_h", "pad_w", "dil_h", "multiplier"]:
        int(r[col])
    if r["disposition"] in ("winner", "slower", "passed"):
        float(r["median_ms"])
checked = set()
for r in rows:
    if r["key"] in checked:
        continue
    checked.add(r["key"])
    argv = shlex.split(r["rerun"])
    assert argv[:2] == ["dwtune", "tune"], r["rerun"]
    spec = argv[argv.index("--problem") + 1]
    out = subprocess.run([dwtune, "shapes", "--json", "--problem", spec], check=True,
                         capture_output=True, text=True).stdout
    p = json.loads(out)[0]
    assert p["name"] == r["problem"], (p["name"], r["problem"])
    assert p["key"] == r["key"], (p["key"], r["key"])  # every field, the pass included
    assert p["pass"] == r["pass"], (p["pass"], r["pass"])
    for f, col in [("n", "n"), ("c", "c"), ("h", "h"), ("w", "w")]:
        assert p[f] == int(r[col]), (f, p[f], r[col])
    assert p["kernel"] == [int(r["kh"]), int(r["kw"])], (p["kernel"], r["kh"], r["kw"])
print(f"check_csv: {table}: {len(rows)} rows, {len(rows[0])} columns, {len(checked)} re-run specs OK")
