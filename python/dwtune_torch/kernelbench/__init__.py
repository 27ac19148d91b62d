"""KernelBench level-1 depthwise problems 82-86 with a drop-in `ModelNew` that runs dwtune.

Each module kbNN.py is self-contained, as a KernelBench harness wants a ModelNew file: the problem's
`Model`, `get_inputs`, `get_init_inputs` (sizes as KernelBench's files give them) and `ModelNew`:
the same constructor and the same parameters (so state dicts load either way, and seeding the same
before each constructor gives equal weights), its depthwise convolution going through
dwtune_torch.conv2d. kb86 is the depthwise-separable problem: depthwise on dwtune, pointwise as before.
They live here, not in a top-level package named `kernelbench`, which is the official KernelBench's.
"""
PROBLEMS = ("kb82", "kb83", "kb84", "kb85", "kb86")
