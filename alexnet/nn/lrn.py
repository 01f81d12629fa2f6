"""Local response normalisation, Section 3.3 of the paper, written out by hand.

The paper normalises the activity a of kernel i at position (x, y) by its neighbours in the
channel dimension:

    b_i = a_i / (k + alpha * sum_{j = max(0, i - n/2)}^{min(N - 1, i + n/2)} a_j^2) ** beta

with k = 2, n = 5, alpha = 1e-4 and beta = 0.75. Here alpha multiplies the plain sum, as in the
paper. ``torch.nn.LocalResponseNorm`` divides its alpha by n (it averages the squares instead
of summing them), so the same layer in PyTorch needs ``alpha=n * 1e-4``; cuda-convnet, the
paper's code, has a third convention (:func:`cuda_convnet_lrn`), and :func:`lrn_parameters`
maps between all three. Chapter 4 shows them side by side, and measures with :func:`lrn_strength`
how much a trained layer really divides by (alpha * sum a^2 against k).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "local_response_norm",
    "LocalResponseNorm",
    "LRN_IMPLS",
    "torch_alpha",
    "window_sums",
    "cuda_convnet_lrn",
    "lrn_parameters",
    "paper_lrn_parameters",
    "lrn_strength",
]


def local_response_norm(
    x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0
) -> torch.Tensor:
    """The paper's LRN over dimension 1 (channels) of ``x`` with shape (N, C, ...).

    The window of channel i runs from i - size // 2 to i + (size - 1) // 2, cut at the edges;
    for the paper's odd n that is exactly its max(0, i - n/2) ... min(N - 1, i + n/2).
    """
    if x.dim() < 3:
        raise ValueError(f"local_response_norm expects (N, C, ...) with rank >= 3, got shape {tuple(x.shape)}")
    if size < 1:
        raise ValueError(f"size (the paper's n) must be a positive number of channels, got {size}")
    return x / (k + alpha * window_sums(x.pow(2), size)).pow(beta)


def window_sums(squares: torch.Tensor, size: int) -> torch.Tensor:
    """For each channel i of (N, C, ...), the sum over channels i - size // 2 ... i + (size - 1) // 2."""
    n, c = squares.shape[:2]
    # zero channels on both sides, then a sliding window of `size` channels summed
    padded = F.pad(squares.reshape(n, c, -1), (0, 0, size // 2, (size - 1) // 2))
    return padded.unfold(1, size, 1).sum(dim=-1).reshape(squares.shape)


def torch_alpha(alpha: float, size: int) -> float:
    """The ``alpha`` to give ``torch.nn.LocalResponseNorm`` for the paper's ``alpha``: alpha * n."""
    return alpha * size


LRN_IMPLS = ("paper", "torch")


class LocalResponseNorm(nn.Module):
    """Module form of :func:`local_response_norm` with the paper's defaults (k=2, n=5, alpha=1e-4, beta=0.75).

    ``impl`` chooses the code that computes the same layer: ``"paper"`` is :func:`local_response_norm`
    (the formula written out), ``"torch"`` is ``torch.nn.functional.local_response_norm`` with
    alpha * n (:func:`torch_alpha`). Both give the same numbers (``tests/training/test_step.py``); the
    trainer picks the faster one for its device (:func:`alexnet.training.step.choose_lrn`).
    """

    def __init__(
        self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0, impl: str = "paper"
    ) -> None:
        super().__init__()
        if impl not in LRN_IMPLS:
            raise ValueError(f"impl must be one of {', '.join(LRN_IMPLS)}, got {impl!r}")
        self.size, self.alpha, self.beta, self.k, self.impl = size, alpha, beta, k, impl

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.impl == "torch":
            return F.local_response_norm(x, self.size, torch_alpha(self.alpha, self.size), self.beta, self.k)
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        where = "" if self.impl == "paper" else ", computed by torch's local_response_norm with alpha*n"
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k} (paper convention{where})"


# ----------------------------------------------------------------------------- the other conventions


def cuda_convnet_lrn(
    x: torch.Tensor, size: int = 5, scale: float = 5e-4, power: float = 0.75, min_div: float = 1.0
) -> torch.Tensor:
    """Cross-map response normalisation as cuda-convnet's ``cmrnorm`` layer computes it.

    b_i = a_i / (min_div + (scale / size) * sum_j a_j^2) ** power, over the same centred window
    of ``size`` maps as the paper. cuda-convnet's layer parser divides the configured ``scale``
    by ``size`` (layer.py: ``dic['scale'] /= dic['size']`` for cross-map normalisation) and its
    wiki formula has a constant 1 where the paper has k; cuda-convnet2 exposes that constant as
    ``minDiv`` (default 1).
    """
    if size < 1:
        raise ValueError(f"size must be a positive number of maps, got {size}")
    if x.dim() < 3:
        raise ValueError(f"cuda_convnet_lrn expects (N, C, ...) with rank >= 3, got shape {tuple(x.shape)}")
    return x / (min_div + (scale / size) * window_sums(x.pow(2), size)).pow(power)


def lrn_parameters(size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0) -> dict[str, dict]:
    """The paper's LRN (Section 3.3) written in the three conventions, with the parameters that make them agree.

    * paper: b = a / (k + alpha * sum a^2)^beta;
    * PyTorch ``nn.LocalResponseNorm(size, alpha_t, beta, k)``: b = a / (k + alpha_t / n * sum)^beta,
      so alpha_t = n * alpha;
    * cuda-convnet ``cmrnorm`` (``scale``, ``pow``, ``size``, and cuda-convnet2's ``minDiv``):
      b = a / (minDiv + scale / n * sum)^pow, so scale = n * alpha with minDiv = k. With the
      constant 1 of the original cuda-convnet, a / (k + alpha S)^beta = k^-beta * a / (1 + alpha/k S)^beta:
      scale = n * alpha / k gives the same layer up to the constant factor k^-beta (``output_factor``).
    """
    if size < 1 or k <= 0 or alpha < 0:
        raise ValueError(f"need size >= 1, k > 0, alpha >= 0; got size={size}, k={k}, alpha={alpha}")
    return {
        "paper": {"size": size, "alpha": alpha, "beta": beta, "k": k},
        "pytorch": {"size": size, "alpha": torch_alpha(alpha, size), "beta": beta, "k": k},
        "cuda-convnet2": {"size": size, "scale": alpha * size, "pow": beta, "minDiv": k},
        "cuda-convnet": {"size": size, "scale": alpha * size / k, "pow": beta, "output_factor": k**-beta},
    }


# each implementation's LRN parameters: (names, defaults, conversion to the paper's size, alpha, beta, k)
_TO_PAPER = {
    # torch.nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0): k + alpha / n * sum
    "pytorch": (
        ("size", "alpha", "beta", "k"),
        {"alpha": 1e-4, "beta": 0.75, "k": 1.0},
        lambda p: (p["size"], p["alpha"] / p["size"], p["beta"], p["k"]),
    ),
    # Caffe's LRNParameter (caffe.proto defaults: local_size 5, alpha 1, beta 0.75, k 1);
    # lrn_layer.cpp multiplies the sum by alpha / local_size, as PyTorch does
    "caffe": (
        ("local_size", "alpha", "beta", "k"),
        {"local_size": 5, "alpha": 1.0, "beta": 0.75, "k": 1.0},
        lambda p: (p["local_size"], p["alpha"] / p["local_size"], p["beta"], p["k"]),
    ),
    # cuda-convnet2 cmrnorm: layer.py divides scale by size; minDiv is the constant (default 1)
    "cuda-convnet2": (
        ("size", "scale", "pow", "minDiv"),
        {"minDiv": 1.0},
        lambda p: (p["size"], p["scale"] / p["size"], p["pow"], p["minDiv"]),
    ),
    # cuda-convnet cmrnorm: scale divided by size, the constant fixed at 1
    "cuda-convnet": (("size", "scale", "pow"), {}, lambda p: (p["size"], p["scale"] / p["size"], p["pow"], 1.0)),
}


def paper_lrn_parameters(convention: str, **params: float) -> dict[str, float]:
    """An LRN layer configured in another implementation's convention, in the paper's (Section 3.3).

    The inverse of :func:`lrn_parameters`: returns ``{"size", "alpha", "beta", "k"}`` with which
    :func:`local_response_norm` computes the same layer. ``convention`` is one of ``"pytorch"``
    (``size, alpha, beta, k``), ``"caffe"`` (``local_size, alpha, beta, k``), ``"cuda-convnet2"``
    (``size, scale, pow, minDiv``) or ``"cuda-convnet"`` (``size, scale, pow``); a parameter the
    implementation has a default for may be left out and gets that default.
    """
    if convention not in _TO_PAPER:
        raise ValueError(f"convention must be one of {sorted(_TO_PAPER)}, got {convention!r}")
    names, defaults, convert = _TO_PAPER[convention]
    given = {**defaults, **params}
    if set(given) != set(names):
        raise ValueError(
            f"{convention} LRN takes {', '.join(names)}; missing {sorted(set(names) - set(given))}, "
            f"unknown {sorted(set(given) - set(names))}"
        )
    size, alpha, beta, k = convert(given)
    if int(size) != size or size < 1:
        raise ValueError(f"the window size must be a positive whole number of channels, got {size}")
    return {"size": int(size), "alpha": alpha, "beta": beta, "k": k}


@torch.no_grad()
def lrn_strength(model: nn.Module, images: torch.Tensor) -> list[float]:
    """For each paper-convention LRN layer of ``model``, the median of alpha * sum(a^2) / k over its inputs.

    The ratio says how much the layer normalises: near 0 the denominator is just k^beta and the
    layer only rescales every unit by the same constant; at 1 and above, large neighbours
    really divide a unit's output down. ``images`` is a float batch ready for the network.
    """
    from alexnet.nn.modes import eval_mode

    layers = [m for m in model.modules() if isinstance(m, LocalResponseNorm)]
    if not layers:
        raise ValueError("model has no LocalResponseNorm layer")
    ratios: dict[int, float] = {}

    def hook(module, inputs, output, index):
        sums = window_sums(inputs[0].pow(2), module.size)  # the layer's own sum over neighbouring maps
        ratios[index] = (module.alpha * sums / module.k).median().item()

    handles = [m.register_forward_hook(lambda mod, i, o, j=j: hook(mod, i, o, j)) for j, m in enumerate(layers)]
    try:
        with eval_mode(model):
            model(images)
    finally:
        for h in handles:
            h.remove()
    return [ratios[j] for j in range(len(layers))]
