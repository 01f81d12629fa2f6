"""Error rates as the paper reports them (Section 6, Tables 1 and 2: top-1 and top-5, one patch or ten), and Figure 4's neighbours.

The one evaluation of the package: :func:`evaluate_model` (a dataset: loss and top-1/top-5
error, one centre crop or ten patches; what the trainer runs after every epoch and ``python -m
alexnet evaluate`` runs on a checkpoint), :func:`ten_crop_predict` and :func:`center_crop_predict`
(probabilities for a tensor of images) and :func:`fc7_features` all run the network inside
:func:`eval_mode`: dropout off (Section 4.2's test-time network), no gradients, the model's mode
restored afterwards.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from alexnet.data import augment as aug
from alexnet.data.feeder import Feeder
from alexnet.nn.modes import eval_mode
from alexnet.training import progress
from alexnet.training.distributed import all_reduce

__all__ = [
    "topk_error",
    "evaluate_model",
    "ten_crop_predict",
    "center_crop_predict",
    "fc7_features",
    "nearest_neighbours",
]


def topk_error(logits: torch.Tensor, targets: torch.Tensor, ks: tuple[int, ...] = (1, 5)) -> dict[int, float]:
    """Fraction of examples whose true label is not among the ``k`` highest scores, for each k.

    Returns ``{k: error}`` with errors in [0, 1]. A k larger than the number of classes is
    clamped to it (every label is then "in the top k", error 0).
    """
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (N, classes), got {tuple(logits.shape)}")
    if targets.shape != logits.shape[:1]:
        raise ValueError(
            f"targets must have shape ({logits.shape[0]},) to match the logits, got {tuple(targets.shape)}"
        )
    if logits.shape[0] == 0:
        raise ValueError("topk_error needs at least one example")
    classes = logits.shape[1]
    if targets.min() < 0 or targets.max() >= classes:
        raise ValueError(
            f"targets must be class indices in [0, {classes - 1}], got range [{int(targets.min())}, {int(targets.max())}]"
        )
    top = logits.topk(min(max(ks), classes), dim=1).indices
    hit = top == targets.unsqueeze(1)
    return {k: 1.0 - hit[:, : min(k, classes)].any(dim=1).float().mean().item() for k in ks}


def _predict(model: torch.nn.Module, images: torch.Tensor, views, inputs, batch_size: int) -> torch.Tensor:
    """Softmax probabilities averaged over the views (N, V, 3, s, s) that ``views`` makes of each image."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
    if images.dtype == torch.uint8 and inputs is None:
        raise ValueError(
            "uint8 images need the network's input convention: inputs=ModelInput.fit(model, train.images) "
            "(alexnet.data.inputs)"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    device = next(model.parameters()).device
    out = []
    with eval_mode(model):
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].to(device)
            crops = views(inputs(batch) if batch.dtype == torch.uint8 else batch.float())
            n, v = crops.shape[:2]
            x = crops.flatten(0, 1)
            out.append(model(x).softmax(dim=1).view(n, v, -1).mean(dim=1).cpu())
    return torch.cat(out)


def ten_crop_predict(
    model: torch.nn.Module,
    images: torch.Tensor,
    size: int = 224,
    inputs=None,
    batch_size: int = 64,
) -> torch.Tensor:
    """Section 4.1 at test time: the softmax outputs on ten patches of each image, averaged.

    The patches are :func:`alexnet.data.augment.ten_crop`'s (four corners, centre, and the same five
    mirrored). ``images`` are uint8 (then ``inputs``, an :class:`alexnet.data.inputs.ModelInput`,
    turns them into the network's input before they are cropped) or already the network's float
    input. Returns probabilities (N, classes); the model is used in eval mode and left as it was.
    """
    from alexnet.data.augment import ten_crop

    return _predict(model, images, lambda x: ten_crop(x, size), inputs, batch_size)


def center_crop_predict(
    model: torch.nn.Module, images: torch.Tensor, size: int = 224, inputs=None, batch_size: int = 64
) -> torch.Tensor:
    """The single-patch baseline for :func:`ten_crop_predict`: softmax outputs on the central patch."""
    from alexnet.data.augment import center_crop

    return _predict(model, images, lambda x: center_crop(x, size).unsqueeze(1), inputs, batch_size)


# ----------------------------------------------------------------------------- a dataset


