"""The ``train`` command's options and the run they make (what each value may be: :mod:`alexnet.cli.option_types`).

Every option changes a recipe of :mod:`alexnet.training.recipes`: ``CLI_QUICK`` (a reduced-scale run on
synthetic data, about two minutes on a CPU) when no dataset is named, ``PAPER`` (Section 5 at the
paper's scale) otherwise; the help texts read their defaults from those recipes. :func:`quick_config`
turns parsed options into a :class:`~alexnet.training.config.TrainConfig`, :func:`scale_line` says its scale in
words next to the paper's. No torch here at import time: ``python -m alexnet`` handles Ctrl-C from
its first line.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from alexnet.cli.option_types import DEVICE, POSITIVE, SEED, WHOLE, Number, PathArg

__all__ = ["add_train_options", "quick_config", "scale_line", "PAPER_SCALE", "DATASETS", "RUNS"]

PAPER_SCALE = (
    "paper: ImageNet, 1.2 million images of 1000 classes at 256 px cropped to 224, full width, "
    "weights drawn from N(0, 0.01), batch 128, 90 epochs"
)
DATASETS = ("synthetic", "cifar10", "imagenette")  # what `train --dataset` can name (imagefolder: from Python)
INIT_WORDS = {  # --init in words, for the "this run" line
    "paper": "weights drawn from N(0, 0.01) (Section 5)",
    "pytorch": "PyTorch's default initialisation",
    "kaiming": "He et al. 2015 initialisation",
    "paper-width": "N(0, 0.01) scaled by sqrt(full fan-in / fan-in) for the reduced width (not Section 5's)",
}
RUNS = Path("runs")  # where runs without --out get a new numbered folder


def _per_dataset(quick: Any, paper: Any, source: str = "Section 5") -> str:
    return f"default: {quick} on synthetic data, otherwise {paper} as in {source}"


def add_train_options(t: argparse.ArgumentParser) -> None:
    """The options of ``train``; each help text names its default as the recipe the run starts from has it."""
    from alexnet.data.augment import AUGMENTS
    from alexnet.training.recipes import CLI_QUICK, PAPER

    _run_options(t, CLI_QUICK, PAPER)
    _scale_options(t, CLI_QUICK)
    t.add_argument(
        "--optimizer",
        choices=["paper", "torch"],
        default="paper",
        help="paper is Section 5's update rule, torch is torch.optim.SGD",
    )
    t.add_argument(
        "--augment",
        choices=AUGMENTS,
        default="paper",
        help="training-time augmentation: paper is Section 4.1's crops, flips and PCA colour noise",
    )
    t.add_argument(
        "--data-root",
        default="data",
        type=PathArg("folder"),
        help="folder that holds (or receives) the downloaded datasets",
    )
    t.add_argument("--download", action="store_true", help="download cifar10 or imagenette if it is missing")
    t.add_argument("--compile", action="store_true", help="torch.compile the model")
    t.add_argument("--no-amp", action="store_true", help="train in fp32 on CUDA too (default: mixed precision)")
    t.add_argument("--no-progress", action="store_true", help="print nothing but errors")


def _run_options(t: argparse.ArgumentParser, quick, recipe) -> None:
    """What to train and for how long; where it goes. ``quick``: the synthetic run's recipe; ``recipe``: Section 5's."""
    from alexnet.nn.config import PRESETS

    t.add_argument("--model", default="paper", choices=list(PRESETS), help=f"the network: {', '.join(PRESETS)}")
    t.add_argument(
        "--dataset",
        default="synthetic",
        choices=DATASETS,
        help=f"the data: {', '.join(DATASETS)} (synthetic is generated here; the others need --download once)",
    )
    t.add_argument(
        "--epochs",
        type=WHOLE,
        help=f"passes over the training set ({_per_dataset(quick.epochs, recipe.epochs)})",
    )
    t.add_argument(
        "--batch-size",
        type=WHOLE,
        help=f"images per SGD step, over all processes ({_per_dataset(quick.batch_size, recipe.batch_size)})",
    )
    t.add_argument("--lr", type=POSITIVE, help=f"initial learning rate ({_per_dataset(quick.lr, recipe.lr)})")
    t.add_argument(
        "--out",
        type=PathArg("folder"),
        help="folder for checkpoint.pt, metrics.jsonl and curves.png; it must not hold a run unless --resume "
        f"is given (default: a new folder {RUNS}/MODEL-DATASET-N for every run)",
    )
    t.add_argument("--resume", action="store_true", help="continue the run whose checkpoint is in --out")
    t.add_argument("--seed", type=SEED, default=0, help="seed of every random draw")
    t.add_argument(
        "--device", default="auto", type=DEVICE, help="auto (a GPU if there is one, else the CPU), cpu, cuda, cuda:N"
    )


def _scale_options(t: argparse.ArgumentParser, quick) -> None:
    """The network's and the synthetic data's scale: reduced in the no-option run, the paper's otherwise."""
    from alexnet.data import SYNTHETIC_SHAPES
    from alexnet.nn.config import INITS, PRESETS

    m, d = quick.model_options, quick.dataset_options
    preset_sizes = ", ".join(f"{name} {c.image_size}" for name, c in PRESETS.items())
    preset_inits = ", ".join(f"{c.init} for {name}" for name, c in PRESETS.items())
    t.add_argument(
        "--width",
        type=POSITIVE,
        help=f"multiplier of every layer's width ({_per_dataset(m['width'], PRESETS['paper'].width, 'the paper')})",
    )
    t.add_argument(
        "--image-size",
        type=WHOLE,
        help="side of the crop the network sees, in pixels "
        f"(default: {m['image_size']} on synthetic data, otherwise the model's: {preset_sizes})",
    )
    t.add_argument(
        "--init",
        choices=INITS,
        help="initialisation: paper is Section 5's N(0, 0.01), paper-width the same scaled to a reduced width's "
        "fan-ins, pytorch is PyTorch's default, kaiming is He et al. 2015, fed standardised inputs "
        f"(default: {m['init']} on synthetic data, otherwise the model's: {preset_inits})",
    )
    t.add_argument(
        "--dropout",
        type=Number(whole=False, low=0, high=1, below=True),
        help=f"dropout probability in fc6 and fc7, Section 4.2 (default: {PRESETS['paper'].dropout})",
    )
    t.add_argument(
        "--classes",
        type=Number(low=2, high=len(SYNTHETIC_SHAPES)),
        help=f"synthetic data only: number of classes, 2 to {len(SYNTHETIC_SHAPES)} (default: {d['num_classes']})",
    )
    t.add_argument(
        "--images",
        type=WHOLE,
        help=f"synthetic data only: number of training images (default: {d['num_images']})",
    )


