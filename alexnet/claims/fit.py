"""Small experiments that test the paper's claims about its mechanisms (Sections 3.1, 3.3, 3.4, 4.2).

What the chapters on ReLU, LRN, overlapping pooling and dropout run:

* :func:`~alexnet.nn.four_layer.four_layer_net`: the "four-layer convolutional neural network" on CIFAR-10
  of Figure 1 (Section 3.1) and of the LRN ablation (Section 3.3), in :mod:`alexnet.nn.four_layer`.
* :class:`Budget` and :func:`load_data`: one description of a run's scale, with a quick (CPU,
  synthetic images) and a full (GPU, CIFAR-10) setting picked by :func:`alexnet.chapters.mode.pick`.
* :func:`fit`: a seeded, compact training loop (SGD with momentum, Section 5's optimiser)
  returning a per-epoch :class:`History`, evaluated by :func:`alexnet.training.evaluate.evaluate_model`
  (the evaluation the trainer runs).
* :func:`epochs_to_reach`: epochs a run needs to reach a training error (Figure 1's 25%);
  :func:`format_table`: the plain-text tables the chapters print.

The mechanisms themselves live in their own modules: :mod:`alexnet.nn.lrn` (with the LRN
conventions) and :mod:`alexnet.nn.dropout` (the paper's test-time scaling and the ensemble view).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from alexnet.data import ImageTensorDataset, load_dataset
from alexnet.data.inputs import ModelInput
from alexnet.training.evaluate import evaluate_model

__all__ = ["Budget", "load_data", "seed_everything", "History", "fit", "epochs_to_reach", "format_table"]

# ----------------------------------------------------------------------------- budgets and data


@dataclass(frozen=True)
class Budget:
    """The scale of one experiment: data, image size, epochs and optimiser settings, the same for every arm.

    ``dataset`` is ``"synthetic"`` (embedded, quick mode) or ``"cifar10"`` (downloaded, full
    mode); ``train_images``/``val_images`` of ``None`` mean the whole split.
    """

    dataset: str = "synthetic"
    train_images: int | None = 2048
    val_images: int | None = 512
    image_size: int = 32
    num_classes: int = 8
    epochs: int = 5
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    seed: int = 0
    width: float = 1.0  # multiplier of the network's kernel and unit counts

    def __post_init__(self) -> None:
        if self.dataset not in ("synthetic", "cifar10"):
            raise ValueError(f"dataset must be 'synthetic' or 'cifar10', got {self.dataset!r}")
        for name in ("epochs", "batch_size", "image_size", "num_classes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")

    def describe(self) -> str:
        """One line stating the scale, to print next to the paper's."""
        n = "all" if self.train_images is None else f"{self.train_images:,}"
        return (
            f"{self.dataset}, {n} training images of {self.image_size} px, {self.num_classes} classes, "
            f"{self.epochs} epochs, batch {self.batch_size}, lr {self.lr}, momentum {self.momentum}, "
            f"weight decay {self.weight_decay}, seed {self.seed}, network width x{self.width}"
        )


def load_data(budget: Budget, root: str = "data") -> tuple[ImageTensorDataset, ImageTensorDataset]:
    """Training and validation sets for ``budget`` as in-memory uint8 datasets.

    Synthetic images are generated at ``budget.image_size``. CIFAR-10 is downloaded into
    ``root`` by :func:`alexnet.data.load_dataset` (full mode, on a machine with internet), its
    test split serves as validation set, and its 32-pixel images are resized when
    ``budget.image_size`` differs (the reduced AlexNet needs at least 63 pixels).
    """
    if budget.dataset == "synthetic":
        sizes = {"train": budget.train_images or 2048, "val": budget.val_images or 512}
        opts = dict(image_size=budget.image_size, num_classes=budget.num_classes, seed=budget.seed)
        return tuple(load_dataset("synthetic", s, num_images=sizes[s], **opts) for s in ("train", "val"))  # type: ignore[return-value]
    sets = [load_dataset("cifar10", split, root=root, download=True) for split in ("train", "test")]
    out = []
    for ds, n in zip(sets, (budget.train_images, budget.val_images), strict=True):
        if len(ds.classes) != budget.num_classes:
            raise ValueError(f"budget.num_classes={budget.num_classes} but CIFAR-10 has {len(ds.classes)} classes")
        if n is not None:
            ds = ImageTensorDataset(ds.images[:n], ds.labels[:n], ds.classes)
        if ds.images.shape[-1] != budget.image_size:
            resized = torch.empty(len(ds), 3, budget.image_size, budget.image_size, dtype=torch.uint8)
            for i in range(0, len(ds), 2048):  # in chunks: a float copy of all of CIFAR-10 at 67 px is 2.7 GB
                chunk = F.interpolate(ds.images[i : i + 2048].float(), size=budget.image_size, mode="bilinear")
                resized[i : i + 2048] = chunk.round().clamp(0, 255).to(torch.uint8)
            ds = ImageTensorDataset(resized, ds.labels, ds.classes)
        out.append(ds)
    return out[0], out[1]