def evaluate_model(
    model: nn.Module,
    dataset,
    inputs,
    size: int | None = None,
    batch_size: int = 256,
    device: torch.device | str | None = None,
    ten_crop: bool = False,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
    shard: tuple[int, int] = (0, 1),
    progress: str | None = None,
) -> dict[str, float]:
    """Validation loss and top-1/top-5 error of ``model`` on ``dataset`` (Section 6's measures).

    One crop is the centre ``size`` x ``size`` patch; ``ten_crop=True`` averages the softmax
    over the four corner patches, the centre patch and their mirror images (Section 4.1).
    ``inputs`` (an :class:`alexnet.data.inputs.ModelInput`) makes the uint8 images the network's input;
    ``forward`` runs the network (default: ``model``; the trainer passes its step's precision).
    ``shard=(rank, world)`` evaluates every world-th image in each of ``world`` processes and sums
    over them (DistributedDataParallel). ``progress`` names a progress bar over the batches.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    size = size or model.config.image_size
    forward = forward or model
    data = dataset if isinstance(dataset, Feeder) else Feeder(dataset, device, num_workers=0)
    rank, world = shard
    sums = torch.zeros(4, dtype=torch.float64, device=device)  # loss, top-1 wrong, top-5 wrong, count
    indices = torch.arange(rank, len(data), world)
    bar = _progress_bar(math.ceil(len(indices) / batch_size), progress)
    with eval_mode(model), contextlib.closing(bar):
        for images, labels in data.batches(indices, batch_size):
            x = inputs(images)  # the mean image is removed at the stored size, then the patches are taken
            if ten_crop:
                x = aug.ten_crop(x, size).flatten(0, 1)  # (N * 10, 3, size, size)
                probs = forward(x).float().softmax(dim=1).view(len(images), 10, -1).mean(1)
                logits = probs.clamp_min(1e-12).log()
            else:
                logits = forward(aug.center_crop(x, size)).float()
            err = topk_error(logits, labels, ks=(1, 5))
            n = len(labels)
            sums += torch.tensor(
                [F.cross_entropy(logits, labels, reduction="sum").item(), err[1] * n, err[5] * n, n],
                dtype=torch.float64,
                device=device,
            )
            bar.update(1)
    loss, wrong1, wrong5, n = all_reduce(sums, world).tolist()
    return {"loss": loss / n, "top1_error": wrong1 / n, "top5_error": wrong5 / n}


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, name: str | None):
    return progress.bar(total, name or "", name is not None) or _NoBar()


# ----------------------------------------------------------------------------- Figure 4 (Section 6.1)


def fc7_features(
    model: torch.nn.Module, images: torch.Tensor, inputs, size: int | None = None, batch_size: int = 256
) -> torch.Tensor:
    """The activations of the last hidden layer (fc7 after its ReLU, 4096-d at full width) on centre crops.

    Section 6.1 (Figure 4) compares images by the Euclidean distance between these vectors.
    ``images`` are uint8 (N, 3, H, W), made the network's input by ``inputs`` (a
    :class:`alexnet.data.inputs.ModelInput`); the model runs in eval mode (no dropout).
    """
    size = size or model.config.image_size
    device = next(model.parameters()).device
    body = model.classifier[:-1]  # everything up to fc8
    out = []
    with eval_mode(model):
        for start in range(0, len(images), batch_size):
            x = aug.center_crop(inputs(images[start : start + batch_size].to(device)), size)
            h = torch.flatten(model.avgpool(model.features(x)), 1)
            out.append(body(h).float().cpu())
    return torch.cat(out)


def nearest_neighbours(queries: torch.Tensor, keys: torch.Tensor, k: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (Q, k) and Euclidean distances of the ``k`` rows of ``keys`` nearest to each query (Figure 4)."""
    if queries.dim() != 2 or keys.dim() != 2 or queries.shape[1] != keys.shape[1]:
        raise ValueError(f"need feature matrices (Q, D) and (N, D), got {tuple(queries.shape)} and {tuple(keys.shape)}")
    if not 1 <= k <= len(keys):
        raise ValueError(f"k must lie in [1, {len(keys)}], got {k}")
    distances = torch.cdist(queries.float(), keys.float())
    d, idx = distances.topk(k, dim=1, largest=False)
    return idx, d.float()
