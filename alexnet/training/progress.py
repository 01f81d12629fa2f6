"""What a run prints as it goes: a progress bar where it redraws in place, and one line per epoch."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["duration", "bar", "say", "epoch_line"]


def _live_stderr() -> bool:
    """Whether a progress bar can redraw in place: a terminal or a Jupyter kernel, not a log file or a pipe."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def bar(total: int, desc: str, enabled: bool):
    """A tqdm bar where it redraws in place; None where every redraw would be a new line of a log."""
    if not enabled or not _live_stderr():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", leave=False, mininterval=1.0)


def say(enabled: bool, *args) -> None:
    if enabled:
        print(*args, flush=True)


def duration(seconds: float) -> str:
    """A time in the unit a person plans by: seconds, minutes or hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def epoch_line(r: dict[str, Any], epochs: int, left: float | None = None) -> str:
    """An epoch's record in one line (two after the last epoch: the ten-crop error); ``left``: seconds still to go."""
    line = (
        f"epoch {r['epoch']:>3}/{epochs}  train loss {r['train_loss']:.3f}  "
        f"val top-1 {100 * r['val_top1_error']:5.1f}%  top-5 {100 * r['val_top5_error']:5.1f}%  "
        f"lr {r['lr']:.0e}  {r['images_per_second']:,.0f} img/s"
    )
    if left is not None and r["epoch"] < epochs:
        line += f"  about {duration(left)} left"
    if "val_ten_crop_top1_error" in r:
        line += (
            f"\nten-crop: val top-1 {100 * r['val_ten_crop_top1_error']:.1f}%  "
            f"top-5 {100 * r['val_ten_crop_top5_error']:.1f}%"
        )
    return line
