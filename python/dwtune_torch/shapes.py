"""A PyTorch model's depthwise convolutions as a dwtune config, so `dwtune tune` tunes exactly them.

    python -m dwtune_torch.shapes torchvision.models.mobilenet_v3_large --input 32,3,224,224 -o my.json
    dwtune tune --config my.json --out my-table.json

MODEL is a dotted path to a callable that returns an nn.Module when called with no arguments (a
model builder such as torchvision.models.mobilenet_v3_large, or a module class), or `pkg.mod:name`.
The model runs once on the meta device (no memory, no compute; on the CPU if it cannot) with forward
pre-hooks on every nn.Conv2d whose groups equal its input channels and exceed 1; each one becomes a
problem named after its module, identical shapes once (the description counts the layers). dtype is
the model's (--dtype to override), layout nchw unless --layout says otherwise. Convolutions that
dwtune cannot express (asymmetric "same" padding) are reported on stderr and left out. Works without
the compiled extension.
"""
import argparse
import copy
import importlib
import json
import re
import sys

import torch
import torch.nn as nn

DTYPES = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}


def is_depthwise(m):
    return isinstance(m, nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels


def _padding(m):
    """(ph, pw, why-not): symmetric zero padding of each axis, as dwtune takes it."""
    if m.padding == "valid":
        return 0, 0, None
    if m.padding == "same":
        pads = []
        for k, d in zip(m.kernel_size, m.dilation):
            total = d * (k - 1)
            if total % 2:
                return None, None, f"padding='same' with {m.kernel_size} kernel pads unevenly"
            pads.append(total // 2)
        return pads[0], pads[1], None
    return m.padding[0], m.padding[1], None


def problem_of(name, m, x_shape, dtype, layout):
    """The dwtune config problem for depthwise conv `m` on an input of x_shape, or (None, why)."""
    n, c, h, w = (int(v) for v in x_shape)
    ph, pw, why = _padding(m)
    if why:
        return None, why
    if m.padding_mode != "zeros":  # the module pads the input itself, then convolves unpadded
        h, w, ph, pw = h + 2 * ph, w + 2 * pw, 0, 0
    return {
        "name": re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "conv",
        "n": n, "c": c, "h": h, "w": w,
        "kernel": list(m.kernel_size), "stride": list(m.stride), "padding": [ph, pw],
        "dilation": list(m.dilation), "multiplier": m.out_channels // m.in_channels,
        "bias": m.bias is not None, "dtype": dtype, "layout": layout,
    }, None


def depthwise_problems(model, input_shape, dtype=None, layout="nchw"):
    """(problems, skipped): every depthwise nn.Conv2d the forward pass of `model` on an input of
    `input_shape` runs, as dwtune config problems, identical shapes once; skipped lists (name, why)."""
    if dtype is None:
        p = next((p for p in model.parameters() if p.is_floating_point()), None)
        dtype = DTYPES.get(p.dtype if p is not None else torch.float32)
        if dtype is None:
            raise ValueError(f"the model's dtype {p.dtype} is not one dwtune tunes; give --dtype")
    model = copy.deepcopy(model)  # it moves to the meta device below
    seen, skipped = [], []
    names = {m: name for name, m in model.named_modules()}

    def hook(m, args):
        prob, why = problem_of(names[m], m, args[0].shape, dtype, layout)
        if prob is None:
            skipped.append((names[m], why))
        else:
            seen.append(prob)

    handles = [m.register_forward_pre_hook(hook) for m in model.modules() if is_depthwise(m)]
    try:
        model.eval()
        with torch.no_grad():
            try:
                meta = model.to("meta")
                meta(torch.empty(input_shape, device="meta"))
            except Exception:  # some models cannot run on meta tensors: the CPU then
                seen.clear(), skipped.clear()
                model.to_empty(device="cpu")(torch.zeros(input_shape))
    finally:
        for h in handles:
            h.remove()

    problems, count, taken = [], {}, set()
    for p in seen:
        shape = json.dumps({k: v for k, v in p.items() if k != "name"}, sort_keys=True)
        if shape in count:
            count[shape][1] += 1
            continue
        name, i = p["name"], 2
        while name in taken:
            name, i = f"{p['name']}-{i}", i + 1
        p["name"] = name
        taken.add(name)
        count[shape] = [p, 1]
        problems.append(p)
    return [(p, count[json.dumps({k: v for k, v in p.items() if k != "name"}, sort_keys=True)][1])
            for p in problems], skipped


def load_model(spec):
    mod_name, sep, attr = spec.partition(":")
    if not sep:
        mod_name, _, attr = spec.rpartition(".")
    if not mod_name or not attr:
        raise ValueError(f"MODEL {spec!r}: give a dotted path such as torchvision.models.mobilenet_v3_large")
    obj = getattr(importlib.import_module(mod_name), attr)
    model = obj() if callable(obj) and not isinstance(obj, nn.Module) else obj
    if not isinstance(model, nn.Module):
        raise ValueError(f"MODEL {spec!r} gave a {type(model).__name__}, not an nn.Module")
    return model


def config(model, input_shape, name, dtype=None, layout="nchw"):
    problems, skipped = depthwise_problems(model, input_shape, dtype, layout)
    layers = sum(c for _, c in problems)
    return {
        "name": name,
        "description": (f"depthwise convolutions of {name} on input {'x'.join(map(str, input_shape))}: "
                        f"{layers} layers, {len(problems)} distinct shapes"
                        + "".join(f"; {p['name']} x{c}" for p, c in problems if c > 1)),
        "problems": [p for p, _ in problems],
    }, skipped


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m dwtune_torch.shapes", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", metavar="MODEL")
    ap.add_argument("--input", required=True, metavar="N,C,H,W", help="the input shape")
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16"], help="default: the model's parameters'")
    ap.add_argument("--layout", choices=["nchw", "nhwc"], default="nchw")
    ap.add_argument("--name", help="the config's name (default: the model's)")
    ap.add_argument("-o", "--out", help="write here (default: standard output)")
    args = ap.parse_args(argv)
    try:
        shape = tuple(int(v) for v in args.input.split(","))
        if len(shape) != 4 or min(shape) < 1:
            raise ValueError
    except ValueError:
        ap.error(f"--input {args.input!r}: give four positive integers N,C,H,W")
    try:
        model = load_model(args.model)
    except (ImportError, AttributeError, ValueError, TypeError) as e:
        print(f"dwtune_torch.shapes: error: cannot build {args.model}: {e}", file=sys.stderr)
        return 2
    name = args.name or re.sub(r"[^A-Za-z0-9_.-]", "_", args.model.replace(":", ".").rsplit(".", 1)[-1])
    cfg, skipped = config(model, shape, name, args.dtype, args.layout)
    for n, why in skipped:
        print(f"dwtune_torch.shapes: warning: {n} left out: {why}", file=sys.stderr)
    if not cfg["problems"]:
        print(f"dwtune_torch.shapes: error: {args.model} runs no depthwise nn.Conv2d on input {shape}",
              file=sys.stderr)
        return 1
    text = json.dumps(cfg, indent=2) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"{args.out}: {cfg['description']}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
