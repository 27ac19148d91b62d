"""The operators dwtune::conv2d, dwtune::conv2d_dgrad and dwtune::conv2d_wgrad, defined with their CUDA
kernels and autograd by the extension (ext.cpp, autograd.cpp), and here their fake implementations
(shapes, dtype, memory format: for torch.compile and meta tensors), registered through torch.library."""
import torch

from . import _C  # noqa: F401  (loading it registers the operators)

op = torch.ops.dwtune.conv2d.default
dgrad = torch.ops.dwtune.conv2d_dgrad.default
wgrad = torch.ops.dwtune.conv2d_wgrad.default


def channels_last(x):
    """ops.hpp's rule: an activation runs NHWC, and its result is channels_last, exactly when it is
    channels_last and not also contiguous (C == 1 or H == W == 1 make both true)."""
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def out_size(size, k, stride, padding, dilation):
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def _format(t):
    return torch.channels_last if channels_last(t) else torch.contiguous_format


def _check_depthwise(weight, dtype, fn):
    torch._check(weight.dim() == 4 and weight.shape[1] == 1,
                 lambda: f"dwtune_torch.{fn}: weight must be depthwise, (C*M, 1, KH, KW), got {weight.shape}")
    torch._check(weight.dtype == dtype, lambda: f"dwtune_torch.{fn}: weight dtype differs from the activations'")


@torch.library.register_fake("dwtune::conv2d")
def _fake(x, weight, bias, stride, padding, dilation):
    torch._check(x.dim() == 4, lambda: f"dwtune_torch.conv2d: input must be 4-D, got {x.dim()}-D")
    _check_depthwise(weight, x.dtype, "conv2d")
    n, _, h, w = x.shape
    size = (n, weight.shape[0], out_size(h, weight.shape[2], stride[0], padding[0], dilation[0]),
            out_size(w, weight.shape[3], stride[1], padding[1], dilation[1]))
    return torch.empty(size, dtype=x.dtype, device=x.device, memory_format=_format(x))


@torch.library.register_fake("dwtune::conv2d_dgrad")
def _fake_dgrad(dy, weight, input_size, stride, padding, dilation):
    torch._check(dy.dim() == 4 and len(input_size) == 4, lambda: "dwtune_torch.conv2d_dgrad: dy and the input must be 4-D")
    _check_depthwise(weight, dy.dtype, "conv2d_dgrad")
    return torch.empty(input_size, dtype=dy.dtype, device=dy.device, memory_format=_format(dy))


@torch.library.register_fake("dwtune::conv2d_wgrad")
def _fake_wgrad(x, dy, kernel_size, bias, stride, padding, dilation):
    torch._check(x.dim() == 4 and dy.dim() == 4, lambda: "dwtune_torch.conv2d_wgrad: x and dy must be 4-D")
    torch._check(dy.dtype == x.dtype, lambda: "dwtune_torch.conv2d_wgrad: dy dtype differs from input dtype")
    oc = dy.shape[1]
    dw = torch.empty((oc, 1, kernel_size[0], kernel_size[1]), dtype=x.dtype, device=x.device)
    db = torch.empty((oc if bias else 0,), dtype=x.dtype, device=x.device)
    return dw, db