def _fresh_run_folder(model: str, dataset: str) -> str:
    """``runs/MODEL-DATASET-N`` with N one more than any such folder already there (the folder is made by the run)."""
    stem = f"{model}-{dataset}-"
    taken = [int(m.group(1)) for p in RUNS.glob(f"{stem}*") if (m := re.fullmatch(re.escape(stem) + r"(\d+)", p.name))]
    return str(RUNS / f"{stem}{max(taken, default=0) + 1}")


def _check_options(args: argparse.Namespace) -> None:
    """Raise ValueError for options that cannot go together (each value alone was checked when parsed)."""
    from alexnet.training.run_folder import refuse_to_overwrite

    synthetic = args.dataset == "synthetic"
    if not synthetic and (args.classes is not None or args.images is not None):
        raise ValueError("--classes and --images apply to --dataset synthetic only")
    if args.resume and not args.out:
        raise ValueError("--resume needs --out, the folder of the run to continue")
    refuse_to_overwrite(args.out, args.resume, "continue it with --resume, choose another folder with --out, or "
                        "leave --out away for a new folder under runs/", ValueError)  # fmt: skip
    if not synthetic and not args.download:
        _check_downloaded(args.dataset, Path(args.data_root))


def _check_downloaded(dataset: str, root: Path) -> None:
    from alexnet.data import CIFAR10_FOLDER, IMAGENETTE_FOLDERS

    needed = {
        "cifar10": (root / CIFAR10_FOLDER / "batches.meta", "CIFAR-10, about 170 MB"),
        "imagenette": (root / IMAGENETTE_FOLDERS["320px"] / "train", "Imagenette, about 330 MB"),
    }
    path, what = needed[dataset]
    if not path.exists():
        raise FileNotFoundError(
            f"{dataset} is not in {root} (no {path}): add --download to fetch it ({what}), "
            "or point --data-root at the folder that holds it"
        )


