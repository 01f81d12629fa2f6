"""What a run prints as it goes: a progress bar where it redraws in place, and one line per epoch."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["bar", "say", "epoch_line"]


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


def epoch_line(r: dict[str, Any], epochs: int) -> str:
    """An epoch's record in one line (two after the last epoch: the ten-crop error)."""
    line = (
        f"epoch {r['epoch']:>3}/{epochs}  train loss {r['train_loss']:.3f}  "
        f"val top-1 {100 * r['val_top1_error']:5.1f}%  top-5 {100 * r['val_top5_error']:5.1f}%  "
        f"lr {r['lr']:.0e}  {r['images_per_second']:,.0f} img/s"
    )
    if "val_ten_crop_top1_error" in r:
        line += (
            f"\nten-crop: val top-1 {100 * r['val_ten_crop_top1_error']:.1f}%  "
            f"top-5 {100 * r['val_ten_crop_top5_error']:.1f}%"
        )
    return line
