"""``python -m alexnet {train,evaluate,summary,bench}``: the package from the command line.

``python -m alexnet train`` with no options is a short run on the embedded synthetic data at a
reduced scale, printed next to the paper's; with ``--dataset`` naming a real dataset it uses the
paper's scale and recipe (Section 5). ``torchrun --nproc_per_node=N -m alexnet train ...`` trains
with DistributedDataParallel. Errors that the person at the keyboard can fix end with a one-line
message on stderr and exit status 1, not a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

__all__ = ["main", "build_parser", "quick_config", "QUICK", "PAPER_SCALE"]

# The no-option run: what a CPU does in about two minutes and still learns.
QUICK: dict[str, Any] = {
    "num_classes": 8,
    "num_images": 8192,
    "stored_size": 76,  # synthetic images are made at 76 px and cropped to 67 (the paper: 256 -> 224)
    "image_size": 67,
    "width": 0.25,
    "init": "kaiming",
    "epochs": 15,
    "batch_size": 64,
    "lr": 0.01,
}
PAPER_SCALE = "paper: ImageNet, 1.2 million images of 1000 classes at 256 px cropped to 224, full width, init N(0, 0.01), batch 128, 90 epochs"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alexnet", description="AlexNet (Krizhevsky et al. 2012), reproduced."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train with the paper's recipe (Section 5)")
    t.add_argument("--model", default="paper", help="paper (default), torchvision or one-weird-trick")
    t.add_argument(
        "--dataset", default="synthetic", help="synthetic (default, embedded) or a dataset alexnet.data knows"
    )
    t.add_argument("--epochs", type=int, help="passes over the training set (paper: 90; synthetic: %(default)s)")
    t.add_argument("--batch-size", type=int, help="images per SGD step, over all processes (paper: 128)")
    t.add_argument("--lr", type=float, help="initial learning rate (paper: 0.01)")
    t.add_argument("--out", help="folder for checkpoint.pt, metrics.jsonl and curves.png (default: runs/MODEL-DATASET)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto (GPU if any), cpu, cuda, cuda:N")
    t.add_argument("--width", type=float, help="width multiplier of every layer (paper: 1)")
    t.add_argument("--image-size", type=int, help="crop side in pixels, the network's input (paper model: 227)")
    t.add_argument("--init", choices=["paper", "pytorch", "kaiming"], help="initialisation (paper: Section 5)")
    t.add_argument("--dropout", type=float, help="dropout probability on fc6 and fc7 (paper: 0.5, Section 4.2)")
    t.add_argument("--classes", type=int, help="synthetic data: number of classes (4 to 8)")
    t.add_argument("--images", type=int, help="synthetic data: training images")
    t.add_argument(
        "--optimizer", choices=["paper", "torch"], default="paper", help="Section 5's update or torch.optim.SGD"
    )
    t.add_argument("--augment", choices=["paper", "crop-flip", "none"], default="paper")
    t.add_argument("--data-root", default="data")
    t.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    t.add_argument("--compile", action="store_true", help="torch.compile the model")
    t.add_argument("--no-amp", action="store_true", help="train in fp32 on CUDA too")
    t.add_argument("--no-progress", action="store_true", help="no progress bar or per-epoch lines")

    e = sub.add_parser("evaluate", help="one-crop and ten-crop error of a checkpoint on its validation set")
    e.add_argument("checkpoint", help="checkpoint.pt, or the --out folder of a run")
    e.add_argument("--device", default="auto")
    e.add_argument("--batch-size", type=int, default=128)

    s = sub.add_parser("summary", help="the layer table: output shapes, parameters, MACs")
    s.add_argument("--model", default="paper")
    s.add_argument("--image-size", type=int)
    s.add_argument("--width", type=float, default=1.0)
    s.add_argument("--classes", type=int, default=1000)

    b = sub.add_parser("bench", help="training images per second: plain fp32 loop vs the trainer's path")
    b.add_argument("--model", default="paper")
    b.add_argument("--batch-size", type=int, default=256)
    b.add_argument("--steps", type=int, default=10)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--device", default="auto")
    b.add_argument("--width", type=float, default=1.0)
    b.add_argument("--image-size", type=int)
    b.add_argument("--classes", type=int, default=1000)
    b.add_argument("--compile", action="store_true")
    b.add_argument("--json", action="store_true", help="print the results as JSON too")
    return parser


def quick_config(args: argparse.Namespace | None = None):
    """The :class:`~alexnet.train.TrainConfig` of ``train`` with these options (none: the quick synthetic run)."""
    from alexnet.train import TrainConfig

    args = args or build_parser().parse_args(["train"])
    synthetic = args.dataset == "synthetic"
    q = QUICK if synthetic else {}
    model_options: dict[str, Any] = {}
    options = (("width", args.width), ("image_size", args.image_size), ("init", args.init), ("dropout", args.dropout))
    for key, value in options:
        value = value if value is not None else q.get(key)
        if value is not None:
            model_options[key] = value
    dataset_options: dict[str, Any] = {}
    val_options: dict[str, Any] = {}
    if synthetic:
        crop = model_options["image_size"]
        dataset_options = {
            "num_classes": args.classes or q["num_classes"],
            "num_images": args.images or q["num_images"],
            "image_size": crop + (q["stored_size"] - q["image_size"]) if args.image_size else q["stored_size"],
        }
        val_options = {"num_images": max(dataset_options["num_classes"], dataset_options["num_images"] // 4)}
    elif args.classes or args.images:
        raise ValueError("--classes and --images apply to --dataset synthetic only")

    def pick(value, key, default):
        return value if value is not None else q.get(key, default)

    return TrainConfig(
        model=args.model,
        model_options=model_options,
        dataset=args.dataset,
        dataset_options=dataset_options,
        val_options=val_options,
        data_root=args.data_root,
        download=args.download,
        epochs=pick(args.epochs, "epochs", 90),
        batch_size=pick(args.batch_size, "batch_size", 128),
        lr=pick(args.lr, "lr", 0.01),
        optimizer=args.optimizer,
        augment=args.augment,
        seed=args.seed,
        device=args.device,
        amp=not args.no_amp,
        compile=args.compile,
        out=args.out or f"runs/{args.model}-{args.dataset}",
        resume=args.resume,
        progress=not args.no_progress,
    )


def _scale_line(config) -> str:
    m, d = config.model_options, config.dataset_options
    if config.dataset == "synthetic":
        init = m.get("init", "paper")
        note = (
            " (He et al. 2015, not Section 5's N(0, 0.01): the narrow net sits at ln(classes) with it)"
            if init == "kaiming"
            else ""
        )
        ours = (
            f"this run: synthetic, {d['num_images']:,} images of {d['num_classes']} classes at {d['image_size']} px "
            f"cropped to {m['image_size']}, width {m.get('width', 1.0)}, init {init}{note}, "
            f"batch {config.batch_size}, {config.epochs} epochs"
        )
    else:
        ours = (
            f"this run: {config.dataset}, width {m.get('width', 1.0)}, crop {m.get('image_size', 'preset')}, "
            f"init {m.get('init', 'preset')}, batch {config.batch_size}, {config.epochs} epochs"
        )
    return f"{ours}\n{PAPER_SCALE}"


def _train(args: argparse.Namespace) -> int:
    from alexnet.train import resolve_device, train

    config = quick_config(args)
    resolve_device(config.device)  # no GPU where one was asked for: say so before anything else
    if not args.no_progress:
        print(_scale_line(config), flush=True)
    tic = time.perf_counter()
    result = train(config)
    if result.out and result.history and _is_lead():
        import matplotlib

        matplotlib.use("Agg")
        from alexnet.plots import plot_training

        figure = plot_training(result.history, title=f"{config.model} on {config.dataset}")
        figure.savefig(result.out / "curves.png", dpi=100)
    if not args.no_progress and result.final:
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

    from alexnet.train import (
        TrainConfig,
        _load_splits,
        evaluate_model,
        load_checkpoint,
        model_from_checkpoint,
        resolve_device,
    )

    device = resolve_device(args.device)
    checkpoint = load_checkpoint(args.checkpoint)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in checkpoint["config"].items() if k in known and k not in ("resume",)})
    model = model_from_checkpoint(checkpoint, device)
    _, val_set = _load_splits(config)
    mean = checkpoint["mean"].to(device)
    print(
        f"checkpoint after epoch {checkpoint['epoch']}: {config.model} on {config.dataset} ({len(val_set)} validation images)"
    )
    for name, ten in (("one crop", False), ("ten crops", True)):
        r = evaluate_model(model, val_set, mean, batch_size=args.batch_size, device=device, ten_crop=ten)
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

    from alexnet.bench import bench, format_bench
    from alexnet.mode import hardware

    options: dict[str, Any] = {"width": args.width, "num_classes": args.classes}
    if args.image_size:
        options["image_size"] = args.image_size
    results = bench(args.model, args.batch_size, args.steps, args.warmup, args.device, compile=args.compile, **options)
    print(f"{args.model} (width {args.width}), batch {args.batch_size}, {args.steps} timed steps; {hardware()}")
    print(format_bench(results))
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in results]))
    return 0


COMMANDS = {"train": _train, "evaluate": _evaluate, "summary": _summary, "bench": _bench}


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

    from alexnet.train import TrainingError

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
