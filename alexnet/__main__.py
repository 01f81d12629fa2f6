"""``python -m alexnet {train,evaluate,summary,bench,doctor}``: the package from the command line.

``python -m alexnet train`` with no options is a short run on the embedded synthetic data at a
reduced scale, printed next to the paper's; with ``--dataset`` naming a real dataset it uses the
paper's scale and recipe (Section 5). ``torchrun --nproc_per_node=N -m alexnet train ...`` trains
with DistributedDataParallel. Errors that the person at the keyboard can fix end with a one-line
message on stderr and exit status 1, not a traceback; a mistyped command line (an unknown option,
a word where a number belongs) gets argparse's usage of that subcommand and exit status 2.

Every default a help text names is read from where the run takes it: the recipes of
:mod:`alexnet.recipes`, ``CLI_QUICK`` for the synthetic run and ``PAPER`` (Section 5) with the
model presets for a real dataset.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser", "quick_config", "PAPER_SCALE", "DATASETS", "SEED_RANGE"]

PAPER_SCALE = (
    "paper: ImageNet, 1.2 million images of 1000 classes at 256 px cropped to 224, full width, "
    "weights drawn from N(0, 0.01), batch 128, 90 epochs"
)
DATASETS = ("synthetic", "cifar10", "imagenette")  # what `train --dataset` can name (imagefolder: from Python)
SEED_RANGE = (0, 2**63 - 1)  # what every random-number generator of the run accepts
INIT_WORDS = {  # --init in words, for the "this run" line
    "paper": "weights drawn from N(0, 0.01) (Section 5)",
    "pytorch": "PyTorch's default initialisation",
    "kaiming": "He et al. 2015 initialisation",
    "paper-width": "N(0, 0.01) scaled by sqrt(full fan-in / fan-in) for the reduced width (not Section 5's)",
}
RUNS = Path("runs")  # where runs without --out get a new numbered folder


class _HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default and its choices, unless the text names them already."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        extra = []
        if action.choices is not None and not all(str(c) in text for c in action.choices):
            extra.append("one of: %(choices)s")
        if action.option_strings and action.default not in (None, argparse.SUPPRESS) and action.default is not False:
            if "default:" not in text:
                extra.append("default: %(default)s")
        return f"{text} ({'; '.join(extra)})" if extra else text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


class _Subcommand(_Parser):
    """A subcommand's parser: an option it does not know gets its own usage, not the top-level one."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def _per_dataset(quick: Any, paper: Any, source: str = "Section 5") -> str:
    return f"default: {quick} on synthetic data, otherwise {paper} as in {source}"


