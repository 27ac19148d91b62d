"""dwtune's depthwise 2D convolution for PyTorch CUDA tensors, as the operator torch.ops.dwtune.conv2d.

    import dwtune_torch
    y = dwtune_torch.conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1)
    dwtune_torch.choose(x, weight, bias, stride, padding, dilation)  # -> (what runs, why)

`weight` is depthwise: (C*M, 1, KH, KW) for an input (N, C, H, W), as `nn.Conv2d(C, C*M, k, groups=C)`
holds it. float32, float16 and bfloat16; input, weight and bias of one dtype, on one CUDA device.
The forward pass runs dwtune's kernel, chosen from the tuning table in DWTUNE_TABLE or given to
`load_tuning_table` (default kernels otherwise), on torch's current CUDA stream; where that table
measured cuDNN faster than dwtune's winner, where no dwtune kernel serves the shape, and for
channels_last inputs, it calls F.conv2d instead (`choose` says which and why). The output has the
input's memory format. The backward pass is PyTorch's own convolution gradients.

The operator has a fake implementation and autograd registered through torch.library, so
torch.compile(model, fullgraph=True) keeps it in the graph and torch.library.opcheck passes.

Install: pip install --no-build-isolation ./python (python/README.md). `python -m dwtune_torch.shapes`
(a model's depthwise layers as a dwtune config) works without the compiled extension.
"""
import numbers

import torch

try:
    from . import _op
except ImportError as e:  # the compiled extension is missing or does not load
    _op = None
    _load_error = e

__all__ = ["conv2d", "choose", "load_tuning_table", "unload_tuning_table"]


def _ext():
    if _op is None:
        raise ImportError(
            "dwtune_torch: the compiled extension dwtune_torch._C is missing or does not load "
            f"({_load_error}); install with: pip install --no-build-isolation ./python") from _load_error
    return _op


def _pair(v, name):
    if isinstance(v, str):
        raise ValueError(f"dwtune_torch.conv2d: {name}={v!r} is not supported; give integers")
    if isinstance(v, numbers.Integral):
        return [int(v), int(v)]
    v = tuple(v)
    if len(v) == 1:
        v = (v[0], v[0])
    if len(v) != 2 or not all(isinstance(e, numbers.Integral) for e in v):
        raise ValueError(f"dwtune_torch.conv2d: {name} must be an int or a pair of ints, got {v!r}")
    return [int(v[0]), int(v[1])]


def _args(x, weight, bias, stride, padding, dilation):
    if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError("dwtune_torch.conv2d: x and weight must be tensors")
    if bias is not None and not isinstance(bias, torch.Tensor):
        raise TypeError("dwtune_torch.conv2d: bias must be a tensor or None")
    return (x, weight, bias, _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation"))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise conv2d: F.conv2d(x, weight, bias, stride, padding, dilation, groups=x.shape[1])."""
    return _ext().op(*_args(x, weight, bias, stride, padding, dilation))


def choose(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """(what conv2d runs for these arguments: a dwtune kernel's name or "F.conv2d", and why)."""
    _ext()
    return tuple(_op._C.choose(*_args(x, weight, bias, stride, padding, dilation)))


def load_tuning_table(path):
    """Use the dwtune tuning table at `path` (a JSON file written by `dwtune tune`) from now on.
    A table measured on another GPU model is not used (warning on stderr)."""
    _ext()._C.load_tuning_table(str(path))


def unload_tuning_table():
    """Back to the default kernels."""
    _ext()._C.unload_tuning_table()
