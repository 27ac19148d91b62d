"""KernelBench level 1, problem 85: depthwise 2D convolution, asymmetric input, asymmetric kernel.

Self-contained, as a KernelBench harness loads a ModelNew file: its source executed on its own,
then ModelNew(*get_init_inputs()) beside Model. Needs dwtune_torch installed
(pip install --no-build-isolation ./python).
"""
import torch
import torch.nn as nn

import dwtune_torch


class Model(nn.Module):
    """Depthwise conv2d with a (kernel_size_h, kernel_size_w) kernel (PyTorch). As in KernelBench,
    out_channels and groups are accepted and ignored: the convolution is C -> C with groups = C."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size_h: int, kernel_size_w: int,
                 stride_h: int = 1, stride_w: int = 1, padding_h: int = 0, padding_w: int = 0,
                 dilation_h: int = 1, dilation_w: int = 1, groups: int = 1, bias: bool = False):
        super().__init__()
        self.conv2d = nn.Conv2d(in_channels, in_channels, (kernel_size_h, kernel_size_w),
                                stride=(stride_h, stride_w), padding=(padding_h, padding_w),
                                dilation=(dilation_h, dilation_w), groups=in_channels, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(x)


class ModelNew(Model):
    """Model's constructor and parameters (state dicts load either way, and seeding alike before each
    constructor gives equal weights); the forward pass runs dwtune's kernel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv2d
        return dwtune_torch.conv2d(x, c.weight, c.bias, c.stride, c.padding, c.dilation)


batch_size = 32
in_channels = 128
out_channels = in_channels
kernel_size_h = 3
kernel_size_w = 7
width = 256
height = 128
stride_h = 1
stride_w = 1
padding_h = 0
padding_w = 0
dilation_h = 1
dilation_w = 1
groups = in_channels


def get_inputs():
    return [torch.rand(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size_h, kernel_size_w, stride_h, stride_w, padding_h,
            padding_w, dilation_h, dilation_w, groups]
