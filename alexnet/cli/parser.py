"""The parser of ``python -m alexnet``: one subcommand per task, each option checked while it is read.

Every option that takes a value checks it while the command line is read (its ``type``, from
:mod:`alexnet.cli.option_types`, or its choices): a bad value gets one line naming the option as typed
and what it accepts, and exit status 2, before any work; an unknown option gets that subcommand's usage
and exit status 2 too. Every option's help ends with its default and what it accepts, read from where the
run takes them (the recipes of :mod:`alexnet.training.recipes`, the model presets, the claims' designs).
"""

from __future__ import annotations

import argparse

from alexnet.cli import train_options as options
from alexnet.cli.option_types import DEVICE, POSITIVE, SEED, WHOLE, Device, Number, PathArg

__all__ = ["build_parser"]


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
        if isinstance(action.type, Number | PathArg | Device):
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
    """``python -m alexnet`` and its subcommands, in the order ``--help`` lists them."""
    parser = _Parser(prog="python -m alexnet", description="AlexNet (Krizhevsky et al. 2012), reproduced.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Subcommand)
    options.add_train_options(sub.add_parser("train", help="train with the paper's recipe (Section 5)"))
    _add_evaluate(sub)
    _add_summary(sub)
    _add_bench(sub)
    _add_doctor(sub)
    _add_experiment(sub)
    return parser


def _add_evaluate(sub) -> None:
    e = sub.add_parser("evaluate", help="one-crop and ten-crop error of a checkpoint on its validation set")
    e.add_argument("checkpoint", type=PathArg("existing"), help="checkpoint.pt, or the --out folder of a run")
    e.add_argument("--device", default="auto", type=DEVICE, help="auto: a GPU if there is one, else the CPU")
    e.add_argument("--batch-size", type=WHOLE, default=128, help="images per forward pass")


def _add_summary(sub) -> None:
    from alexnet.nn.config import PRESETS

    s = sub.add_parser("summary", help="the layer table: output shapes, parameters, MACs")
    s.add_argument("--model", default="paper", choices=list(PRESETS), help=f"the network: {', '.join(PRESETS)}")
    s.add_argument(
        "--image-size",
        type=WHOLE,
        help="input side in pixels (default: the model's: "
        + ", ".join(f"{name} {c.image_size}" for name, c in PRESETS.items())
        + ")",
    )
    s.add_argument("--width", type=POSITIVE, default=1.0, help="multiplier of every layer's width")
    s.add_argument("--classes", type=WHOLE, default=1000, help="outputs of fc8")


def _add_bench(sub) -> None:
    from alexnet.nn.config import PRESETS

    b = sub.add_parser(
        "bench",
        help="training images per second: plain fp32 loop vs the trainer's path (on a CPU: reduced scale unless --full)",
    )
    b.add_argument("--model", default="paper", choices=list(PRESETS))
    b.add_argument("--batch-size", type=WHOLE, help="GPU or --full: 256; CPU: 64")
    b.add_argument("--steps", type=WHOLE, help="timed steps per path (default 10)")
    b.add_argument("--warmup", type=Number(low=0), default=3)
    b.add_argument("--device", default="auto", type=DEVICE)
    b.add_argument("--width", type=POSITIVE, help="GPU or --full: 1; CPU: 0.25")
    b.add_argument("--image-size", type=WHOLE, help="GPU or --full: the model's (paper 227); CPU: 67")
    b.add_argument("--classes", type=WHOLE, help="default 1000")
    b.add_argument("--full", action="store_true", help="the paper's scale on a CPU too (minutes)")
    b.add_argument("--compile", action="store_true")
    b.add_argument("--json", action="store_true", help="print the results as JSON too")


def _add_doctor(sub) -> None:
    d = sub.add_parser("doctor", help="check and measure this machine: PASS/FAIL lines (GPU: < 10 min; CPU: ~2 min)")
    d.add_argument("--device", default="auto", type=DEVICE, help="auto: a GPU if there is one, else the CPU")
    d.add_argument(
        "--scale", choices=["auto", "full", "reduced"], default="auto", help="auto: full on a GPU, reduced on a CPU"
    )
    d.add_argument(
        "--compile", action=argparse.BooleanOptionalAction, help="include torch.compile rows (default: on a GPU only)"
    )
    d.add_argument(
        "--out",
        type=PathArg("new file"),
        help="also write the report as Markdown to this file (for benchmarks/RESULTS.md)",
    )


def _add_experiment(sub) -> None:
    from alexnet.claims.claim import TUNING_SEED
    from alexnet.claims.designs import CLAIMS

    x = sub.add_parser(
        "experiment",
        help="rerun a mechanism chapter's experiment over seeds: effect, 95%% interval, verdict (quick: under 2 min)",
    )
    x.add_argument("name", choices=list(CLAIMS), help="the mechanism: " + ", ".join(CLAIMS))
    x.add_argument("--seeds", type=Number(low=2), default=None, help="number of reported seeds (default: the design's)")
    x.add_argument(
        "--seed-offset",
        type=SEED,
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
