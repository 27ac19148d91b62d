"""A dwtune problem as `dwtune shapes --json` and tuning tables write it, for the scripts: its pass,
output size, key (as Problem::key) and bytes (as Problem::bytes). No torch, no GPU."""
import gzip
import json
import re

PASSES = ("forward", "dgrad", "wgrad")
DTYPE_SIZE = {"f32": 4, "f16": 2, "bf16": 2}


def is_gzip(path):
    """True when the file starts with gzip's magic bytes (dwtune's reader tells them the same way)."""
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def open_text(path):
    """A table or config for reading as text, gzip-compressed (the large tables of results/) or not."""
    return gzip.open(path, "rt", encoding="utf-8") if is_gzip(path) else open(path, encoding="utf-8")


def load_json(path):
    """The JSON document in `path`, gzip-compressed or not."""
    with open_text(path) as f:
        return json.load(f)


def pair(v):
    """[h, w] of a pair field: a scalar stands for both."""
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def pass_of(p):
    """The problem's pass; problems written before the pass axis are forward."""
    return p.get("pass", "forward")


def out_size(p):
    """(out_h, out_w) = floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1 per axis."""
    (kh, kw), (sh, sw) = pair(p["kernel"]), pair(p["stride"])
    (ph, pw), (dh, dw) = pair(p["padding"]), pair(p["dilation"])
    return ((p["h"] + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
            (p["w"] + 2 * pw - dw * (kw - 1) - 1) // sw + 1)


def key_of(p):
    """Problem::key: forward keys end with the layout, the other passes append _dgrad or _wgrad."""
    (kh, kw), (sh, sw) = pair(p["kernel"]), pair(p["stride"])
    (ph, pw), (dh, dw) = pair(p["padding"]), pair(p["dilation"])
    k = (f"n{p['n']}_c{p['c']}_h{p['h']}_w{p['w']}_k{kh}x{kw}_s{sh}x{sw}_p{ph}x{pw}_d{dh}x{dw}"
         f"_m{p['multiplier']}_{'bias' if p['bias'] else 'nobias'}_{p['dtype']}_{p['layout']}")
    return k if pass_of(p) == "forward" else f"{k}_{pass_of(p)}"


_KEY = re.compile(r"(n\d+_c\d+_h\d+_w\d+_k\d+x\d+_s\d+x\d+_p\d+x\d+_d\d+x\d+_m\d+_(?:no)?bias_(?:f32|f16|bf16))"
                  r"_(nchw|nhwc)((?:_dgrad|_wgrad)?)")


def split_layout(key):
    """(what precedes the layout, the layout, what follows) of a Problem::key; None for anything else."""
    m = _KEY.fullmatch(key)
    return m.groups() if m else None


def bytes_of(p):
    """Problem::bytes: input + output + weights (+ bias), each once; dgrad moves no bias."""
    kh, kw = pair(p["kernel"])
    oh, ow = out_size(p)
    oc = p["c"] * p["multiplier"]
    bias = oc if p["bias"] and pass_of(p) != "dgrad" else 0
    return (p["n"] * p["c"] * p["h"] * p["w"] + p["n"] * oc * oh * ow + oc * kh * kw + bias) * DTYPE_SIZE[p["dtype"]]


def parse_passes(text):
    """A comma-separated list of passes; ValueError naming the unknown one."""
    out = [s for s in text.split(",") if s]
    for s in out:
        if s not in PASSES:
            raise ValueError(f'unknown pass "{s}" (expected {", ".join(PASSES)})')
    return out
