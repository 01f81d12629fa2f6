"""``python -m alexnet {train,evaluate,summary,bench,doctor,experiment}``: the package from the command line.

``python -m alexnet train`` with no options is a short run on the embedded synthetic data at a
reduced scale, printed next to the paper's; with ``--dataset`` naming a real dataset it uses the
paper's scale and recipe (Section 5). ``torchrun --nproc_per_node=N -m alexnet train ...`` trains
with DistributedDataParallel. Errors that the person at the keyboard can fix end with a one-line
message on stderr, not a traceback. Every option that takes a value checks it while the command
line is read (its ``type``, from :mod:`alexnet.cli.option_types`, or its choices): a word where a number
belongs, a number out of range or a missing path gets one line naming the option as typed and what
it accepts, and exit status 2, before any work. An unknown option gets that subcommand's usage and
exit status 2 too. What only the run can find out (no GPU, a dataset not downloaded, a folder
another run holds) ends with exit status 1.

Every default a help text names is read from where the run takes it: the recipes of
:mod:`alexnet.training.recipes`, ``CLI_QUICK`` for the synthetic run and ``PAPER`` (Section 5) with the
model presets for a real dataset. The parser is :mod:`alexnet.cli.parser`, what each subcommand does
:mod:`alexnet.cli.commands`; here are the entry point and how a run ends (Ctrl-C, SIGTERM, an error).
"""

from __future__ import annotations

import argparse
import sys

from alexnet.cli.commands import COMMANDS
from alexnet.cli.commands import _train as _train
from alexnet.cli.parser import build_parser

__all__ = ["main"]


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

    from alexnet.training.errors import TrainingError

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
