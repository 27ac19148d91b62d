"""dwtune's depthwise 2D convolution for PyTorch CUDA tensors, as the operator torch.ops.dwtune.conv2d.

    import dwtune_torch
    y = dwtune_torch.conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1)
    dwtune_torch.choose(x, weight, bias, stride, padding, dilation)  # -> (what runs, why)
    dwtune_torch.choose(x, weight, bias, stride, padding, dilation, "wgrad")  # a gradient's

`weight` is depthwise: (C*M, 1, KH, KW) for an input (N, C, H, W), as `nn.Conv2d(C, C*M, k, groups=C)`
holds it. float32, float16 and bfloat16; input, weight and bias of one dtype, on one CUDA device.
Each pass (forward; backward: input gradient dwtune::conv2d_dgrad, weight and bias gradient
dwtune::conv2d_wgrad) runs dwtune's kernel for that pass, chosen by dispatch (the tuning table in
DWTUNE_TABLE or given to `load_tuning_table`, the shipped tables, the cost model, defaults), on
torch's current CUDA stream; where the table measured PyTorch (without PyTorch's time in the table:
cuDNN) faster than dwtune's winner or no dwtune kernel serves the shape, it runs PyTorch's own
(F.conv2d, convolution_backward) instead (`choose` says which and why). A channels_last input runs
NHWC kernels with no copy; results have the input's memory format.

The autograd formula is registered in C++ (a call costs no Python beyond this wrapper) and the fake
implementations through torch.library, so torch.compile(model, fullgraph=True) keeps the operators
in the graph, forward and backward, and torch.library.opcheck passes.

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

_fast = _op._C.conv2d if _op is not None else None
_is_compiling = torch.compiler.is_compiling
_has_torch_function = torch._C._has_torch_function

__all__ = ["conv2d", "choose", "load_tuning_table", "unload_tuning_table"]


def _ext():
    if _op is None:
        raise ImportError(
            "dwtune_torch: the compiled extension dwtune_torch._C is missing or does not load "
            f"({_load_error}); install with: pip install --no-build-isolation ./python") from _load_error
    return _op


def _pair(v, name):
    if type(v) is int:  # the common cases first: this runs on every call
        return [v, v]
    if type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:
        return v
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


def _check(x, weight, bias):
    if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError("dwtune_torch.conv2d: x and weight must be tensors")
    if bias is not None and not isinstance(bias, torch.Tensor):
        raise TypeError("dwtune_torch.conv2d: bias must be a tensor or None")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise conv2d: F.conv2d(x, weight, bias, stride, padding, dilation, groups=x.shape[1]),
    differentiable (its gradients run dwtune's backward kernels)."""
    args = (x, weight, bias, _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation"))
    if _fast is not None and not _is_compiling() and not _has_torch_function((x, weight, bias)):
        try:  # the operator through the dispatcher, called from C++: no per-call Python beyond this
            return _fast(*args)
        except TypeError:
            _check(x, weight, bias)  # say which argument is not a tensor
            raise
    # torch.compile, tensor subclasses: the operator as torch.ops holds it.
    _ext()
    _check(x, weight, bias)
    return _op.op(*args)


def choose(x, weight, bias=None, stride=1, padding=0, dilation=1, pass_="forward"):
    """(what a pass of conv2d runs for these arguments: a dwtune kernel's name, or "F.conv2d"
    (forward) / "PyTorch" (the gradients), and why). pass_: "forward", "dgrad" (input gradient) or
    "wgrad" (weight and bias gradient); the gradients in the input's memory format."""
    _ext()
    _check(x, weight, bias)
    return tuple(_op._C.choose(x, weight, bias, _pair(stride, "stride"), _pair(padding, "padding"),
                               _pair(dilation, "dilation"), pass_))


def load_tuning_table(path):
    """Use the dwtune tuning table at `path` (a JSON file written by `dwtune tune`) from now on.
    A table measured on another GPU model is not used (warning on stderr)."""
    _ext()._C.load_tuning_table(str(path))


def unload_tuning_table():
    """Back to the default kernels."""
    _ext()._C.unload_tuning_table()