def quick_config(args: argparse.Namespace | None = None):
    """The :class:`~alexnet.training.config.TrainConfig` of ``train`` with these options (none: ``recipes.CLI_QUICK``).

    The options change a recipe of :mod:`alexnet.training.recipes`: ``CLI_QUICK`` on synthetic data, else
    ``PAPER`` (Section 5). They are checked first (:class:`ValueError` or :class:`FileNotFoundError`,
    one line each). Without ``--out`` the run gets a new numbered folder under ``runs/``.
    """
    from alexnet.training.config import TrainConfig
    from alexnet.training.recipes import CLI_QUICK, PAPER

    if args is None:
        parser = argparse.ArgumentParser()
        add_train_options(parser)
        args = parser.parse_args([])
    _check_options(args)
    synthetic = args.dataset == "synthetic"
    base = CLI_QUICK if synthetic else PAPER
    model_options = _model_options(args, base)
    dataset_options, val_options = _synthetic_options(args, base, model_options) if synthetic else ({}, {})
    return TrainConfig(
        model=args.model,
        model_options=model_options,
        dataset=args.dataset,
        dataset_options=dataset_options,
        val_options=val_options,
        data_root=args.data_root,
        download=args.download,
        epochs=_pick(args.epochs, base.epochs),
        batch_size=_pick(args.batch_size, base.batch_size),
        lr=_pick(args.lr, base.lr),
        optimizer=args.optimizer,
        augment=args.augment,
        seed=args.seed,
        device=args.device,
        amp=not args.no_amp,
        compile=args.compile,
        out=args.out or _fresh_run_folder(args.model, args.dataset),
        resume=args.resume,
        progress=not args.no_progress,
    )


def _pick(value, default):
    return value if value is not None else default


def _model_options(args: argparse.Namespace, base) -> dict[str, Any]:
    """The network's options: those given, else the recipe's; He init comes with standardised inputs."""
    from alexnet.nn.config import HE_STANDARDISED

    model_options: dict[str, Any] = {}
    for key in ("width", "image_size", "init", "dropout"):
        value = _pick(getattr(args, key), base.model_options.get(key))
        if value is not None:
            model_options[key] = value
    if model_options.get("init") == HE_STANDARDISED["init"]:
        model_options.update(HE_STANDARDISED)
    return model_options


def _synthetic_options(args: argparse.Namespace, base, model_options: dict[str, Any]) -> tuple[dict, dict]:
    """Both splits' options and the validation split's own for the synthetic data: the classes and images
    given, else the recipe's, stored larger than the crop by as much as the recipe's (Section 4.1's random
    crops), and a quarter as many validation images (at least one per class)."""
    stored, crop = base.dataset_options["image_size"], base.model_options["image_size"]
    dataset_options = {
        "num_classes": _pick(args.classes, base.dataset_options["num_classes"]),
        "num_images": _pick(args.images, base.dataset_options["num_images"]),
        "image_size": model_options["image_size"] + (stored - crop),  # room for random crops (Section 4.1)
    }
    val_options = {"num_images": max(dataset_options["num_classes"], dataset_options["num_images"] // 4)}
    return dataset_options, val_options


def scale_line(config) -> str:
    """Two lines: this run's scale and the paper's, in words."""
    from alexnet.nn.config import HE_STANDARDISED, PRESETS

    m, d = config.model_options, config.dataset_options
    preset = PRESETS.get(config.model, PRESETS["paper"])
    init = m.get("init", preset.init)
    init_words = INIT_WORDS.get(init, f"init {init}")
    if init == HE_STANDARDISED["init"] and config.dataset == "synthetic":
        init_words += (
            ", not Section 5's N(0, 0.01): the narrow network stays at chance with that; inputs standardised "
            "(torchvision's convention), not Section 2's raw 0-255 values minus the mean image, on which He init diverges"
        )
    epochs = f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}"
    crop = m.get("image_size", preset.image_size)
    if config.dataset == "synthetic":
        data = f"synthetic, {d['num_images']:,} images of {d['num_classes']} classes at {d['image_size']} px cropped to {crop}"
    else:
        data = f"{config.dataset}, cropped to {crop} px"
    width = m.get("width", preset.width)
    ours = f"this run: {data}, {'full width' if width == 1 else f'width x{width}'}, {init_words}, batch {config.batch_size}, {epochs}"
    return f"{ours}; writes to {config.out}\n{PAPER_SCALE}"