def _train_options(t: argparse.ArgumentParser) -> None:
    from alexnet.data import SYNTHETIC_SHAPES
    from alexnet.model import INITS, PRESETS
    from alexnet.recipes import CLI_QUICK as quick
    from alexnet.recipes import PAPER as recipe  # Section 5's values: the defaults on a real dataset

    m, d = quick.model_options, quick.dataset_options
    preset_sizes = ", ".join(f"{name} {c.image_size}" for name, c in PRESETS.items())
    preset_inits = ", ".join(f"{c.init} for {name}" for name, c in PRESETS.items())
    t.add_argument("--model", default="paper", help=f"the network: {', '.join(PRESETS)}")
    t.add_argument(
        "--dataset",
        default="synthetic",
        help=f"the data: {', '.join(DATASETS)} (synthetic is generated here; the others need --download once)",
    )
    t.add_argument(
        "--epochs",
        type=int,
        help=f"passes over the training set ({_per_dataset(quick.epochs, recipe.epochs)})",
    )
    t.add_argument(
        "--batch-size",
        type=int,
        help=f"images per SGD step, over all processes ({_per_dataset(quick.batch_size, recipe.batch_size)})",
    )
    t.add_argument("--lr", type=float, help=f"initial learning rate ({_per_dataset(quick.lr, recipe.lr)})")
    t.add_argument(
        "--out",
        help="folder for checkpoint.pt, metrics.jsonl and curves.png; it must not hold a run unless --resume "
        f"is given (default: a new folder {RUNS}/MODEL-DATASET-N for every run)",
    )
    t.add_argument("--resume", action="store_true", help="continue the run whose checkpoint is in --out")
    t.add_argument("--seed", type=int, default=0, help=f"seed of every random draw, {SEED_RANGE[0]} to 2**63 - 1")
    t.add_argument("--device", default="auto", help="auto (a GPU if there is one, else the CPU), cpu, cuda, cuda:N")
    t.add_argument(
        "--width",
        type=float,
        help=f"multiplier of every layer's width ({_per_dataset(m['width'], PRESETS['paper'].width, 'the paper')})",
    )
    t.add_argument(
        "--image-size",
        type=int,
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
        type=float,
        help=f"dropout probability in fc6 and fc7, Section 4.2 (default: {PRESETS['paper'].dropout})",
    )
    t.add_argument(
        "--classes",
        type=int,
        help=f"synthetic data only: number of classes, 2 to {len(SYNTHETIC_SHAPES)} (default: {d['num_classes']})",
    )
    t.add_argument(
        "--images",
        type=int,
        help=f"synthetic data only: number of training images (default: {d['num_images']})",
    )
    t.add_argument(
        "--optimizer",
        choices=["paper", "torch"],
        default="paper",
        help="paper is Section 5's update rule, torch is torch.optim.SGD",
    )
    t.add_argument(
        "--augment",
        choices=["paper", "crop-flip", "none"],
        default="paper",
        help="training-time augmentation: paper is Section 4.1's crops, flips and PCA colour noise",
    )
    t.add_argument("--data-root", default="data", help="folder that holds (or receives) the downloaded datasets")
    t.add_argument("--download", action="store_true", help="download cifar10 or imagenette if it is missing")
    t.add_argument("--compile", action="store_true", help="torch.compile the model")
    t.add_argument("--no-amp", action="store_true", help="train in fp32 on CUDA too (default: mixed precision)")
    t.add_argument("--no-progress", action="store_true", help="print nothing but errors")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m alexnet", description="AlexNet (Krizhevsky et al. 2012), reproduced.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Subcommand)

    t = sub.add_parser("train", help="train with the paper's recipe (Section 5)")
    _train_options(t)

    e = sub.add_parser("evaluate", help="one-crop and ten-crop error of a checkpoint on its validation set")
    e.add_argument("checkpoint", help="checkpoint.pt, or the --out folder of a run")
    e.add_argument("--device", default="auto", help="auto (a GPU if there is one, else the CPU), cpu, cuda, cuda:N")
    e.add_argument("--batch-size", type=int, default=128, help="images per forward pass")

    from alexnet.model import PRESETS

    s = sub.add_parser("summary", help="the layer table: output shapes, parameters, MACs")
    s.add_argument("--model", default="paper", help=f"the network: {', '.join(PRESETS)}")
    s.add_argument(
        "--image-size",
        type=int,
        help="input side in pixels (default: the model's: "
        + ", ".join(f"{name} {c.image_size}" for name, c in PRESETS.items())
        + ")",
    )
    s.add_argument("--width", type=float, default=1.0, help="multiplier of every layer's width")
    s.add_argument("--classes", type=int, default=1000, help="outputs of fc8")

    b = sub.add_parser(
        "bench",
        help="training images per second: plain fp32 loop vs the trainer's path (on a CPU: reduced scale unless --full)",
    )
    b.add_argument("--model", default="paper")
    b.add_argument("--batch-size", type=int, help="GPU or --full: 256; CPU: 64")
    b.add_argument("--steps", type=int, help="timed steps per path (default 10)")
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--device", default="auto")
    b.add_argument("--width", type=float, help="GPU or --full: 1; CPU: 0.25")
    b.add_argument("--image-size", type=int, help="GPU or --full: the model's (paper 227); CPU: 67")
    b.add_argument("--classes", type=int, help="default 1000")
    b.add_argument("--full", action="store_true", help="the paper's scale on a CPU too (minutes)")
    b.add_argument("--compile", action="store_true")
    b.add_argument("--json", action="store_true", help="print the results as JSON too")

    d = sub.add_parser("doctor", help="check and measure this machine: PASS/FAIL lines (GPU: < 10 min; CPU: ~2 min)")
    d.add_argument("--device", default="auto", help="auto (GPU if any), cpu, cuda, cuda:N")
    d.add_argument(
        "--scale", choices=["auto", "full", "reduced"], default="auto", help="auto: full on a GPU, reduced on a CPU"
    )
    d.add_argument(
        "--compile", action=argparse.BooleanOptionalAction, help="include torch.compile rows (default: on a GPU only)"
    )
    d.add_argument("--out", help="also write the report as Markdown to this file (for benchmarks/RESULTS.md)")

    from alexnet.claims import CLAIMS, TUNING_SEED

    x = sub.add_parser(
        "experiment",
        help="rerun a mechanism chapter's experiment over seeds: effect, 95%% interval, verdict (quick: under 2 min)",
    )
    x.add_argument("name", choices=list(CLAIMS), help="the mechanism: " + ", ".join(CLAIMS))
    x.add_argument("--seeds", type=int, default=3, help="number of reported seeds, at least 2")
    x.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help=f"the seeds are K, K+1, ..., K+N-1; learning rates are tuned on seed {TUNING_SEED} alone",
    )
    x.add_argument(
        "--full", action="store_true", help="the GPU version on CIFAR-10 or the full photos (downloads once)"
    )
    x.add_argument("--json", action="store_true", help="print one JSON object on standard output; progress on stderr")
    return parser


