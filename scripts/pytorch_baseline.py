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

--merge writes those times into a tuning table, where dispatch reads them (no torch, no GPU):

    python3 scripts/pytorch_baseline.py --merge results/pytorch.json --table TABLE -o OUT

Each entry whose problem PyTorch timed (same key, the layout aside) gains "pytorch": {"time":
{"median_ms": T}, "layout_run": "nchw" | "channels_last"}: the time in the entry's own layout (an
nchw entry gets the NCHW time, an nhwc entry the channels_last one: what F.conv2d runs for such a
tensor) and pass. meta.pytorch lists the files merged, with their PyTorch, cuDNN and GPU. Refused
(exit 2, nothing written) when the table is not a tuning table, the file is not this script's
output, or the two come from different GPUs. OUT (may be TABLE) is replaced atomically.
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dwt_problem import bytes_of, key_of, load_json, open_text, out_size, pair, parse_passes, pass_of, split_layout  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # argument handling and keys need no torch (tests/python/test_pytorch_baseline.py)
    torch = F = None

DTYPES = ("f32", "f16", "bf16")


# GPU cycles per repetition the stream is held before the timed repetitions are enqueued: more than
# the host needs to enqueue one (a flush, two events and PyTorch's call: tens of µs of Python).
HOLD_CYCLES_PER_REP = 200_000


# Repetitions enqueued behind one spin: few enough that the stream's queue of pending work (about a
# thousand launches) never fills, which would block the host until the GPU drains it and let the GPU
# catch up with the host, so the events would time the host's per-call cost after all.
CHUNK_REPS = 8


def time_interleaved(fns, flush, reps, warmup):
    """As dwtune's Timer: every repetition (flush, start event, call, stop event) of every fn, the fns
    interleaved, enqueued back to back, so the events time the GPU's work, not the host's. A spin on
    the stream first keeps the GPU behind the host while it enqueues (PyTorch's per-call host cost
    would otherwise show in small problems' times, and vary with the host's speed); the repetitions go
    in chunks of CHUNK_REPS, each behind its own spin and waited for. Each fn's times in ms, in order."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    events = [[(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in fns]
              for _ in range(reps)]
    for first in range(0, reps, CHUNK_REPS):
        chunk = events[first:first + CHUNK_REPS]
        torch.cuda.synchronize()
        torch.cuda._sleep(HOLD_CYCLES_PER_REP * len(chunk) * len(fns))
        for rep in chunk:
            for fn, (start, stop) in zip(fns, rep):
                flush.zero_()
                start.record()
                fn()
                stop.record()
    torch.cuda.synchronize()
    return [[rep[j][0].elapsed_time(rep[j][1]) for rep in events] for j in range(len(fns))]


def time_ms(fn, flush, reps, warmup):
    """fn's median, min and max time in ms (time_interleaved)."""
    times = time_interleaved([fn], flush, reps, warmup)[0]
    return statistics.median(times), min(times), max(times)


def passes_arg(text):
    try:
        return parse_passes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", help="output of `dwtune shapes --config FILE --json`")
    ap.add_argument("-o", "--out", help="write results as JSON here (with --merge: the table)")
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--passes", type=passes_arg,
                    help="time only the problems of these passes, e.g. dgrad,wgrad (default: every problem)")
    ap.add_argument("--merge", metavar="PYTORCH.json",
                    help="time nothing: write the times of this file (an earlier --out) into --table")
    ap.add_argument("--table", help="with --merge: the tuning table to take the times")
    args = ap.parse_args(argv)
    if args.merge:
        if args.shapes or args.passes:
            ap.error("--merge times nothing: --shapes and --passes do not apply")
        if not args.table or not args.out:
            ap.error("--merge needs --table TABLE and -o OUT")
    elif not args.shapes:
        ap.error("--shapes is required (or --merge)")
    elif args.table:
        ap.error("--table goes with --merge")
    return args


class MergeError(ValueError):
    """A table or PyTorch file that cannot be merged; the message names the file and the field."""


def _load(path, what):
    try:
        return load_json(path)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError without strerror
        raise MergeError(f"cannot read {what} {path}: {getattr(e, 'strerror', None) or e}")
    except ValueError as e:
        raise MergeError(f"{path} is not JSON: {e}")


