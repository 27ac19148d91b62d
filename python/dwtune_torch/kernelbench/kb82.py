"""KernelBench level 1, problem 82: depthwise 2D convolution, square input, square kernel.

Self-contained, as a KernelBench harness loads a ModelNew file: its source executed on its own,
then ModelNew(*get_init_inputs()) beside Model. Needs dwtune_torch installed
(pip install --no-build-isolation ./python).
"""
import torch
import torch.nn as nn

import dwtune_torch


class Model(nn.Module):
    """Depthwise conv2d with a square kernel (PyTorch)."""

    def __init__(self, in_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 bias: bool = False):
        super().__init__()
        self.conv2d = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride, padding=padding,
                                groups=in_channels, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(x)


class ModelNew(Model):
    """Model's constructor and parameters (state dicts load either way, and seeding alike before each
    constructor gives equal weights); the forward pass runs dwtune's kernel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv2d
        return dwtune_torch.conv2d(x, c.weight, c.bias, c.stride, c.padding, c.dilation)


batch_size = 16
in_channels = 64
kernel_size = 3
width = 512
height = 512
stride = 1
padding = 0


def get_inputs():
    return [torch.rand(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, kernel_size, stride, padding]