def _fresh_run_folder(model: str, dataset: str) -> str:
    """``runs/MODEL-DATASET-N`` with N one more than any such folder already there (the folder is made by the run)."""
    stem = f"{model}-{dataset}-"
    taken = [int(m.group(1)) for p in RUNS.glob(f"{stem}*") if (m := re.fullmatch(re.escape(stem) + r"(\d+)", p.name))]
    return str(RUNS / f"{stem}{max(taken, default=0) + 1}")


def _check_options(args: argparse.Namespace) -> None:
    """Raise ValueError, naming the option and what it accepts, for values the command line cannot run."""
    from alexnet.data import SYNTHETIC_SHAPES

    if args.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {args.dataset!r}; known datasets: {', '.join(DATASETS)}")
    synthetic = args.dataset == "synthetic"
    if not synthetic and (args.classes is not None or args.images is not None):
        raise ValueError("--classes and --images apply to --dataset synthetic only")
    if args.classes is not None and not 2 <= args.classes <= len(SYNTHETIC_SHAPES):
        raise ValueError(f"--classes must be between 2 and {len(SYNTHETIC_SHAPES)}, got {args.classes}")
    positive = {"--images": args.images, "--epochs": args.epochs, "--batch-size": args.batch_size}
    positive |= {"--lr": args.lr, "--width": args.width, "--image-size": args.image_size}
    for option, value in positive.items():
        if value is not None and not value > 0:
            raise ValueError(f"{option} must be positive, got {value}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise ValueError(f"--dropout must be a probability in [0, 1), got {args.dropout}")
    if not SEED_RANGE[0] <= args.seed <= SEED_RANGE[1]:
        raise ValueError(f"--seed must be a whole number from 0 to 2**63 - 1, got {args.seed}")
    if args.resume and not args.out:
        raise ValueError("--resume needs --out, the folder of the run to continue")
    if args.out and not args.resume and (Path(args.out) / "checkpoint.pt").is_file():
        raise ValueError(
            f"{args.out} already holds the checkpoint of a run: continue it with --resume, "
            "choose another folder with --out, or leave --out away for a new folder under runs/"
        )
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
    """The :class:`~alexnet.train.TrainConfig` of ``train`` with these options (none: ``recipes.CLI_QUICK``).

    The options change a recipe of :mod:`alexnet.recipes`: ``CLI_QUICK`` on synthetic data, else
    ``PAPER`` (Section 5). They are checked first (:class:`ValueError` or :class:`FileNotFoundError`,
    one line each). Without ``--out`` the run gets a new numbered folder under ``runs/``.
    """
    from alexnet.recipes import CLI_QUICK, PAPER
    from alexnet.train import TrainConfig

    args = args or build_parser().parse_args(["train"])
    _check_options(args)
    synthetic = args.dataset == "synthetic"
    base = CLI_QUICK if synthetic else PAPER

    def pick(value, default):
        return value if value is not None else default

    model_options: dict[str, Any] = {}
    for key in ("width", "image_size", "init", "dropout"):
        value = pick(getattr(args, key), base.model_options.get(key))
        if value is not None:
            model_options[key] = value
    if model_options.get("init") == "kaiming":  # He init comes with standardised inputs (see recipes.CLI_QUICK)
        model_options["input_convention"] = "torchvision"
    dataset_options: dict[str, Any] = {}
    val_options: dict[str, Any] = {}
    if synthetic:
        stored, crop = base.dataset_options["image_size"], base.model_options["image_size"]
        dataset_options = {
            "num_classes": pick(args.classes, base.dataset_options["num_classes"]),
            "num_images": pick(args.images, base.dataset_options["num_images"]),
            "image_size": model_options["image_size"] + (stored - crop),  # room for random crops (Section 4.1)
        }
        val_options = {"num_images": max(dataset_options["num_classes"], dataset_options["num_images"] // 4)}

    return TrainConfig(
        model=args.model,
        model_options=model_options,
        dataset=args.dataset,
        dataset_options=dataset_options,
        val_options=val_options,
        data_root=args.data_root,
        download=args.download,
        epochs=pick(args.epochs, base.epochs),
        batch_size=pick(args.batch_size, base.batch_size),
        lr=pick(args.lr, base.lr),
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


def _scale_line(config) -> str:
    """Two lines: this run's scale and the paper's, in words."""
    from alexnet.model import PRESETS

    m, d = config.model_options, config.dataset_options
    preset = PRESETS.get(config.model, PRESETS["paper"])
    init = m.get("init", preset.init)
    init_words = INIT_WORDS.get(init, f"init {init}")
    if init == "kaiming" and config.dataset == "synthetic":
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


def _train(args: argparse.Namespace) -> int:
    from alexnet.distributed import resolve_device
    from alexnet.train import train

    config = quick_config(args)
    resolve_device(config.device)  # no GPU where one was asked for: say so before anything else
    if not args.no_progress and _is_lead():  # one header per run, not one per torchrun process
        print(_scale_line(config), flush=True)
    tic = time.perf_counter()
    result = train(config)
    if result.out and result.history and _is_lead():
        import matplotlib

        matplotlib.use("Agg")
        from alexnet.plots import plot_training

        figure = plot_training(result.history, title=f"{config.model} on {config.dataset}")
        figure.savefig(result.out / "curves.png", dpi=100)
    if not args.no_progress and result.final and _is_lead():
        f = result.final
        print(
            f"done in {time.perf_counter() - tic:.0f} s: val top-1 error {100 * f['val_top1_error']:.1f}%, "
            f"top-5 {100 * f['val_top5_error']:.1f}%; checkpoint, metrics.jsonl and curves.png in {result.out}"
        )
    return 0


def _is_lead() -> bool:
    """Only the first process of a torchrun job writes files."""
    import os

    return os.environ.get("RANK", "0") == "0"


def _evaluate(args: argparse.Namespace) -> int:
    import dataclasses

    from alexnet.checkpoint import load_checkpoint, model_from_checkpoint
    from alexnet.data import load_dataset
    from alexnet.distributed import resolve_device
    from alexnet.evaluate import evaluate_model
    from alexnet.train import TrainConfig

    device = resolve_device(args.device)
    checkpoint = load_checkpoint(args.checkpoint)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in checkpoint["config"].items() if k in known and k not in ("resume",)})
    model = model_from_checkpoint(checkpoint, device)
    print(f"checkpoint after epoch {checkpoint['epoch']}: {config.model} on {config.dataset}", flush=True)
    val_options = {**config.dataset_options, **config.val_options}  # only the validation split: no training set
    val_set = load_dataset(config.dataset, "val", root=config.data_root, download=config.download, **val_options)
    from alexnet.inputs import ModelInput

    inputs = ModelInput.from_state(checkpoint["inputs"]).to(device)
    print(f"{len(val_set):,} validation images: one crop, then ten crops (ten times the work)", flush=True)
    for name, ten in (("one crop", False), ("ten crops", True)):
        r = evaluate_model(
            model, val_set, inputs, batch_size=args.batch_size, device=device, ten_crop=ten, progress=name
        )
        print(f"{name:<10} top-1 error {100 * r['top1_error']:5.1f}%   top-5 error {100 * r['top5_error']:5.1f}%")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from alexnet.arithmetic import format_table, layer_table
    from alexnet.model import build_model

    options: dict[str, Any] = {"width": args.width, "num_classes": args.classes}
    if args.image_size:
        options["image_size"] = args.image_size
    model = build_model(args.model, **options)
    print(f"{args.model}: {model.config.image_size}x{model.config.image_size} input, width {args.width}")
    print(format_table(layer_table(model, model.config.image_size)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    import dataclasses

    from alexnet.bench import RATIO_NOTE, bench, bench_lrn, format_bench, format_lrn, settings
    from alexnet.distributed import resolve_device
    from alexnet.mode import hardware

    device = resolve_device(args.device)
    given = {"width": args.width, "image_size": args.image_size, "num_classes": args.classes}
    s, note = settings(device, args.full, batch_size=args.batch_size, steps=args.steps, **given)
    options = {k: s[k] for k in ("width", "image_size", "num_classes") if k in s}
    size = options.get("image_size", "the model's")
    print(f"{args.model} (width {s['width']}, {size} px), batch {s['batch_size']}, {s['steps']} timed steps: {note}")
    print(f"on {hardware()}", flush=True)

    def progress(line: str) -> None:
        print(f"  {line}", file=sys.stderr, flush=True)

    results = bench(
        args.model,
        s["batch_size"],
        s["steps"],
        args.warmup,
        args.device,
        compile=args.compile,
        progress=progress,
        **options,
    )
    print(format_bench(results))
    print(RATIO_NOTE)
    print(format_lrn(bench_lrn(args.model, s["batch_size"], args.device, **options)))
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in results]))
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from alexnet.doctor import main as doctor_main

    return doctor_main(args.device, args.scale, args.compile, args.out)


def _experiment(args: argparse.Namespace) -> int:
    import json

    from alexnet.claims import run_claim

    result = run_claim(args.name, seeds=args.seeds, seed_offset=args.seed_offset, full=args.full, log=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(result.summary())
    return 0


COMMANDS = {
    "train": _train,
    "evaluate": _evaluate,
    "summary": _summary,
    "bench": _bench,
    "doctor": _doctor,
    "experiment": _experiment,
}


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it stops the way Ctrl-C does (and cleans up the same way)."""


def _on_sigterm(signum, frame) -> None:
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m alexnet`` and the ``alexnet`` console script; returns the exit status.

    Ctrl-C and SIGTERM, at any moment (start-up included), end with one line and exit status
    130 or 143; a checkpoint is only ever replaced whole, so the last one written stays usable.
    """
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    name = "alexnet"
    try:
        args = build_parser().parse_args(argv)
        name = f"alexnet {args.command}"
        return _dispatch(args, name)
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, _Terminated)
        how = "terminated (SIGTERM)" if terminated else "interrupted"
        after = (
            "; the last checkpoint written is kept: a run with --out goes on with --resume"
            if name.endswith("train")
            else ""
        )
        print(f"{name}: {how}{after}", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace, name: str) -> int:
    import torch

    from alexnet.checkpoint import TrainingError

    try:
        return COMMANDS[args.command](args)
    except (TrainingError, ValueError, FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError) as e:
        print(f"{name}: error: {e}", file=sys.stderr)
        return 1
    except torch.cuda.OutOfMemoryError:
        size = getattr(args, "batch_size", None)
        hint = f"lower --batch-size (now {size})" if size else "lower --batch-size"
        print(f"{name}: error: out of GPU memory; {hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
