"""KernelBench level-1 depthwise problems 82-85 with a drop-in `ModelNew` that runs dwtune.

Each module kbNN.py holds the problem's `Model`, `get_inputs`, `get_init_inputs` (sizes as DESIGN.md
lists them) and `ModelNew`: the same constructor and the same `self.conv2d` parameters (so state dicts
load either way), its forward going through dwtune_torch.conv2d.
"""
PROBLEMS = ("kb82", "kb83", "kb84", "kb85")
