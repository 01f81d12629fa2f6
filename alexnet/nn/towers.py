"""The paper's two-GPU layout as real model parallelism (Krizhevsky et al. 2012, Section 3.2, Figure 2).

The 2012 network did not fit on one 3 GB GTX 580, so half of the kernels of every layer lived
on each of two GPUs, and "the GPUs communicate only in certain layers": the kernels of conv3
take input from all kernel maps of conv2 (both GPUs), while conv2, conv4 and conv5 take input
only from the maps on their own GPU; the fully-connected layers see both halves. On one device
that is a grouped convolution (``groups=2``), which is how :mod:`alexnet.nn.model` writes it.

:func:`split_towers` undoes the grouping: it copies the weights of a grouped model into two
towers, each on its own device, and passes activations between devices only where Section 3.2
says the GPUs talked: into conv3, fc6, fc7 and fc8. A detail the grouped model hides: the
local response normalisation (Section 3.3) sums over n = 5 adjacent kernel maps, and in the
grouped model the maps at the border of the two towers (47 and 48 of conv1's 96) are each
other's neighbours. On two GPUs the paper's normalisation could only see its own GPU's maps.
``exact=True`` (the default) exchanges those two border maps per side so that the split model
computes what the grouped model computes; ``exact=False`` normalises each tower on its own, as
two separate GPUs would, and then differs from the grouped model near the border maps only.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from alexnet.nn.lrn import LocalResponseNorm, local_response_norm
from alexnet.nn.model import AlexNet

__all__ = ["TowerSplit", "split_towers"]


class _TowerLayer(nn.Module):
    """One layer of the network as two halves, one per device, plus how its input must be gathered."""

    def __init__(self, name: str, halves: Sequence[nn.Module | None], gather: bool, kind: str, key: str = "") -> None:
        super().__init__()
        self.name, self.gather, self.kind, self.key = name, gather, kind, key
        self.halves = nn.ModuleList([h if h is not None else nn.Identity() for h in halves])


class TowerSplit(nn.Module):
    """A grouped AlexNet run as two towers on two devices; see :func:`split_towers`.

    ``exchanges`` lists the layers whose input crosses from one device to the other, in the
    order they run; the output (the logits) lands on the first device.
    """

    def __init__(self, model: AlexNet, devices: Sequence[torch.device | str], exact: bool = True) -> None:
        super().__init__()
        cfg = model.config
        if cfg.groups != 2:
            raise ValueError(
                f"split_towers needs a model with the paper's two towers (groups=2); this one has groups={cfg.groups}"
            )
        if len(devices) != 2:
            raise ValueError(f"split_towers needs two devices, one per tower; got {len(devices)}: {list(devices)!r}")
        self.devices = [torch.device(d) for d in devices]
        self.exact = exact
        self.image_size = cfg.image_size
        self.input_convention = cfg.input_convention  # fed as the grouped model is (alexnet.data.inputs.convention_of)
        self.layers = nn.ModuleList()
        keys = {id(m): k for k, m in model.named_modules()}
        split = False  # does each device hold only its own tower's maps (True) or all of them (False)?
        for name, module in model.named_layers():
            if isinstance(module, nn.Conv2d):
                groups = module.groups
                if groups == 2 and not split:
                    raise ValueError(f"{name} is grouped but its input is not split into towers")
                halves = [_conv_half(module, t) for t in range(2)]
                self.layers.append(_TowerLayer(name, halves, split and groups == 1, "conv", keys[id(module)]))
                split = True
            elif isinstance(module, nn.Linear):
                halves = [_linear_half(module, t) for t in range(2)]
                self.layers.append(_TowerLayer(name, halves, split, "fc", keys[id(module)]))
                split = True
            elif isinstance(module, LocalResponseNorm):
                self.layers.append(_TowerLayer(name, [module, module], gather=False, kind="lrn"))
            elif isinstance(module, nn.AdaptiveAvgPool2d):
                self.layers.append(_TowerLayer(name, [module, module], gather=False, kind="avgpool"))
            else:  # ReLU, tanh, max-pooling, padding, dropout: the same on each tower's own maps
                self.layers.append(_TowerLayer(name, [module, module], gather=False, kind="pointwise"))
        for layer in self.layers:
            for t, half in enumerate(layer.halves):
                half.to(self.devices[t])

    @property
    def exchanges(self) -> list[str]:
        """The layers whose input the towers exchange (and the LRN border exchanges when ``exact``)."""
        names = [layer.name for layer in self.layers if layer.gather]
        if self.exact:
            names = [layer.name for layer in self.layers if layer.gather or layer.kind == "lrn"]
        return names

    def tower_parameters(self, tower: int) -> int:
        """Parameters held on tower ``tower``'s device."""
        return sum(p.numel() for layer in self.layers for p in layer.halves[tower].parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xs = [x.to(d, non_blocking=True) for d in self.devices]  # each tower sees the whole image
        flat = False
        for layer in self.layers:
            if layer.kind == "fc" and not flat:
                xs = [torch.flatten(h, 1) for h in xs]
                flat = True
            if layer.gather:  # the towers talk: each device gets the other's maps or units
                xs = [torch.cat([h.to(d, non_blocking=True) for h in xs], dim=1) for d in self.devices]
            if layer.kind == "lrn" and self.exact:
                xs = _lrn_with_border(xs, layer.halves[0], self.devices)
            else:
                xs = [half(h) for half, h in zip(layer.halves, xs, strict=True)]
        # the last layer (fc8) is split by output units too: the logits meet on the first device
        return torch.cat([h.to(self.devices[0]) for h in xs], dim=1)

    @torch.no_grad()
    def grouped_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights put back together as the grouped model's ``state_dict`` (on the CPU)."""
        state = {}
        for layer in self.layers:
            if layer.kind in ("conv", "fc"):
                for key in ("weight", "bias"):
                    halves = [getattr(h, key).detach().cpu() for h in layer.halves]
                    state[f"{layer.key}.{key}"] = torch.cat(halves, dim=0)
        return state


def _conv_half(conv: nn.Conv2d, tower: int) -> nn.Conv2d:
    """Tower ``tower``'s half of the kernels of ``conv``; a grouped conv keeps only its own input maps."""
    out = conv.out_channels // 2
    in_channels = conv.in_channels // conv.groups
    half = nn.Conv2d(in_channels, out, conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None)
    with torch.no_grad():
        half.weight.copy_(conv.weight[tower * out : (tower + 1) * out])
        if conv.bias is not None:
            half.bias.copy_(conv.bias[tower * out : (tower + 1) * out])
    return half


def _linear_half(linear: nn.Linear, tower: int) -> nn.Linear:
    """Tower ``tower``'s share of the units of a fully-connected layer (all inputs, part of the outputs)."""
    rows = torch.tensor_split(torch.arange(linear.out_features), 2)[tower]
    half = nn.Linear(linear.in_features, len(rows), bias=linear.bias is not None)
    with torch.no_grad():
        half.weight.copy_(linear.weight[rows])
        if linear.bias is not None:
            half.bias.copy_(linear.bias[rows])
    return half


def _lrn_with_border(xs: list[torch.Tensor], lrn: LocalResponseNorm, devices: list[torch.device]) -> list[torch.Tensor]:
    """Each tower normalises its maps with the neighbouring maps of the other tower at the border.

    The paper's window for map i runs over i - n/2 ... i + n/2; tower 0's last n/2 maps need
    tower 1's first n/2 and the other way round: two small exchanges, not a whole layer.
    """
    below, above = lrn.size // 2, (lrn.size - 1) // 2
    x0, x1 = xs
    ext0 = torch.cat([x0, x1[:, :above].to(devices[0], non_blocking=True)], dim=1)
    ext1 = torch.cat([x0[:, x0.shape[1] - below :].to(devices[1], non_blocking=True), x1], dim=1)
    y0 = local_response_norm(ext0, lrn.size, lrn.alpha, lrn.beta, lrn.k)[:, : x0.shape[1]]
    y1 = local_response_norm(ext1, lrn.size, lrn.alpha, lrn.beta, lrn.k)[:, below:]
    return [y0, y1]


def split_towers(model: AlexNet, devices: Sequence[torch.device | str], exact: bool = True) -> TowerSplit:
    """Put the two towers of a grouped AlexNet (``groups=2``) on two devices (Section 3.2).

    ``devices`` names one device per tower, e.g. ``["cuda:0", "cuda:1"]`` or, to follow the data
    flow on one machine, ``["cpu", "cpu"]``. The returned module holds copies of the weights and
    computes what ``model`` computes (with ``exact=True``), exchanging activations only into
    conv3 and the fully-connected layers (and the two border maps of each LRN).
    """
    return TowerSplit(model, devices, exact=exact)