def read_pytorch_times(path):
    """(the file's header, key -> problem) of pytorch_baseline.py's output, each problem checked."""
    j = _load(path, "PyTorch times")
    if not isinstance(j, dict) or not isinstance(j.get("problems"), list) or not isinstance(j.get("gpu"), str):
        raise MergeError(f"{path} is not pytorch_baseline.py output (no \"gpu\" and \"problems\")")
    by_key = {}
    for i, p in enumerate(j["problems"]):
        where = f"{path}: problems[{i}]"
        if not isinstance(p, dict) or not isinstance(p.get("key"), str):
            raise MergeError(f"{where}: no key")
        if split_layout(p["key"]) is None:
            raise MergeError(f"{where}: \"{p['key']}\" is not a dwtune problem key")
        for f in ("median_ms", "channels_last_ms"):  # null: not timed in that layout (older files)
            v = p.get(f)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0):
                raise MergeError(f"{where}/{f}: {v!r} is not a time in ms")
        by_key[p["key"]] = p
    return j, by_key


def check_table(t, path):
    """Raises MergeError unless t looks like a dwtune tuning table (the fields dispatch needs)."""
    if not isinstance(t, dict) or "schema" not in t or not isinstance(t.get("entries"), list):
        raise MergeError(f"{path} is not a dwtune tuning table (no \"schema\" and \"entries\")")
    if t["schema"] != 1:
        raise MergeError(f"{path}/schema: unsupported table schema {t['schema']!r} (this script writes schema 1)")
    if not isinstance(t.get("meta"), dict) or not isinstance(t["meta"].get("gpu_name"), str):
        raise MergeError(f"{path}/meta/gpu_name: missing")
    for i, e in enumerate(t["entries"]):
        if not isinstance(e, dict) or not isinstance(e.get("key"), str) or split_layout(e["key"]) is None:
            raise MergeError(f"{path}/entries/{i}/key: missing or not a dwtune problem key")


def merge_times(table, pytorch, by_key, source):
    """Writes PyTorch's time beside each entry of `table` whose problem PyTorch timed, in the entry's
    layout and pass; returns how many entries took one. Other entries keep what they had."""
    merged = 0
    for e in table["entries"]:
        # PyTorch timed both layouts of whichever layout its problem names: the same key first,
        # then the other layout's.
        head, layout, tail = split_layout(e["key"])
        other = "nhwc" if layout == "nchw" else "nchw"
        p = by_key.get(e["key"]) or by_key.get(f"{head}_{other}{tail}")
        channels_last = layout == "nhwc"
        ms = p and p.get("channels_last_ms" if channels_last else "median_ms")
        if ms is None:
            continue
        e["pytorch"] = {"time": {"median_ms": ms}, "layout_run": "channels_last" if channels_last else "nchw"}
        merged += 1
    cudnn = pytorch.get("cudnn")
    src = {"file": source, "torch": str(pytorch.get("torch", "unknown")), "gpu": pytorch["gpu"],
           "cudnn": "none" if cudnn is None else str(cudnn), "entries": merged}
    meta = table["meta"]
    meta["pytorch"] = [s for s in meta.get("pytorch", []) if s.get("file") != source] + [src]
    return merged


def write_json_atomic(obj, path, compact=False):
    """The whole text to a temporary file beside `path`, then renamed over it: never half-written,
    never replacing anything but a regular file, and keeping the mode of the file it replaces."""
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
        raise MergeError(f"{path} exists and is not a regular file; not replaced")
    # Sorted keys, as dwtune writes tables (two-space indents, or none for a table that had none):
    # a merge changes only what it adds.
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False,
                      **({"separators": (",", ":")} if compact else {"indent": 2})) + "\n"
    if os.path.exists(path):
        mode = os.stat(path).st_mode & 0o777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp",
                               dir=os.path.dirname(os.path.abspath(path)))
    try:
        os.fchmod(fd, mode)
        # A name ending in .gz is written gzip-compressed (as the large tables of results/ are),
        # with no time stamp inside, so the same table gives the same bytes.
        data = text.encode("utf-8")
        if path.endswith(".gz"):
            data = gzip.compress(data, compresslevel=9, mtime=0)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def merge(pytorch_path, table_path, out_path):
    """--merge: PyTorch's times into the table, written to out_path. Returns the entries merged."""
    table = _load(table_path, "table")
    check_table(table, table_path)
    with open_text(table_path) as f:
        compact = f.read(2) != "{\n"
    pytorch, by_key = read_pytorch_times(pytorch_path)
    if pytorch["gpu"] != table["meta"]["gpu_name"]:
        raise MergeError(f"{pytorch_path} was timed on \"{pytorch['gpu']}\" but {table_path} was tuned on "
                         f"\"{table['meta']['gpu_name']}\" (meta/gpu_name); times of another GPU are not merged")
    n = merge_times(table, pytorch, by_key, os.path.basename(pytorch_path))
    write_json_atomic(table, out_path, compact)
    return n


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
    if args.merge:
        try:
            n = merge(args.merge, args.table, args.out)
        except MergeError as e:
            print(f"pytorch_baseline: {e}", file=sys.stderr)
            return 2
        print(f"{args.out}: PyTorch's time beside {n} entries")
        return 0
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
