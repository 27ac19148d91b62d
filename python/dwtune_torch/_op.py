"""The operator dwtune::conv2d, defined and given its CUDA kernel by the extension (ext.cpp), and here
its fake implementation (shapes, dtype, memory format, for torch.compile and meta tensors) and its
autograd formula, both registered through torch.library."""
import torch

from . import _C  # noqa: F401  (loading it registers dwtune::conv2d)

op = torch.ops.dwtune.conv2d.default


def channels_last(x):
    """ext.cpp's rule: the output is channels_last exactly when the input is and is not also
    contiguous (C == 1 or H == W == 1 make both true)."""
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def out_size(size, k, stride, padding, dilation):
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


@torch.library.register_fake("dwtune::conv2d")
def _fake(x, weight, bias, stride, padding, dilation):
    torch._check(x.dim() == 4, lambda: f"dwtune_torch.conv2d: input must be 4-D, got {x.dim()}-D")
    torch._check(weight.dim() == 4 and weight.shape[1] == 1,
                 lambda: f"dwtune_torch.conv2d: weight must be depthwise, (C*M, 1, KH, KW), got {weight.shape}")
    torch._check(weight.dtype == x.dtype, lambda: "dwtune_torch.conv2d: weight dtype differs from input dtype")
    n, _, h, w = x.shape
    size = (n, weight.shape[0], out_size(h, weight.shape[2], stride[0], padding[0], dilation[0]),
            out_size(w, weight.shape[3], stride[1], padding[1], dilation[1]))
    fmt = torch.channels_last if channels_last(x) else torch.contiguous_format
    return torch.empty(size, dtype=x.dtype, device=x.device, memory_format=fmt)


def _setup_context(ctx, inputs, output):
    x, weight, bias, stride, padding, dilation = inputs
    ctx.save_for_backward(x, weight)
    ctx.has_bias = bias is not None
    ctx.conv = (list(stride), list(padding), list(dilation))


def _backward(ctx, grad_y):
    # PyTorch's own depthwise gradients (cuDNN or its native kernels), groups = C.
    x, weight = ctx.saved_tensors
    stride, padding, dilation = ctx.conv
    need = ctx.needs_input_grad
    grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
        grad_y, x, weight, [weight.shape[0]] if ctx.has_bias else None, stride, padding, dilation,
        False, [0, 0], x.shape[1], [need[0], need[1], ctx.has_bias and need[2]])
    return grad_x, grad_w, grad_b if ctx.has_bias else None, None, None, None


torch.library.register_autograd("dwtune::conv2d", _backward, setup_context=_setup_context)
