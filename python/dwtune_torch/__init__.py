"""dwtune's depthwise 2D convolution for PyTorch CUDA tensors.

    import dwtune_torch
    y = dwtune_torch.conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1)

`weight` is depthwise: (C*M, 1, KH, KW) for an input (N, C, H, W), as `nn.Conv2d(C, C*M, k, groups=C)`
holds it. float32, float16 and bfloat16; input, weight and bias of one dtype, on one CUDA device.
A channels_last input runs dwtune's NHWC kernels and gives a channels_last output, as F.conv2d does,
with no copy; other tensors that are not contiguous NCHW are made so (a copy). The forward pass runs dwtune's kernel,
chosen from the tuning table in DWTUNE_TABLE or given to `load_tuning_table` (default kernels
otherwise), on torch's current CUDA stream; the backward pass uses PyTorch's own convolution
gradients, so models using it still train.

Build: scripts/build-python.sh BUILD_DIR (see python/setup.py).
"""
import numbers

import torch
from torch.nn.grad import conv2d_input, conv2d_weight

try:
    from . import _C
except ImportError as e:  # pragma: no cover - depends on the build
    raise ImportError(
        "dwtune_torch: the compiled extension dwtune_torch._C is missing or does not load ("
        f"{e}); build it with scripts/build-python.sh BUILD_DIR") from e

__all__ = ["conv2d", "choose", "load_tuning_table", "unload_tuning_table"]


def _pair(v, name):
    if isinstance(v, str):
        raise ValueError(f"dwtune_torch.conv2d: {name}={v!r} is not supported; give integers")
    if isinstance(v, numbers.Integral):
        return (int(v), int(v))
    v = tuple(v)
    if len(v) == 1:
        v = (v[0], v[0])
    if len(v) != 2 or not all(isinstance(e, numbers.Integral) for e in v):
        raise ValueError(f"dwtune_torch.conv2d: {name} must be an int or a pair of ints, got {v!r}")
    return (int(v[0]), int(v[1]))


class _DepthwiseConv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation):
        y = _C.conv2d(x, weight, bias, list(stride), list(padding), list(dilation))
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        ctx.conv = (stride, padding, dilation)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        stride, padding, dilation = ctx.conv
        groups = x.shape[1]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = conv2d_input(x.shape, weight, grad_y, stride, padding, dilation, groups)
        if ctx.needs_input_grad[1]:
            grad_w = conv2d_weight(x, weight.shape, grad_y, stride, padding, dilation, groups)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_y.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None, None


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise conv2d: F.conv2d(x, weight, bias, stride, padding, dilation, groups=x.shape[1])."""
    if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError("dwtune_torch.conv2d: x and weight must be tensors")
    if bias is not None and not isinstance(bias, torch.Tensor):
        raise TypeError("dwtune_torch.conv2d: bias must be a tensor or None")
    return _DepthwiseConv2d.apply(x, weight, bias, _pair(stride, "stride"), _pair(padding, "padding"),
                                  _pair(dilation, "dilation"))


def choose(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """(kernel name, reason): the kernel conv2d would run for these arguments, and why."""
    return tuple(_C.choose(x, weight, bias, list(_pair(stride, "stride")), list(_pair(padding, "padding")),
                           list(_pair(dilation, "dilation"))))


def load_tuning_table(path):
    """Use the dwtune tuning table at `path` (a JSON file written by `dwtune tune`) from now on.
    A table measured on another GPU model is not used (warning on stderr)."""
    _C.load_tuning_table(str(path))


def unload_tuning_table():
    """Back to the default kernels."""
    _C.unload_tuning_table()