# ----------------------------------------------------------------------------- training


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's (CPU and CUDA) random generators."""
    random.seed(seed)
    torch.manual_seed(seed)
    np.random.seed(seed)


@dataclass
class History:
    """Per-epoch record of one run; errors are fractions in [0, 1].

    ``train_error`` is measured on the fly during each epoch, on the batches as they are
    trained (with dropout active), as cuda-convnet reports it and as Figure 1 plots it;
    ``train_eval_error`` (only with ``fit(..., eval_train=True)``) re-evaluates the training
    set with the network in test mode after the epoch. The evaluated lists (``train_eval_error``
    and ``val_*``) hold one value per epoch of ``eval_epoch``, which is every epoch unless
    ``fit`` was asked to evaluate less often; :meth:`epochs_of` gives the epochs of any list.
    """

    name: str = ""
    epoch: list[int] = field(default_factory=list)
    eval_epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_error: list[float] = field(default_factory=list)
    train_eval_error: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_error: list[float] = field(default_factory=list)
    val_top5_error: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    steps: int = 0
    model: nn.Module | None = field(default=None, repr=False, compare=False)  # the trained network
    inputs: ModelInput | None = field(default=None, repr=False, compare=False)  # what fit() fed the network

    def epochs_of(self, key: str) -> list[int]:
        """The epochs after which the values of list ``key`` were measured."""
        evaluated = key == "train_eval_error" or key.startswith("val_")
        return self.eval_epoch if evaluated and self.eval_epoch else self.epoch

    def last(self, key: str) -> float:
        values = getattr(self, key)
        if not values:
            raise ValueError(f"history {self.name!r} has no {key} values")
        return values[-1]


def fit(
    model: nn.Module,
    train: ImageTensorDataset,
    val: ImageTensorDataset | None,
    budget: Budget,
    *,
    name: str = "",
    device: str | torch.device | None = None,
    eval_train: bool = False,
    max_steps: int | None = None,
    stop_below: float | None = None,
    eval_every: int = 1,
    verbose: bool = False,
) -> History:
    """Train ``model`` with SGD + momentum under ``budget``; returns a per-epoch :class:`History`.

    Seeded by ``budget.seed``: the same budget gives every arm the same order of mini-batches
    and the same dropout random stream. The network's input follows its convention
    (:class:`alexnet.data.inputs.ModelInput`: for the paper's, raw values minus the training set's mean
    image, Section 2); the result's ``inputs`` holds it for later evaluations.
    ``max_steps`` stops after that many updates (used by the tests to run full-mode settings
    for one step on a CPU); ``stop_below`` stops after the first epoch whose on-the-fly training
    error is at most that value (a run timed to a target needs nothing after it).
    ``eval_every`` evaluates (the validation set, and the training set in test mode) only after
    every that many epochs and after the last two; evaluating uses no random numbers, so the
    training itself is the same whatever its value.
    """
    if len(train) < 1:
        raise ValueError("fit needs a non-empty training set")
    if eval_every < 1:
        raise ValueError(f"eval_every must be a positive number of epochs, got {eval_every!r}")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    seed_everything(budget.seed)
    order_gen = torch.Generator().manual_seed(budget.seed)
    model.to(device).train()
    inputs = ModelInput.fit(model, train.images).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=budget.lr, momentum=budget.momentum, weight_decay=budget.weight_decay)
    images, labels = train.images.to(device), train.labels.to(device)
    size = images.shape[-1]  # evaluated on whole images: the "centre crop" is the image itself
    hist = History(name=name, inputs=inputs)
    for epoch in range(1, budget.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(train), generator=order_gen).to(device)
        _train_epoch(model, opt, inputs, (images, labels), order, budget.batch_size, hist, max_steps)
        hist.epoch.append(epoch)
        stopping = (max_steps is not None and hist.steps >= max_steps) or (
            stop_below is not None and hist.train_error[-1] <= stop_below
        )
        if epoch % eval_every == 0 or epoch >= budget.epochs - 1 or stopping:
            _evaluate_epoch(hist, epoch, model, inputs, size, train if eval_train else None, val, device)
        hist.seconds.append(time.perf_counter() - start)
        if verbose:
            evaluated = val is not None and hist.eval_epoch[-1:] == [epoch]
            val_text = f", val error {100 * hist.val_error[-1]:.2f}%" if evaluated else ""
            print(f"{name} epoch {epoch}: train error {100 * hist.train_error[-1]:.2f}%{val_text}")
        if stopping:
            break
    return hist


