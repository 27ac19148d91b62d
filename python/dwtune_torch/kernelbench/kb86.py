"""KernelBench level 1, problem 86: depthwise-separable 2D convolution (depthwise, then pointwise).

Self-contained, as a KernelBench harness loads a ModelNew file: its source executed on its own,
then ModelNew(*get_init_inputs()) beside Model. Needs dwtune_torch installed
(pip install --no-build-isolation ./python). The depthwise half runs on dwtune, the pointwise (1x1)
half stays PyTorch's.
"""
import torch
import torch.nn as nn

import dwtune_torch


class Model(nn.Module):
    """Depthwise conv2d (groups = in_channels), then a 1x1 pointwise conv2d (PyTorch)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, bias: bool = False):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride, padding=padding,
                                   dilation=dilation, groups=in_channels, bias=bias)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class ModelNew(Model):
    """Model's constructor and parameters (state dicts load either way, and seeding alike before each
    constructor gives equal weights); the forward pass runs dwtune's kernel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.depthwise
        x = dwtune_torch.conv2d(x, d.weight, d.bias, d.stride, d.padding, d.dilation)
        return self.pointwise(x)


batch_size = 16
in_channels = 64
out_channels = 128
kernel_size = 3
width = 512
height = 512
stride = 1
padding = 1
dilation = 1


def get_inputs():
    return [torch.rand(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, stride, padding, dilation]
