"""``python -m alexnet {train,evaluate,summary,bench,doctor,experiment}``: the package from the command line.

``python -m alexnet train`` with no options is a short run on the embedded synthetic data at a
reduced scale, printed next to the paper's; with ``--dataset`` naming a real dataset it uses the
paper's scale and recipe (Section 5). ``torchrun --nproc_per_node=N -m alexnet train ...`` trains
with DistributedDataParallel. Errors that the person at the keyboard can fix end with a one-line
message on stderr, not a traceback. Every option that takes a value checks it while the command
line is read (its ``type``, from :mod:`alexnet.cli.train_options`, or its choices): a word where a number
belongs, a number out of range or a missing path gets one line naming the option as typed and what
it accepts, and exit status 2, before any work. An unknown option gets that subcommand's usage and
exit status 2 too. What only the run can find out (no GPU, a dataset not downloaded, a folder
another run holds) ends with exit status 1.

Every default a help text names is read from where the run takes it: the recipes of
:mod:`alexnet.training.recipes`, ``CLI_QUICK`` for the synthetic run and ``PAPER`` (Section 5) with the
model presets for a real dataset.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from alexnet.cli import train_options as options

__all__ = ["main", "build_parser", "COMMANDS"]


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
        if isinstance(action.type, options.Number | options.PathArg | options.Device):
            extra.append(f"accepts {action.type}")
        return f"{text} ({'; '.join(extra)})" if extra else text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        """A bad value is one line (``argument --epochs: expected ...``); other mistakes also get the usage."""
        if message.startswith("argument "):
            self.exit(2, f"{self.prog}: error: {message}\n")
        super().error(message)


class _Subcommand(_Parser):
    """A subcommand's parser: an option it does not know gets its own usage, not the top-level one."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m alexnet", description="AlexNet (Krizhevsky et al. 2012), reproduced.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Subcommand)

    t = sub.add_parser("train", help="train with the paper's recipe (Section 5)")
    options.add_train_options(t)

    e = sub.add_parser("evaluate", help="one-crop and ten-crop error of a checkpoint on its validation set")
    e.add_argument("checkpoint", type=options.PathArg("existing"), help="checkpoint.pt, or the --out folder of a run")
    e.add_argument("--device", default="auto", type=options.DEVICE, help="auto: a GPU if there is one, else the CPU")
    e.add_argument("--batch-size", type=options.WHOLE, default=128, help="images per forward pass")

    from alexnet.nn.config import PRESETS

    s = sub.add_parser("summary", help="the layer table: output shapes, parameters, MACs")
    s.add_argument("--model", default="paper", choices=list(PRESETS), help=f"the network: {', '.join(PRESETS)}")
    s.add_argument(
        "--image-size",
        type=options.WHOLE,
        help="input side in pixels (default: the model's: "
        + ", ".join(f"{name} {c.image_size}" for name, c in PRESETS.items())
        + ")",
    )
    s.add_argument("--width", type=options.POSITIVE, default=1.0, help="multiplier of every layer's width")
    s.add_argument("--classes", type=options.WHOLE, default=1000, help="outputs of fc8")

    b = sub.add_parser(
        "bench",
        help="training images per second: plain fp32 loop vs the trainer's path (on a CPU: reduced scale unless --full)",
    )
    b.add_argument("--model", default="paper", choices=list(PRESETS))
    b.add_argument("--batch-size", type=options.WHOLE, help="GPU or --full: 256; CPU: 64")
    b.add_argument("--steps", type=options.WHOLE, help="timed steps per path (default 10)")
    b.add_argument("--warmup", type=options.Number(low=0), default=3)
    b.add_argument("--device", default="auto", type=options.DEVICE)
    b.add_argument("--width", type=options.POSITIVE, help="GPU or --full: 1; CPU: 0.25")
    b.add_argument("--image-size", type=options.WHOLE, help="GPU or --full: the model's (paper 227); CPU: 67")
    b.add_argument("--classes", type=options.WHOLE, help="default 1000")
    b.add_argument("--full", action="store_true", help="the paper's scale on a CPU too (minutes)")
    b.add_argument("--compile", action="store_true")
    b.add_argument("--json", action="store_true", help="print the results as JSON too")

    d = sub.add_parser("doctor", help="check and measure this machine: PASS/FAIL lines (GPU: < 10 min; CPU: ~2 min)")
    d.add_argument("--device", default="auto", type=options.DEVICE, help="auto: a GPU if there is one, else the CPU")
    d.add_argument(
        "--scale", choices=["auto", "full", "reduced"], default="auto", help="auto: full on a GPU, reduced on a CPU"
    )
    d.add_argument(
        "--compile", action=argparse.BooleanOptionalAction, help="include torch.compile rows (default: on a GPU only)"
    )
    d.add_argument(
        "--out",
        type=options.PathArg("new file"),
        help="also write the report as Markdown to this file (for benchmarks/RESULTS.md)",
    )

    from alexnet.claims.runner import CLAIMS, TUNING_SEED

    x = sub.add_parser(
        "experiment",
        help="rerun a mechanism chapter's experiment over seeds: effect, 95%% interval, verdict (quick: under 2 min)",
    )
    x.add_argument("name", choices=list(CLAIMS), help="the mechanism: " + ", ".join(CLAIMS))
    x.add_argument(
        "--seeds", type=options.Number(low=2), default=None, help="number of reported seeds (default: the design's)"
    )
    x.add_argument(
        "--seed-offset",
        type=options.SEED,
        default=0,
        help=f"the seeds are K, K+1, ..., K+N-1; learning rates are tuned on seed {TUNING_SEED} alone",
    )
    x.add_argument(
        "--full", action="store_true", help="the GPU version on CIFAR-10 or the full photos (downloads once)"
    )
    x.add_argument("--json", action="store_true", help="print one JSON object on standard output; progress on stderr")
    x.add_argument(
        "--record",
        action="store_true",
        help="run the design's seeds (its power calculation fixed them) and write the claim's evidence record, "
        "alexnet/claims/records/NAME-MODE.json, that its chapter reads",
    )
    return parser


