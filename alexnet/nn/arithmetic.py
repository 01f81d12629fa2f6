"""Shape, parameter and multiply-add arithmetic of a network (Section 3.5 and Figure 2 of the paper).

Everything here is computed from the modules themselves: ``layer_table`` runs one image
through the network, reads each layer's output shape, and counts

* parameters: the layer's own weights and biases;
* MACs: one multiply-add per use of a weight (biases are not counted), so a convolution costs
  output elements x (input channels / groups) x kernel height x kernel width, and a linear
  layer costs in_features x out_features;
* neurons: output elements of the layers that have weights (conv and fc), as the paper counts
  "neurons" per layer in Section 3.5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from alexnet.nn.modes import eval_mode

__all__ = ["conv_output_size", "LayerRow", "macs", "layer_table", "totals", "format_layer_table"]


def conv_output_size(size: int, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> int:
    """Output side of a convolution or pooling window: 1 + (size + 2 * padding - kernel) / stride.

    PyTorch rounds the division down; ``ceil_mode=True`` rounds it up, as cuda-convnet (the
    paper's code) does, which is how a 224-pixel input yields 55x55 after conv1:
    1 + ceil((224 - 11) / 4) = 55, where PyTorch's rule gives 54.
    """
    if size < 1 or kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(
            f"expected size, kernel, stride >= 1 and padding >= 0; got size={size}, kernel={kernel}, "
            f"stride={stride}, padding={padding}"
        )
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(f"a {kernel}-wide window does not fit in {size} pixels with padding {padding}")
    steps = -(-span // stride) if ceil_mode else span // stride
    return 1 + steps


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]  # per image, without the batch dimension
    params: int
    macs: int
    neurons: int

    @property
    def activations(self) -> int:
        return math.prod(self.output_shape)


def macs(module: nn.Module, output: torch.Tensor) -> int:
    per_image = output[0].numel()
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return per_image * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return per_image * module.in_features
    return 0


def _named_layers(model: nn.Module):
    if hasattr(model, "named_layers"):
        return list(model.named_layers())
    return [(name, m) for name, m in model.named_modules() if name and not list(m.children())]


def _input_shape(input_size: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(input_size, int):
        return (3, input_size, input_size)
    shape = tuple(int(s) for s in input_size)
    if len(shape) == 2:
        return (3, *shape)
    if len(shape) == 3:
        return shape
    raise ValueError(f"input_size must be a side, (H, W) or (C, H, W); got {input_size!r}")


def layer_table(model: nn.Module, input_size: int | Sequence[int]) -> list[LayerRow]:
    """One row per layer, in the order the layers run, for one image of ``input_size``."""
    layers = _named_layers(model)
    outputs: dict[int, torch.Tensor] = {}
    hooks = [
        m.register_forward_hook(lambda mod, inp, out, i=i: outputs.__setitem__(i, out))
        for i, (_, m) in enumerate(layers)
    ]
    param = next(model.parameters(), None)
    device = param.device if param is not None else "cpu"
    try:
        with eval_mode(model):
            model(torch.zeros(1, *_input_shape(input_size), device=device))
    finally:
        for h in hooks:
            h.remove()
    rows = []
    for i, (name, module) in enumerate(layers):
        if i not in outputs:  # a module that did not run (e.g. an unused one)
            continue
        out = outputs[i]
        weighted = isinstance(module, (nn.Conv2d, nn.Linear))
        rows.append(
            LayerRow(
                name=name,
                kind=type(module).__name__,
                output_shape=tuple(out.shape[1:]),
                params=sum(p.numel() for p in module.parameters(recurse=False)),
                macs=macs(module, out),
                neurons=out[0].numel() if weighted else 0,
            )
        )
    return rows


def totals(rows: Sequence[LayerRow]) -> dict[str, int]:
    """Sums over a layer table; ``flops`` counts a multiply-add as two operations."""
    macs = sum(r.macs for r in rows)
    return {
        "params": sum(r.params for r in rows),
        "macs": macs,
        "flops": 2 * macs,
        "neurons": sum(r.neurons for r in rows),
        "activations": sum(r.activations for r in rows),
    }


def format_layer_table(rows: Sequence[LayerRow]) -> str:
    """The layer table as aligned text, with a totals line: what the chapters print."""
    header = f"{'layer':<8} {'kind':<18} {'output':>15} {'params':>12} {'MACs':>13} {'neurons':>9}"
    lines = [header, "-" * len(header)]
    for r in rows:
        shape = "x".join(str(s) for s in r.output_shape)
        lines.append(f"{r.name:<8} {r.kind:<18} {shape:>15} {r.params:>12,} {r.macs:>13,} {r.neurons:>9,}")
    t = totals(rows)
    lines.append("-" * len(header))
    lines.append(f"{'total':<8} {'':<18} {'':>15} {t['params']:>12,} {t['macs']:>13,} {t['neurons']:>9,}")
    return "\n".join(lines)