def _train_epoch(
    model: nn.Module, opt, inputs: ModelInput, data: tuple[torch.Tensor, torch.Tensor], order: torch.Tensor,
    batch_size: int, hist: History, max_steps: int | None,
) -> None:  # fmt: skip
    """One pass over the training ``data`` (images, labels) in the mini-batches of ``order``, counting ``hist.steps``
    and recording the mean loss and the error measured on the fly, on the batches as they are trained (Figure 1's
    training error)."""
    images, labels = data
    loss_sum, wrong, seen = 0.0, 0, 0
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        x, y = inputs(images[idx]), labels[idx]
        out = model(x)
        loss = F.cross_entropy(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hist.steps += 1
        loss_sum += loss.item() * len(y)
        wrong += (out.argmax(1) != y).sum().item()
        seen += len(y)
        if max_steps is not None and hist.steps >= max_steps:
            break
    hist.train_loss.append(loss_sum / seen)
    hist.train_error.append(wrong / seen)


def _evaluate_epoch(
    hist: History, epoch: int, model: nn.Module, inputs: ModelInput, size: int,
    train: ImageTensorDataset | None, val: ImageTensorDataset | None, device,
) -> None:  # fmt: skip
    """After ``epoch``: the training set in test mode (``train``, where asked) and the validation set, on whole
    ``size``-pixel images."""
    hist.eval_epoch.append(epoch)
    if train is not None:
        hist.train_eval_error.append(evaluate_model(model, train, inputs, size, device=device)["top1_error"])
    if val is not None:
        m = evaluate_model(model, val, inputs, size, device=device)
        hist.val_loss.append(m["loss"])
        hist.val_error.append(m["top1_error"])
        hist.val_top5_error.append(m["top5_error"])


def epochs_to_reach(errors: Sequence[float], target: float, start: float | None = None) -> float | None:
    """Epochs a run needs to bring its error down to ``target``, interpolated linearly between epochs.

    ``errors[i]`` is the error after epoch i + 1. ``start`` is the error before training (e.g.
    chance, 1 - 1/classes): with it, a target reached during the first epoch is interpolated
    from epoch 0; without it the answer is then 1. Returns ``None`` if the target is never reached.
    """
    if not 0 <= target <= 1:
        raise ValueError(f"target must be an error rate in [0, 1], got {target!r}")
    points = ([(0, start)] if start is not None else []) + [(i + 1, e) for i, e in enumerate(errors)]
    for j, (epoch, err) in enumerate(points):
        if err <= target:
            if j == 0:
                return float(epoch)
            e0, v0 = points[j - 1]
            return e0 + (v0 - target) / (v0 - err) * (epoch - e0)
    return None


def format_table(header: Sequence[str], rows: Sequence[Sequence], left: int = 1) -> str:
    """A plain-text table: floats printed with 2 decimals, the first ``left`` columns left-aligned, the rest right."""
    text = [[str(h) for h in header]] + [[f"{v:.2f}" if isinstance(v, float) else str(v) for v in r] for r in rows]
    if any(len(r) != len(header) for r in text):
        raise ValueError("every row must have as many cells as the header")
    widths = [max(len(r[i]) for r in text) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if k < left else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in text
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