def _train(args: argparse.Namespace) -> int:
    from alexnet.training.distributed import resolve_device
    from alexnet.training.loop import train

    config = options.quick_config(args)
    resolve_device(config.device)  # no GPU where one was asked for: say so before anything else
    if not args.no_progress and _is_lead():  # one header per run, not one per torchrun process
        print(options.scale_line(config), flush=True)
    tic = time.perf_counter()
    result = train(config)
    if result.out and result.history and _is_lead():
        import matplotlib

        matplotlib.use("Agg")
        from alexnet.chapters.plots import plot_training

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

    from alexnet.data import load_dataset
    from alexnet.training.checkpoint import load_checkpoint, model_from_checkpoint
    from alexnet.training.config import TrainConfig
    from alexnet.training.distributed import resolve_device
    from alexnet.training.evaluate import evaluate_model

    device = resolve_device(args.device)
    checkpoint = load_checkpoint(args.checkpoint)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in checkpoint["config"].items() if k in known and k not in ("resume",)})
    model = model_from_checkpoint(checkpoint, device)
    print(f"checkpoint after epoch {checkpoint['epoch']}: {config.model} on {config.dataset}", flush=True)
    val_options = {**config.dataset_options, **config.val_options}  # only the validation split: no training set
    val_set = load_dataset(config.dataset, "val", root=config.data_root, download=config.download, **val_options)
    from alexnet.data.inputs import ModelInput

    inputs = ModelInput.from_state(checkpoint["inputs"]).to(device)
    print(f"{len(val_set):,} validation images: one crop, then ten crops (ten times the work)", flush=True)
    for name, ten in (("one crop", False), ("ten crops", True)):
        r = evaluate_model(
            model, val_set, inputs, batch_size=args.batch_size, device=device, ten_crop=ten, progress=name
        )
        print(f"{name:<10} top-1 error {100 * r['top1_error']:5.1f}%   top-5 error {100 * r['top5_error']:5.1f}%")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from alexnet.nn.arithmetic import format_table, layer_table
    from alexnet.nn.model import build_model

    scale: dict[str, Any] = {"width": args.width, "num_classes": args.classes}
    if args.image_size:
        scale["image_size"] = args.image_size
    model = build_model(args.model, **scale)
    print(f"{args.model}: {model.config.image_size}x{model.config.image_size} input, width {args.width}")
    print(format_table(layer_table(model, model.config.image_size)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    import dataclasses

    from alexnet.chapters.mode import hardware
    from alexnet.tools.bench import RATIO_NOTE, bench, bench_lrn, format_bench, format_lrn, settings
    from alexnet.training.distributed import resolve_device

    device = resolve_device(args.device)
    given = {"width": args.width, "image_size": args.image_size, "num_classes": args.classes}
    s, note = settings(device, args.full, batch_size=args.batch_size, steps=args.steps, **given)
    scale = {k: s[k] for k in ("width", "image_size", "num_classes") if k in s}
    size = scale.get("image_size", "the model's")
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
        **scale,
    )
    print(format_bench(results))
    print(RATIO_NOTE)
    print(format_lrn(bench_lrn(args.model, s["batch_size"], args.device, **scale)))
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in results]))
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from alexnet.tools.doctor import main as doctor_main

    return doctor_main(args.device, args.scale, args.compile, args.out)


def _experiment(args: argparse.Namespace) -> int:
    import json

    from alexnet.claims import evidence
    from alexnet.claims.runner import run_claim

    if args.record:
        if args.seeds is not None or args.seed_offset != 0:
            raise ValueError(
                "--record runs the design's seeds (fixed by its power calculation); drop --seeds and --seed-offset"
            )
        path = evidence.record(args.name, full=args.full, log=sys.stderr)
        saved = evidence.load(args.name, full=args.full, path=path)
        print(json.dumps(saved.to_json()) if args.json else f"{saved.summary()}\nrecorded in {path}")
        return 0
    result = run_claim(args.name, seeds=args.seeds, seed_offset=args.seed_offset, full=args.full, log=sys.stderr)
    comparison = _compare_with_record(result)
    if args.json:
        print(json.dumps({**result.to_json(), "record": comparison}))
    else:
        print(result.summary())
        if comparison is not None:
            print(comparison["line"])
    return 0


def _compare_with_record(result) -> dict | None:
    """Is a run on fresh seeds consistent with the claim's record? ``None`` where there is no record to compare."""
    from alexnet.claims import evidence

    path = evidence.record_path(result.claim.name, result.mode == "full")
    if not path.is_file():
        return None
    recorded = evidence.load(result.claim.name, result.mode == "full")
    if set(result.seeds) & set(recorded.seeds):
        return {"path": str(path), "consistent": None, "line": f"seeds overlap the record's {recorded.seeds[0]}-"
                f"{recorded.seeds[-1]}: not compared"}  # fmt: skip
    try:
        line = evidence.check_live(recorded, result)
        return {"path": str(path), "consistent": True, "line": line}
    except AssertionError as err:
        return {"path": str(path), "consistent": False, "line": str(err)}


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

    from alexnet.training.checkpoint import TrainingError

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
