"""What each subcommand of ``python -m alexnet`` does with its parsed options (:mod:`alexnet.cli.parser`).

``train`` runs Section 5's recipe through :func:`alexnet.training.loop.train` (with the options of
:mod:`alexnet.cli.train_options`) and draws its curves; ``evaluate`` gives a checkpoint's one-crop and
ten-crop error (Section 4.1); ``summary`` the layer table; ``bench`` and ``doctor`` measure the machine;
``experiment`` reruns a claim's experiment (:mod:`alexnet.claims.runner`) and compares it with its record.
Each imports what it needs when it runs, so that ``--help`` loads no trainer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from alexnet.cli import train_options as options

__all__ = ["COMMANDS"]


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
        from alexnet.chapters.training_plots import plot_training

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
    from alexnet.nn.arithmetic import format_layer_table, layer_table
    from alexnet.nn.model import build_model

    scale: dict[str, Any] = {"width": args.width, "num_classes": args.classes}
    if args.image_size:
        scale["image_size"] = args.image_size
    model = build_model(args.model, **scale)
    print(f"{args.model}: {model.config.image_size}x{model.config.image_size} input, width {args.width}")
    print(format_layer_table(layer_table(model, model.config.image_size)))
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
